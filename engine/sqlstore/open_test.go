package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestOpenLocksDataDir(t *testing.T) {
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "data", "nested") // Open creates it
	s1, err := Open(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	_, err = Open(ctx, dir)
	if !errors.Is(err, ErrLocked) {
		t.Fatalf("second Open = %v, want ErrLocked", err)
	}
	want := fmt.Sprintf("data directory %s is in use by another ripple process (pid %d)", dir, os.Getpid())
	if !strings.Contains(err.Error(), want) {
		t.Errorf("second Open error = %q, want it to contain %q", err, want)
	}
	if err := s1.Close(); err != nil {
		t.Fatal(err)
	}
	s2, err := Open(ctx, dir)
	if err != nil {
		t.Fatalf("Open after Close: %v", err)
	}
	if err := s2.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestOpenSettings(t *testing.T) {
	ctx := context.Background()
	s := openTest(t)
	for _, db := range []*sql.DB{s.writer, s.reader} {
		for pragma, want := range map[string]string{"journal_mode": "wal", "synchronous": "2", "foreign_keys": "1"} {
			var got string
			if err := db.QueryRowContext(ctx, "PRAGMA "+pragma).Scan(&got); err != nil {
				t.Fatal(err)
			}
			if got != want {
				t.Errorf("PRAGMA %s = %s, want %s", pragma, got, want)
			}
		}
	}
	var v int
	if err := s.reader.QueryRowContext(ctx, "PRAGMA user_version").Scan(&v); err != nil {
		t.Fatal(err)
	}
	if v != schemaVersion() || v < 1 {
		t.Errorf("user_version = %d, want %d", v, schemaVersion())
	}
	if _, err := s.reader.ExecContext(ctx, "DELETE FROM runs"); err == nil {
		t.Error("reader pool accepted a write")
	}
	if err := s.IntegrityCheck(ctx); err != nil {
		t.Error(err)
	}
}

func TestOpenRefusesNewerSchema(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s, err := Open(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	newer := schemaVersion() + 1
	if _, err := s.writer.ExecContext(ctx, fmt.Sprintf("PRAGMA user_version = %d", newer)); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	_, err = Open(ctx, dir)
	if err == nil || !strings.Contains(err.Error(), "newer than this ripple binary") {
		t.Fatalf("Open of a newer database = %v, want a schema version error", err)
	}
	// The failed Open released the lock and did not touch the version.
	db, err := sql.Open("sqlite", filepath.Join(dir, "ripple.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var v int
	if err := db.QueryRowContext(ctx, "PRAGMA user_version").Scan(&v); err != nil || v != newer {
		t.Errorf("user_version after refused Open = %d, %v; want %d", v, err, newer)
	}
	l, err := lockDir(dir)
	if err != nil {
		t.Fatalf("lock after refused Open: %v", err)
	}
	l.unlock()
}

func TestMigrationsAreWellFormed(t *testing.T) {
	ms, err := loadMigrations()
	if err != nil {
		t.Fatal(err)
	}
	for i, m := range ms {
		if m.version < 1 || i > 0 && m.version <= ms[i-1].version || strings.TrimSpace(m.sql) == "" {
			t.Errorf("migration %d: %+v", i, m.name)
		}
		// The loader accepts gaps while branches reserve numbers; the
		// tree that ships has none, so no database skips a migration.
		if m.version != i+1 {
			t.Errorf("migration %s: version %d, want %d (no gaps)", m.name, m.version, i+1)
		}
	}
}

// TestMigrationsSkipReservedVersions: versions reserved by other branches
// of work are skipped, a database at a version between two migrations gets
// the later one, and user_version is the migration's own number.
func TestMigrationsSkipReservedVersions(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "m.db")
	db, err := openDB(ctx, path, false)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	ms := []migration{
		{version: 1, name: "0001_a.sql", sql: "CREATE TABLE a (x INTEGER);"},
		{version: 11, name: "0011_b.sql", sql: "CREATE TABLE b (x INTEGER);"},
	}
	if err := applyMigrations(ctx, db, path, ms); err != nil {
		t.Fatal(err)
	}
	var v, n int
	if err := db.QueryRowContext(ctx, "PRAGMA user_version").Scan(&v); err != nil || v != 11 {
		t.Errorf("user_version = %d, %v; want 11", v, err)
	}
	if err := db.QueryRowContext(ctx, "SELECT count(*) FROM sqlite_schema WHERE name IN ('a', 'b')").Scan(&n); err != nil || n != 2 {
		t.Errorf("tables a and b: %d, %v", n, err)
	}
	// Applied again, nothing runs twice.
	if err := applyMigrations(ctx, db, path, ms); err != nil {
		t.Fatal(err)
	}
}

func TestOpenEmptyDir(t *testing.T) {
	if _, err := Open(context.Background(), ""); err == nil {
		t.Error("Open(\"\") succeeded")
	}
}

func TestFailedMigrationLeavesWholeVersion(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "m.db")
	db, err := openDB(ctx, path, false)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	ms := []migration{
		{version: 1, name: "0001_a.sql", sql: "CREATE TABLE a (x INTEGER);"},
		{version: 2, name: "0002_b.sql", sql: "CREATE TABLE b (x INTEGER); INSERT INTO nope VALUES (1);"},
	}
	err = applyMigrations(ctx, db, path, ms)
	if err == nil || !strings.Contains(err.Error(), "0002_b.sql") {
		t.Fatalf("applyMigrations = %v, want an error naming 0002_b.sql", err)
	}
	var v int
	if err := db.QueryRowContext(ctx, "PRAGMA user_version").Scan(&v); err != nil || v != 1 {
		t.Errorf("user_version = %d, %v; want 1", v, err)
	}
	var n int
	if err := db.QueryRowContext(ctx, "SELECT count(*) FROM sqlite_schema WHERE name = 'b'").Scan(&n); err != nil || n != 0 {
		t.Errorf("table b of the failed migration exists (%d, %v)", n, err)
	}
	// Fixed, the migration applies from where it stopped.
	ms[1].sql = "CREATE TABLE b (x INTEGER);"
	if err := applyMigrations(ctx, db, path, ms); err != nil {
		t.Fatal(err)
	}
	if err := db.QueryRowContext(ctx, "PRAGMA user_version").Scan(&v); err != nil || v != 2 {
		t.Errorf("user_version after fix = %d, %v; want 2", v, err)
	}
}
