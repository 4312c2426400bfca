// Package backoff computes the waits between retries of GitHub calls,
// alert deliveries and the store's write probe: exponential, capped, with
// jitter. It is pure (no goroutines, no clock); callers sleep the returned
// durations themselves.
//
// The jitter is "equal jitter": the wait before retry n is drawn uniformly
// from the upper half of its ceiling, min(Base·2^(n-1), Max). Full jitter
// (anywhere in [0, ceiling]) spreads many competing clients best, but
// ripple has one outbox worker per GitHub token, one delivery goroutine and
// one store probe per process, so contention is between a few instances
// retrying after the same outage. For those, equal jitter breaks the
// lockstep while keeping a floor of half the ceiling, so a retry never
// comes almost at once after a failure: GitHub asks clients to back off,
// and a failing mail server, webhook endpoint or full disk is no better
// served by an immediate retry.
package backoff

import (
	"math"
	"math/rand/v2"
	"time"
)

// Policy is exponential backoff with equal jitter. The zero Policy waits 0.
type Policy struct {
	// Base is the ceiling of the first wait; each further retry doubles
	// the ceiling. Base <= 0 means no wait at all.
	Base time.Duration
	// Max caps the ceiling, so no wait exceeds it; Max <= 0 means no cap.
	Max time.Duration
	// Rand returns a uniform pseudo-random number in [0, n); n is always
	// at least 1. nil means math/rand/v2's Int64N. Tests inject it to get
	// exact waits (always 0 gives the floor, n-1 the ceiling).
	Rand func(n int64) int64
}

// Delay is the wait before retry number attempt (1-based: 1 is the wait
// after the first failure; attempt < 1 counts as 1). It lies in
// [ceiling/2, ceiling], rounded up, with ceiling = min(Base·2^(attempt-1), Max).
func (p Policy) Delay(attempt int) time.Duration {
	c := p.Ceiling(attempt)
	if c <= 0 {
		return 0
	}
	half := c / 2
	randN := p.Rand
	if randN == nil {
		randN = rand.Int64N
	}
	return c - half + time.Duration(randN(int64(half)+1))
}

// Ceiling is the largest wait Delay(attempt) can return:
// min(Base·2^(attempt-1), Max), without overflow.
func (p Policy) Ceiling(attempt int) time.Duration {
	if p.Base <= 0 {
		return 0
	}
	limit := p.Max
	if limit <= 0 {
		limit = math.MaxInt64
	}
	d := p.Base
	for i := 1; i < attempt && d < limit; i++ {
		if d > math.MaxInt64/2 {
			d = math.MaxInt64
			break
		}
		d *= 2
	}
	return min(d, limit)
}
