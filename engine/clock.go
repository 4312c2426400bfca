package engine

import "time"

// Clock is the time source of rollouts: gate timers, pauses and the times
// recorded on runs. Tests substitute virtual time.
type Clock interface {
	Now() time.Time
	// After fires once d has passed. It must not block.
	After(d time.Duration) <-chan time.Time
}

// RealClock is the wall clock.
type RealClock struct{}

// Now returns time.Now().
func (RealClock) Now() time.Time { return time.Now() }

// After returns time.After(d).
func (RealClock) After(d time.Duration) <-chan time.Time { return time.After(d) }
