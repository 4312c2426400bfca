package sqlstore

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"
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
