package sqlstore

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/ripple-ops/ripple/engine"
)

var _ engine.SyncStore = (*Store)(nil)

// RecordSync implements engine.SyncStore: every update in one commit. An
// attempt's error is cut to engine.MaxSyncError bytes and a drift detail
// to engine.MaxDriftDetail.
func (s *Store) RecordSync(ctx context.Context, updates []engine.SyncUpdate) error {
	if len(updates) == 0 {
		return nil
	}
	err := s.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		for _, u := range updates {
			if _, err := tx.ExecContext(ctx, `INSERT INTO host_sync (job, host) VALUES (?, ?) ON CONFLICT DO NOTHING`, u.Job, u.Host); err != nil {
				return err
			}
			if d := u.Deployed; d != nil {
				// The deployment replaced is kept, unless it is this run's
				// own (a wave recorded it before the run's end did).
				if _, err := tx.ExecContext(ctx, `UPDATE host_sync SET
					prev_fp = CASE WHEN deployed_run = ? THEN prev_fp ELSE deployed_fp END,
					prev_commit = CASE WHEN deployed_run = ? THEN prev_commit ELSE deployed_commit END,
					prev_run = CASE WHEN deployed_run = ? THEN prev_run ELSE deployed_run END,
					prev_at = CASE WHEN deployed_run = ? THEN prev_at ELSE deployed_at END
					WHERE job = ? AND host = ?`, d.Run, d.Run, d.Run, d.Run, u.Job, u.Host); err != nil {
					return err
				}
				if _, err := tx.ExecContext(ctx, `UPDATE host_sync SET deployed_fp = ?, deployed_commit = ?, deployed_run = ?, deployed_at = ?,
					attempt_fp = '', attempt_commit = '', attempt_run = 0, attempt_at = 0, outcome = '', error = '' WHERE job = ? AND host = ?`,
					d.Fingerprint, d.Commit, d.Run, nanos(d.At), u.Job, u.Host); err != nil {
					return err
				}
			}
			if a := u.Attempt; a != nil {
				if _, err := tx.ExecContext(ctx, `UPDATE host_sync SET attempt_fp = ?, attempt_commit = ?, attempt_run = ?, attempt_at = ?,
					outcome = ?, error = ? WHERE job = ? AND host = ?`,
					a.Fingerprint, a.Commit, a.Run, nanos(a.At), u.Outcome, engine.ClipText(u.Error, engine.MaxSyncError), u.Job, u.Host); err != nil {
					return err
				}
				if u.Undeploy {
					if _, err := tx.ExecContext(ctx, `UPDATE host_sync SET deployed_fp = prev_fp, deployed_commit = prev_commit,
						deployed_run = prev_run, deployed_at = prev_at, prev_fp = '', prev_commit = '', prev_run = 0, prev_at = 0
						WHERE job = ? AND host = ? AND deployed_run = ?`, u.Job, u.Host, a.Run); err != nil {
						return err
					}
				}
			}
			if d := u.Drift; d != nil {
				if _, err := tx.ExecContext(ctx, `UPDATE host_sync SET drift_status = ?, drift_fp = ?, drift_detail = ?, drift_at = ? WHERE job = ? AND host = ?`,
					string(d.Status), d.Fingerprint, engine.ClipText(d.Detail, engine.MaxDriftDetail), nanos(d.At), u.Job, u.Host); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("record sync state of %d hosts: %w", len(updates), err)
	}
	return nil
}

// HostSyncs implements engine.SyncStore.
func (s *Store) HostSyncs(ctx context.Context, job string) ([]engine.HostSync, error) {
	q := `SELECT job, host, deployed_fp, deployed_commit, deployed_run, deployed_at, attempt_fp, attempt_commit,
		attempt_run, attempt_at, outcome, error, drift_status, drift_fp, drift_detail, drift_at FROM host_sync`
	var args []any
	if job != "" {
		q += " WHERE job = ?"
		args = append(args, job)
	}
	q += " ORDER BY job, host"
	rows, err := s.reader.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("read sync state: %w", err)
	}
	defer rows.Close()
	var out []engine.HostSync
	for rows.Next() {
		var h engine.HostSync
		var dAt, aAt, drAt int64
		var drift string
		if err := rows.Scan(&h.Job, &h.Host, &h.Deployed.Fingerprint, &h.Deployed.Commit, &h.Deployed.Run, &dAt,
			&h.Attempt.Fingerprint, &h.Attempt.Commit, &h.Attempt.Run, &aAt, &h.Outcome, &h.Error,
			&drift, &h.Drift.Fingerprint, &h.Drift.Detail, &drAt); err != nil {
			return nil, fmt.Errorf("read sync state: %w", err)
		}
		h.Deployed.At, h.Attempt.At, h.Drift.At = fromNanos(dAt), fromNanos(aAt), fromNanos(drAt)
		h.Drift.Status = engine.DriftStatus(drift)
		out = append(out, h)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read sync state: %w", err)
	}
	return out, nil
}
