package test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ripple-ops/ripple/engine"
	"github.com/ripple-ops/ripple/engine/sqlstore"
	"github.com/ripple-ops/ripple/test/sshfleet"
)

// rippleBin is the ripple binary, built once by TestMain.
var rippleBin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "ripple-test-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	rippleBin = filepath.Join(dir, "ripple")
	if out, err := exec.Command("go", "build", "-o", rippleBin, "github.com/ripple-ops/ripple/cmd/ripple").CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "build ripple: %v\n%s", err, out)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	if err := pg.Stop(); err != nil {
		fmt.Fprintln(os.Stderr, "stop PostgreSQL:", err)
		code = 1
	}
	os.Exit(code)
}

// killJob is a 4-wave job (2, 4, 6, 8 hosts of 20) whose one step is not
// idempotent: it bumps a counter per version on each host. (Re-running
// idempotent steps after a crash is covered by the engine's unit tests.)
const killJob = `
job "counted" {
  targets { groups = ["fleet"] }
  step "count" {
    run = "c=${host.vars.dir}/count-VERSION; n=$(cat $c 2>/dev/null || echo 0); echo $((n+1)) > $c; sleep 0.1"
  }
  rollout {
    waves        = [2, 4, 6, "100%"]
    max_parallel = 10
  }
}
`

// applyKilled runs `ripple apply args...` and sends it SIGKILL after delay
// unless it exits first. It reports the exit code, or killed.
func (e *roEnv) applyKilled(delay time.Duration, args ...string) (code int, killed bool, out string) {
	e.t.Helper()
	cmd := exec.Command(rippleBin, append([]string{"apply", "--repo", e.repo, "--data", e.data}, args...)...)
	var buf bytes.Buffer
	cmd.Stdout, cmd.Stderr = &buf, &buf
	if err := cmd.Start(); err != nil {
		e.t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }() // owned here: always received below
	timer := time.NewTimer(delay)
	defer timer.Stop()
	var err error
	select {
	case err = <-done:
	case <-timer.C:
		_ = cmd.Process.Kill() // SIGKILL
		err = <-done
		var ee *exec.ExitError
		if errors.As(err, &ee) && !ee.Exited() {
			return -1, true, buf.String()
		}
	}
	var ee *exec.ExitError
	switch {
	case err == nil:
		return 0, false, buf.String()
	case errors.As(err, &ee):
		return ee.ExitCode(), false, buf.String()
	default:
		e.t.Fatalf("ripple apply: %v", err)
		return -1, false, ""
	}
}

// TestApplySurvivesSIGKILL kills `ripple apply` at random points of 4-wave
// runs over 20 sshd hosts, at least 20 times, and checks that the next
// apply on the same data directory resumes or closes each run, every run
// ends in a recorded final state with a final commit status, no
// non-idempotent step ran twice on any host, and the database passes its
// integrity check.
func TestApplySurvivesSIGKILL(t *testing.T) {
	if testing.Short() {
		t.Skip("kill test takes about a minute")
	}
	fleet := sshfleet.Start(t, sshfleet.Options{Hosts: 20})
	e := newRoEnv(t, fleet)
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 0x5eed))

	const wantKills = 24
	budget := time.Now().Add(90 * time.Second)
	kills, versions, approvals := 0, 0, 0
	var points []string // what the journal held at each kill
	maxDelay := 2500 * time.Millisecond
	for kills < wantKills && time.Now().Before(budget) {
		versions++
		version := "v" + strconv.Itoa(versions)
		e.commit(map[string]string{"jobs.hcl": strings.ReplaceAll(killJob, "VERSION", version)})
		// Several kills per version (completing a run costs more than
		// killing one), then the run is let finish.
		killsLeft := 3 + rng.IntN(4)
		var args []string
		for attempt := 0; ; attempt++ {
			if attempt > 40 {
				t.Fatalf("%s: apply did not settle after %d attempts", version, attempt)
			}
			var code int
			var killed bool
			var out string
			if kills < wantKills && killsLeft > 0 {
				delay := time.Duration(rng.Int64N(int64(maxDelay)))
				code, killed, out = e.applyKilled(delay, args...)
				killsLeft--
				if killed {
					kills++
					points = append(points, fmt.Sprintf("%s after %s: %d counters", version, delay.Round(time.Millisecond), len(e.touched("count-"+version))))
					args = nil
					continue
				}
			} else {
				code, _, out = e.applyKilled(time.Minute, args...)
			}
			switch code {
			case 0:
			case 3: // an interrupted non-idempotent step: the operator checks and approves
				args = []string{"--approve", "--reason", "checked after a kill"}
				approvals++
				continue
			default:
				t.Fatalf("%s: ripple apply %v exit %d\n%s", version, args, code, out)
			}
			break
		}
	}
	t.Logf("%d kills over %d versions, %d operator approvals: %s", kills, versions, approvals, strings.Join(points, "; "))
	if kills < 20 {
		t.Fatalf("only %d kills in the time budget", kills)
	}

	// No non-idempotent step ran twice on any host.
	for v := 1; v <= versions; v++ {
		for i, h := range fleet.Hosts {
			b, err := os.ReadFile(filepath.Join(e.dir(i), fmt.Sprintf("count-v%d", v)))
			if errors.Is(err, os.ErrNotExist) {
				continue // interrupted before it ran; the operator counted it done
			}
			if err != nil {
				t.Fatal(err)
			}
			if n := strings.TrimSpace(string(b)); n != "1" {
				t.Errorf("v%d: step count ran %s times on %s", v, n, h.Name)
			}
		}
	}

	ctx := context.Background()
	store, err := sqlstore.Open(ctx, e.data)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	if err := store.IntegrityCheck(ctx); err != nil {
		t.Fatal(err)
	}
	runs, err := store.ListRuns(ctx, engine.RunFilter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(runs) != versions {
		t.Fatalf("%d runs for %d versions", len(runs), versions)
	}
	for _, run := range runs {
		if run.State != engine.RunSucceeded || run.Summary != "20/20 hosts ok in 4 waves" {
			t.Errorf("run %d: %s: %s (%s)", run.ID, run.State, run.Summary, run.Error)
		}
		st, err := store.Statuses(ctx, run.Commit)
		if err != nil || len(st) != 1 || st[0].State != "success" {
			t.Errorf("run %d statuses %+v, %v", run.ID, st, err)
		}
		rows, err := store.HostSteps(ctx, run.ID)
		if err != nil {
			t.Fatal(err)
		}
		if len(rows) != 20 {
			t.Errorf("run %d has %d journal rows, want 20", run.ID, len(rows))
		}
		for _, hs := range rows {
			if hs.Phase != engine.PhaseFinished {
				t.Errorf("run %d: %s on %s left %s", run.ID, hs.Step, hs.Host, hs.Phase)
			}
		}
	}
	last, err := store.LastApplied(ctx, "main")
	if err != nil || last != e.git("rev-parse", "HEAD") {
		t.Fatalf("last applied %q, %v", last, err)
	}
}
