package enginetest

import (
	"sync"
	"time"

	"github.com/ripple-ops/ripple/engine"
)

// AutoClock is virtual time that jumps forward whenever someone waits:
// After(d) advances the clock by d and fires at once. Tests on it are
// instant and deterministic.
type AutoClock struct {
	mu sync.Mutex
	t  time.Time
}

var _ engine.Clock = (*AutoClock)(nil)

// NewAutoClock starts at 2026-01-01T00:00:00Z.
func NewAutoClock() *AutoClock {
	return &AutoClock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
}

// Now implements engine.Clock.
func (c *AutoClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// After implements engine.Clock: the clock advances by d at once.
func (c *AutoClock) After(d time.Duration) <-chan time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
	ch := make(chan time.Time, 1)
	ch <- c.t
	return ch
}

// Set moves the clock to t.
func (c *AutoClock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}
