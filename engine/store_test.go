package engine_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

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
	reported := make(chan error, 10)
	done := make(chan struct{})
	go func() {
		defer close(done)
		engine.RunCompaction(ctx, store, time.Hour, clock, func(_ time.Duration, err error) { reported <- err })
	}()

	if at := <-store.calls; !at.Equal(clock.now) {
		t.Errorf("first Compact at %v, want start-up time %v", at, clock.now)
	}
	if err := <-reported; !errors.Is(err, store.err) {
		t.Errorf("reported %v, want the compaction's error", err)
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
		<-reported
	}
	<-clock.after // waiting for the next tick
	cancel()
	<-done
}
