package main

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/ripple-ops/ripple/definitions"
	"github.com/ripple-ops/ripple/engine"
)

// stepClock is a Clock whose After channels fire only when the test says.
type stepClock struct {
	mu    sync.Mutex
	now   time.Time
	after chan chan time.Time // each After call hands its channel over
}

func (c *stepClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *stepClock) After(time.Duration) <-chan time.Time {
	ch := make(chan time.Time, 1)
	c.after <- ch
	return ch
}

type countingCompactor struct {
	calls chan time.Time
	err   error
}

func (c *countingCompactor) Compact(_ context.Context, now time.Time) error {
	c.calls <- now
	return c.err
}

func TestRunCompaction(t *testing.T) {
	clock := &stepClock{now: time.Date(2026, 11, 29, 10, 0, 0, 0, time.UTC), after: make(chan chan time.Time)}
	// A failing compaction is retried at the next tick, not fatal.
	store := &countingCompactor{calls: make(chan time.Time, 10), err: errors.New("disk I/O error")}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- runCompaction(ctx, store, time.Hour, clock, zerolog.Nop()) }()

	if at := <-store.calls; !at.Equal(clock.now) {
		t.Errorf("first Compact at %v, want start-up time %v", at, clock.now)
	}
	for range 2 {
		tick := <-clock.after
		select {
		case <-store.calls:
			t.Fatal("Compact ran before the interval passed")
		default:
		}
		tick <- clock.Now()
		<-store.calls
	}
	<-clock.after // waiting for the next tick
	cancel()
	if err := <-done; err != nil {
		t.Errorf("runCompaction = %v, want nil on cancel", err)
	}
}

type recordingStarter struct{ fired chan string }

func (s recordingStarter) StartScheduled(_ context.Context, job string, _ time.Time) (bool, error) {
	s.fired <- job
	return true, nil
}

type memFirings struct {
	mu  sync.Mutex
	got []engine.Firing
}

func (m *memFirings) LastFiring(context.Context, string) (time.Time, error) { return time.Time{}, nil }

func (m *memFirings) RecordFiring(_ context.Context, f engine.Firing) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.got = append(m.got, f)
	return nil
}

func TestScheduleWiring(t *testing.T) {
	starter := recordingStarter{fired: make(chan string, 4)}
	firings := &memFirings{}
	w := newScheduleWiring(starter, firings, zerolog.Nop())

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- w.run(ctx) }()

	// A bad schedule is refused and does not count as the first apply.
	w.apply(&definitions.Definitions{Jobs: map[string]*definitions.Job{
		"patch": {Name: "patch", Schedule: "not a cron"},
	}})
	select {
	case job := <-starter.fired:
		t.Fatalf("%s fired before any schedule applied", job)
	case <-time.After(100 * time.Millisecond):
	}

	// A window that is always open: the firing of the last minute, never
	// recorded, is caught up once at start.
	w.apply(&definitions.Definitions{
		Jobs: map[string]*definitions.Job{"patch": {Name: "patch", Schedule: "* * * * *", Window: "always"}},
		Windows: map[string]*definitions.Window{
			"always": {Name: "always", Cron: "* * * * *", Duration: time.Hour, Location: time.UTC},
		},
	})
	select {
	case job := <-starter.fired:
		if job != "patch" {
			t.Errorf("caught up %q, want patch", job)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("missed firing not caught up after the first apply")
	}
	// Applying again does not catch up again.
	w.apply(&definitions.Definitions{Jobs: map[string]*definitions.Job{}})
	cancel()
	if err := <-done; err != nil {
		t.Errorf("run = %v", err)
	}
	firings.mu.Lock()
	defer firings.mu.Unlock()
	// (A minute boundary during the test may add a regular firing.)
	if len(firings.got) == 0 || firings.got[0].Outcome != engine.FiringStarted {
		t.Errorf("firings = %+v, want the catch-up started", firings.got)
	}
}
