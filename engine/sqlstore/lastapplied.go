package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

// LastApplied returns the commit last applied on branch, or "" if none.
func (s *Store) LastApplied(ctx context.Context, branch string) (string, error) {
	var commit string
	err := s.reader.QueryRowContext(ctx, "SELECT commit_sha FROM last_applied WHERE branch = ?", branch).Scan(&commit)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("last applied on %s: %w", branch, err)
	}
	return commit, nil
}

// SetLastApplied records commit as the last one applied on branch.
func (s *Store) SetLastApplied(ctx context.Context, branch, commit string) error {
	now := nanos(s.now())
	err := s.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO last_applied (branch, commit_sha, updated) VALUES (?, ?, ?)
			ON CONFLICT (branch) DO UPDATE SET commit_sha = excluded.commit_sha, updated = excluded.updated`,
			branch, commit, now)
		return err
	})
	if err != nil {
		return fmt.Errorf("set last applied on %s: %w", branch, err)
	}
	return nil
}
