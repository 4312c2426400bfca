package sqlstore

import (
	"context"
	"fmt"
)

// MetricNames lists the metrics stored for one (monitor, host), raw or
// rolled up, sorted.
func (s *Store) MetricNames(ctx context.Context, monitor, host string) ([]string, error) {
	rows, err := s.reader.QueryContext(ctx, `
		SELECT DISTINCT metric FROM metrics_raw WHERE monitor = ? AND host = ?
		UNION
		SELECT DISTINCT metric FROM metrics_5m WHERE monitor = ? AND host = ?
		ORDER BY 1`, monitor, host, monitor, host)
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
