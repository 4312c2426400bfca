package pgstore

import (
	"context"
	"fmt"
	"time"

	"github.com/ripple-ops/ripple/engine"
)

// Metric samples and monitor state are written by whichever node ran the
// check, so their writes are not fenced.

// AppendMetrics stores samples in one commit and one statement, shared
// with other concurrent writes. Timestamps are kept to the millisecond.
func (s *Store) AppendMetrics(ctx context.Context, samples []engine.MetricSample) error {
	if len(samples) == 0 {
		return nil
	}
	n := len(samples)
	monitors, hosts, metrics := make([]string, n), make([]string, n), make([]string, n)
	ts, values := make([]int64, n), make([]float64, n)
	for i, m := range samples {
		monitors[i], hosts[i], metrics[i], ts[i], values[i] = m.Monitor, m.Host, m.Metric, m.At.UnixMilli(), m.Value
	}
	err := s.nodeWrite(ctx, func(q *queue) {
		q.exec(`INSERT INTO metrics_raw (monitor, host, metric, ts, value)
			SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[], $5::double precision[])`,
			monitors, hosts, metrics, ts, values)
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
	rows, err := s.pool.Query(ctx, `
		SELECT bucket, sum / count FROM metrics_5m
			WHERE monitor = $1 AND host = $2 AND metric = $3 AND bucket >= $4 AND bucket < $5
		UNION ALL
		SELECT ts, value FROM metrics_raw
			WHERE monitor = $1 AND host = $2 AND metric = $3 AND ts >= $4 AND ts < $5
		ORDER BY 1`,
		safeText(monitor), safeText(host), safeText(metric), from.UnixMilli(), to.UnixMilli())
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

// MetricNames lists the metrics stored for one (monitor, host), raw or
// rolled up, sorted.
func (s *Store) MetricNames(ctx context.Context, monitor, host string) ([]string, error) {
	rows, err := s.pool.Query(ctx, `
		SELECT metric FROM metrics_raw WHERE monitor = $1 AND host = $2
		UNION
		SELECT metric FROM metrics_5m WHERE monitor = $1 AND host = $2
		ORDER BY 1`, safeText(monitor), safeText(host))
	if err != nil {
		return nil, fmt.Errorf("metric names of %s/%s: %w", monitor, host, err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var m string
		if err := rows.Scan(&m); err != nil {
			return nil, fmt.Errorf("metric names of %s/%s: %w", monitor, host, err)
		}
		out = append(out, m)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("metric names of %s/%s: %w", monitor, host, err)
	}
	return out, nil
}
