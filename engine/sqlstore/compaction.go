package sqlstore

import (
	"context"
	"time"

	"github.com/rs/zerolog"

	"github.com/ripple-ops/ripple/engine"
)

// CompactEvery is how often RunCompaction applies the store's retention.
const CompactEvery = 5 * time.Minute

// compactor is the part of the store that retention needs.
type compactor interface {
	Compact(ctx context.Context, now time.Time) error
}

// RunCompaction applies the store's retention (Compact) once at start,
// then every CompactEvery until ctx ends. A failed compaction is logged and
// tried again at the next tick; it never stops the daemon.
func (s *Store) RunCompaction(ctx context.Context, log zerolog.Logger) error {
	return runCompaction(ctx, s, CompactEvery, engine.RealClock{}, log)
}

func runCompaction(ctx context.Context, store compactor, interval time.Duration, clock engine.Clock, log zerolog.Logger) error {
	log = log.With().Str("component", "compaction").Logger()
	for {
		start := clock.Now()
		if err := store.Compact(ctx, start); err != nil {
			if ctx.Err() != nil {
				return nil
			}
			log.Error().Err(err).Msg("store compaction")
		} else {
			log.Debug().Dur("took", clock.Now().Sub(start)).Msg("store compacted")
		}
		select {
		case <-ctx.Done():
			return nil
		case <-clock.After(interval):
		}
	}
}
