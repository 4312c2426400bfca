package schedule

import (
	"context"
	"fmt"
	"sort"
	"sync"
	"time"

	"github.com/rs/zerolog"

	"github.com/ripple-ops/ripple/definitions"
	"github.com/ripple-ops/ripple/engine"
)

// ScheduledRunStarter starts the run of a scheduled job; the daemon
// implements it. started is false when the job already has an active run
// (the firing is then skipped and recorded, never queued).
type ScheduledRunStarter interface {
	StartScheduled(ctx context.Context, job string, firing time.Time) (started bool, err error)
}

// Options configures a Scheduler. Logger gets the component
// field "scheduler".
type Options struct {
	Starter ScheduledRunStarter
	Firings engine.FiringStore
	Clock   engine.Clock // default: the real clock
	Logger  zerolog.Logger
	// MissedLookback bounds how far back start-up looks for a missed
	// firing; default 7 days.
	MissedLookback time.Duration
}

// Scheduler starts the runs of jobs that have a `schedule`, in the job's
// (or its window's) time zone. Run owns its one goroutine.
type Scheduler struct {
	opts       Options
	wake       chan struct{}
	first      chan struct{} // closed by the first successful ApplyConfig
	configured sync.Once

	mu      sync.Mutex
	entries map[string]*scheduleEntry
}

type scheduleEntry struct {
	job    string
	cron   *definitions.Cron
	window *Window
	next   time.Time
}

// New returns a Scheduler with no jobs; ApplyConfig loads them.
func New(opts Options) *Scheduler {
	if opts.Clock == nil {
		opts.Clock = engine.RealClock{}
	}
	opts.Logger = opts.Logger.With().Str("component", "scheduler").Logger()
	if opts.MissedLookback <= 0 {
		opts.MissedLookback = 7 * 24 * time.Hour
	}
	return &Scheduler{opts: opts, wake: make(chan struct{}, 1), first: make(chan struct{}), entries: map[string]*scheduleEntry{}}
}

var _ engine.ConfigApplier = (*Scheduler)(nil)

// ApplyConfig implements engine.ConfigApplier: it replaces the scheduled
// jobs with those of defs. On error the previous schedules stay in force.
// It never starts a run itself (the daemon calls it from its goroutine,
// which starting a run would block): Run catches up and fires.
func (s *Scheduler) ApplyConfig(_ context.Context, defs *definitions.Definitions) error {
	entries := map[string]*scheduleEntry{}
	now := s.opts.Clock.Now()
	for name, j := range defs.Jobs {
		if j.Schedule == "" {
			continue
		}
		c := defs.JobSchedule(j)
		if c == nil {
			return fmt.Errorf("job %s: schedule %q did not parse", name, j.Schedule)
		}
		e := &scheduleEntry{job: name, cron: c, next: c.Next(now)}
		if w, ok := defs.Windows[j.Window]; ok {
			if e.window = NewWindow(w); e.window == nil {
				return fmt.Errorf("job %s: window %s did not parse", name, w.Name)
			}
		}
		entries[name] = e
	}
	s.mu.Lock()
	s.entries = entries
	s.mu.Unlock()
	s.configured.Do(func() { close(s.first) })
	select {
	case s.wake <- struct{}{}:
	default:
	}
	return nil
}

// Window returns the maintenance window of a scheduled job, or nil.
func (s *Scheduler) Window(job string) *Window {
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
		switch open := e.window.Open(now); {
		case open:
			s.fire(ctx, e.job, missed)
		case e.window == nil:
			s.record(ctx, engine.Firing{Job: e.job, At: missed, Outcome: engine.FiringMissedNoWindow})
		default:
			s.record(ctx, engine.Firing{Job: e.job, At: missed, Outcome: engine.FiringMissedOutside})
		}
	}
	return nil
}

// Run waits for the first ApplyConfig, catches up once on the firings
// missed while ripple was down (CatchUp), then fires schedules until ctx
// ends.
func (s *Scheduler) Run(ctx context.Context) error {
	select {
	case <-ctx.Done():
		return nil
	case <-s.first:
	}
	if err := s.CatchUp(ctx); err != nil && ctx.Err() == nil {
		s.opts.Logger.Error().Err(err).Msg("catch up on missed schedule firings")
	}
	return s.fireLoop(ctx)
}

// fireLoop fires schedules until ctx ends.
func (s *Scheduler) fireLoop(ctx context.Context) error {
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
	f := engine.Firing{Job: job, At: at, Outcome: engine.FiringStarted}
	switch {
	case err != nil:
		f.Outcome, f.Error = engine.FiringError, err.Error()
	case !started:
		f.Outcome = engine.FiringSkippedActive
	}
	s.record(ctx, f)
}

func (s *Scheduler) record(ctx context.Context, f engine.Firing) {
	ev := s.opts.Logger.Info()
	if f.Outcome != engine.FiringStarted {
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
