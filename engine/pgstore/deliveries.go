package pgstore

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5/pgconn"
)

// Webhook deliveries are recorded by whichever node received them, so
// their writes are not fenced.

// DeliverySeen reports whether webhook delivery id was recorded.
func (s *Store) DeliverySeen(ctx context.Context, id string) (bool, error) {
	var one int
	err := s.pool.QueryRow(ctx, "SELECT 1 FROM webhook_deliveries WHERE id = $1", safeText(id)).Scan(&one)
	if errNoRows(err) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("delivery %s: %w", id, err)
	}
	return true, nil
}

// RecordDelivery records delivery id of event, durably. isNew is false when
// id was already recorded (a redelivery, to this node or another); the
// first record is kept.
func (s *Store) RecordDelivery(ctx context.Context, id, event string) (isNew bool, err error) {
	now := nanos(s.now())
	err = s.nodeWrite(ctx, func(q *queue) {
		q.execTag(func(ct pgconn.CommandTag) error {
			isNew = ct.RowsAffected() == 1
			return nil
		}, `INSERT INTO webhook_deliveries (id, event, received) VALUES ($1, $2, $3)
			ON CONFLICT (id) DO NOTHING`, id, event, now)
	})
	if err != nil {
		return false, fmt.Errorf("record delivery %s: %w", id, err)
	}
	return isNew, nil
}

// MarkDeliveryProcessed records that delivery id was acted on. An unknown id
// is not an error (it may have been compacted away).
func (s *Store) MarkDeliveryProcessed(ctx context.Context, id string) error {
	now := nanos(s.now())
	err := s.nodeWrite(ctx, func(q *queue) {
		q.exec("UPDATE webhook_deliveries SET processed = $1 WHERE id = $2 AND processed = 0", now, id)
	})
	if err != nil {
		return fmt.Errorf("mark delivery %s processed: %w", id, err)
	}
	return nil
}

// UnprocessedDeliveries lists delivery ids recorded but not yet marked
// processed, oldest first.
func (s *Store) UnprocessedDeliveries(ctx context.Context) ([]string, error) {
	rows, err := s.pool.Query(ctx, "SELECT id FROM webhook_deliveries WHERE processed = 0 ORDER BY received, id")
	if err != nil {
		return nil, fmt.Errorf("unprocessed deliveries: %w", err)
	}
	defer rows.Close()
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("unprocessed deliveries: %w", err)
		}
		ids = append(ids, id)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("unprocessed deliveries: %w", err)
	}
	return ids, nil
}
