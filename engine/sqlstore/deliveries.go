package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

// DeliverySeen reports whether webhook delivery id was recorded.
func (s *Store) DeliverySeen(ctx context.Context, id string) (bool, error) {
	var one int
	err := s.reader.QueryRowContext(ctx, "SELECT 1 FROM webhook_deliveries WHERE id = ?", id).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("delivery %s: %w", id, err)
	}
	return true, nil
}

// RecordDelivery records delivery id of event, durably. isNew is false when
// id was already recorded (a redelivery); the first record is kept.
func (s *Store) RecordDelivery(ctx context.Context, id, event string) (isNew bool, err error) {
	now := nanos(s.now())
	err = s.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `INSERT INTO webhook_deliveries (id, event, received) VALUES (?, ?, ?)
			ON CONFLICT (id) DO NOTHING`, id, event, now)
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		isNew = n == 1
		return err
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
	err := s.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, "UPDATE webhook_deliveries SET processed = ? WHERE id = ? AND processed = 0", now, id)
		return err
	})
	if err != nil {
		return fmt.Errorf("mark delivery %s processed: %w", id, err)
	}
	return nil
}

// UnprocessedDeliveries lists delivery ids recorded but not yet marked
// processed, oldest first, so a restarted daemon can tell what it may have
// dropped (it then reconciles from git rather than replaying payloads).
func (s *Store) UnprocessedDeliveries(ctx context.Context) ([]string, error) {
	rows, err := s.reader.QueryContext(ctx, "SELECT id FROM webhook_deliveries WHERE processed = 0 ORDER BY received, id")
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
