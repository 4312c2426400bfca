package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"

	"github.com/ripple-ops/ripple/engine"
)

// The journal has one row per (run, host, step, rollback). Writes go through
// the group committer, so concurrent hosts share commits; each call returns
// only when its row is durable.

// journalStmts are the per-host-step statements, prepared once on the
// writer connection: parsing them again for every write costs about twice
// the CPU of running them.
type journalStmts struct {
	start, finish *sql.Stmt
}

const (
	startSQL = `INSERT INTO host_steps (run_id, wave, host, step, rollback, phase, started, updated)
		VALUES (?, ?, ?, ?, ?, 'started', ?, ?)
		ON CONFLICT (run_id, host, step, rollback) DO UPDATE SET wave = excluded.wave, phase = 'started',
			status = '', exit_code = 0, stdout = '', stderr = '', error = '', started = excluded.started,
			duration = 0, backup = NULL, diff = '', updated = excluded.updated`
	finishSQL = `INSERT INTO host_steps (run_id, wave, host, step, rollback, phase, status,
			exit_code, stdout, stderr, error, started, duration, backup, diff, updated)
		VALUES (?, ?, ?, ?, ?, 'finished', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (run_id, host, step, rollback) DO UPDATE SET wave = excluded.wave, phase = 'finished',
			status = excluded.status, exit_code = excluded.exit_code, stdout = excluded.stdout,
			stderr = excluded.stderr, error = excluded.error,
			started = CASE excluded.started WHEN 0 THEN host_steps.started ELSE excluded.started END,
			duration = excluded.duration, backup = excluded.backup, diff = excluded.diff, updated = excluded.updated`
)

func prepareJournal(ctx context.Context, db *sql.DB) (journalStmts, error) {
	var j journalStmts
	var err error
	if j.start, err = db.PrepareContext(ctx, startSQL); err != nil {
		return j, fmt.Errorf("prepare journal start: %w", err)
	}
	if j.finish, err = db.PrepareContext(ctx, finishSQL); err != nil {
		j.start.Close()
		return j, fmt.Errorf("prepare journal finish: %w", err)
	}
	return j, nil
}

func (j journalStmts) close() {
	for _, st := range []*sql.Stmt{j.start, j.finish} {
		if st != nil {
			st.Close()
		}
	}
}

// PlanHostSteps records rows as planned, in one commit. A row that already
// exists keeps its phase and result, so re-planning a wave after a restart
// never forgets that a step was started or finished. The run must exist.
func (s *Store) PlanHostSteps(ctx context.Context, rows []engine.HostStep) error {
	if len(rows) == 0 {
		return nil
	}
	now := nanos(s.now())
	err := s.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		st, err := tx.PrepareContext(ctx, `INSERT INTO host_steps (run_id, wave, host, step, rollback, phase, updated)
			VALUES (?, ?, ?, ?, ?, 'planned', ?) ON CONFLICT (run_id, host, step, rollback) DO NOTHING`)
		if err != nil {
			return err
		}
		defer st.Close()
		for _, hs := range rows {
			if _, err := st.ExecContext(ctx, hs.RunID, hs.Wave, hs.Host, hs.Step, boolInt(hs.Rollback), now); err != nil {
				return fmt.Errorf("host %s step %s: %w", hs.Host, hs.Step, err)
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("plan %d host-steps of run %d: %w", len(rows), rows[0].RunID, err)
	}
	return nil
}

// StartHostStep marks (hs.RunID, hs.Host, hs.Step, hs.Rollback) started,
// creating the row if it was not planned, and clears any earlier result.
// The start time is hs.Result.Started, or now when that is zero. When it
// returns nil the row is durable, so the step may touch the host.
func (s *Store) StartHostStep(ctx context.Context, hs engine.HostStep) error {
	now := s.now()
	started := hs.Result.Started
	if started.IsZero() {
		started = now
	}
	err := s.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		_, err := tx.StmtContext(ctx, s.journal.start).ExecContext(ctx,
			hs.RunID, hs.Wave, hs.Host, hs.Step, boolInt(hs.Rollback), nanos(started), nanos(now))
		return err
	})
	if err != nil {
		return fmt.Errorf("start step %s on %s in run %d: %w", hs.Step, hs.Host, hs.RunID, err)
	}
	return nil
}

// FinishHostStep records hs.Result and marks the row finished, creating it
// if needed. A zero hs.Result.Started keeps the start time recorded by
// StartHostStep.
func (s *Store) FinishHostStep(ctx context.Context, hs engine.HostStep) error {
	var backup any // NULL without a backup
	if hs.Result.Backup != nil {
		b, err := json.Marshal(hs.Result.Backup)
		if err != nil {
			return fmt.Errorf("finish step %s on %s: encode backup: %w", hs.Step, hs.Host, err)
		}
		backup = string(b)
	}
	now := nanos(s.now())
	r := hs.Result
	err := s.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		_, err := tx.StmtContext(ctx, s.journal.finish).ExecContext(ctx,
			hs.RunID, hs.Wave, hs.Host, hs.Step, boolInt(hs.Rollback), string(r.Status), r.ExitCode,
			r.Stdout, r.Stderr, r.Error, nanos(r.Started), int64(r.Duration), backup, r.Diff, now)
		return err
	})
	if err != nil {
		return fmt.Errorf("finish step %s on %s in run %d: %w", hs.Step, hs.Host, hs.RunID, err)
	}
	return nil
}

// HostSteps returns the journal of run runID in the order rows were first
// written (plan order). Result is filled for finished rows; for started rows
// only Result.Started is set.
func (s *Store) HostSteps(ctx context.Context, runID int64) ([]engine.HostStep, error) {
	rows, err := s.reader.QueryContext(ctx, `SELECT run_id, wave, host, step, rollback, phase, status, exit_code,
		stdout, stderr, error, started, duration, backup, diff FROM host_steps WHERE run_id = ? ORDER BY id`, runID)
	if err != nil {
		return nil, fmt.Errorf("journal of run %d: %w", runID, err)
	}
	defer rows.Close()
	var out []engine.HostStep
	for rows.Next() {
		var (
			hs                engine.HostStep
			rollback          int
			phase, status     string
			started, duration int64
			backup            sql.NullString
		)
		r := &hs.Result
		if err := rows.Scan(&hs.RunID, &hs.Wave, &hs.Host, &hs.Step, &rollback, &phase, &status, &r.ExitCode,
			&r.Stdout, &r.Stderr, &r.Error, &started, &duration, &backup, &r.Diff); err != nil {
			return nil, fmt.Errorf("journal of run %d: %w", runID, err)
		}
		hs.Rollback = rollback != 0
		hs.Phase = engine.StepPhase(phase)
		r.Status = engine.StepStatus(status)
		r.Started = fromNanos(started)
		r.Duration = time.Duration(duration)
		if backup.Valid {
			r.Backup = new(engine.Backup)
			if err := json.Unmarshal([]byte(backup.String), r.Backup); err != nil {
				return nil, fmt.Errorf("journal of run %d: host %s step %s: decode backup: %w", runID, hs.Host, hs.Step, err)
			}
		}
		out = append(out, hs)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("journal of run %d: %w", runID, err)
	}
	return out, nil
}
