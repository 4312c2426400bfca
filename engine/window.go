package engine

import (
	"fmt"
	"time"

	"github.com/robfig/cron/v3"
)

// WindowSchedule answers whether a recurring maintenance window is open. A
// window opens at every match of its cron spec, in its time zone, and stays
// open for its duration.
type WindowSchedule struct {
	sched    cron.Schedule
	duration time.Duration
}

// ParseWindow builds a WindowSchedule from a 5-field cron spec, a duration
// and a time zone (nil means UTC).
func ParseWindow(spec string, duration time.Duration, loc *time.Location) (*WindowSchedule, error) {
	if duration <= 0 {
		return nil, fmt.Errorf("window duration %s: must be positive", duration)
	}
	s, err := parseCron(spec, loc)
	if err != nil {
		return nil, err
	}
	return &WindowSchedule{sched: s, duration: duration}, nil
}

// OpenAt reports whether the window is open at t, and if so when this
// opening ends.
func (w *WindowSchedule) OpenAt(t time.Time) (open bool, closes time.Time) {
	// The latest opening that could still cover t started after t-duration;
	// Next returns the first match strictly after its argument.
	start := w.sched.Next(t.Add(-w.duration))
	if start.IsZero() || start.After(t) {
		return false, time.Time{}
	}
	return true, start.Add(w.duration)
}

// NextOpen returns when the window is next open at or after t: t itself if
// it is open now.
func (w *WindowSchedule) NextOpen(t time.Time) time.Time {
	if open, _ := w.OpenAt(t); open {
		return t
	}
	return w.sched.Next(t)
}

// CronSchedule is a job's `schedule`: when scheduled runs fire.
type CronSchedule struct {
	sched cron.Schedule
}

// ParseCron builds a CronSchedule from a 5-field cron spec in loc (nil
// means UTC).
func ParseCron(spec string, loc *time.Location) (*CronSchedule, error) {
	s, err := parseCron(spec, loc)
	if err != nil {
		return nil, err
	}
	return &CronSchedule{sched: s}, nil
}

// Next returns the first firing strictly after t.
func (c *CronSchedule) Next(t time.Time) time.Time { return c.sched.Next(t) }

// Prev returns the latest firing at or before t, searching back at most
// lookback; zero when there is none in that span.
func (c *CronSchedule) Prev(t time.Time, lookback time.Duration) time.Time {
	var last time.Time
	for f := c.sched.Next(t.Add(-lookback)); !f.IsZero() && !f.After(t); f = c.sched.Next(f) {
		last = f
	}
	return last
}

func parseCron(spec string, loc *time.Location) (cron.Schedule, error) {
	if loc == nil {
		loc = time.UTC
	}
	s, err := cron.ParseStandard(spec)
	if err != nil {
		return nil, fmt.Errorf("cron %q: %w", spec, err)
	}
	if ss, ok := s.(*cron.SpecSchedule); ok {
		ss.Location = loc
	}
	return s, nil
}
