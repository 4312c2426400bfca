package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/ripple-ops/ripple/engine"
)

// AppendMetrics stores samples in one commit, shared with other concurrent
// writes. Timestamps are kept to the millisecond.
func (s *Store) AppendMetrics(ctx context.Context, samples []engine.MetricSample) error {
	if len(samples) == 0 {
		return nil
	}
	err := s.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		st, err := tx.PrepareContext(ctx, "INSERT INTO metrics_raw (monitor, host, metric, ts, value) VALUES (?, ?, ?, ?, ?)")
		if err != nil {
			return err
		}
		defer st.Close()
		for _, m := range samples {
			if _, err := st.ExecContext(ctx, m.Monitor, m.Host, m.Metric, m.At.UnixMilli(), m.Value); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("append %d metric samples: %w", len(samples), err)
	}
	return nil
}

// QueryMetrics returns the points of one series with from <= At < to,
// oldest first: raw samples where they are still kept and 5-minute averages
// (stamped with the start of their bucket) before that.
func (s *Store) QueryMetrics(ctx context.Context, monitor, host, metric string, from, to time.Time) ([]engine.MetricPoint, error) {
	f, t := from.UnixMilli(), to.UnixMilli()
	rows, err := s.reader.QueryContext(ctx, `
		SELECT bucket, sum / count FROM metrics_5m
			WHERE monitor = ? AND host = ? AND metric = ? AND bucket >= ? AND bucket < ?
		UNION ALL
		SELECT ts, value FROM metrics_raw
			WHERE monitor = ? AND host = ? AND metric = ? AND ts >= ? AND ts < ?
		ORDER BY 1`,
		monitor, host, metric, f, t, monitor, host, metric, f, t)
	if err != nil {
		return nil, fmt.Errorf("query %s/%s/%s: %w", monitor, host, metric, err)
	}
	defer rows.Close()
	var out []engine.MetricPoint
	for rows.Next() {
		var ms int64
		var p engine.MetricPoint
		if err := rows.Scan(&ms, &p.Value); err != nil {
			return nil, fmt.Errorf("query %s/%s/%s: %w", monitor, host, metric, err)
		}
		p.At = time.UnixMilli(ms).UTC()
		out = append(out, p)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("query %s/%s/%s: %w", monitor, host, metric, err)
	}
	return out, nil
}

// Compact applies retention as of now, in one commit: raw samples in
// 5-minute buckets that ended more than engine.MetricRawRetention ago are
// folded into their bucket's average (a bucket is folded whole, so a series
// never has both forms for the same interval), averages older than
// engine.MetricRollupRetention and webhook delivery ids older than
// engine.DeliveryRetention are deleted. It is
// idempotent; run it every few minutes.
func (s *Store) Compact(ctx context.Context, now time.Time) error {
	interval := engine.MetricRollupInterval.Milliseconds()
	cutoff := now.Add(-engine.MetricRawRetention).UnixMilli() / interval * interval
	rollupCutoff := now.Add(-engine.MetricRollupRetention).UnixMilli()
	deliveryCutoff := nanos(now.Add(-engine.DeliveryRetention))
	err := s.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO metrics_5m (monitor, host, metric, bucket, sum, count)
			SELECT monitor, host, metric, ts / ? * ?, SUM(value), COUNT(*) FROM metrics_raw WHERE ts < ?
			GROUP BY monitor, host, metric, ts / ?
			ON CONFLICT (monitor, host, metric, bucket) DO UPDATE SET
				sum = metrics_5m.sum + excluded.sum, count = metrics_5m.count + excluded.count`,
			interval, interval, cutoff, interval); err != nil {
			return fmt.Errorf("roll up: %w", err)
		}
		if _, err := tx.ExecContext(ctx, "DELETE FROM metrics_raw WHERE ts < ?", cutoff); err != nil {
			return fmt.Errorf("delete raw: %w", err)
		}
		if _, err := tx.ExecContext(ctx, "DELETE FROM metrics_5m WHERE bucket < ?", rollupCutoff); err != nil {
			return fmt.Errorf("delete rollups: %w", err)
		}
		if _, err := tx.ExecContext(ctx, "DELETE FROM webhook_deliveries WHERE received < ?", deliveryCutoff); err != nil {
			return fmt.Errorf("delete deliveries: %w", err)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("compact: %w", err)
	}
	return nil
}
