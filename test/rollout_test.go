package test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/ripple-ops/ripple/engine"
	"github.com/ripple-ops/ripple/engine/apply"
	"github.com/ripple-ops/ripple/engine/source"
	"github.com/ripple-ops/ripple/engine/sqlstore"
	"github.com/ripple-ops/ripple/jobs"
	"github.com/ripple-ops/ripple/test/sshfleet"
)

// roEnv is one ops repo (a real git repository made with the git binary)
// and one data directory, over a real sshd fleet. Host vars carry a
// private directory per host and per test ("dir"), so tests sharing a fleet
// do not see each other's files.
type roEnv struct {
	t     *testing.T
	fleet *sshfleet.Fleet
	name  string
	repo  string
	data  string
}

func newRoEnv(t *testing.T, fleet *sshfleet.Fleet) *roEnv {
	t.Helper()
	e := &roEnv{t: t, fleet: fleet, name: strings.ReplaceAll(t.Name(), "/", "_"), repo: t.TempDir(), data: filepath.Join(t.TempDir(), "data")}
	for i := range fleet.Hosts {
		if err := os.MkdirAll(e.dir(i), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	e.git("init", "-q", "-b", "main")
	return e
}

// dir is host i's private directory for this test.
func (e *roEnv) dir(i int) string { return filepath.Join(e.fleet.Hosts[i].Dir, e.name) }

func (e *roEnv) git(args ...string) string {
	e.t.Helper()
	return gitIn(e.t, e.repo, args...)
}

// hostsHCL is the fleet's credential and hosts, each with vars.dir.
func (e *roEnv) hostsHCL() string {
	f := e.fleet
	var b strings.Builder
	fmt.Fprintf(&b, "credential \"default\" {\n  user             = %q\n  private_key_file = %q\n  known_hosts_file = %q\n}\n", f.User, f.KeyFile, f.KnownHostsFile)
	for i, h := range f.Hosts {
		fmt.Fprintf(&b, "\nhost %q {\n  address = %q\n  port    = %d\n  groups  = [\"fleet\"]\n  vars    = { dir = %q }\n}\n", h.Name, h.Address, h.Port, e.dir(i))
	}
	return b.String()
}

// commit writes the hosts and the given files into the repo and commits.
func (e *roEnv) commit(files map[string]string) string {
	e.t.Helper()
	files["hosts.hcl"] = e.hostsHCL()
	return commitFiles(e.t, e.repo, "change", files)
}

// apply runs the ripple binary's apply on the env and returns its output
// and exit code.
func (e *roEnv) apply(args ...string) (string, int) {
	e.t.Helper()
	cmd := exec.Command(rippleBin, append([]string{"apply", "--repo", e.repo, "--data", e.data}, args...)...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	var ee *exec.ExitError
	switch {
	case err == nil:
		return out.String(), 0
	case errors.As(err, &ee):
		return out.String(), ee.ExitCode()
	default:
		e.t.Fatalf("run ripple apply: %v", err)
		return "", -1
	}
}

func (e *roEnv) wantApply(code int, args ...string) string {
	e.t.Helper()
	out, got := e.apply(args...)
	if got != code {
		e.t.Fatalf("ripple apply %v: exit %d, want %d\n%s", args, got, code, out)
	}
	return out
}

// runs reads the runs of the data directory (the binary must have exited).
func (e *roEnv) runs() []*engine.Run {
	e.t.Helper()
	ctx := context.Background()
	s, err := sqlstore.Open(ctx, e.data)
	if err != nil {
		e.t.Fatal(err)
	}
	defer s.Close()
	runs, err := s.ListRuns(ctx, engine.RunFilter{})
	if err != nil {
		e.t.Fatal(err)
	}
	slices.Reverse(runs) // oldest first
	return runs
}

// has reports whether host i's directory holds file name.
func (e *roEnv) has(i int, name string) bool {
	_, err := os.Stat(filepath.Join(e.dir(i), name))
	return err == nil
}

func (e *roEnv) touched(name string) []string {
	var out []string
	for i, h := range e.fleet.Hosts {
		if e.has(i, name) {
			out = append(out, h.Name)
		}
	}
	return out
}

// TestRolloutOverSSH drives `ripple apply` (and the engine in-process for
// the health gate) against one 20-host sshd fleet.
func TestRolloutOverSSH(t *testing.T) {
	fleet := sshfleet.Start(t, sshfleet.Options{Hosts: 20})
	t.Run("waves in order and sizes, max_parallel", func(t *testing.T) { testWaves(t, fleet) })
	t.Run("canary fails: rollback on the canary only", func(t *testing.T) { testCanary(t, fleet) })
	t.Run("failure budget", func(t *testing.T) { testBudget(t, fleet) })
	t.Run("health gate turns critical", func(t *testing.T) { testGate(t, fleet) })
	t.Run("approve and abort", func(t *testing.T) { testApproval(t, fleet) })
}

const stampJob = `
job "stamp" {
  targets { groups = ["fleet"] }
  step "stamp" {
    run = "s=$(date +%%s%%N); sleep 0.15; echo \"$s $(date +%%s%%N)\" >> ${host.vars.dir}/stamps"
  }
  rollout {
    waves        = [1, "10%%", "50%%"]
    max_parallel = %d
  }
}
`

func testWaves(t *testing.T, fleet *sshfleet.Fleet) {
	e := newRoEnv(t, fleet)
	e.commit(map[string]string{"jobs.hcl": fmt.Sprintf(stampJob, 4)})
	out := e.wantApply(0)
	for _, want := range []string{"wave 1/4: 1 host\n", "wave 2/4: 2 hosts", "wave 3/4: 10 hosts", "wave 4/4: 7 hosts", "succeeded: 20/20 hosts ok in 4 waves"} {
		if !strings.Contains(out, want) {
			t.Fatalf("output lacks %q:\n%s", want, out)
		}
	}
	runs := e.runs()
	if len(runs) != 1 || runs[0].State != engine.RunSucceeded {
		t.Fatalf("runs %+v", runs)
	}
	var sizes []int
	type span struct{ start, end int64 }
	spans := map[string]span{}
	for _, w := range runs[0].Waves {
		sizes = append(sizes, len(w))
	}
	if fmt.Sprint(sizes) != "[1 2 10 7]" {
		t.Fatalf("wave sizes %v, want [1 2 10 7]", sizes)
	}
	for i, h := range fleet.Hosts {
		b, err := os.ReadFile(filepath.Join(e.dir(i), "stamps"))
		if err != nil {
			t.Fatalf("%s: %v", h.Name, err)
		}
		lines := strings.Split(strings.TrimSpace(string(b)), "\n")
		if len(lines) != 1 {
			t.Fatalf("%s ran the step %d times", h.Name, len(lines))
		}
		f := strings.Fields(lines[0])
		s, _ := strconv.ParseInt(f[0], 10, 64)
		en, _ := strconv.ParseInt(f[1], 10, 64)
		spans[h.Name] = span{s, en}
	}
	// Every host of wave k finished before any host of wave k+1 started.
	for k := 0; k+1 < len(runs[0].Waves); k++ {
		var lastEnd int64
		for _, h := range runs[0].Waves[k] {
			lastEnd = max(lastEnd, spans[h].end)
		}
		for _, h := range runs[0].Waves[k+1] {
			if spans[h].start < lastEnd {
				t.Fatalf("%s (wave %d) started before wave %d ended", h, k+2, k+1)
			}
		}
	}
	// max_parallel = 4: never more than 4 steps at once.
	type edge struct {
		at    int64
		delta int
	}
	var edges []edge
	for _, s := range spans {
		edges = append(edges, edge{s.start, 1}, edge{s.end, -1})
	}
	sort.Slice(edges, func(a, b int) bool {
		if edges[a].at != edges[b].at {
			return edges[a].at < edges[b].at
		}
		return edges[a].delta < edges[b].delta
	})
	cur, peak := 0, 0
	for _, ed := range edges {
		cur += ed.delta
		peak = max(peak, cur)
	}
	if peak > 4 || peak < 2 {
		t.Fatalf("%d steps ran at once, max_parallel 4", peak)
	}
	ctx := context.Background()
	s, err := sqlstore.Open(ctx, e.data)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	st, err := s.Statuses(ctx, runs[0].Commit)
	if err != nil || len(st) != 1 || st[0].Context != "ripple/job/stamp" || st[0].State != "success" {
		t.Fatalf("statuses %+v, %v", st, err)
	}
}

const canaryJob = `
job "canary" {
  targets { groups = ["fleet"] }
  step "write" { run = "echo v1 > ${host.vars.dir}/touched" }
  step "check" { run = "echo 'config test failed' >&2; exit 1" }
  rollout {
    waves        = [1, "100%"]
    max_parallel = 10
  }
  rollback {
    step "undo" { run = "echo undone > ${host.vars.dir}/undone" }
  }
}
`

func testCanary(t *testing.T, fleet *sshfleet.Fleet) {
	e := newRoEnv(t, fleet)
	e.commit(map[string]string{"jobs.hcl": canaryJob})
	out := e.wantApply(1)
	canary := fleet.Hosts[0].Name
	if !strings.Contains(out, "FAILED "+canary+": step check failed") || !strings.Contains(out, "wave 1/2 failed") {
		t.Fatalf("output:\n%s", out)
	}
	if got := e.touched("touched"); fmt.Sprint(got) != "["+canary+"]" {
		t.Fatalf("hosts touched: %v", got)
	}
	if got := e.touched("undone"); fmt.Sprint(got) != "["+canary+"]" {
		t.Fatalf("hosts rolled back: %v", got)
	}
	if runs := e.runs(); runs[0].State != engine.RunFailed || !strings.Contains(runs[0].Error, "rolled back 1 host (") {
		t.Fatalf("run %+v", runs[0])
	}
}

const budgetJob = `
job "budget" {
  targets { groups = ["fleet"] }
  step "work" { run = "test ! -e ${host.vars.dir}/broken && echo %s > ${host.vars.dir}/ran-%s" }
  rollout {
    waves        = [2, 8, 10]
    max_failures = 1
    max_parallel = 8
    on_failure   = "halt"
  }
}
`

func testBudget(t *testing.T, fleet *sshfleet.Fleet) {
	e := newRoEnv(t, fleet)
	// Within budget: one broken host in wave 2 (hosts 3-10) fails; the
	// rollout goes on to wave 3.
	roWrite(t, filepath.Join(e.dir(4), "broken"))
	e.commit(map[string]string{"jobs.hcl": fmt.Sprintf(budgetJob, "v1", "v1")})
	out := e.wantApply(0)
	if !strings.Contains(out, "FAILED "+fleet.Hosts[4].Name) || len(e.touched("ran-v1")) != 19 {
		t.Fatalf("within budget: %d hosts ran\n%s", len(e.touched("ran-v1")), out)
	}
	// Over budget: a broken host and an unreachable one in wave 2.
	fleet.StopHost(7)
	defer fleet.StartHost(7)
	e.commit(map[string]string{"jobs.hcl": fmt.Sprintf(budgetJob, "v2", "v2")})
	out = e.wantApply(1)
	if !strings.Contains(out, "2/8 hosts failed (max_failures 1)") || !strings.Contains(out, "FAILED "+fleet.Hosts[7].Name+": step work unreachable") {
		t.Fatalf("over budget:\n%s", out)
	}
	for i := 10; i < 20; i++ {
		if e.has(i, "ran-v2") {
			t.Fatalf("%s in wave 3 ran after wave 2 exceeded its budget", fleet.Hosts[i].Name)
		}
	}
	if got := len(e.touched("ran-v2")); got != 8 {
		t.Fatalf("%d hosts ran v2, want 8 (waves 1 and 2 minus two failures)", got)
	}
}

const gateJob = `
monitor "svc" {
  targets { groups = ["fleet"] }
  interval = "10s"
  timeout  = "1s"
  check "tcp" {
    address = "127.0.0.1"
    port    = %d
  }
}

job "gated" {
  targets { groups = ["fleet"] }
  step "deploy" { run = "echo v1 > ${host.vars.dir}/deployed" }
  rollout {
    waves        = [2, "100%%"]
    max_parallel = 10
    health_gate {
      monitors         = ["svc"]
      min_healthy_time = "1s"
      healthy_deadline = "3s"
    }
  }
  rollback {
    step "undo" { run = "rm ${host.vars.dir}/deployed && echo undone > ${host.vars.dir}/undone" }
  }
}
`

// testGate runs the engine in-process: the service the gate checks is a
// listener the test closes as soon as wave 1's hosts are done.
func testGate(t *testing.T, fleet *sshfleet.Fleet) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var closeOnce sync.Once
	var closedAt time.Time
	stop := func() { closeOnce.Do(func() { closedAt = time.Now(); ln.Close() }) }
	defer stop()
	go func() { // accept and drop, until closed
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	e := newRoEnv(t, fleet)
	e.commit(map[string]string{"jobs.hcl": fmt.Sprintf(gateJob, ln.Addr().(*net.TCPAddr).Port)})

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	repo, err := source.Open(e.repo)
	if err != nil {
		t.Fatal(err)
	}
	store, err := sqlstore.Open(ctx, e.data)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	transport := jobs.NewTransport(newSSH(t, jobs.SSHOptions{}), nil)
	checker := jobs.NewChecker(jobs.CheckerOptions{Commander: transport})
	defer checker.Close()
	var mu sync.Mutex
	var done int
	progress := engine.ProgressFunc(func(ev engine.ProgressEvent) {
		mu.Lock()
		defer mu.Unlock()
		if ev.Kind == engine.ProgressHost && ev.Wave == 1 {
			if done++; done == ev.WaveHosts {
				stop() // the change broke the service
			}
		}
	})
	res, err := apply.Run(ctx, apply.Options{
		Repo: repo, Store: store, Executor: transport, Checker: checker, Progress: progress,
		Logger: zerolog.New(zerolog.NewTestWriter(t)).Level(zerolog.WarnLevel), Key: "main", Actor: "test",
	})
	if err != nil {
		t.Fatal(err)
	}
	finished := time.Now()
	if len(res.Runs) != 1 {
		t.Fatalf("runs %+v", res.Runs)
	}
	run := res.Runs[0]
	if run.State != engine.RunFailed || !strings.Contains(run.Error, "health gate") || !strings.Contains(run.Error, "svc@") {
		t.Fatalf("run %s: %s", run.State, run.Error)
	}
	// healthy_deadline is 3s; allow for the rollback and slow machines.
	if took := finished.Sub(closedAt); took > 3*time.Second+5*time.Second {
		t.Fatalf("gate failed %s after the service went down (healthy_deadline 3s)", took)
	}
	wave1 := run.Waves[0]
	var undone []string
	for i, h := range fleet.Hosts {
		switch {
		case slices.Contains(wave1, h.Name):
			if !e.has(i, "undone") || e.has(i, "deployed") {
				t.Errorf("%s (wave 1) not rolled back", h.Name)
			}
			undone = append(undone, h.Name)
		case e.has(i, "deployed") || e.has(i, "undone"):
			t.Errorf("%s (wave 2) was touched", h.Name)
		}
	}
	if len(undone) != 2 {
		t.Fatalf("rolled back %v", undone)
	}
}

const approveJob = `
job "approved" {
  targets { groups = ["fleet"] }
  step "deploy" { run = "echo %s > ${host.vars.dir}/deployed-%s" }
  rollout {
    waves         = [1, "100%%"]
    max_parallel  = 10
    approve_after = 1
  }
  rollback {
    step "undo" { run = "echo undone > ${host.vars.dir}/undone-%s" }
  }
}
`

func testApproval(t *testing.T, fleet *sshfleet.Fleet) {
	e := newRoEnv(t, fleet)
	e.commit(map[string]string{"jobs.hcl": fmt.Sprintf(approveJob, "v1", "v1", "v1")})
	out := e.wantApply(3)
	if !strings.Contains(out, "waiting for approval after wave 1/2") || len(e.touched("deployed-v1")) != 1 {
		t.Fatalf("first apply:\n%s", out)
	}
	// A plain re-run keeps waiting and touches nothing more.
	e.wantApply(3)
	if n := len(e.touched("deployed-v1")); n != 1 {
		t.Fatalf("%d hosts deployed while waiting", n)
	}
	out = e.wantApply(0, "--approve", "--reason", "canary is fine")
	if n := len(e.touched("deployed-v1")); n != 20 {
		t.Fatalf("%d hosts deployed after approval\n%s", n, out)
	}

	// Abort rolls the canary back and touches nothing else.
	e.commit(map[string]string{"jobs.hcl": fmt.Sprintf(approveJob, "v2", "v2", "v2")})
	e.wantApply(3)
	out = e.wantApply(1, "--abort", "--reason", "canary looks wrong")
	if got := e.touched("undone-v2"); fmt.Sprint(got) != "["+fleet.Hosts[0].Name+"]" || len(e.touched("deployed-v2")) != 1 {
		t.Fatalf("abort: rolled back %v\n%s", got, out)
	}
	runs := e.runs()
	last := runs[len(runs)-1]
	if last.State != engine.RunAborted || !strings.Contains(last.Error, "canary looks wrong") {
		t.Fatalf("run %+v", last)
	}
}

func roWrite(t *testing.T, path string) {
	t.Helper()
	if err := os.WriteFile(path, []byte("x\n"), 0o644); err != nil {
		t.Fatal(err)
	}
}
