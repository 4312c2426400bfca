package pgstore

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
)

//go:embed migrations/*.sql
var migrationFS embed.FS

// ErrSchemaTooNew is wrapped by Open when the database was migrated by a
// newer ripple than this one.
var ErrSchemaTooNew = errors.New("database schema is newer than this ripple binary")

// migration is one schema step; applying it records version in
// schema_version.
type migration struct {
	version int
	name    string
	sql     string
}

// migrationLock is the advisory lock key that serializes migrations when
// several daemons start at once ("ripple" in ASCII).
const migrationLock = 0x726970706c65

// loadMigrations reads migrations/NNNN_name.sql in version order and
// checks that no two share a version. Versions may skip numbers: a
// branch of work reserves its numbers, and the merged tree has them all. The names and numbers
// are engine/sqlstore's: both stores have the same schema versions.
func loadMigrations() ([]migration, error) {
	entries, err := fs.ReadDir(migrationFS, "migrations")
	if err != nil {
		return nil, fmt.Errorf("read migrations: %w", err)
	}
	var ms []migration
	for _, e := range entries {
		num, _, ok := strings.Cut(e.Name(), "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil {
			return nil, fmt.Errorf("migration %s: name must start with a number and '_'", e.Name())
		}
		b, err := migrationFS.ReadFile("migrations/" + e.Name())
		if err != nil {
			return nil, fmt.Errorf("read migration %s: %w", e.Name(), err)
		}
		ms = append(ms, migration{version: v, name: e.Name(), sql: string(b)})
	}
	sort.Slice(ms, func(i, j int) bool { return ms[i].version < ms[j].version })
	prev := 0
	for _, m := range ms {
		if m.version <= prev {
			return nil, fmt.Errorf("migration %s: version %d is not after %d", m.name, m.version, prev)
		}
		prev = m.version
	}
	return ms, nil
}

// migrate brings the database up to the newest schema.
func migrate(ctx context.Context, pool *pgxpool.Pool, where string) error {
	ms, err := loadMigrations()
	if err != nil {
		return err
	}
	return applyMigrations(ctx, pool, where, ms)
}

// applyMigrations applies the migrations the database lacks, each in its
// own transaction together with its schema_version row, so a failure
// leaves the database at a whole version. Each transaction first takes an
// advisory lock, so daemons starting at once migrate one after the other
// and each sees the other's work. Migrations are forward-only: a database
// at a newer version than ms knows is refused untouched.
func applyMigrations(ctx context.Context, pool *pgxpool.Pool, where string, ms []migration) error {
	for {
		done, err := applyNext(ctx, pool, where, ms)
		if err != nil || done {
			return err
		}
	}
}

func applyNext(ctx context.Context, pool *pgxpool.Pool, where string, ms []migration) (done bool, err error) {
	tx, err := pool.Begin(ctx)
	if err != nil {
		return false, fmt.Errorf("postgres %s: migrate: %w", where, err)
	}
	defer tx.Rollback(ctx) //nolint:errcheck // a no-op after Commit
	if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock($1)", int64(migrationLock)); err != nil {
		return false, fmt.Errorf("postgres %s: migrate: lock: %w", where, err)
	}
	if _, err := tx.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_version (
		version INTEGER PRIMARY KEY,
		name    TEXT    NOT NULL,
		applied BIGINT  NOT NULL)`); err != nil {
		return false, fmt.Errorf("postgres %s: migrate: create schema_version (the role needs CREATE on the database's schema): %w", where, err)
	}
	var cur int
	if err := tx.QueryRow(ctx, "SELECT COALESCE(MAX(version), 0) FROM schema_version").Scan(&cur); err != nil {
		return false, fmt.Errorf("postgres %s: read schema version: %w", where, err)
	}
	if cur > lastVersion(ms) {
		return false, fmt.Errorf("postgres %s has schema version %d, this ripple binary knows versions up to %d: %w; use a newer ripple",
			where, cur, lastVersion(ms), ErrSchemaTooNew)
	}
	next := slices.IndexFunc(ms, func(m migration) bool { return m.version > cur })
	if next < 0 {
		return true, tx.Commit(ctx)
	}
	m := ms[next]
	if _, err := tx.Exec(ctx, m.sql); err != nil {
		return false, fmt.Errorf("postgres %s: migration %s: %w", where, m.name, err)
	}
	if _, err := tx.Exec(ctx, "INSERT INTO schema_version (version, name, applied) VALUES ($1, $2, $3)",
		m.version, m.name, time.Now().UnixNano()); err != nil {
		return false, fmt.Errorf("postgres %s: migration %s: record version: %w", where, m.name, err)
	}
	if err := tx.Commit(ctx); err != nil {
		return false, fmt.Errorf("postgres %s: migration %s: commit: %w", where, m.name, err)
	}
	return false, nil
}

// schemaVersion is the schema version this binary writes.
func schemaVersion() int {
	ms, err := loadMigrations()
	if err != nil {
		return 0
	}
	return lastVersion(ms)
}

// lastVersion is the newest version in ms, 0 for none.
func lastVersion(ms []migration) int {
	if len(ms) == 0 {
		return 0
	}
	return ms[len(ms)-1].version
}
