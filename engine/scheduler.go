package engine

import (
	"context"
	"fmt"
	"sort"
	"sync"
	"time"

	"github.com/rs/zerolog"

	"github.com/ripple-ops/ripple/definitions"
)

// ScheduledRunStarter starts the run of a scheduled job. started is false
// when the job already has an active run (the firing is then skipped and
// recorded, never queued).
type ScheduledRunStarter interface {
	StartScheduled(ctx context.Context, job string, firing time.Time) (started bool, err error)
}

// FiringOutcome says what became of one schedule firing.
type FiringOutcome string

// Firing outcomes.
const (
	FiringStarted        FiringOutcome = "started"
	FiringSkippedActive  FiringOutcome = "skipped: previous run still going"
	FiringMissedOutside  FiringOutcome = "missed: ripple was down and the window has closed"
	FiringMissedNoWindow FiringOutcome = "missed: ripple was down and the job has no window"
	FiringError          FiringOutcome = "error"
)

// Firing is the record of one schedule firing.
type Firing struct {
	Job     string
	At      time.Time // the cron time, not when ripple noticed it
	Outcome FiringOutcome
	Error   string
}

// FiringStore remembers schedule firings, so a restart knows what it
// missed.
type FiringStore interface {
	LastFiring(ctx context.Context, job string) (time.Time, error) // zero when none
	RecordFiring(ctx context.Context, f Firing) error
}

// SchedulerOptions configures a Scheduler.
type SchedulerOptions struct {
	Starter ScheduledRunStarter
	Firings FiringStore
	Clock   Clock // default: the real clock
	Logger  zerolog.Logger
	// MissedLookback bounds how far back start-up looks for a missed
	// firing; default 7 days.
	MissedLookback time.Duration
}

// Scheduler starts the runs of jobs that have a `schedule`, in the job's
// (or its window's) time zone. Run owns its one goroutine.
type Scheduler struct {
	opts SchedulerOptions
	wake chan struct{}

	mu      sync.Mutex
	entries map[string]*scheduleEntry
}

type scheduleEntry struct {
	job    string
	cron   *CronSchedule
	window *WindowSchedule
	next   time.Time
}

// NewScheduler returns a Scheduler with no jobs; ApplyConfig loads them.
func NewScheduler(opts SchedulerOptions) *Scheduler {
	if opts.Clock == nil {
		opts.Clock = RealClock{}
	}
	if opts.MissedLookback <= 0 {
		opts.MissedLookback = 7 * 24 * time.Hour
	}
	return &Scheduler{opts: opts, wake: make(chan struct{}, 1), entries: map[string]*scheduleEntry{}}
}

// ScheduleLocation is the time zone a job's schedule is read in: the job's
// own timezone, else its window's, else UTC.
func ScheduleLocation(defs *definitions.Definitions, j *definitions.Job) *time.Location {
	if j.Timezone != "" {
		if loc, err := time.LoadLocation(j.Timezone); err == nil {
			return loc
		}
	}
	if w, ok := defs.Windows[j.Window]; ok && w.Location != nil {
		return w.Location
	}
	return time.UTC
}

// ApplyConfig replaces the scheduled jobs with those of defs.
func (s *Scheduler) ApplyConfig(defs *definitions.Definitions) error {
	entries := map[string]*scheduleEntry{}
	now := s.opts.Clock.Now()
	for name, j := range defs.Jobs {
		if j.Schedule == "" {
			continue
		}
		loc := ScheduleLocation(defs, j)
		c, err := ParseCron(j.Schedule, loc)
		if err != nil {
			return fmt.Errorf("job %s: %w", name, err)
		}
		e := &scheduleEntry{job: name, cron: c, next: c.Next(now)}
		if w, ok := defs.Windows[j.Window]; ok {
			if e.window, err = ParseWindow(w.Cron, w.Duration, w.Location); err != nil {
				return fmt.Errorf("job %s: window %s: %w", name, w.Name, err)
			}
		}
		entries[name] = e
	}
	s.mu.Lock()
	s.entries = entries
	s.mu.Unlock()
	select {
	case s.wake <- struct{}{}:
	default:
	}
	return nil
}

// Window returns the maintenance window of a scheduled job, or nil.
func (s *Scheduler) Window(job string) *WindowSchedule {
	s.mu.Lock()
	defer s.mu.Unlock()
	if e, ok := s.entries[job]; ok {
		return e.window
	}
	return nil
}

// CatchUp handles firings missed while ripple was down: for each job whose
// latest cron time since its last recorded firing has not been handled, it
// runs once now if the job's window is still open, and records the miss
// otherwise. Call it once at start-up, after ApplyConfig.
func (s *Scheduler) CatchUp(ctx context.Context) error {
	now := s.opts.Clock.Now()
	for _, e := range s.sorted() {
		last, err := s.opts.Firings.LastFiring(ctx, e.job)
		if err != nil {
			return fmt.Errorf("last firing of %s: %w", e.job, err)
		}
		lookback := s.opts.MissedLookback
		if !last.IsZero() && now.Sub(last) < lookback {
			lookback = now.Sub(last)
		}
		missed := e.cron.Prev(now, lookback)
		if missed.IsZero() || !missed.After(last) {
			continue
		}
		switch open := e.window != nil && windowOpen(e.window, now); {
		case open:
			s.fire(ctx, e.job, missed)
		case e.window == nil:
			s.record(ctx, Firing{Job: e.job, At: missed, Outcome: FiringMissedNoWindow})
		default:
			s.record(ctx, Firing{Job: e.job, At: missed, Outcome: FiringMissedOutside})
		}
	}
	return nil
}

// Run fires schedules until ctx ends.
func (s *Scheduler) Run(ctx context.Context) error {
	for {
		now := s.opts.Clock.Now()
		var due []*scheduleEntry
		wait := time.Hour
		s.mu.Lock()
		for _, e := range s.entries {
			if !e.next.After(now) {
				due = append(due, &scheduleEntry{job: e.job, next: e.next})
				e.next = e.cron.Next(now)
			}
			if d := e.next.Sub(now); d < wait {
				wait = d
			}
		}
		s.mu.Unlock()
		sort.Slice(due, func(i, j int) bool { return due[i].job < due[j].job })
		for _, e := range due {
			s.fire(ctx, e.job, e.next)
		}
		if len(due) > 0 {
			continue
		}
		select {
		case <-ctx.Done():
			return nil
		case <-s.wake:
		case <-s.opts.Clock.After(wait):
		}
	}
}

func (s *Scheduler) fire(ctx context.Context, job string, at time.Time) {
	started, err := s.opts.Starter.StartScheduled(ctx, job, at)
	f := Firing{Job: job, At: at, Outcome: FiringStarted}
	switch {
	case err != nil:
		f.Outcome, f.Error = FiringError, err.Error()
	case !started:
		f.Outcome = FiringSkippedActive
	}
	s.record(ctx, f)
}

func (s *Scheduler) record(ctx context.Context, f Firing) {
	ev := s.opts.Logger.Info()
	if f.Outcome != FiringStarted {
		ev = s.opts.Logger.Warn()
	}
	ev.Str("job", f.Job).Time("firing", f.At).Str("outcome", string(f.Outcome)).Str("error", f.Error).Msg("schedule fired")
	if err := s.opts.Firings.RecordFiring(ctx, f); err != nil {
		s.opts.Logger.Error().Err(err).Str("job", f.Job).Msg("record schedule firing")
	}
}

func (s *Scheduler) sorted() []*scheduleEntry {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]*scheduleEntry, 0, len(s.entries))
	for _, e := range s.entries {
		out = append(out, e)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].job < out[j].job })
	return out
}

func windowOpen(w *WindowSchedule, t time.Time) bool {
	open, _ := w.OpenAt(t)
	return open
}
