package test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ripple-ops/ripple/engine"
	"github.com/ripple-ops/ripple/engine/convergence"
)

// The convergence e2e tests drive `ripple serve` over a real sshd fleet
// and the GitHub fake: the health gate counts every host, a run that
// fails on some hosts leaves exactly those out of sync and later commits
// remember them, `ripple sync` runs them only, drift is found with a diff
// and self-heal puts it back, and all of it survives kill -9.

// cvEnv is a dmEnv whose hosts each have their own directory (vars.dir),
// standing for their file systems: the fleet shares this machine's.
type cvEnv struct {
	*dmEnv
	name string
}

func newCvEnv(t *testing.T, hosts int) *cvEnv {
	e := &cvEnv{dmEnv: newDmEnv(t, hosts), name: strings.ReplaceAll(t.Name(), "/", "_")}
	for i := range e.fleet.Hosts {
		if err := os.MkdirAll(e.hostDir(i), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return e
}

func (e *cvEnv) hostDir(i int) string { return filepath.Join(e.fleet.Hosts[i].Dir, e.name) }

func (e *cvEnv) hostsHCL() string {
	f := e.fleet
	var b strings.Builder
	fmt.Fprintf(&b, "credential \"default\" {\n  user             = %q\n  private_key_file = %q\n  known_hosts_file = %q\n}\n", f.User, f.KeyFile, f.KnownHostsFile)
	for i, h := range f.Hosts {
		fmt.Fprintf(&b, "\nhost %q {\n  address = %q\n  port    = %d\n  groups  = [\"fleet\"]\n  vars    = { dir = %q }\n}\n", h.Name, h.Address, h.Port, e.hostDir(i))
	}
	return b.String()
}

// merge commits files on main and announces the push; it returns the sha.
func (e *cvEnv) merge(before string, files map[string]string) string {
	e.t.Helper()
	sha := e.commit("change", files)
	if code := e.webhook("push", "push-"+sha[:12], pushPayload(e.t, before, sha)); code != http.StatusAccepted {
		e.t.Fatalf("push answered %d", code)
	}
	return sha
}

// syncState is GET /api/v1/sync for job: host -> state.
func (e *cvEnv) syncState(job string) map[string]convergence.HostSyncState {
	e.t.Helper()
	var states []convergence.JobSync
	e.waitFor("GET /api/v1/sync?job="+job, 10*time.Second, func() bool {
		req, _ := http.NewRequest("GET", "http://"+e.addr+"/api/v1/sync?job="+job, nil)
		req.Header.Set("Authorization", "Bearer "+dmOperator)
		resp, err := e.client.Do(req)
		if err != nil {
			e.t.Fatal(err)
		}
		defer resp.Body.Close()
		// A daemon that just started answers 409 until its base commit is
		// loaded.
		return resp.StatusCode == http.StatusOK && json.NewDecoder(resp.Body).Decode(&states) == nil
	})
	if len(states) != 1 {
		e.t.Fatalf("GET /api/v1/sync?job=%s: %d jobs", job, len(states))
	}
	out := map[string]convergence.HostSyncState{}
	for _, h := range states[0].Hosts {
		out[h.Host] = h
	}
	return out
}

// notSynced lists the hosts of job not synced, sorted.
func (e *cvEnv) notSynced(job string) []string {
	var out []string
	for h, st := range e.syncState(job) {
		if st.State != engine.SyncSynced {
			out = append(out, h)
		}
	}
	slices.Sort(out)
	return out
}

// cli runs the ripple binary's operator commands against the daemon.
func (e *cvEnv) cli(args ...string) (string, int) {
	e.t.Helper()
	cmd := exec.Command(rippleBin, args...)
	cmd.Env = append(os.Environ(), "RIPPLE_SERVER=http://"+e.addr, "RIPPLE_TOKEN="+dmOperator)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	var ee *exec.ExitError
	switch {
	case err == nil:
		return out.String(), 0
	case errors.As(err, &ee):
		return out.String(), ee.ExitCode()
	}
	e.t.Fatalf("ripple %v: %v", args, err)
	return "", -1
}

func (e *cvEnv) readHost(i int, name string) string {
	b, _ := os.ReadFile(filepath.Join(e.hostDir(i), name))
	return string(b)
}

func (e *cvEnv) writeHost(i int, name, body string) {
	e.t.Helper()
	if err := os.WriteFile(filepath.Join(e.hostDir(i), name), []byte(body), 0o644); err != nil {
		e.t.Fatal(err)
	}
}

// appJob writes app.conf (a template with version v) to each host's
// directory, then runs verify, which fails on a host holding a "broken"
// file; its gate is monitor app-up, which fails while app.conf is missing.
func appJob(v string, extra string) map[string]string {
	return map[string]string{
		"app.conf.tmpl": "version = " + v + "\nhost = ${host.name}\n",
		"app.hcl": `monitor "app-up" {
  targets { groups = ["fleet"] }
  interval = "1s"
  check "command" { run = "test -f ${host.vars.dir}/app.conf" }
}
job "app" {
  targets { groups = ["fleet"] }
  ` + extra + `
  step "config" {
    idempotent = true
    file {
      source      = "app.conf.tmpl"
      destination = "${host.vars.dir}/app.conf"
    }
  }
  step "verify" {
    run        = "test ! -f ${host.vars.dir}/broken"
    check      = "test ! -f ${host.vars.dir}/broken"
    idempotent = true
  }
  rollout {
    waves        = [1, "100%"]
    max_failures = 2
    health_gate {
      monitors         = ["app-up"]
      min_healthy_time = "2s"
      healthy_deadline = "30s"
    }
  }
}
`}
}

func TestConvergence(t *testing.T) {
	e := newCvEnv(t, 12)
	files := appJob("1", "")
	files["hosts.hcl"] = e.hostsHCL()
	first := e.commit("inventory and app", files)
	e.start()

	// A first deploy whose absence makes every gate check fail: the gate
	// counts those hosts, waits, and passes once the deploy fixed them.
	e.waitStatus(first, "ripple/job/app", "success")
	runs := e.runs("job=app")
	if len(runs) != 1 {
		t.Fatalf("runs %+v", runs)
	}
	detail := e.runDetail(runs[0].ID)
	if !strings.Contains(detail, "12 gate checks already failing before the first wave (they count)") {
		t.Errorf("the run does not name the hosts failing its gate before it started:\n%s", detail)
	}
	if got := e.notSynced("app"); len(got) != 0 {
		t.Fatalf("not synced after the first deploy: %v", got)
	}
	e.waitSyncStatus(first, "success", "in sync: 12/12 hosts")

	// Version 2 fails on two hosts of wave 2: within max_failures, the run
	// succeeds and exactly those two stay out of sync.
	e.writeHost(4, "broken", "disk full\n")
	e.writeHost(8, "broken", "disk full\n")
	second := e.merge(first, appJob("2", ""))
	e.waitStatus(second, "ripple/job/app", "success")
	bad := []string{e.fleet.Hosts[4].Name, e.fleet.Hosts[8].Name}
	if got := e.notSynced("app"); !slices.Equal(got, bad) {
		t.Fatalf("not synced after a run failing on 2 hosts: %v, want %v", got, bad)
	}
	for _, h := range bad {
		if s := e.syncState("app")[h]; s.Reason != engine.ReasonFailed || s.ReasonCommit != second || !strings.Contains(s.Detail, "step verify failed") {
			t.Errorf("%s: %+v", h, s)
		}
	}
	e.waitSyncStatus(second, "failure", "2 of 12 hosts out of sync (app: "+bad[0]+" failed at "+second[:7])

	// A pull request that leaves the job alone: its comment says the two
	// hosts are still out of sync; merged, they stay so.
	e.git("checkout", "-q", "-b", "feature")
	pr := e.commit("pr: a monitor", map[string]string{"disk.hcl": "monitor \"disk\" {\n  targets { groups = [\"fleet\"] }\n  interval = \"1m\"\n  check \"command\" { run = \"true\" }\n}\n"})
	e.git("update-ref", "refs/pull/7/head", pr)
	if code := e.webhook("pull_request", "pr-7", prPayload(t, "opened", 7, pr)); code != http.StatusAccepted {
		t.Fatalf("pull_request answered %d", code)
	}
	e.waitFor("plan comment", 30*time.Second, func() bool { return len(e.fake.Comments(7)) == 1 })
	body := e.fake.Comments(7)[0].Body
	if !strings.Contains(body, "Still out of sync: 2 hosts") || !strings.Contains(body, bad[0]) || !strings.Contains(body, "failed at "+second[:12]) {
		t.Errorf("the plan comment does not list the hosts still out of sync:\n%s", body)
	}
	e.git("checkout", "-q", "main")
	e.git("merge", "-q", "--ff-only", "feature")
	if code := e.webhook("push", "push-pr-7", pushPayload(t, second, pr)); code != http.StatusAccepted {
		t.Fatalf("push answered %d", code)
	}
	e.waitStatus(pr, "ripple/validate", "success")
	e.waitSyncStatus(pr, "failure", "2 of 12 hosts out of sync")
	if got := e.notSynced("app"); !slices.Equal(got, bad) {
		t.Fatalf("not synced after an unrelated commit: %v, want %v", got, bad)
	}

	// The cause is fixed outside Git: ripple sync runs app on those two only.
	for _, i := range []int{4, 8} {
		if err := os.Remove(filepath.Join(e.hostDir(i), "broken")); err != nil {
			t.Fatal(err)
		}
	}
	out, code := e.cli("sync", "app", "--reason", "disks replaced", "--wait")
	if code != 0 || !strings.Contains(out, "syncs 2 hosts") {
		t.Fatalf("ripple sync: exit %d\n%s", code, out)
	}
	syncRuns := e.runs("job=app&limit=1")
	if syncRuns[0].Trigger != engine.TriggerSync || engine.CountHosts(syncRuns[0].Waves) != 2 {
		t.Errorf("sync run %+v", syncRuns[0])
	}
	if got := e.notSynced("app"); len(got) != 0 {
		t.Fatalf("not synced after ripple sync: %v", got)
	}
	e.waitSyncStatus(pr, "success", "in sync: 12/12 hosts")

	// Hand edits on three hosts: the next drift check finds them, with a
	// diff; a failing step check is drift too, and runs no step.
	for _, i := range []int{1, 5, 10} {
		e.writeHost(i, "app.conf", "version = 2\nhost = edited by hand\n")
	}
	e.writeHost(3, "broken", "again\n")
	out, code = e.cli("drift", "app")
	if code != 1 {
		t.Fatalf("ripple drift: exit %d, want 1 (drifted)\n%s", code, out)
	}
	for _, want := range []string{"app: 8 clean, 4 drifted, 0 unknown", "-host = edited by hand", "+host = " + e.fleet.Hosts[1].Name, "check `test ! -f"} {
		if !strings.Contains(out, want) {
			t.Errorf("ripple drift output lacks %q:\n%s", want, out)
		}
	}
	if e.readHost(3, "broken") != "again\n" {
		t.Error("the drift check changed a host")
	}
	drifted := []string{e.fleet.Hosts[1].Name, e.fleet.Hosts[3].Name, e.fleet.Hosts[5].Name, e.fleet.Hosts[10].Name}
	if got := e.notSynced("app"); !slices.Equal(got, drifted) {
		t.Fatalf("not synced after the drift check: %v, want %v", got, drifted)
	}
	if err := os.Remove(filepath.Join(e.hostDir(3), "broken")); err != nil {
		t.Fatal(err)
	}

	// self_heal puts the files back through waves, by itself.
	healed := e.merge(pr, appJob("2", "drift_check = \"1m\"\n  self_heal   = true"))
	e.waitFor("self-heal", 90*time.Second, func() bool {
		r := e.runs("job=app&limit=1")
		return len(r) == 1 && r[0].Trigger == engine.TriggerSelfHeal && r[0].State == "succeeded"
	})
	heal := e.runs("job=app&limit=1")[0]
	if heal.Actor != engine.ActorRipple || engine.CountHosts(heal.Waves) != 3 || len(heal.Waves) != 2 {
		t.Errorf("self-heal run %+v", heal)
	}
	for _, i := range []int{1, 5, 10} {
		if got := e.readHost(i, "app.conf"); !strings.Contains(got, "host = "+e.fleet.Hosts[i].Name) {
			t.Errorf("%s: app.conf after self-heal = %q", e.fleet.Hosts[i].Name, got)
		}
	}
	e.waitFor("all synced", 30*time.Second, func() bool { return len(e.notSynced("app")) == 0 })
	e.waitSyncStatus(healed, "success", "in sync: 12/12 hosts")

	// Sync state survives kill -9 in the middle of a run, and a restart.
	e.writeHost(6, "broken", "late\n")
	third := e.merge(healed, appJob("3", "drift_check = \"1h\"\n  self_heal   = true"))
	e.waitFor("wave 2 running", 60*time.Second, func() bool {
		r := e.runs("job=app&limit=1")
		return len(r) == 1 && r[0].Commit == third && r[0].CurrentWave >= 1
	})
	e.kill()
	e.start()
	e.waitStatus(third, "ripple/job/app", "success")
	if got := e.notSynced("app"); !slices.Equal(got, []string{e.fleet.Hosts[6].Name}) {
		t.Fatalf("not synced after kill -9 and resume: %v", got)
	}
	e.stop()
	e.start()
	if got := e.notSynced("app"); !slices.Equal(got, []string{e.fleet.Hosts[6].Name}) {
		t.Fatalf("not synced after a restart: %v", got)
	}
	if s := e.syncState("app")[e.fleet.Hosts[6].Name]; s.Reason != engine.ReasonFailed || s.ReasonCommit != third {
		t.Errorf("%s after a restart: %+v", e.fleet.Hosts[6].Name, s)
	}
}

// runDetail is `ripple show RUN` as the CLI prints it.
func (e *cvEnv) runDetail(id int64) string {
	e.t.Helper()
	out, _ := e.cli("show", fmt.Sprint(id))
	return out
}

// waitSyncStatus waits until ripple/sync on sha is state with a
// description starting with prefix: it changes as runs end.
func (e *cvEnv) waitSyncStatus(sha, state, prefix string) {
	e.t.Helper()
	e.waitFor(fmt.Sprintf("ripple/sync %s %q on %.12s", state, prefix, sha), 40*time.Second, func() bool {
		st, ok := e.fake.LatestStatus(sha, "ripple/sync")
		return ok && st.State == state && strings.HasPrefix(st.Description, prefix)
	})
}
