package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/ripple-ops/ripple/engine"
)

const runColumns = `id, job, commit_sha, branch, trigger, actor, reason, state, waves,
	current_wave, summary, error, created, started, finished, updated, params, exec`

// CreateRun inserts r and sets r.ID. A zero r.Created becomes now, an empty
// r.State becomes queued, and r.Updated is set to now. r is only changed when
// the insert is durable.
func (s *Store) CreateRun(ctx context.Context, r *engine.Run) error {
	waves, err := json.Marshal(r.Waves)
	if err != nil {
		return fmt.Errorf("create run: encode waves: %w", err)
	}
	params, exec, err := engine.EncodeRunInputs(r)
	if err != nil {
		return fmt.Errorf("create run: %w", err)
	}
	now := s.now().UTC()
	created := r.Created
	if created.IsZero() {
		created = now
	}
	state := r.State
	if state == "" {
		state = engine.RunQueued
	}
	var id int64
	err = s.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `INSERT INTO runs (job, commit_sha, branch, trigger, actor, reason,
			state, waves, current_wave, summary, error, created, started, finished, updated, params, exec)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			r.Job, r.Commit, r.Branch, r.Trigger, r.Actor, r.Reason, string(state), string(waves),
			r.CurrentWave, r.Summary, r.Error, nanos(created), nanos(r.Started), nanos(r.Finished), nanos(now), params, exec)
		if err != nil {
			return err
		}
		id, err = res.LastInsertId()
		return err
	})
	if err != nil {
		return fmt.Errorf("create run for job %s: %w", r.Job, err)
	}
	r.ID, r.Created, r.State, r.Updated = id, created, state, now
	return nil
}

// UpdateRun overwrites every field of run r.ID except ID and Created, and
// sets r.Updated to now. It returns an error wrapping engine.ErrNotFound if
// the run does not exist.
func (s *Store) UpdateRun(ctx context.Context, r *engine.Run) error {
	waves, err := json.Marshal(r.Waves)
	if err != nil {
		return fmt.Errorf("update run %d: encode waves: %w", r.ID, err)
	}
	params, exec, err := engine.EncodeRunInputs(r)
	if err != nil {
		return fmt.Errorf("update run %d: %w", r.ID, err)
	}
	now := s.now().UTC()
	err = s.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE runs SET job = ?, commit_sha = ?, branch = ?, trigger = ?,
			actor = ?, reason = ?, state = ?, waves = ?, current_wave = ?, summary = ?, error = ?,
			started = ?, finished = ?, updated = ?, params = ?, exec = ? WHERE id = ?`,
			r.Job, r.Commit, r.Branch, r.Trigger, r.Actor, r.Reason, string(r.State), string(waves),
			r.CurrentWave, r.Summary, r.Error, nanos(r.Started), nanos(r.Finished), nanos(now), params, exec, r.ID)
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		if err != nil {
			return err
		}
		if n == 0 {
			return engine.ErrNotFound
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("update run %d: %w", r.ID, err)
	}
	r.Updated = now
	return nil
}

// GetRun returns run id, or an error wrapping engine.ErrNotFound.
func (s *Store) GetRun(ctx context.Context, id int64) (*engine.Run, error) {
	row := s.reader.QueryRowContext(ctx, "SELECT "+runColumns+" FROM runs WHERE id = ?", id)
	r, err := scanRun(row)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("run %d: %w", id, engine.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("get run %d: %w", id, err)
	}
	return r, nil
}

// ListRuns returns the runs matching f, newest (highest ID) first, at most
// f.Limit of them when f.Limit > 0. No match is an empty result, not an
// error.
func (s *Store) ListRuns(ctx context.Context, f engine.RunFilter) ([]*engine.Run, error) {
	var where []string
	var args []any
	if f.Job != "" {
		where = append(where, "job = ?")
		args = append(args, f.Job)
	}
	if f.Commit != "" {
		where = append(where, "commit_sha = ?")
		args = append(args, f.Commit)
	}
	if len(f.States) > 0 {
		where = append(where, "state IN (?"+strings.Repeat(", ?", len(f.States)-1)+")")
		for _, st := range f.States {
			args = append(args, string(st))
		}
	}
	q := "SELECT " + runColumns + " FROM runs"
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	q += " ORDER BY id DESC"
	if f.Limit > 0 {
		q += " LIMIT ?"
		args = append(args, f.Limit)
	}
	rows, err := s.reader.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("list runs: %w", err)
	}
	defer rows.Close()
	var runs []*engine.Run
	for rows.Next() {
		r, err := scanRun(rows)
		if err != nil {
			return nil, fmt.Errorf("list runs: %w", err)
		}
		runs = append(runs, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list runs: %w", err)
	}
	return runs, nil
}

type scanner interface {
	Scan(dest ...any) error
}

func scanRun(sc scanner) (*engine.Run, error) {
	var (
		r                                   engine.Run
		state, waves, params, exec          string
		created, started, finished, updated int64
	)
	err := sc.Scan(&r.ID, &r.Job, &r.Commit, &r.Branch, &r.Trigger, &r.Actor, &r.Reason, &state, &waves,
		&r.CurrentWave, &r.Summary, &r.Error, &created, &started, &finished, &updated, &params, &exec)
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(waves), &r.Waves); err != nil {
		return nil, fmt.Errorf("run %d: decode waves: %w", r.ID, err)
	}
	if err := engine.DecodeRunInputs(&r, params, exec); err != nil {
		return nil, err
	}
	r.State = engine.RunState(state)
	r.Created, r.Started, r.Finished, r.Updated = fromNanos(created), fromNanos(started), fromNanos(finished), fromNanos(updated)
	return &r, nil
}
