package pgstore

import (
	"context"
	"fmt"

	"github.com/ripple-ops/ripple/engine"
)

// AddEvent appends an audit event. A zero e.At becomes now; RunID 0 means
// the event is not about one run.
func (s *Store) AddEvent(ctx context.Context, e engine.Event) error {
	at := e.At
	if at.IsZero() {
		at = s.now()
	}
	err := s.write(ctx, func(q *queue) {
		q.exec("INSERT INTO events (run_id, at, actor, action, reason) VALUES ($1, $2, $3, $4, $5)",
			e.RunID, nanos(at), e.Actor, e.Action, e.Reason)
	})
	if err != nil {
		return fmt.Errorf("add event %s for run %d: %w", e.Action, e.RunID, err)
	}
	return nil
}

// Events lists the events of run runID in the order they were added.
func (s *Store) Events(ctx context.Context, runID int64) ([]engine.Event, error) {
	rows, err := s.pool.Query(ctx,
		"SELECT run_id, at, actor, action, reason FROM events WHERE run_id = $1 ORDER BY id", runID)
	if err != nil {
		return nil, fmt.Errorf("events of run %d: %w", runID, err)
	}
	defer rows.Close()
	var evs []engine.Event
	for rows.Next() {
		var e engine.Event
		var at int64
		if err := rows.Scan(&e.RunID, &at, &e.Actor, &e.Action, &e.Reason); err != nil {
			return nil, fmt.Errorf("events of run %d: %w", runID, err)
		}
		e.At = fromNanos(at)
		evs = append(evs, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("events of run %d: %w", runID, err)
	}
	return evs, nil
}
