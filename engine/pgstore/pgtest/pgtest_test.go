package pgtest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

var shared Shared

func TestMain(m *testing.M) {
	code := m.Run()
	if err := shared.Stop(); err != nil {
		println("stop PostgreSQL:", err.Error())
		code = 1
	}
	os.Exit(code)
}

func setting(t *testing.T, c *Cluster, db, name string) string {
	t.Helper()
	ctx := context.Background()
	conn, err := c.Connect(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var v string
	if err := conn.QueryRow(ctx, "SELECT current_setting($1)", name).Scan(&v); err != nil {
		t.Fatal(err)
	}
	return v
}

func TestSharedServerGivesFreshDatabases(t *testing.T) {
	c := shared.Cluster(t)
	a, b := shared.Database(t), shared.Database(t)
	if a == b {
		t.Fatalf("two databases share a DSN: %s", a)
	}
	for name, want := range map[string]string{"listen_addresses": "127.0.0.1", "fsync": "off", "unix_socket_directories": c.dir} {
		if got := setting(t, c, "postgres", name); got != want {
			t.Errorf("%s = %q, want %q", name, got, want)
		}
	}
	// The server never runs as root.
	fi, err := os.Stat(filepath.Join(c.dir, "data"))
	if err != nil {
		t.Fatal(err)
	}
	if uid := fi.Sys().(*syscall.Stat_t).Uid; uid == 0 {
		t.Error("the data directory is owned by root")
	}
	if os.Geteuid() == 0 && c.cred == nil {
		t.Error("running as root, the server was not given the postgres user")
	}
}

func TestPrivateServerSurvivesACrash(t *testing.T) {
	ctx := context.Background()
	c := New(t, Options{Fsync: true})
	if got := setting(t, c, "postgres", "fsync"); got != "on" {
		t.Errorf("fsync = %q, want on", got)
	}
	db, err := c.CreateDatabase(ctx)
	if err != nil {
		t.Fatal(err)
	}
	conn, err := c.Connect(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Exec(ctx, "CREATE TABLE t (x int); INSERT INTO t VALUES (42)"); err != nil {
		t.Fatal(err)
	}
	conn.Close(ctx)
	if err := c.Crash(); err != nil {
		t.Fatal(err)
	}
	if err := c.Restart(); err != nil {
		t.Fatal(err)
	}
	conn, err = c.Connect(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var x int
	if err := conn.QueryRow(ctx, "SELECT x FROM t").Scan(&x); err != nil || x != 42 {
		t.Errorf("after a crash: %d, %v; want 42", x, err)
	}
}

// recorder is a testing.TB that records Skip and Fatal instead of acting.
type recorder struct {
	testing.TB
	skipped, failed bool
}

func (r *recorder) Helper()             {}
func (r *recorder) Skip(...any)         { r.skipped = true }
func (r *recorder) Fatal(...any)        { r.failed = true }
func (r *recorder) Name() string        { return "recorder" }
func (r *recorder) Cleanup(func())      {}
func (r *recorder) Logf(string, ...any) {}

// TestMissingBinaries: without the binaries a test skips, and under
// CI=true it fails instead, so CI cannot pass without running them.
func TestMissingBinaries(t *testing.T) {
	err := fmt.Errorf("start: %w", ErrNotInstalled)
	if !strings.Contains(ErrNotInstalled.Error(), "apt-get install postgresql") {
		t.Errorf("the message does not say how to install them: %v", ErrNotInstalled)
	}
	t.Setenv("CI", "")
	r := &recorder{}
	need(r, err)
	if !r.skipped || r.failed {
		t.Errorf("without CI: skipped %v, failed %v; want a skip", r.skipped, r.failed)
	}
	t.Setenv("CI", "true")
	r = &recorder{}
	need(r, err)
	if r.skipped || !r.failed {
		t.Errorf("with CI=true: skipped %v, failed %v; want a failure", r.skipped, r.failed)
	}
	r = &recorder{}
	need(r, errors.New("initdb: exit status 1"))
	if r.skipped || !r.failed {
		t.Error("another error must fail, not skip")
	}
}
