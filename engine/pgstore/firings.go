package pgstore

import (
	"context"
	"fmt"
	"time"

	"github.com/ripple-ops/ripple/engine"
)

// RecordFiring appends the record of one schedule firing.
func (s *Store) RecordFiring(ctx context.Context, f engine.Firing) error {
	err := s.write(ctx, func(q *queue) {
		q.exec(`INSERT INTO schedule_firings (job, at, outcome, error, recorded) VALUES ($1, $2, $3, $4, $5)`,
			f.Job, nanos(f.At), string(f.Outcome), f.Error, nanos(s.now()))
	})
	if err != nil {
		return fmt.Errorf("record firing of %s at %s: %w", f.Job, f.At.UTC().Format(time.RFC3339), err)
	}
	return nil
}

// LastFiring returns the latest cron time recorded for job, whatever its
// outcome, or the zero time when none is.
func (s *Store) LastFiring(ctx context.Context, job string) (time.Time, error) {
	var at *int64
	if err := s.pool.QueryRow(ctx, "SELECT MAX(at) FROM schedule_firings WHERE job = $1", safeText(job)).Scan(&at); err != nil {
		return time.Time{}, fmt.Errorf("last firing of %s: %w", job, err)
	}
	if at == nil {
		return time.Time{}, nil
	}
	return fromNanos(*at), nil
}

// Firings lists the latest records of job's firings, newest first, at most
// limit of them (all when limit <= 0).
func (s *Store) Firings(ctx context.Context, job string, limit int) ([]engine.Firing, error) {
	var lim *int
	if limit > 0 {
		lim = &limit
	}
	rows, err := s.pool.Query(ctx, `SELECT job, at, outcome, error FROM schedule_firings
		WHERE job = $1 ORDER BY at DESC, id DESC LIMIT $2`, safeText(job), lim)
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
