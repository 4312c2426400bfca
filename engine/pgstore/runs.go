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

// ListRuns returns the runs matching f, newest (highest ID) first or,
// with f.Oldest, oldest first, at most f.Limit of them when f.Limit > 0.
// No match is an empty result, not an error.
func (s *Store) ListRuns(ctx context.Context, f engine.RunFilter) ([]*engine.Run, error) {
	where, args := runWhere(f, true)
	order := " ORDER BY id DESC"
	if f.Oldest {
		order = " ORDER BY id ASC"
	}
	q := "SELECT " + runColumns + " FROM runs" + where + order
	if f.Limit > 0 {
		args = append(args, f.Limit)
		q += " LIMIT $" + strconv.Itoa(len(args))
	}
	return s.queryRuns(ctx, "list runs", q, args...)
}

// CountRuns counts the runs matching f by state, ignoring its keyset and
// limit.
func (s *Store) CountRuns(ctx context.Context, f engine.RunFilter) (map[engine.RunState]int, error) {
	where, args := runWhere(f, false)
	rows, err := s.pool.Query(ctx, "SELECT state, COUNT(*) FROM runs"+where+" GROUP BY state", args...)
	if err != nil {
		return nil, fmt.Errorf("count runs: %w", err)
	}
	defer rows.Close()
	out := map[engine.RunState]int{}
	for rows.Next() {
		var state string
		var n int64
		if err := rows.Scan(&state, &n); err != nil {
			return nil, fmt.Errorf("count runs: %w", err)
		}
		out[engine.RunState(state)] = int(n)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("count runs: %w", err)
	}
	return out, nil
}

// LatestRuns returns the latest run of each job, by job name: one
// backward index probe of runs_job per job (a loose index scan), however
// many runs each job has.
func (s *Store) LatestRuns(ctx context.Context) ([]*engine.Run, error) {
	return s.queryRuns(ctx, "latest runs", `WITH RECURSIVE jobs(job) AS (
		SELECT MIN(job) FROM runs
		UNION ALL
		SELECT (SELECT MIN(r.job) FROM runs r WHERE r.job > jobs.job) FROM jobs WHERE jobs.job IS NOT NULL
	)
	SELECT `+runColumns+` FROM runs WHERE id IN (
		SELECT (SELECT MAX(r.id) FROM runs r WHERE r.job = jobs.job) FROM jobs WHERE jobs.job IS NOT NULL
	) ORDER BY job`)
}

// runWhere is the WHERE clause of f with its arguments ($1...); keyset
// adds Before and After.
func runWhere(f engine.RunFilter, keyset bool) (string, []any) {
	var where []string
	var args []any
	arg := func(v any) string {
		args = append(args, v)
		return "$" + strconv.Itoa(len(args))
	}
	eq := func(col, v string) {
		if v != "" {
			where = append(where, col+" = "+arg(v))
		}
	}
	eq("job", f.Job)
	eq("commit_sha", f.Commit)
	eq("actor", f.Actor)
	eq("trigger", f.Trigger)
	if len(f.States) > 0 {
		states := make([]string, len(f.States))
		for i, st := range f.States {
			states[i] = string(st)
		}
		where = append(where, "state = ANY("+arg(states)+")")
	}
	if f.Host != "" {
		where = append(where, "id IN (SELECT run_id FROM host_steps WHERE host = "+arg(f.Host)+")")
	}
	if !f.Since.IsZero() {
		where = append(where, "created >= "+arg(nanos(f.Since)))
	}
	if !f.Until.IsZero() {
		where = append(where, "created < "+arg(nanos(f.Until)))
	}
	if keyset && f.Before > 0 {
		where = append(where, "id < "+arg(f.Before))
	}
	if keyset && f.After > 0 {
		where = append(where, "id > "+arg(f.After))
	}
	textArgs(args)
	if len(where) == 0 {
		return "", args
	}
	return " WHERE " + strings.Join(where, " AND "), args
}

func (s *Store) queryRuns(ctx context.Context, what, q string, args ...any) ([]*engine.Run, error) {
	rows, err := s.pool.Query(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	defer rows.Close()
	var runs []*engine.Run
	for rows.Next() {
		r, err := scanRun(rows)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", what, err)
		}
		runs = append(runs, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
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
