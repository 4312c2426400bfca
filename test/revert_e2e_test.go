package test

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ripple-ops/ripple/engine/httpapi"
)

// The revert e2e tests: a merge whose new job version fails on the first
// host; `ripple revert` (the built binary) proposes undoing it as a branch
// of the ops repo (and, with GitHub, a pull request linking the failed
// run); merging that branch rolls the fleet back through the normal path.

// revertHostsHCL is the fleet with vars.dir, each host's own directory.
func revertHostsHCL(e *dmEnv) string {
	f := e.fleet
	var b strings.Builder
	fmt.Fprintf(&b, "credential \"default\" {\n  user             = %q\n  private_key_file = %q\n  known_hosts_file = %q\n}\n", f.User, f.KeyFile, f.KnownHostsFile)
	for _, h := range f.Hosts {
		fmt.Fprintf(&b, "\nhost %q {\n  address = %q\n  port    = %d\n  groups  = [\"fleet\"]\n  vars    = { dir = %q }\n}\n", h.Name, h.Address, h.Port, h.Dir)
	}
	return b.String()
}

// revertAppJob writes version into each host's directory, counts its runs there,
// and fails after writing when fail is set (the bad version).
func revertAppJob(version string, fail bool) string {
	run := fmt.Sprintf("echo %s > ${host.vars.dir}/version; echo %s >> ${host.vars.dir}/runs", version, version)
	if fail {
		run += "; echo " + version + " cannot start >&2; exit 3"
	}
	return dmJob("app", run, "")
}

// hostFile is a fleet host's file, trimmed; "" when absent.
func hostFile(e *dmEnv, i int, name string) string {
	b, _ := os.ReadFile(filepath.Join(e.fleet.Hosts[i].Dir, name))
	return strings.TrimSpace(string(b))
}

// badMerge rolls out app v1, then merges v2, whose run fails on the first
// host; it returns v1's and v2's commits and the failed run.
func badMerge(t *testing.T, e *dmEnv, trigger func(before, after string)) (good, bad string, failed httpapi.Run) {
	t.Helper()
	good = e.commit("inventory and app v1", map[string]string{"hosts.hcl": revertHostsHCL(e), "jobs/app.hcl": revertAppJob("v1", false)})
	e.start()
	e.waitFor("app v1 everywhere", 40*time.Second, func() bool {
		r := e.runs("job=app")
		return len(r) == 1 && r[0].State == "succeeded"
	})
	bad = e.commit("app v2\n\nthe new version", map[string]string{"jobs/app.hcl": revertAppJob("v2", true)})
	trigger(good, bad)
	e.waitFor("app v2 to fail", 40*time.Second, func() bool {
		r := e.runs("job=app&state=failed")
		return len(r) == 1 && r[0].Commit == bad
	})
	failed = e.runs("job=app&state=failed")[0]
	if got := hostFile(e, 0, "version"); got != "v2" {
		t.Fatalf("the first host has version %q after the bad merge, want v2", got)
	}
	return good, bad, failed
}

// revertCLI runs `ripple revert` against the daemon as the operator.
func (e *dmEnv) revertCLI(args ...string) (stdout, stderr string, err error) {
	e.t.Helper()
	cmd := exec.Command(rippleBin, append([]string{"revert", "--server", "http://" + e.addr}, args...)...)
	cmd.Env = append(os.Environ(), "RIPPLE_TOKEN="+dmOperator, "RIPPLE_TOKEN_FILE=")
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err = cmd.Run()
	return out.String(), errb.String(), err
}

// branchIn reports whether the ops repo has branch (run from the fake's
// handler: it must not fail the test).
func branchIn(repo, branch string) bool {
	cmd := exec.Command("git", "rev-parse", "--verify", "--quiet", "refs/heads/"+branch)
	cmd.Dir = repo
	cmd.Env = append(os.Environ(), "GIT_CONFIG_NOSYSTEM=1", "GIT_CONFIG_GLOBAL="+os.DevNull)
	return cmd.Run() == nil
}

// checkRevertBranch checks that branch holds bad's inverse on top of main:
// app.hcl as before bad, everything else as on main.
func checkRevertBranch(t *testing.T, e *dmEnv, branch, good, bad string) {
	t.Helper()
	if got := e.git("rev-parse", branch+"^"); got != bad {
		t.Errorf("the revert commit's parent is %s, want main's head %s", got, bad)
	}
	if d := e.git("diff", "--name-only", good, branch); d != "" {
		t.Errorf("the revert branch differs from the commit before the bad one:\n%s", d)
	}
	if d := e.git("diff", "--name-only", bad, branch); d != "jobs/app.hcl" {
		t.Errorf("the revert changes %q, want jobs/app.hcl", d)
	}
	msg := e.git("log", "-1", "--format=%an <%ae>%n%B", branch)
	for _, want := range []string{"ripple <ripple@localhost>", `Revert "app v2"`, "This reverts commit " + bad + ".", "Requested by e2e through ripple."} {
		if !strings.Contains(msg, want) {
			t.Errorf("the revert commit lacks %q:\n%s", want, msg)
		}
	}
}

// mergeRevert merges branch into main as a reviewer would, and returns the
// merge commit.
func mergeRevert(e *dmEnv, branch string) string {
	e.t.Helper()
	e.git("merge", "-q", "--no-ff", "-m", "Merge "+branch, branch)
	return e.git("rev-parse", "HEAD")
}

// checkRolledBack waits for the merge's run of app to succeed and checks
// that every host is back at v1, the first one by running v1 again.
func checkRolledBack(t *testing.T, e *dmEnv, merged string) {
	t.Helper()
	e.waitFor("the revert's run to succeed", 40*time.Second, func() bool {
		r := e.runs("job=app&commit=" + merged)
		return len(r) == 1 && r[0].State == "succeeded"
	})
	for i, h := range e.fleet.Hosts {
		if got := hostFile(e, i, "version"); got != "v1" {
			t.Errorf("%s has version %q after the revert, want v1", h.Name, got)
		}
	}
	if runs := hostFile(e, 0, "runs"); !strings.HasSuffix(runs, "v2\nv1") {
		t.Errorf("the first host's runs: %q, want v1 run again after v2", runs)
	}
}

func (e *dmEnv) getBody(path string) string {
	e.t.Helper()
	req, _ := http.NewRequest("GET", "http://"+e.addr+path, nil)
	req.Header.Set("Authorization", "Bearer "+dmOperator)
	resp, err := e.client.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

// TestRevertPullRequestRollsTheFleetBack: with GitHub, the revert is a
// pull request that links the failed run; the branch is in the repository
// with the inverse change; merging it (and the push webhook) rolls the
// fleet back through the normal path.
func TestRevertPullRequestRollsTheFleetBack(t *testing.T) {
	e := newDmEnv(t, 3)
	e.fake.CheckBranches(func(repo, branch string) bool { return repo == dmGitHubRepo && branchIn(e.repo, branch) })
	delivery := 0
	push := func(before, after string) {
		delivery++
		if code := e.webhook("push", "revert-"+strconv.Itoa(delivery), pushPayload(t, before, after)); code != http.StatusAccepted {
			t.Fatalf("push answered %d", code)
		}
	}
	good, bad, failed := badMerge(t, e, push)
	e.waitStatus(bad, "ripple/job/app", "failure")

	out, errOut, err := e.revertCLI(bad[:10], "--reason", "v2 cannot start", "--run", strconv.FormatInt(failed.ID, 10))
	if err != nil {
		t.Fatalf("ripple revert: %v\n%s%s", err, out, errOut)
	}
	prs := e.fake.PullRequests()
	if len(prs) != 1 {
		t.Fatalf("pull requests on the fake: %+v\nripple revert said:\n%s", prs, out)
	}
	pr := prs[0]
	branch := "ripple/revert-" + bad[:12]
	runURL := fmt.Sprintf("http://%s/runs/%d", e.addr, failed.ID)
	if pr.Repo != dmGitHubRepo || pr.Head != branch || pr.Base != "main" || pr.Title != "Revert "+bad[:12]+": app v2" {
		t.Errorf("pull request = %+v", pr)
	}
	for _, want := range []string{runURL, "**e2e**", "> v2 cannot start", "`jobs/app.hcl`"} {
		if !strings.Contains(pr.Body, want) {
			t.Errorf("the pull request's body lacks %q:\n%s", want, pr.Body)
		}
	}
	if strings.Contains(pr.Body, "gh-token") {
		t.Error("the pull request's body shows the GitHub token")
	}
	for _, want := range []string{"is on branch " + branch, "pull request: " + pr.HTMLURL} {
		if !strings.Contains(out, want) {
			t.Errorf("ripple revert's output lacks %q:\n%s", want, out)
		}
	}
	checkRevertBranch(t, e, branch, good, bad)
	if got := e.git("rev-parse", "main"); got != bad {
		t.Fatalf("the revert moved main to %s", got)
	}
	if body := e.getBody(fmt.Sprintf("/api/v1/runs/%d", failed.ID)); !strings.Contains(body, `"action": "revert"`) || !strings.Contains(body, pr.HTMLURL) {
		t.Errorf("the failed run's audit does not record the revert:\n%s", body)
	}

	// Asked again: the branch exists.
	if out, errOut, err := e.revertCLI(bad, "--reason", "again"); err == nil || !strings.Contains(errOut, "already exists") || strings.Contains(errOut, "conflict") {
		t.Errorf("second revert: %v\n%s%s", err, out, errOut)
	}
	if n := len(e.fake.PullRequests()); n != 1 {
		t.Errorf("%d pull requests after a refused revert", n)
	}
	// Nothing ran because of the revert alone.
	if n := len(e.runs("job=app&limit=100")); n != 2 {
		t.Errorf("runs = %d before the merge, want 2", n)
	}

	merged := mergeRevert(e, branch)
	push(bad, merged)
	checkRolledBack(t, e, merged)
	e.waitStatus(merged, "ripple/job/app", "success")
}

// TestRevertLocalRepoWithoutGitHub: without GitHub the revert is only a
// branch in the local repository, which the operator merges.
func TestRevertLocalRepoWithoutGitHub(t *testing.T) {
	e := newDmEnv(t, 2)
	e.noGitHub = true
	reconcile := func(_, _ string) {
		if code := e.post("/api/v1/reconcile", ""); code != http.StatusAccepted {
			t.Fatalf("reconcile answered %d", code)
		}
	}
	good, bad, failed := badMerge(t, e, reconcile)

	out, errOut, err := e.revertCLI(bad, "--reason", "v2 cannot start", "--run", strconv.FormatInt(failed.ID, 10))
	if err != nil {
		t.Fatalf("ripple revert: %v\n%s%s", err, out, errOut)
	}
	branch := "ripple/revert-" + bad[:12]
	if !strings.Contains(out, "the branch is in "+e.repo+": merge it into main") || strings.Contains(out, "pull request") {
		t.Errorf("ripple revert said:\n%s", out)
	}
	checkRevertBranch(t, e, branch, good, bad)
	if n := len(e.fake.Requests()); n != 0 {
		t.Errorf("GitHub heard %d requests from a daemon without GitHub", n)
	}

	merged := mergeRevert(e, branch)
	reconcile(bad, merged)
	checkRolledBack(t, e, merged)
}
