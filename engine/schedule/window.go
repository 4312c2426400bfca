package schedule

import (
	"time"

	"github.com/ripple-ops/ripple/definitions"
)

// Window answers whether a recurring maintenance window is open. A window
// opens at every match of its cron spec, in its time zone, and stays open
// for its duration. The spec is the one definitions parsed; nothing here
// parses cron again.
type Window struct {
	opens    *definitions.Cron
	duration time.Duration
}

// NewWindow returns w's schedule, or nil when w is nil or did not parse
// (Load reports that).
func NewWindow(w *definitions.Window) *Window {
	if w == nil || w.Opens == nil || w.Duration <= 0 {
		return nil
	}
	return &Window{opens: w.Opens, duration: w.Duration}
}

// OpenAt reports whether the window is open at t, and if so when this
// opening ends.
func (w *Window) OpenAt(t time.Time) (open bool, closes time.Time) {
	// The latest opening that could still cover t started after t-duration;
	// Next returns the first match strictly after its argument.
	start := w.opens.Next(t.Add(-w.duration))
	if start.IsZero() || start.After(t) {
		return false, time.Time{}
	}
	return true, start.Add(w.duration)
}

// Open reports whether the window is open at t. A nil window never is.
func (w *Window) Open(t time.Time) bool {
	if w == nil {
		return false
	}
	open, _ := w.OpenAt(t)
	return open
}

// NextOpen returns when the window is next open at or after t: t itself if
// it is open now.
func (w *Window) NextOpen(t time.Time) time.Time {
	if open, _ := w.OpenAt(t); open {
		return t
	}
	return w.opens.Next(t)
}
