package schedule

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/ripple-ops/ripple/definitions"
	"github.com/ripple-ops/ripple/engine"
)

type recordingStarter struct{ fired chan string }

func (s recordingStarter) StartScheduled(_ context.Context, job string, _ time.Time) (bool, error) {
	s.fired <- job
	return true, nil
}

type catchUpFirings struct {
	mu  sync.Mutex
	got []engine.Firing
}

func (m *catchUpFirings) LastFiring(context.Context, string) (time.Time, error) {
	return time.Time{}, nil
}

func (m *catchUpFirings) RecordFiring(_ context.Context, f engine.Firing) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.got = append(m.got, f)
	return nil
}

func TestRunCatchesUpOnceAfterTheFirstConfig(t *testing.T) {
	starter := recordingStarter{fired: make(chan string, 4)}
	firings := &catchUpFirings{}
	w := New(Options{Starter: starter, Firings: firings, Logger: zerolog.Nop()})

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- w.Run(ctx) }()

	// A bad schedule is refused and does not count as the first apply.
	if err := w.ApplyConfig(ctx, &definitions.Definitions{Jobs: map[string]*definitions.Job{
		"patch": {Name: "patch", Schedule: "not a cron"},
	}}); err == nil {
		t.Error("ApplyConfig of a schedule that did not parse: no error")
	}
	select {
	case job := <-starter.fired:
		t.Fatalf("%s fired before any schedule applied", job)
	case <-time.After(100 * time.Millisecond):
	}

	// A window that is always open: the firing of the last minute, never
	// recorded, is caught up once at start.
	every, err := definitions.ParseCron("* * * * *", time.UTC)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.ApplyConfig(ctx, &definitions.Definitions{
		Jobs: map[string]*definitions.Job{"patch": {Name: "patch", Schedule: "* * * * *", Cron: every, Window: "always"}},
		Windows: map[string]*definitions.Window{
			"always": {Name: "always", Cron: "* * * * *", Opens: every, Duration: time.Hour, Location: time.UTC},
		},
	}); err != nil {
		t.Fatal(err)
	}
	select {
	case job := <-starter.fired:
		if job != "patch" {
			t.Errorf("caught up %q, want patch", job)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("missed firing not caught up after the first apply")
	}
	// Applying again does not catch up again.
	if err := w.ApplyConfig(ctx, &definitions.Definitions{Jobs: map[string]*definitions.Job{}}); err != nil {
		t.Fatal(err)
	}
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
