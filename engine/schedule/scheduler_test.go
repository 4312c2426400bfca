package schedule

import (
	"context"
	"sync"
	"testing"
	"testing/fstest"
	"time"

	"github.com/ripple-ops/ripple/definitions"
	"github.com/ripple-ops/ripple/engine"
)

// fakeClock is a manual clock: After channels fire when Advance passes them.
type fakeClock struct {
	mu      sync.Mutex
	now     time.Time
	waiters []fakeWaiter
}

type fakeWaiter struct {
	at time.Time
	ch chan time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) After(d time.Duration) <-chan time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	ch := make(chan time.Time, 1)
	c.waiters = append(c.waiters, fakeWaiter{c.now.Add(d), ch})
	return ch
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	var keep []fakeWaiter
	for _, w := range c.waiters {
		if !w.at.After(c.now) {
			w.ch <- c.now
		} else {
			keep = append(keep, w)
		}
	}
	c.waiters = keep
	c.mu.Unlock()
}

type fakeStarter struct {
	mu     sync.Mutex
	active bool
	starts []time.Time
}

func (f *fakeStarter) StartScheduled(_ context.Context, _ string, at time.Time) (bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.active {
		return false, nil
	}
	f.starts = append(f.starts, at)
	return true, nil
}

type memFirings struct {
	mu      sync.Mutex
	firings []engine.Firing
}

func (m *memFirings) LastFiring(_ context.Context, job string) (time.Time, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var last time.Time
	for _, f := range m.firings {
		if f.Job == job && f.At.After(last) {
			last = f.At
		}
	}
	return last, nil
}

func (m *memFirings) RecordFiring(_ context.Context, f engine.Firing) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.firings = append(m.firings, f)
	return nil
}

func (m *memFirings) list() []engine.Firing {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]engine.Firing(nil), m.firings...)
}

const scheduleRepo = `
credential "default" {
  user             = "ops"
  private_key_file = "/keys/ops"
  known_hosts_file = "/keys/known_hosts"
}
host "db-01" {
  address = "10.0.0.3"
  labels  = { os = "debian12" }
}
window "weekend-night" {
  cron     = "0 1 * * SAT"
  duration = "4h"
  timezone = "Asia/Tokyo"
}
job "security-updates" {
  targets  { labels = { os = "debian12" } }
  schedule = "0 2 * * SAT"
  window   = "weekend-night"
  step "upgrade" { run = "apt-get -y upgrade" }
}
`

func loadSchedule(t *testing.T) *definitions.Definitions {
	t.Helper()
	defs, diags := definitions.Load(fstest.MapFS{"main.hcl": {Data: []byte(scheduleRepo)}}, "", definitions.Limits{})
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	return defs
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

func TestSchedulerFiresInJobTimeZoneAndSkipsOverlap(t *testing.T) {
	tokyo, _ := time.LoadLocation("Asia/Tokyo")
	// Friday 2026-11-27 16:00 UTC = Saturday 01:00 in Tokyo; the job fires
	// at 02:00 Tokyo = 17:00 UTC.
	clock := &fakeClock{now: time.Date(2026, 11, 27, 16, 0, 0, 0, time.UTC)}
	starter := &fakeStarter{}
	firings := &memFirings{}
	s := New(Options{Starter: starter, Firings: firings, Clock: clock})
	if err := s.ApplyConfig(context.Background(), loadSchedule(t)); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = s.fireLoop(ctx) }()
	defer func() { cancel(); <-done }()

	waitFor(t, "scheduler waiting", func() bool { clock.mu.Lock(); defer clock.mu.Unlock(); return len(clock.waiters) > 0 })
	clock.Advance(59 * time.Minute)
	time.Sleep(20 * time.Millisecond)
	if len(firings.list()) != 0 {
		t.Fatalf("fired early: %+v", firings.list())
	}
	clock.Advance(time.Minute)
	waitFor(t, "first firing", func() bool { return len(firings.list()) == 1 })
	want := time.Date(2026, 11, 28, 2, 0, 0, 0, tokyo)
	if f := firings.list()[0]; f.Outcome != engine.FiringStarted || !f.At.Equal(want) {
		t.Fatalf("firing = %+v, want started at %s", f, want)
	}

	// A week later the previous run is still going: skipped and recorded.
	starter.mu.Lock()
	starter.active = true
	starter.mu.Unlock()
	waitFor(t, "scheduler waiting", func() bool { clock.mu.Lock(); defer clock.mu.Unlock(); return len(clock.waiters) > 0 })
	clock.Advance(7 * 24 * time.Hour)
	waitFor(t, "second firing", func() bool { return len(firings.list()) == 2 })
	if f := firings.list()[1]; f.Outcome != engine.FiringSkippedActive {
		t.Fatalf("overlapping firing = %+v, want skipped", f)
	}
	if len(starter.starts) != 1 {
		t.Fatalf("%d runs started, want 1", len(starter.starts))
	}
}

func TestSchedulerCatchUpOnlyInsideWindow(t *testing.T) {
	tokyo, _ := time.LoadLocation("Asia/Tokyo")
	lastWeek := time.Date(2026, 11, 21, 2, 0, 0, 0, tokyo)
	tests := []struct {
		name    string
		now     time.Time
		outcome engine.FiringOutcome
	}{
		// Down over Saturday 02:00, back at 03:30 Tokyo: window (01:00-05:00) open.
		{"back inside window", time.Date(2026, 11, 28, 3, 30, 0, 0, tokyo), engine.FiringStarted},
		// Back at 06:00 Tokyo: window closed, the run is not started.
		{"back after window", time.Date(2026, 11, 28, 6, 0, 0, 0, tokyo), engine.FiringMissedOutside},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			starter := &fakeStarter{}
			firings := &memFirings{firings: []engine.Firing{{Job: "security-updates", At: lastWeek, Outcome: engine.FiringStarted}}}
			s := New(Options{Starter: starter, Firings: firings, Clock: &fakeClock{now: tc.now}})
			if err := s.ApplyConfig(context.Background(), loadSchedule(t)); err != nil {
				t.Fatal(err)
			}
			if err := s.CatchUp(context.Background()); err != nil {
				t.Fatal(err)
			}
			got := firings.list()
			if len(got) != 2 || got[1].Outcome != tc.outcome || !got[1].At.Equal(time.Date(2026, 11, 28, 2, 0, 0, 0, tokyo)) {
				t.Fatalf("firings = %+v, want a %q record for 2026-11-28 02:00 Tokyo", got, tc.outcome)
			}
			if started := len(starter.starts) == 1; started != (tc.outcome == engine.FiringStarted) {
				t.Fatalf("runs started = %d", len(starter.starts))
			}
			// A second catch-up does nothing more.
			if err := s.CatchUp(context.Background()); err != nil {
				t.Fatal(err)
			}
			if len(firings.list()) != 2 {
				t.Fatalf("catch-up repeated: %+v", firings.list())
			}
		})
	}
}
