package pgstore

import (
	"context"
	"fmt"

	"github.com/ripple-ops/ripple/engine"
)

// SaveMonitorState replaces the record of (m.Monitor, m.Host), unless the
// stored one was observed later (engine.MonitorStateStore).
func (s *Store) SaveMonitorState(ctx context.Context, m engine.MonitorRecord) error {
	pending, err := engine.EncodePending(m.Pending)
	if err != nil {
		return fmt.Errorf("save state of monitor %s on %s: %w", m.Monitor, m.Host, err)
	}
	cursor, err := engine.EncodeLogCursor(m.LogCursor)
	if err != nil {
		return fmt.Errorf("save state of monitor %s on %s: %w", m.Monitor, m.Host, err)
	}
	err = s.nodeWrite(ctx, func(q *queue) {
		q.exec(`INSERT INTO monitor_state (monitor, host, state, since, consecutive,
				firing, notified, last_output, last_at, pending, log_cursor, notified_at, suppressed)
				VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
			ON CONFLICT (monitor, host) DO UPDATE SET state = excluded.state, since = excluded.since,
				consecutive = excluded.consecutive, firing = excluded.firing, notified = excluded.notified,
				last_output = excluded.last_output, last_at = excluded.last_at, pending = excluded.pending,
				log_cursor = CASE WHEN excluded.log_cursor = '' THEN monitor_state.log_cursor ELSE excluded.log_cursor END,
				notified_at = excluded.notified_at, suppressed = excluded.suppressed
			WHERE excluded.last_at >= monitor_state.last_at`,
			m.Monitor, m.Host, int(m.State), nanos(m.Since), m.Consecutive, m.Firing, m.Notified,
			[]byte(m.LastOutput), nanos(m.LastAt), pending, cursor, nanos(m.NotifiedAt), m.Suppressed)
	})
	if err != nil {
		return fmt.Errorf("save state of monitor %s on %s: %w", m.Monitor, m.Host, err)
	}
	return nil
}

// MonitorStates lists every saved record, by monitor then host.
func (s *Store) MonitorStates(ctx context.Context) ([]engine.MonitorRecord, error) {
	rows, err := s.pool.Query(ctx, `SELECT monitor, host, state, since, consecutive, firing, notified,
		last_output, last_at, pending, log_cursor, notified_at, suppressed FROM monitor_state ORDER BY monitor, host`)
	if err != nil {
		return nil, fmt.Errorf("monitor states: %w", err)
	}
	defer rows.Close()
	var out []engine.MonitorRecord
	for rows.Next() {
		var (
			m               engine.MonitorRecord
			state           int
			since, lastAt   int64
			notifiedAt      int64
			output          []byte
			pending, cursor string
		)
		if err := rows.Scan(&m.Monitor, &m.Host, &state, &since, &m.Consecutive, &m.Firing, &m.Notified,
			&output, &lastAt, &pending, &cursor, &notifiedAt, &m.Suppressed); err != nil {
			return nil, fmt.Errorf("monitor states: %w", err)
		}
		p, err := engine.DecodePending(m.Monitor, m.Host, pending)
		if err != nil {
			return nil, fmt.Errorf("monitor states: %s on %s: %w", m.Monitor, m.Host, err)
		}
		m.Pending, m.LastOutput = p, string(output)
		if m.LogCursor, err = engine.DecodeLogCursor(cursor); err != nil {
			return nil, fmt.Errorf("monitor states: %s on %s: %w", m.Monitor, m.Host, err)
		}
		m.State = engine.CheckState(state)
		m.Since, m.LastAt, m.NotifiedAt = fromNanos(since), fromNanos(lastAt), fromNanos(notifiedAt)
		out = append(out, m)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("monitor states: %w", err)
	}
	return out, nil
}
