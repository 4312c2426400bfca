package pgstore

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
)

func TestCheckDSN(t *testing.T) {
	tests := []struct {
		dsn     string
		wantErr string // "" for none
	}{
		{"postgres://ripple@db.example.net/ripple", ""},
		{"postgresql://ripple@127.0.0.1:5433/ripple?sslmode=verify-full", ""},
		{"host=/run/postgresql user=ripple dbname=ripple", ""},
		{"postgres://ripple:s3cret-pw@db/ripple", "holds a password"},
		{"postgres://ripple@db/ripple?password=s3cret-pw", "holds a password"},
		{"host=db user=ripple password=s3cret-pw dbname=ripple", "holds a password"},
		{"mysql://ripple@db/ripple", `scheme "mysql"`},
		{"postgres://ripple@db/ripple\x7f:s3cret-pw", "not a valid URL"},
	}
	for _, tt := range tests {
		err := CheckDSN(tt.dsn)
		switch {
		case tt.wantErr == "" && err != nil:
			t.Errorf("CheckDSN(%q) = %v, want nil", tt.dsn, err)
		case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
			t.Errorf("CheckDSN(%q) = %v, want %q", tt.dsn, err, tt.wantErr)
		case err != nil && strings.Contains(err.Error(), "s3cret"):
			t.Errorf("CheckDSN(%q) repeats the password: %v", tt.dsn, err)
		}
	}
}

// TestOpenErrors: each start-up failure names the server, the database
// and the user, says what to do, and never shows the password.
func TestOpenErrors(t *testing.T) {
	ctx := context.Background()
	c := pg.Cluster(t)
	db, err := c.CreateDatabase(ctx)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	wrong := filepath.Join(dir, "wrong")
	if err := os.WriteFile(wrong, []byte("not-the-password-4711\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	closed := closedPort(t)
	at := fmt.Sprintf("127.0.0.1:%d", c.Port())
	tests := []struct {
		name     string
		dsn      string
		opts     Options
		want     []string
		wantIs   error
		minDelay time.Duration
	}{
		{name: "unreachable", dsn: fmt.Sprintf("postgres://ripple@127.0.0.1:%d/ripple", closed),
			want:   []string{fmt.Sprintf("cannot reach PostgreSQL at 127.0.0.1:%d (database ripple, user ripple)", closed), "connection refused"},
			wantIs: ErrUnreachable},
		{name: "unreachable, retried", dsn: fmt.Sprintf("postgres://ripple@127.0.0.1:%d/ripple", closed), opts: Options{ConnectWait: time.Second},
			want: []string{"cannot reach PostgreSQL", "attempts in 1s"}, wantIs: ErrUnreachable, minDelay: 500 * time.Millisecond},
		{name: "wrong password", dsn: c.DSN(db), opts: Options{PasswordFile: wrong},
			want: []string{fmt.Sprintf(`PostgreSQL at %s refused user "postgres" with the password from %s`, at, wrong), "password authentication failed"}},
		{name: "no password", dsn: c.DSN(db),
			want: []string{fmt.Sprintf(`PostgreSQL at %s refused user "postgres" with no password (give one with --store-password-file or PGPASSFILE)`, at)}},
		{name: "no such database", dsn: c.DSN("nope"), opts: Options{PasswordFile: c.PasswordFile()},
			want: []string{fmt.Sprintf(`PostgreSQL at %s has no database "nope" (create it: CREATE DATABASE nope OWNER postgres)`, at)}},
		{name: "password in the DSN", dsn: strings.Replace(c.DSN(db), "postgres@", "postgres:not-the-password-4711@", 1),
			want: []string{"store DSN: holds a password"}},
		{name: "missing password file", dsn: c.DSN(db), opts: Options{PasswordFile: filepath.Join(dir, "nope")},
			want: []string{"store password: read secret file"}},
	}
	t.Setenv("PGPASSFILE", filepath.Join(dir, "no-pgpass")) // not the tester's ~/.pgpass
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			start := time.Now()
			s, err := Open(ctx, tt.dsn, tt.opts)
			if err == nil {
				s.Close()
				t.Fatal("Open succeeded")
			}
			t.Log(err)
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q\nwant it to contain %q", err, w)
				}
			}
			if strings.Contains(err.Error(), "not-the-password") || strings.Contains(err.Error(), pgPassword(t)) {
				t.Errorf("error shows a password: %v", err)
			}
			if tt.wantIs != nil && !errors.Is(err, tt.wantIs) {
				t.Errorf("error %v is not %v", err, tt.wantIs)
			}
			if d := time.Since(start); d < tt.minDelay {
				t.Errorf("failed after %s, want it to retry for at least %s", d, tt.minDelay)
			}
		})
	}
}

func TestOpenRefusesPGPASSWORD(t *testing.T) {
	t.Setenv("PGPASSWORD", "not-the-password-4711")
	_, err := Open(context.Background(), pg.Database(t), Options{})
	if err == nil || !strings.Contains(err.Error(), "PGPASSWORD is set") || strings.Contains(err.Error(), "not-the-password") {
		t.Fatalf("Open with PGPASSWORD set = %v, want a refusal that does not show it", err)
	}
}

// TestOpenWithPGPASSFILE: without --store-password-file the password
// comes from PGPASSFILE, as with libpq.
func TestOpenWithPGPASSFILE(t *testing.T) {
	c := pg.Cluster(t)
	pass := filepath.Join(t.TempDir(), "pgpass")
	line := fmt.Sprintf("127.0.0.1:%d:*:postgres:%s\n", c.Port(), pgPassword(t))
	if err := os.WriteFile(pass, []byte(line), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PGPASSFILE", pass)
	s, err := Open(context.Background(), pg.Database(t), Options{})
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
}

// TestOpenRefusesNewerSchema: a database migrated by a newer ripple is
// refused, naming both versions, and left untouched.
func TestOpenRefusesNewerSchema(t *testing.T) {
	ctx := context.Background()
	dsn := pg.Database(t)
	s := openDSN(t, dsn, Options{})
	newer := schemaVersion() + 1
	if _, err := s.pool.Exec(ctx, "INSERT INTO schema_version (version, name, applied) VALUES ($1, 'future.sql', 0)", newer); err != nil {
		t.Fatal(err)
	}
	_, err := Open(ctx, dsn, Options{PasswordFile: pg.Cluster(t).PasswordFile()})
	want := fmt.Sprintf("has schema version %d, this ripple binary knows versions up to %d", newer, schemaVersion())
	if !errors.Is(err, ErrSchemaTooNew) || !strings.Contains(err.Error(), want) {
		t.Fatalf("Open of a newer database = %v, want %q", err, want)
	}
	var v int
	if err := s.pool.QueryRow(ctx, "SELECT MAX(version) FROM schema_version").Scan(&v); err != nil || v != newer {
		t.Errorf("schema version after refused Open = %d, %v; want %d", v, err, newer)
	}
}

// TestMigrationsMatchSQLite: both stores have the same schema versions,
// by number and name.
func TestMigrationsMatchSQLite(t *testing.T) {
	ms, err := loadMigrations()
	if err != nil {
		t.Fatal(err)
	}
	lite, err := filepath.Glob("../sqlstore/migrations/*.sql")
	if err != nil || len(lite) == 0 {
		t.Fatalf("sqlstore migrations: %v %v", lite, err)
	}
	var ours, theirs []string
	for _, m := range ms {
		ours = append(ours, m.name)
		if strings.TrimSpace(m.sql) == "" {
			t.Errorf("migration %s is empty", m.name)
		}
	}
	for _, p := range lite {
		theirs = append(theirs, filepath.Base(p))
	}
	if strings.Join(ours, " ") != strings.Join(theirs, " ") {
		t.Errorf("pgstore migrations %v, sqlstore %v: add each schema change to both", ours, theirs)
	}
}

func TestFailedMigrationLeavesWholeVersion(t *testing.T) {
	ctx := context.Background()
	s := openTest(t)
	pool := s.pool
	if _, err := pool.Exec(ctx, "CREATE SCHEMA m"); err != nil {
		t.Fatal(err)
	}
	mpool := schemaPool(t, s, "m")
	ms := []migration{
		{version: 1, name: "0001_a.sql", sql: "CREATE TABLE a (x INTEGER);"},
		{version: 2, name: "0002_b.sql", sql: "CREATE TABLE b (x INTEGER); INSERT INTO nope VALUES (1);"},
	}
	err := applyMigrations(ctx, mpool, "test", ms)
	if err == nil || !strings.Contains(err.Error(), "0002_b.sql") {
		t.Fatalf("applyMigrations = %v, want an error naming 0002_b.sql", err)
	}
	version := func() int {
		var v int
		if err := mpool.QueryRow(ctx, "SELECT MAX(version) FROM schema_version").Scan(&v); err != nil {
			t.Fatal(err)
		}
		return v
	}
	if v := version(); v != 1 {
		t.Errorf("schema version = %d; want 1", v)
	}
	var n int
	if err := mpool.QueryRow(ctx, "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'm' AND table_name = 'b'").Scan(&n); err != nil || n != 0 {
		t.Errorf("table b of the failed migration exists (%d, %v)", n, err)
	}
	// Fixed, the migration applies from where it stopped.
	ms[1].sql = "CREATE TABLE b (x INTEGER);"
	if err := applyMigrations(ctx, mpool, "test", ms); err != nil {
		t.Fatal(err)
	}
	if v := version(); v != 2 {
		t.Errorf("schema version after fix = %d; want 2", v)
	}
}

// schemaPool is a pool of s's database whose connections use schema.
func schemaPool(t *testing.T, s *Store, schema string) *pgxpool.Pool {
	t.Helper()
	cfg := s.pool.Config().Copy()
	cfg.ConnConfig.RuntimeParams["search_path"] = schema
	p, err := pgxpool.NewWithConfig(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Close)
	return p
}

// TestConcurrentOpensMigrateOnce: daemons starting at once on an empty
// database take turns migrating it.
func TestConcurrentOpensMigrateOnce(t *testing.T) {
	dsn := pg.Database(t)
	pw := pg.Cluster(t).PasswordFile()
	var wg sync.WaitGroup
	errs := make([]error, 4)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s, err := Open(context.Background(), dsn, Options{PasswordFile: pw})
			if err == nil {
				s.Close()
			}
			errs[i] = err
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("Open %d: %v", i, err)
		}
	}
	s := openDSN(t, dsn, Options{})
	var n, v int
	if err := s.pool.QueryRow(context.Background(), "SELECT count(*), MAX(version) FROM schema_version").Scan(&n, &v); err != nil {
		t.Fatal(err)
	}
	ms, err := loadMigrations()
	if err != nil {
		t.Fatal(err)
	}
	if n != len(ms) || v != schemaVersion() {
		t.Errorf("schema_version has %d rows up to %d, want each of %d migrations once, up to %d", n, v, len(ms), schemaVersion())
	}
}

// OutboxStats runs at every scrape: the outbox's partial index must serve
// its query (the planner prefers a scan of a tiny table, so scans are
// discouraged here to see that it can).
func TestOutboxStatsUsesTheOutboxIndex(t *testing.T) {
	ctx := context.Background()
	s := openTest(t)
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Release()
	if _, err := conn.Exec(ctx, "SET enable_seqscan = off"); err != nil {
		t.Fatal(err)
	}
	rows, err := conn.Query(ctx, "EXPLAIN "+outboxStatsQuery)
	if err != nil {
		t.Fatal(err)
	}
	var plan []string
	for rows.Next() {
		var line string
		if err := rows.Scan(&line); err != nil {
			t.Fatal(err)
		}
		plan = append(plan, line)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(strings.Join(plan, "\n"), "statuses_outbox") {
		t.Fatalf("query plan does not use the index statuses_outbox:\n%s", strings.Join(plan, "\n"))
	}
	if _, err := conn.Exec(ctx, "RESET enable_seqscan"); err != nil {
		t.Fatal(err)
	}
}

// closedPort is a loopback port nothing listens on.
func closedPort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	return port
}

// pgPassword is the test server's password.
func pgPassword(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile(pg.Cluster(t).PasswordFile())
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(b))
}
