package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/ripple-ops/ripple/engine"
)

var _ engine.FiringStore = (*Store)(nil)

// RecordFiring appends the record of one schedule firing.
func (s *Store) RecordFiring(ctx context.Context, f engine.Firing) error {
	err := s.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO schedule_firings (job, at, outcome, error, recorded)
			VALUES (?, ?, ?, ?, ?)`, f.Job, nanos(f.At), string(f.Outcome), f.Error, nanos(s.now()))
		return err
	})
	if err != nil {
		return fmt.Errorf("record firing of %s at %s: %w", f.Job, f.At.UTC().Format(time.RFC3339), err)
	}
	return nil
}

// LastFiring returns the latest cron time recorded for job, whatever its
// outcome, or the zero time when none is.
func (s *Store) LastFiring(ctx context.Context, job string) (time.Time, error) {
	var at sql.NullInt64
	if err := s.reader.QueryRowContext(ctx, "SELECT MAX(at) FROM schedule_firings WHERE job = ?", job).Scan(&at); err != nil {
		return time.Time{}, fmt.Errorf("last firing of %s: %w", job, err)
	}
	return fromNanos(at.Int64), nil
}

// Firings lists the latest records of job's firings, newest first, at most
// limit of them (all when limit <= 0).
func (s *Store) Firings(ctx context.Context, job string, limit int) ([]engine.Firing, error) {
	if limit <= 0 {
		limit = -1
	}
	rows, err := s.reader.QueryContext(ctx, `SELECT job, at, outcome, error FROM schedule_firings
		WHERE job = ? ORDER BY at DESC, id DESC LIMIT ?`, job, limit)
	if err != nil {
		return nil, fmt.Errorf("firings of %s: %w", job, err)
	}
	defer rows.Close()
	var out []engine.Firing
	for rows.Next() {
		var (
			f       engine.Firing
			at      int64
			outcome string
		)
		if err := rows.Scan(&f.Job, &at, &outcome, &f.Error); err != nil {
			return nil, fmt.Errorf("firings of %s: %w", job, err)
		}
		f.At, f.Outcome = fromNanos(at), engine.FiringOutcome(outcome)
		out = append(out, f)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("firings of %s: %w", job, err)
	}
	return out, nil
}
