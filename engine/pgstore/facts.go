package pgstore

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/ripple-ops/ripple/engine"
)

var _ engine.FactStore = (*Store)(nil)

// RecordFacts implements engine.FactStore: every update in one commit.
// Facts, errors and the values of changes come from hosts: BYTEA.
func (s *Store) RecordFacts(ctx context.Context, updates []engine.FactsUpdate) error {
	if len(updates) == 0 {
		return nil
	}
	var encoded [][]byte
	for _, u := range updates {
		b, err := json.Marshal(u.Record.Facts)
		if err != nil {
			return fmt.Errorf("facts of %s: %w", u.Record.Host, err)
		}
		encoded = append(encoded, b)
	}
	err := s.write(ctx, func(q *queue) {
		for i, u := range updates {
			r := u.Record
			q.exec(`INSERT INTO host_facts (host) VALUES ($1) ON CONFLICT DO NOTHING`, r.Host)
			if r.Error != "" {
				q.exec(`UPDATE host_facts SET attempt_at = $1, error = $2 WHERE host = $3`,
					nanos(r.AttemptAt), []byte(engine.ClipText(r.Error, engine.MaxFactsError)), r.Host)
				continue
			}
			q.exec(`UPDATE host_facts SET facts = $1, gathered_at = $2, attempt_at = $3, error = ''::bytea,
				updates_since = $4, security_since = $5 WHERE host = $6`,
				encoded[i], nanos(r.GatheredAt), nanos(r.AttemptAt), nanos(r.UpdatesSince), nanos(r.SecuritySince), r.Host)
			for _, c := range u.Changes {
				q.exec(`INSERT INTO fact_changes (host, at, fact, old_value, new_value) VALUES ($1, $2, $3, $4, $5)`,
					c.Host, nanos(c.At), c.Fact, []byte(c.Old), []byte(c.New))
			}
		}
	})
	if err != nil {
		return fmt.Errorf("record facts of %d hosts: %w", len(updates), err)
	}
	return nil
}

// HostFacts implements engine.FactReader.
func (s *Store) HostFacts(ctx context.Context, host string) ([]engine.FactsRecord, error) {
	q := `SELECT host, facts, gathered_at, attempt_at, error, updates_since, security_since FROM host_facts`
	var args []any
	if host != "" {
		q += " WHERE host = $1"
		args = append(args, safeText(host))
	}
	rows, err := s.pool.Query(ctx, q+" ORDER BY host", args...)
	if err != nil {
		return nil, fmt.Errorf("read facts: %w", err)
	}
	defer rows.Close()
	var out []engine.FactsRecord
	for rows.Next() {
		var r engine.FactsRecord
		var facts, errb []byte
		var gAt, aAt, uAt, sAt int64
		if err := rows.Scan(&r.Host, &facts, &gAt, &aAt, &errb, &uAt, &sAt); err != nil {
			return nil, fmt.Errorf("read facts: %w", err)
		}
		if len(facts) > 0 {
			if err := json.Unmarshal(facts, &r.Facts); err != nil {
				return nil, fmt.Errorf("read facts of %s: %w", r.Host, err)
			}
		}
		r.Error = string(errb)
		r.GatheredAt, r.AttemptAt, r.UpdatesSince, r.SecuritySince = fromNanos(gAt), fromNanos(aAt), fromNanos(uAt), fromNanos(sAt)
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read facts: %w", err)
	}
	return out, nil
}

// FactHistory implements engine.FactReader.
func (s *Store) FactHistory(ctx context.Context, host string, limit int) ([]engine.FactChange, error) {
	q := `SELECT host, at, fact, old_value, new_value FROM fact_changes WHERE host = $1 ORDER BY id DESC`
	args := []any{safeText(host)}
	if limit > 0 {
		q += " LIMIT $2"
		args = append(args, limit)
	}
	rows, err := s.pool.Query(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("read fact history of %s: %w", host, err)
	}
	defer rows.Close()
	var out []engine.FactChange
	for rows.Next() {
		var c engine.FactChange
		var at int64
		var old, nw []byte
		if err := rows.Scan(&c.Host, &at, &c.Fact, &old, &nw); err != nil {
			return nil, fmt.Errorf("read fact history of %s: %w", host, err)
		}
		c.At, c.Old, c.New = fromNanos(at), string(old), string(nw)
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read fact history of %s: %w", host, err)
	}
	return out, nil
}
