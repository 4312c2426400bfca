package pgstore

import (
	"context"
	"fmt"
	"time"

	"github.com/rs/zerolog"

	"github.com/ripple-ops/ripple/engine"
)

// Compact applies retention as of now, in one transaction of its own (not
// through the group committer, so the journal never waits behind it): raw
// samples in 5-minute buckets that ended more than
// engine.MetricRawRetention ago are folded into their bucket's average (a
// bucket is folded whole, so a series never has both forms for the same
// interval), averages older than engine.MetricRollupRetention and webhook
// delivery ids older than engine.DeliveryRetention are deleted. It is
// idempotent, and safe to run from several nodes at once: the rollup
// deletes the raw samples it folds in the same statement, so each sample is
// folded once, and a sample appended meanwhile waits for the next pass.
func (s *Store) Compact(ctx context.Context, now time.Time) error {
	if s.closed.Load() {
		return fmt.Errorf("compact: %w", ErrClosed)
	}
	interval := engine.MetricRollupInterval.Milliseconds()
	cutoff := now.Add(-engine.MetricRawRetention).UnixMilli() / interval * interval
	rollupCutoff := now.Add(-engine.MetricRollupRetention).UnixMilli()
	deliveryCutoff := nanos(now.Add(-engine.DeliveryRetention))
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return fmt.Errorf("compact: %w", err)
	}
	defer tx.Rollback(ctx) //nolint:errcheck // a no-op after Commit
	if _, err := tx.Exec(ctx, `WITH moved AS (DELETE FROM metrics_raw WHERE ts < $2 RETURNING monitor, host, metric, ts, value)
		INSERT INTO metrics_5m (monitor, host, metric, bucket, sum, count)
		SELECT monitor, host, metric, ts / $1 * $1, SUM(value), COUNT(*) FROM moved
		GROUP BY 1, 2, 3, 4
		ON CONFLICT (monitor, host, metric, bucket) DO UPDATE SET
			sum = metrics_5m.sum + excluded.sum, count = metrics_5m.count + excluded.count`,
		interval, cutoff); err != nil {
		return fmt.Errorf("compact: roll up: %w", err)
	}
	if _, err := tx.Exec(ctx, "DELETE FROM metrics_5m WHERE bucket < $1", rollupCutoff); err != nil {
		return fmt.Errorf("compact: delete rollups: %w", err)
	}
	if _, err := tx.Exec(ctx, "DELETE FROM webhook_deliveries WHERE received < $1", deliveryCutoff); err != nil {
		return fmt.Errorf("compact: delete deliveries: %w", err)
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("compact: commit: %w", err)
	}
	return nil
}

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
