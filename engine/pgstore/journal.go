package pgstore

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/ripple-ops/ripple/engine"
)

// The journal has one row per (run, host, step, rollback). Writes go through
// the group committer, so concurrent hosts share commits; each call returns
// only when its row is durable. Output and errors are BYTEA: kept byte for
// byte, whatever the host printed.

const (
	planSQL = `INSERT INTO host_steps (run_id, wave, host, step, rollback, phase, updated)
		SELECT r, w, h, s, b, 'planned', $6
		FROM unnest($1::bigint[], $2::integer[], $3::text[], $4::text[], $5::boolean[]) WITH ORDINALITY AS p(r, w, h, s, b, n)
		ORDER BY n
		ON CONFLICT (run_id, host, step, rollback) DO NOTHING`
	startSQL = `INSERT INTO host_steps (run_id, wave, host, step, rollback, phase, started, updated)
		VALUES ($1, $2, $3, $4, $5, 'started', $6, $7)
		ON CONFLICT (run_id, host, step, rollback) DO UPDATE SET wave = excluded.wave, phase = 'started',
			status = '', exit_code = 0, stdout = '', stderr = '', error = '', started = excluded.started,
			duration = 0, backup = NULL, diff = '', updated = excluded.updated`
	finishSQL = `INSERT INTO host_steps (run_id, wave, host, step, rollback, phase, status,
			exit_code, stdout, stderr, error, started, duration, backup, diff, updated)
		VALUES ($1, $2, $3, $4, $5, 'finished', $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)
		ON CONFLICT (run_id, host, step, rollback) DO UPDATE SET wave = excluded.wave, phase = 'finished',
			status = excluded.status, exit_code = excluded.exit_code, stdout = excluded.stdout,
			stderr = excluded.stderr, error = excluded.error,
			started = CASE excluded.started WHEN 0 THEN host_steps.started ELSE excluded.started END,
			duration = excluded.duration, backup = excluded.backup, diff = excluded.diff, updated = excluded.updated`
)

// PlanHostSteps records rows as planned, in one commit and one statement.
// A row that already exists keeps its phase and result, so re-planning a
// wave after a restart never forgets that a step was started or finished.
// The run must exist.
func (s *Store) PlanHostSteps(ctx context.Context, rows []engine.HostStep) error {
	if len(rows) == 0 {
		return nil
	}
	runs, waves := make([]int64, len(rows)), make([]int32, len(rows))
	hosts, steps, rollbacks := make([]string, len(rows)), make([]string, len(rows)), make([]bool, len(rows))
	for i, hs := range rows {
		runs[i], waves[i], hosts[i], steps[i], rollbacks[i] = hs.RunID, int32(hs.Wave), hs.Host, hs.Step, hs.Rollback
	}
	now := nanos(s.now())
	err := s.write(ctx, func(q *queue) {
		q.exec(planSQL, runs, waves, hosts, steps, rollbacks, now)
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
	err := s.write(ctx, func(q *queue) {
		q.exec(startSQL, hs.RunID, hs.Wave, hs.Host, hs.Step, hs.Rollback, nanos(started), nanos(now))
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
	var backup *string // NULL without a backup
	if hs.Result.Backup != nil {
		b, err := json.Marshal(hs.Result.Backup)
		if err != nil {
			return fmt.Errorf("finish step %s on %s: encode backup: %w", hs.Step, hs.Host, err)
		}
		backup = new(string(b))
	}
	now := nanos(s.now())
	r := hs.Result
	err := s.write(ctx, func(q *queue) {
		q.exec(finishSQL, hs.RunID, hs.Wave, hs.Host, hs.Step, hs.Rollback, string(r.Status), r.ExitCode,
			[]byte(r.Stdout), []byte(r.Stderr), []byte(r.Error), nanos(r.Started), int64(r.Duration), backup, []byte(r.Diff), now)
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
	rows, err := s.pool.Query(ctx, `SELECT run_id, wave, host, step, rollback, phase, status, exit_code,
		stdout, stderr, error, started, duration, backup, diff FROM host_steps WHERE run_id = $1 ORDER BY id`, runID)
	if err != nil {
		return nil, fmt.Errorf("journal of run %d: %w", runID, err)
	}
	defer rows.Close()
	var out []engine.HostStep
	for rows.Next() {
		var (
			hs                   engine.HostStep
			phase, status        string
			stdout, stderr, errb []byte
			diff                 []byte
			started, duration    int64
			backup               *string
		)
		r := &hs.Result
		if err := rows.Scan(&hs.RunID, &hs.Wave, &hs.Host, &hs.Step, &hs.Rollback, &phase, &status, &r.ExitCode,
			&stdout, &stderr, &errb, &started, &duration, &backup, &diff); err != nil {
			return nil, fmt.Errorf("journal of run %d: %w", runID, err)
		}
		hs.Phase = engine.StepPhase(phase)
		r.Status = engine.StepStatus(status)
		r.Stdout, r.Stderr, r.Error, r.Diff = string(stdout), string(stderr), string(errb), string(diff)
		r.Started = fromNanos(started)
		r.Duration = time.Duration(duration)
		if backup != nil {
			r.Backup = new(engine.Backup)
			if err := json.Unmarshal([]byte(*backup), r.Backup); err != nil {
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
