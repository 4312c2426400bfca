package engine

import (
	"context"
	"time"
)

// CompactEvery is how often RunCompaction applies a store's retention.
const CompactEvery = 5 * time.Minute

// RunCompaction applies c's retention once at start, then every interval
// until ctx ends, and returns nil then. Each pass is reported to done with
// how long it took and its error; a failed pass is tried again at the next
// tick, it never stops the loop.
func RunCompaction(ctx context.Context, c Compactor, interval time.Duration, clock Clock, done func(took time.Duration, err error)) {
	for {
		start := clock.Now()
		err := c.Compact(ctx, start)
		if ctx.Err() != nil {
			return
		}
		done(clock.Now().Sub(start), err)
		select {
		case <-ctx.Done():
			return
		case <-clock.After(interval):
		}
	}
}
