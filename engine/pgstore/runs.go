package pgstore

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

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
	err = s.write(ctx, func(q *queue) {
		q.queryRow(func(row pgx.Row) error { return row.Scan(&id) },
			`INSERT INTO runs (job, commit_sha, branch, trigger, actor, reason,
			state, waves, current_wave, summary, error, created, started, finished, updated, params, exec)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17) RETURNING id`,
			r.Job, r.Commit, r.Branch, r.Trigger, r.Actor, r.Reason, string(state), string(waves),
			r.CurrentWave, r.Summary, r.Error, nanos(created), nanos(r.Started), nanos(r.Finished), nanos(now), params, exec)
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
	err = s.write(ctx, func(q *queue) {
		q.execTag(func(ct pgconn.CommandTag) error {
			if ct.RowsAffected() == 0 {
				return engine.ErrNotFound
			}
			return nil
		}, `UPDATE runs SET job = $1, commit_sha = $2, branch = $3, trigger = $4,
			actor = $5, reason = $6, state = $7, waves = $8, current_wave = $9, summary = $10, error = $11,
			started = $12, finished = $13, updated = $14, params = $15, exec = $16 WHERE id = $17`,
			r.Job, r.Commit, r.Branch, r.Trigger, r.Actor, r.Reason, string(r.State), string(waves),
			r.CurrentWave, r.Summary, r.Error, nanos(r.Started), nanos(r.Finished), nanos(now), params, exec, r.ID)
	})
	if err != nil {
		return fmt.Errorf("update run %d: %w", r.ID, err)
	}
	r.Updated = now
	return nil
}

// GetRun returns run id, or an error wrapping engine.ErrNotFound.
func (s *Store) GetRun(ctx context.Context, id int64) (*engine.Run, error) {
	r, err := scanRun(s.pool.QueryRow(ctx, "SELECT "+runColumns+" FROM runs WHERE id = $1", id))
	if errNoRows(err) {
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
	arg := func(v any) string {
		args = append(args, v)
		return "$" + strconv.Itoa(len(args))
	}
	if f.Job != "" {
		where = append(where, "job = "+arg(f.Job))
	}
	if f.Commit != "" {
		where = append(where, "commit_sha = "+arg(f.Commit))
	}
	if len(f.States) > 0 {
		states := make([]string, len(f.States))
		for i, st := range f.States {
			states[i] = string(st)
		}
		where = append(where, "state = ANY("+arg(states)+")")
	}
	q := "SELECT " + runColumns + " FROM runs"
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	q += " ORDER BY id DESC"
	if f.Limit > 0 {
		q += " LIMIT " + arg(f.Limit)
	}
	textArgs(args)
	rows, err := s.pool.Query(ctx, q, args...)
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

func scanRun(row pgx.Row) (*engine.Run, error) {
	var (
		r                                   engine.Run
		state, waves, params, exec          string
		created, started, finished, updated int64
	)
	err := row.Scan(&r.ID, &r.Job, &r.Commit, &r.Branch, &r.Trigger, &r.Actor, &r.Reason, &state, &waves,
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
