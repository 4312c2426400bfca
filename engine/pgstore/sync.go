package pgstore

import (
	"context"
	"fmt"

	"github.com/ripple-ops/ripple/engine"
)

// RecordSync implements engine.SyncStore: every update in one commit. An
// attempt's error is cut to engine.MaxSyncError bytes and a drift detail
// to engine.MaxDriftDetail; both are BYTEA, kept byte for byte.
func (s *Store) RecordSync(ctx context.Context, updates []engine.SyncUpdate) error {
	if len(updates) == 0 {
		return nil
	}
	err := s.write(ctx, func(q *queue) {
		for _, u := range updates {
			q.exec(`INSERT INTO host_sync (job, host) VALUES ($1, $2) ON CONFLICT DO NOTHING`, u.Job, u.Host)
			if d := u.Deployed; d != nil {
				// The deployment replaced is kept, unless it is this run's
				// own (a wave recorded it before the run's end did).
				q.exec(`UPDATE host_sync SET
					prev_fp = CASE WHEN deployed_run = $1 THEN prev_fp ELSE deployed_fp END,
					prev_commit = CASE WHEN deployed_run = $1 THEN prev_commit ELSE deployed_commit END,
					prev_run = CASE WHEN deployed_run = $1 THEN prev_run ELSE deployed_run END,
					prev_at = CASE WHEN deployed_run = $1 THEN prev_at ELSE deployed_at END,
					deployed_fp = $2, deployed_commit = $3, deployed_run = $1, deployed_at = $4,
					attempt_fp = '', attempt_commit = '', attempt_run = 0, attempt_at = 0, outcome = '', error = ''
					WHERE job = $5 AND host = $6`, d.Run, d.Fingerprint, d.Commit, nanos(d.At), u.Job, u.Host)
			}
			if a := u.Attempt; a != nil {
				q.exec(`UPDATE host_sync SET attempt_fp = $1, attempt_commit = $2, attempt_run = $3, attempt_at = $4,
					outcome = $5, error = $6 WHERE job = $7 AND host = $8`,
					a.Fingerprint, a.Commit, a.Run, nanos(a.At), u.Outcome,
					[]byte(engine.ClipText(u.Error, engine.MaxSyncError)), u.Job, u.Host)
				if u.Undeploy {
					q.exec(`UPDATE host_sync SET deployed_fp = prev_fp, deployed_commit = prev_commit,
						deployed_run = prev_run, deployed_at = prev_at, prev_fp = '', prev_commit = '', prev_run = 0, prev_at = 0
						WHERE job = $1 AND host = $2 AND deployed_run = $3`, u.Job, u.Host, a.Run)
				}
			}
			if d := u.Drift; d != nil {
				q.exec(`UPDATE host_sync SET drift_status = $1, drift_fp = $2, drift_detail = $3, drift_at = $4
					WHERE job = $5 AND host = $6`,
					string(d.Status), d.Fingerprint, []byte(engine.ClipText(d.Detail, engine.MaxDriftDetail)), nanos(d.At), u.Job, u.Host)
			}
		}
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
		q += " WHERE job = $1"
		args = append(args, safeText(job))
	}
	q += " ORDER BY job, host"
	rows, err := s.pool.Query(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("read sync state: %w", err)
	}
	defer rows.Close()
	var out []engine.HostSync
	for rows.Next() {
		var h engine.HostSync
		var dAt, aAt, drAt int64
		var drift string
		var errb, detail []byte
		if err := rows.Scan(&h.Job, &h.Host, &h.Deployed.Fingerprint, &h.Deployed.Commit, &h.Deployed.Run, &dAt,
			&h.Attempt.Fingerprint, &h.Attempt.Commit, &h.Attempt.Run, &aAt, &h.Outcome, &errb,
			&drift, &h.Drift.Fingerprint, &detail, &drAt); err != nil {
			return nil, fmt.Errorf("read sync state: %w", err)
		}
		h.Deployed.At, h.Attempt.At, h.Drift.At = fromNanos(dAt), fromNanos(aAt), fromNanos(drAt)
		h.Drift.Status = engine.DriftStatus(drift)
		h.Error, h.Drift.Detail = string(errb), string(detail)
		out = append(out, h)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read sync state: %w", err)
	}
	return out, nil
}
