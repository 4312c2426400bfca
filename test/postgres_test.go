package test

import (
	"context"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ripple-ops/ripple/engine"
	"github.com/ripple-ops/ripple/engine/pgstore"
	"github.com/ripple-ops/ripple/engine/pgstore/pgtest"
)

// pg is the PostgreSQL server of this package's run, started by the first
// test that needs it; TestMain stops it.
var pg pgtest.Shared

// TestDaemonOnPostgres runs `ripple serve --store postgres://...` on a
// private PostgreSQL server: a merge rolls out; the runs, the journal and
// the last applied commit are in PostgreSQL, not in a SQLite file under
// --data; a daemon killed and started again on the same database rolls out
// the next merge; a wrong password fails start-up naming the user and the
// server.
func TestDaemonOnPostgres(t *testing.T) {
	ctx := context.Background()
	c := pg.Cluster(t)
	dsn := c.Database(t)
	e := newDmEnv(t, 3)
	e.args = []string{"--store", dsn, "--store-password-file", c.PasswordFile()}
	first := e.commit("inventory and hello", map[string]string{
		"hosts.hcl":      e.fleet.HCL(),
		"jobs/hello.hcl": dmJob("hello", "echo hello from ${host.name}", ""),
	})
	e.start()
	e.waitStatus(first, "ripple/job/hello", "success")

	if _, err := os.Stat(filepath.Join(e.data, "ripple.db")); err == nil {
		t.Error("a SQLite database was created under --data")
	}
	s, err := pgstore.Open(ctx, dsn, pgstore.Options{PasswordFile: c.PasswordFile()})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	runs, err := s.ListRuns(ctx, engine.RunFilter{Job: "hello"})
	if err != nil || len(runs) != 1 || runs[0].State != engine.RunSucceeded {
		t.Fatalf("runs in PostgreSQL = %+v, %v; want one succeeded", runs, err)
	}
	steps, err := s.HostSteps(ctx, runs[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(steps) != 3 {
		t.Errorf("%d journal rows, want one per host", len(steps))
	}
	for _, hs := range steps {
		if hs.Phase != engine.PhaseFinished || !strings.HasPrefix(hs.Result.Stdout, "hello from ") {
			t.Errorf("journal row %s: %s %q", hs.Host, hs.Phase, hs.Result.Stdout)
		}
	}
	e.waitFor("last applied", 20*time.Second, func() bool { c, _ := s.LastApplied(ctx, "main"); return c == first })

	// Killed and started again on the same database: the next merge is
	// diffed against the applied commit it finds there.
	e.kill()
	e.start()
	second := e.commit("change hello", map[string]string{"jobs/hello.hcl": dmJob("hello", "echo hi from ${host.name}", "")})
	if code := e.webhook("push", "pg-delivery-1", pushPayload(t, first, second)); code != http.StatusAccepted {
		t.Fatalf("push answered %d", code)
	}
	e.waitStatus(second, "ripple/job/hello", "success")
	if got := e.runs("limit=100"); len(got) != 2 {
		t.Errorf("runs after a restart and a merge = %d, want 2", len(got))
	}
	if seen, err := s.DeliverySeen(ctx, "pg-delivery-1"); err != nil || !seen {
		t.Errorf("delivery recorded in PostgreSQL = %v, %v", seen, err)
	}

	// A wrong password fails start-up at once, naming the user and the
	// server, never the password.
	wrong := filepath.Join(e.dir, "wrong-password")
	if err := os.WriteFile(wrong, []byte("not-the-password-4711\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(rippleBin, "serve", "--repo", e.repo, "--data", filepath.Join(e.dir, "data2"),
		"--listen", "127.0.0.1:0", "--log-format", "json", "--store", dsn, "--store-password-file", wrong)
	out, err := cmd.CombinedOutput()
	if err == nil {
		t.Fatal("serve started with a wrong password")
	}
	want := `ripple: PostgreSQL at 127.0.0.1:` // port, then: refused user "postgres" with the password from FILE
	if !strings.Contains(string(out), want) || !strings.Contains(string(out), `refused user "postgres" with the password from `+wrong) {
		t.Errorf("start-up with a wrong password:\n%s\nwant %q and the user and file named", out, want)
	}
	if strings.Contains(string(out), "not-the-password") {
		t.Errorf("start-up output shows the password:\n%s", out)
	}
}
