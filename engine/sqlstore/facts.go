package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"

	"github.com/ripple-ops/ripple/engine"
)

var _ engine.FactStore = (*Store)(nil)

// RecordFacts implements engine.FactStore: every update in one commit.
func (s *Store) RecordFacts(ctx context.Context, updates []engine.FactsUpdate) error {
	if len(updates) == 0 {
		return nil
	}
	err := s.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		for _, u := range updates {
			r := u.Record
			if _, err := tx.ExecContext(ctx, `INSERT INTO host_facts (host) VALUES (?) ON CONFLICT DO NOTHING`, r.Host); err != nil {
				return err
			}
			if r.Error != "" {
				if _, err := tx.ExecContext(ctx, `UPDATE host_facts SET attempt_at = ?, error = ? WHERE host = ?`,
					nanos(r.AttemptAt), engine.ClipText(r.Error, engine.MaxFactsError), r.Host); err != nil {
					return err
				}
				continue
			}
			facts, err := json.Marshal(r.Facts)
			if err != nil {
				return fmt.Errorf("facts of %s: %w", r.Host, err)
			}
			if _, err := tx.ExecContext(ctx, `UPDATE host_facts SET facts = ?, gathered_at = ?, attempt_at = ?, error = '',
				updates_since = ?, security_since = ? WHERE host = ?`,
				string(facts), nanos(r.GatheredAt), nanos(r.AttemptAt), nanos(r.UpdatesSince), nanos(r.SecuritySince), r.Host); err != nil {
				return err
			}
			for _, c := range u.Changes {
				if _, err := tx.ExecContext(ctx, `INSERT INTO fact_changes (host, at, fact, old_value, new_value) VALUES (?, ?, ?, ?, ?)`,
					c.Host, nanos(c.At), c.Fact, c.Old, c.New); err != nil {
					return err
				}
			}
		}
		return nil
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
		q += " WHERE host = ?"
		args = append(args, host)
	}
	rows, err := s.reader.QueryContext(ctx, q+" ORDER BY host", args...)
	if err != nil {
		return nil, fmt.Errorf("read facts: %w", err)
	}
	defer rows.Close()
	var out []engine.FactsRecord
	for rows.Next() {
		var r engine.FactsRecord
		var facts string
		var gAt, aAt, uAt, sAt int64
		if err := rows.Scan(&r.Host, &facts, &gAt, &aAt, &r.Error, &uAt, &sAt); err != nil {
			return nil, fmt.Errorf("read facts: %w", err)
		}
		if facts != "" {
			if err := json.Unmarshal([]byte(facts), &r.Facts); err != nil {
				return nil, fmt.Errorf("read facts of %s: %w", r.Host, err)
			}
		}
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
	q := `SELECT host, at, fact, old_value, new_value FROM fact_changes WHERE host = ? ORDER BY id DESC`
	args := []any{host}
	if limit > 0 {
		q += " LIMIT ?"
		args = append(args, limit)
	}
	rows, err := s.reader.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("read fact history of %s: %w", host, err)
	}
	defer rows.Close()
	var out []engine.FactChange
	for rows.Next() {
		var c engine.FactChange
		var at int64
		if err := rows.Scan(&c.Host, &at, &c.Fact, &c.Old, &c.New); err != nil {
			return nil, fmt.Errorf("read fact history of %s: %w", host, err)
		}
		c.At = fromNanos(at)
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read fact history of %s: %w", host, err)
	}
	return out, nil
}
