package pgstore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/ripple-ops/ripple/engine"
)

var (
	_ engine.SilenceStore     = (*Store)(nil)
	_ engine.AckStore         = (*Store)(nil)
	_ engine.AlertAuditReader = (*Store)(nil)
)

// Silences and acknowledgements are operator actions that any node of a
// cluster takes (every node serves the API), so they are node writes,
// not fenced by the leader's epoch.

// AddSilence records s, setting s.ID, with its audit event. A zero
// s.Created becomes now.
func (s *Store) AddSilence(ctx context.Context, sl *engine.Silence) error {
	if sl.Created.IsZero() {
		sl.Created = s.now()
	}
	var id int64
	err := s.nodeWrite(ctx, func(q *queue) {
		q.queryRow(func(row pgx.Row) error { return row.Scan(&id) },
			`WITH s AS (INSERT INTO silences (monitor, host, actor, reason, created, ends)
				VALUES ($1, $2, $3, $4, $5, $6) RETURNING id)
			INSERT INTO alert_events (at, action, monitor, host, actor, reason, silence_id, until)
				SELECT $5, $7, $1, $2, $3, $4, s.id, $6 FROM s RETURNING silence_id`,
			sl.Monitor, sl.Host, sl.Actor, sl.Reason, nanos(sl.Created), nanos(sl.Ends), engine.AlertEventSilence)
	})
	if err != nil {
		return fmt.Errorf("add silence of %s: %w", silenceTarget(sl.Monitor, sl.Host), err)
	}
	sl.ID = id
	return nil
}

// errSilenceNotActive fails an expiry whose silence is missing or over;
// ExpireSilence reads which.
var errSilenceNotActive = errors.New("silence not active")

// ExpireSilence ends silence id at `at` and records who did it and why.
func (s *Store) ExpireSilence(ctx context.Context, id int64, at time.Time, actor, reason string) (engine.Silence, error) {
	err := s.nodeWrite(ctx, func(q *queue) {
		q.queryRow(func(row pgx.Row) error {
			var got int64
			if err := row.Scan(&got); errNoRows(err) {
				return errSilenceNotActive
			} else if err != nil {
				return err
			}
			return nil
		}, `WITH u AS (UPDATE silences SET ends = $2, expired_by = $3, expire_reason = $4
				WHERE id = $1 AND ends > $2 RETURNING id, monitor, host)
			INSERT INTO alert_events (at, action, monitor, host, actor, reason, silence_id, until)
				SELECT $2, $5, u.monitor, u.host, $3, $4, u.id, $2 FROM u RETURNING silence_id`,
			id, nanos(at), actor, reason, engine.AlertEventExpire)
	})
	if err != nil && !errors.Is(err, errSilenceNotActive) {
		return engine.Silence{}, fmt.Errorf("expire silence %d: %w", id, err)
	}
	sl, rerr := scanSilence(s.pool.QueryRow(ctx, "SELECT "+silenceColumns+" FROM silences WHERE id = $1", id))
	switch {
	case errNoRows(rerr):
		return engine.Silence{}, fmt.Errorf("expire silence %d: no silence %d: %w", id, id, engine.ErrNotFound)
	case rerr != nil:
		return engine.Silence{}, fmt.Errorf("expire silence %d: %w", id, rerr)
	case err != nil:
		return engine.Silence{}, fmt.Errorf("expire silence %d: silence %d already ended at %s: %w", id, id, sl.Ends.UTC().Format(time.RFC3339), engine.ErrConflict)
	}
	return sl, nil
}

// Silences lists the silences ending after endsAfter, newest first.
func (s *Store) Silences(ctx context.Context, endsAfter time.Time, limit int) ([]engine.Silence, error) {
	q := "SELECT " + silenceColumns + " FROM silences WHERE ends > $1 ORDER BY id DESC"
	args := []any{nanos(endsAfter)} // zero: every silence ends after 0
	if limit > 0 {
		q += " LIMIT $2"
		args = append(args, limit)
	}
	rows, err := s.pool.Query(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("silences: %w", err)
	}
	defer rows.Close()
	var out []engine.Silence
	for rows.Next() {
		sl, err := scanSilence(rows)
		if err != nil {
			return nil, fmt.Errorf("silences: %w", err)
		}
		out = append(out, sl)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("silences: %w", err)
	}
	return out, nil
}

const silenceColumns = "id, monitor, host, actor, reason, created, ends, expired_by, expire_reason"

func scanSilence(row pgx.Row) (engine.Silence, error) {
	var sl engine.Silence
	var created, ends int64
	if err := row.Scan(&sl.ID, &sl.Monitor, &sl.Host, &sl.Actor, &sl.Reason, &created, &ends, &sl.ExpiredBy, &sl.ExpireReason); err != nil {
		return sl, err
	}
	sl.Created, sl.Ends = fromNanos(created), fromNanos(ends)
	return sl, nil
}

// AddAck replaces the acknowledgement of (a.Monitor, a.Host) and records
// its audit event. A zero a.At becomes now.
func (s *Store) AddAck(ctx context.Context, a engine.Ack) error {
	if a.At.IsZero() {
		a.At = s.now()
	}
	err := s.nodeWrite(ctx, func(q *queue) {
		q.exec(`INSERT INTO acks (monitor, host, state, state_since, actor, reason, at)
			VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (monitor, host) DO UPDATE SET state = excluded.state,
			state_since = excluded.state_since, actor = excluded.actor, reason = excluded.reason, at = excluded.at`,
			a.Monitor, a.Host, int(a.State), nanos(a.StateSince), a.Actor, a.Reason, nanos(a.At))
		q.exec(`INSERT INTO alert_events (at, action, monitor, host, actor, reason, state)
			VALUES ($1, $2, $3, $4, $5, $6, $7)`, nanos(a.At), engine.AlertEventAck, a.Monitor, a.Host, a.Actor, a.Reason, int(a.State))
	})
	if err != nil {
		return fmt.Errorf("acknowledge %s: %w", silenceTarget(a.Monitor, a.Host), err)
	}
	return nil
}

// Acks lists every acknowledgement, by monitor then host.
func (s *Store) Acks(ctx context.Context) ([]engine.Ack, error) {
	rows, err := s.pool.Query(ctx, `SELECT monitor, host, state, state_since, actor, reason, at
		FROM acks ORDER BY monitor, host`)
	if err != nil {
		return nil, fmt.Errorf("acks: %w", err)
	}
	defer rows.Close()
	var out []engine.Ack
	for rows.Next() {
		var a engine.Ack
		var state int
		var since, at int64
		if err := rows.Scan(&a.Monitor, &a.Host, &state, &since, &a.Actor, &a.Reason, &at); err != nil {
			return nil, fmt.Errorf("acks: %w", err)
		}
		a.State, a.StateSince, a.At = engine.CheckState(state), fromNanos(since), fromNanos(at)
		out = append(out, a)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("acks: %w", err)
	}
	return out, nil
}

// AlertEvents lists alert audit events, newest first.
func (s *Store) AlertEvents(ctx context.Context, f engine.AlertEventFilter) ([]engine.AlertEvent, error) {
	q := "SELECT id, at, action, monitor, host, actor, reason, silence_id, until, state FROM alert_events"
	var args []any
	switch {
	case f.Monitor != "" && f.Host != "":
		q += " WHERE monitor = $1 AND (host = $2 OR host = '')"
		args = append(args, f.Monitor, f.Host)
	case f.Monitor != "":
		q += " WHERE monitor = $1"
		args = append(args, f.Monitor)
	case f.Host != "":
		q += " WHERE host = $1"
		args = append(args, f.Host)
	}
	limit := f.Limit
	if limit <= 0 {
		limit = 100
	}
	args = append(args, limit)
	q += fmt.Sprintf(" ORDER BY id DESC LIMIT $%d", len(args))
	rows, err := s.pool.Query(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("alert events: %w", err)
	}
	defer rows.Close()
	var out []engine.AlertEvent
	for rows.Next() {
		var e engine.AlertEvent
		var at, until int64
		var state int
		if err := rows.Scan(&e.ID, &at, &e.Action, &e.Monitor, &e.Host, &e.Actor, &e.Reason, &e.SilenceID, &until, &state); err != nil {
			return nil, fmt.Errorf("alert events: %w", err)
		}
		e.At, e.Until, e.State = fromNanos(at), fromNanos(until), engine.CheckState(state)
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("alert events: %w", err)
	}
	return out, nil
}

// silenceTarget names what a silence or an ack is about in errors.
func silenceTarget(monitor, host string) string {
	if host == "" {
		return monitor
	}
	return monitor + "@" + host
}
