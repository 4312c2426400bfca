package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"time"

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
	err := s.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO statuses (commit_sha, context, state, description, target_url,
				updated, version, delivered_version, queued)
			VALUES (?, ?, ?, ?, ?, ?, 1, 0, (SELECT COALESCE(MAX(queued), 0) + 1 FROM statuses))
			ON CONFLICT (commit_sha, context) DO UPDATE SET state = excluded.state,
				description = excluded.description, target_url = excluded.target_url,
				updated = excluded.updated, version = statuses.version + 1,
				queued = CASE WHEN statuses.version > statuses.delivered_version
					THEN statuses.queued ELSE excluded.queued END`,
			st.Commit, st.Context, st.State, st.Description, st.TargetURL, nanos(updated))
		return err
	})
	if err != nil {
		return fmt.Errorf("set status %s on %s: %w", st.Context, st.Commit, err)
	}
	return nil
}

// Statuses lists the latest status of every context on commit, by context.
func (s *Store) Statuses(ctx context.Context, commit string) ([]engine.CommitStatus, error) {
	rows, err := s.reader.QueryContext(ctx, `SELECT commit_sha, context, state, description, target_url, updated
		FROM statuses WHERE commit_sha = ? ORDER BY context`, commit)
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
	if limit <= 0 {
		limit = -1 // SQLite: no limit
	}
	rows, err := s.reader.QueryContext(ctx, `SELECT commit_sha, context, state, description, target_url, updated
		FROM statuses WHERE version > delivered_version ORDER BY queued LIMIT ?`, limit)
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
// clock while keeping its place in the queue. It is one query over the
// partial index statuses_outbox, so its cost grows with the outbox, not
// with the table; it is meant for every metrics scrape.
func (s *Store) OutboxStats(ctx context.Context) (depth int, oldest time.Time, err error) {
	var oldestNanos int64
	if err := s.reader.QueryRowContext(ctx, outboxStatsQuery).Scan(&depth, &oldestNanos); err != nil {
		return 0, time.Time{}, fmt.Errorf("status outbox stats: %w", err)
	}
	return depth, fromNanos(oldestNanos), nil
}

// outboxStatsQuery's WHERE is the one of the partial index statuses_outbox.
const outboxStatsQuery = `SELECT COUNT(*), COALESCE(MIN(updated), 0)
	FROM statuses WHERE version > delivered_version`

// MarkStatusDelivered marks (st.Commit, st.Context) delivered if it still
// holds st's state, description and URL. A status changed since st was read
// stays queued, so the newer state is delivered too.
func (s *Store) MarkStatusDelivered(ctx context.Context, st engine.CommitStatus) error {
	err := s.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `UPDATE statuses SET delivered_version = version
			WHERE commit_sha = ? AND context = ? AND state = ? AND description = ? AND target_url = ?`,
			st.Commit, st.Context, st.State, st.Description, st.TargetURL)
		return err
	})
	if err != nil {
		return fmt.Errorf("mark status %s on %s delivered: %w", st.Context, st.Commit, err)
	}
	return nil
}

func scanStatuses(rows *sql.Rows) ([]engine.CommitStatus, error) {
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
