package pgstore

import (
	"context"
	"fmt"
)

// LastApplied returns the commit last applied on branch, or "" if none.
func (s *Store) LastApplied(ctx context.Context, branch string) (string, error) {
	var commit string
	err := s.pool.QueryRow(ctx, "SELECT commit_sha FROM last_applied WHERE branch = $1", safeText(branch)).Scan(&commit)
	if errNoRows(err) {
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
	err := s.write(ctx, func(q *queue) {
		q.exec(`INSERT INTO last_applied (branch, commit_sha, updated) VALUES ($1, $2, $3)
			ON CONFLICT (branch) DO UPDATE SET commit_sha = excluded.commit_sha, updated = excluded.updated`,
			branch, commit, now)
	})
	if err != nil {
		return fmt.Errorf("set last applied on %s: %w", branch, err)
	}
	return nil
}
