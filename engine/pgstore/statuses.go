package pgstore

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/ripple-ops/ripple/engine"
)

// The statuses table is the local view of commit statuses and the outbox
// that delivers them to GitHub. Only the latest state per (commit, context)
// is kept, so a burst of updates costs one delivery.

// SetStatus records st as the latest state for (st.Commit, st.Context) and
// queues it for delivery. An entry already queued keeps its place in the
// outbox. A zero st.Updated becomes now.
func (s *Store) SetStatus(ctx context.Context, st engine.CommitStatus) error {
	updated := st.Updated
	if updated.IsZero() {
		updated = s.now()
	}
	err := s.write(ctx, func(q *queue) {
		q.exec(`INSERT INTO statuses (commit_sha, context, state, description, target_url,
				updated, version, delivered_version, queued)
			VALUES ($1, $2, $3, $4, $5, $6, 1, 0, nextval('statuses_queued'))
			ON CONFLICT (commit_sha, context) DO UPDATE SET state = excluded.state,
				description = excluded.description, target_url = excluded.target_url,
				updated = excluded.updated, version = statuses.version + 1,
				queued = CASE WHEN statuses.version > statuses.delivered_version
					THEN statuses.queued ELSE excluded.queued END`,
			st.Commit, st.Context, st.State, st.Description, st.TargetURL, nanos(updated))
	})
	if err != nil {
		return fmt.Errorf("set status %s on %s: %w", st.Context, st.Commit, err)
	}
	return nil
}

// Statuses lists the latest status of every context on commit, by context.
func (s *Store) Statuses(ctx context.Context, commit string) ([]engine.CommitStatus, error) {
	rows, err := s.pool.Query(ctx, `SELECT commit_sha, context, state, description, target_url, updated
		FROM statuses WHERE commit_sha = $1 ORDER BY context`, commit)
	if err != nil {
		return nil, fmt.Errorf("statuses of %s: %w", commit, err)
	}
	out, err := scanStatuses(rows)
	if err != nil {
		return nil, fmt.Errorf("statuses of %s: %w", commit, err)
	}
	return out, nil
}

// PendingStatuses lists at most limit undelivered statuses (all of them when
// limit <= 0), in the order they were queued.
func (s *Store) PendingStatuses(ctx context.Context, limit int) ([]engine.CommitStatus, error) {
	var lim *int // NULL: no limit
	if limit > 0 {
		lim = &limit
	}
	rows, err := s.pool.Query(ctx, `SELECT commit_sha, context, state, description, target_url, updated
		FROM statuses WHERE version > delivered_version ORDER BY queued LIMIT $1`, lim)
	if err != nil {
		return nil, fmt.Errorf("pending statuses: %w", err)
	}
	out, err := scanStatuses(rows)
	if err != nil {
		return nil, fmt.Errorf("pending statuses: %w", err)
	}
	return out, nil
}

// OutboxStats counts the undelivered statuses and returns when the oldest
// of them was set (the zero time when there are none). Only the latest
// state of a (commit, context) waits, so a coalesced update restarts its
// clock while keeping its place in the queue. Its WHERE is the one of the
// partial index statuses_outbox, so its cost grows with the outbox, not
// with the table; it is meant for every metrics scrape.
func (s *Store) OutboxStats(ctx context.Context) (depth int, oldest time.Time, err error) {
	var oldestNanos int64
	if err := s.pool.QueryRow(ctx, outboxStatsQuery).Scan(&depth, &oldestNanos); err != nil {
		return 0, time.Time{}, fmt.Errorf("status outbox stats: %w", err)
	}
	return depth, fromNanos(oldestNanos), nil
}

const outboxStatsQuery = `SELECT COUNT(*), COALESCE(MIN(updated), 0)
	FROM statuses WHERE version > delivered_version`

// MarkStatusDelivered marks (st.Commit, st.Context) delivered if it still
// holds st's state, description and URL. A status changed since st was read
// stays queued, so the newer state is delivered too.
func (s *Store) MarkStatusDelivered(ctx context.Context, st engine.CommitStatus) error {
	err := s.write(ctx, func(q *queue) {
		q.exec(`UPDATE statuses SET delivered_version = version
			WHERE commit_sha = $1 AND context = $2 AND state = $3 AND description = $4 AND target_url = $5`,
			st.Commit, st.Context, st.State, st.Description, st.TargetURL)
	})
	if err != nil {
		return fmt.Errorf("mark status %s on %s delivered: %w", st.Context, st.Commit, err)
	}
	return nil
}

func scanStatuses(rows pgx.Rows) ([]engine.CommitStatus, error) {
	defer rows.Close()
	var out []engine.CommitStatus
	for rows.Next() {
		var st engine.CommitStatus
		var updated int64
		if err := rows.Scan(&st.Commit, &st.Context, &st.State, &st.Description, &st.TargetURL, &updated); err != nil {
			return nil, err
		}
		st.Updated = fromNanos(updated)
		out = append(out, st)
	}
	return out, rows.Err()
}
