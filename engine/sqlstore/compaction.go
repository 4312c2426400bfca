package sqlstore

import (
	"context"
	"time"

	"github.com/rs/zerolog"

	"github.com/ripple-ops/ripple/engine"
)

// RunCompaction applies the store's retention (Compact) once at start,
// then every engine.CompactEvery until ctx ends. A failed compaction is
// logged and tried again at the next tick; it never stops the daemon.
func (s *Store) RunCompaction(ctx context.Context, log zerolog.Logger) error {
	log = log.With().Str("component", "compaction").Logger()
	engine.RunCompaction(ctx, s, engine.CompactEvery, engine.RealClock{}, func(took time.Duration, err error) {
		if err != nil {
			log.Error().Err(err).Msg("store compaction")
			return
		}
		log.Debug().Stringer("took", took).Msg("store compacted")
	})
	return nil
}
