package test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ripple-ops/ripple/engine/httpapi"
	"github.com/ripple-ops/ripple/test/githubfake"
	"github.com/ripple-ops/ripple/webhooks"
)

// The e2e daemon tests run `ripple serve` (built by TestMain) as a
// subprocess against a real git repository the test commits to, a real
// sshd fleet and the GitHub fake. Polling is off: every reconcile after the
// first is triggered by a signed webhook, built from the fixture payloads.

const (
	dmGitHubRepo = "Codertocat/Hello-World" // the fixtures' repository
	dmOperator   = "e2e-operator-token-0123456789"
	dmSecret     = "e2e-webhook-secret"
)

type dmEnv struct {
	serveEnv
	fake *githubfake.Server
	logs int
	// noGitHub starts the daemon without GitHub reporting and without the
	// webhook endpoint (the fake is still there, and hears nothing).
	noGitHub bool
	args     []string // more `ripple serve` flags
	// name tells the logs of several daemons in one dir apart (cluster
	// nodes); "" for the one daemon of most tests.
	name string
}

func newDmEnv(t *testing.T, hosts int) *dmEnv {
	t.Helper()
	e := &dmEnv{serveEnv: newServeEnv(t, hosts)}
	e.fake = githubfake.New(t)
	e.fake.RequireToken("gh-token")
	for name, body := range map[string]string{"gh-token": "gh-token\n", "secret": dmSecret + "\n", "tokens": dmOperator + " operator e2e\n"} {
		if err := os.WriteFile(filepath.Join(e.dir, name), []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	t.Cleanup(e.stop)
	return e
}

// start runs `ripple serve` and waits until /readyz answers 200. The port
// is picked once, so a restart listens where the first daemon did.
func (e *dmEnv) start() {
	e.t.Helper()
	if e.addr == "" {
		e.pickAddr()
	}
	e.logs++
	logf, err := os.Create(e.logFile(e.logs))
	if err != nil {
		e.t.Fatal(err)
	}
	args := []string{"serve",
		"--repo", e.repo, "--data", e.data, "--listen", e.addr, "--poll", "0",
		"--api-tokens-file", filepath.Join(e.dir, "tokens"),
		"--log-format", "json", "--log-level", "debug", "--shutdown-timeout", "5s"}
	if !e.noGitHub {
		args = append(args,
			"--github-repo", dmGitHubRepo, "--github-api-url", e.fake.URL(),
			"--github-token-file", filepath.Join(e.dir, "gh-token"),
			"--webhook-secret-file", filepath.Join(e.dir, "secret"))
	}
	cmd := exec.Command(rippleBin, args...)
	cmd.Args = append(cmd.Args, e.args...)
	cmd.Env = append(os.Environ(), "HOME="+e.dir)
	e.launch(cmd, logf)
	e.waitFor("daemon ready", 20*time.Second, e.ready)
}

// kill sends SIGKILL to the daemon and reaps it.
func (e *dmEnv) kill() {
	e.t.Helper()
	if e.cmd == nil {
		return
	}
	_ = e.cmd.Process.Kill()
	<-e.done
	e.cmd = nil
}

// stop ends the daemon with SIGTERM (SIGKILL after 15s) and shows its log
// when the test failed.
func (e *dmEnv) stop() {
	e.terminate()
	if e.t.Failed() {
		for i := 1; i <= e.logs; i++ {
			b, _ := os.ReadFile(e.logFile(i))
			e.t.Logf("serve%s log %d (without debug lines):\n%s", e.name, i, lastLinesOf(withoutDebug(string(b)), 80))
		}
	}
}

// logFile is the log of the daemon's i-th start.
func (e *dmEnv) logFile(i int) string {
	return filepath.Join(e.dir, fmt.Sprintf("serve%s-%d.log", e.name, i))
}

// withoutDebug drops the debug lines of a JSON log.
func withoutDebug(s string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if !strings.Contains(l, `"level":"debug"`) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

func lastLinesOf(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

func (e *dmEnv) waitFor(what string, timeout time.Duration, cond func() bool) {
	e.t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			e.t.Fatalf("timed out after %s waiting for %s", timeout, what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// waitStatus waits until the fake holds a final (or the wanted) status for
// (sha, context) and returns it.
func (e *dmEnv) waitStatus(sha, context, state string) githubfake.Status {
	e.t.Helper()
	var st githubfake.Status
	e.waitFor(fmt.Sprintf("%s %s on %.12s", context, state, sha), 40*time.Second, func() bool {
		var ok bool
		st, ok = e.fake.LatestStatus(sha, context)
		return ok && st.State == state
	})
	return st
}

// webhook posts a signed delivery and returns the HTTP status.
func (e *dmEnv) webhook(event, delivery string, body []byte) int {
	e.t.Helper()
	req, err := http.NewRequest("POST", "http://"+e.addr+"/webhooks/github", bytes.NewReader(body))
	if err != nil {
		e.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-GitHub-Event", event)
	req.Header.Set("X-GitHub-Delivery", delivery)
	req.Header.Set("X-Hub-Signature-256", webhooks.Sign([]byte(dmSecret), body))
	resp, err := e.client.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

// pushPayload edits the fixture of a new-branch push into an ordinary push
// of the tracked branch from before to after.
func pushPayload(t *testing.T, before, after string) []byte {
	t.Helper()
	p := loadFixture(t, "push/with-new-branch.payload.json")
	p["ref"] = "refs/heads/main"
	p["before"], p["after"] = before, after
	p["created"], p["deleted"], p["forced"] = false, false, false
	return mustJSON(t, p)
}

// prPayload edits the opened fixture into a same-repository pull request
// number n into main whose head is sha.
func prPayload(t *testing.T, action string, n int, sha string) []byte {
	t.Helper()
	p := loadFixture(t, "pull_request/opened.payload.json")
	p["action"], p["number"] = action, n
	pr := p["pull_request"].(map[string]any)
	pr["number"] = n
	pr["head"].(map[string]any)["sha"] = sha
	pr["head"].(map[string]any)["ref"] = "feature"
	pr["base"].(map[string]any)["ref"] = "main"
	return mustJSON(t, p)
}

func loadFixture(t *testing.T, name string) map[string]any {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "webhooks", "testdata", "github-webhooks", name))
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// runs lists the daemon's runs through the API.
func (e *dmEnv) runs(query string) []httpapi.Run {
	e.t.Helper()
	req, _ := http.NewRequest("GET", "http://"+e.addr+"/api/v1/runs?"+query, nil)
	req.Header.Set("Authorization", "Bearer "+dmOperator)
	resp, err := e.client.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	var out []httpapi.Run
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		e.t.Fatal(err)
	}
	return out
}

func dmJob(name, run string, extra string) string {
	return fmt.Sprintf("job %q {\n  targets { groups = [\"fleet\"] }\n  step \"main\" {\n    run = %q\n%s  }\n  rollout { waves = [1, \"100%%\"] }\n}\n", name, run, extra)
}

// TestDaemonMergePushPullRequest walks one daemon through the life of an
// ops repo: the first merge rolls out, a signed push triggers at once (poll
// is off) and its redelivery runs nothing, a failing job and an invalid
// commit report on their commits, and a pull request gets one plan comment
// that is edited on the next push.
func TestDaemonMergePushPullRequest(t *testing.T) {
	e := newDmEnv(t, 3)
	first := e.commit("inventory and hello", map[string]string{
		"hosts.hcl":      e.fleet.HCL(),
		"jobs/hello.hcl": dmJob("hello", "echo hello from ${host.name}", ""),
	})
	e.start()

	// The first commit rolls out on start-up.
	if st := e.waitStatus(first, "ripple/validate", "success"); st.Repo != dmGitHubRepo {
		t.Errorf("status posted to %q", st.Repo)
	}
	st := e.waitStatus(first, "ripple/job/hello", "success")
	if !strings.HasPrefix(st.TargetURL, "http://"+e.addr+"/runs/") {
		t.Errorf("target_url = %q", st.TargetURL)
	}

	// A merge, announced by a signed push: applied without polling.
	second := e.commit("change hello", map[string]string{"jobs/hello.hcl": dmJob("hello", "echo hi from ${host.name}", "")})
	push := pushPayload(t, first, second)
	if code := e.webhook("push", "delivery-1", push); code != http.StatusAccepted {
		t.Fatalf("push answered %d", code)
	}
	e.waitStatus(second, "ripple/job/hello", "success")

	// The same delivery again is answered but not acted on: the commit made
	// since stays unapplied until a new delivery arrives.
	third := e.commit("add broken job", map[string]string{"jobs/broken.hcl": dmJob("broken", "echo cannot >&2; exit 3", "")})
	if code := e.webhook("push", "delivery-1", push); code != http.StatusOK {
		t.Fatalf("redelivery answered %d, want 200", code)
	}
	time.Sleep(1500 * time.Millisecond)
	if got := e.runs("limit=100"); len(got) != 2 {
		t.Fatalf("runs after a redelivery = %d, want 2", len(got))
	}
	if _, ok := e.fake.LatestStatus(third, "ripple/validate"); ok {
		t.Fatal("a redelivered push must not trigger a reconcile")
	}

	// A failing job ends failure with its failing hosts counted.
	if code := e.webhook("push", "delivery-2", pushPayload(t, second, third)); code != http.StatusAccepted {
		t.Fatalf("push answered %d", code)
	}
	st = e.waitStatus(third, "ripple/job/broken", "failure")
	if !regexp.MustCompile(`\d+ (of \d+ )?hosts? failed|\d+ failed`).MatchString(st.Description) {
		t.Errorf("failure description %q does not count the failing hosts", st.Description)
	}
	if _, ok := e.fake.LatestStatus(third, "ripple/job/hello"); ok {
		t.Error("an unchanged job got a status")
	}

	// An invalid commit gets ripple/validate failure naming file:line and
	// runs nothing.
	invalid := e.commit("typo", map[string]string{"jobs/typo.hcl": "job \"typo\" {\n  targets { groups = [\"fleet\"] }\n  step \"x\" { run = }\n}\n"})
	if code := e.webhook("push", "delivery-3", pushPayload(t, third, invalid)); code != http.StatusAccepted {
		t.Fatalf("push answered %d", code)
	}
	st = e.waitStatus(invalid, "ripple/validate", "failure")
	if !strings.Contains(st.Description, "jobs/typo.hcl:3") {
		t.Errorf("validate description %q does not name jobs/typo.hcl:3", st.Description)
	}
	time.Sleep(500 * time.Millisecond)
	if got := e.runs("limit=100"); len(got) != 3 {
		t.Errorf("runs after an invalid commit = %d, want 3", len(got))
	}

	// A pull request is validated and planned, never run, and keeps one
	// plan comment that the next push edits.
	e.git("checkout", "-q", "-b", "feature", third)
	pr1 := e.commit("pr: change hello", map[string]string{"jobs/hello.hcl": dmJob("hello", "echo pr from ${host.name}", "")})
	e.git("update-ref", "refs/pull/5/head", pr1)
	if code := e.webhook("pull_request", "delivery-pr-1", prPayload(t, "opened", 5, pr1)); code != http.StatusAccepted {
		t.Fatalf("pull_request answered %d", code)
	}
	e.waitStatus(pr1, "ripple/validate", "success")
	plan := e.waitStatus(pr1, "ripple/plan", "success")
	if !strings.Contains(plan.Description, "1 job, 3 hosts") {
		t.Errorf("plan description = %q", plan.Description)
	}
	e.waitFor("plan comment", 20*time.Second, func() bool { return len(e.fake.Comments(5)) == 1 })

	pr2 := e.commit("pr: and a new job", map[string]string{"jobs/extra.hcl": dmJob("extra", "true", "")})
	e.git("update-ref", "refs/pull/5/head", pr2)
	if code := e.webhook("pull_request", "delivery-pr-2", prPayload(t, "synchronize", 5, pr2)); code != http.StatusAccepted {
		t.Fatalf("pull_request answered %d", code)
	}
	e.waitStatus(pr2, "ripple/plan", "success")
	e.waitFor("plan comment edited", 20*time.Second, func() bool {
		c := e.fake.Comments(5)
		return len(c) == 1 && strings.Contains(c[0].Body, pr2[:12])
	})
	if c := e.fake.Comments(5); len(c) != 1 || c[0].Edits < 1 {
		t.Errorf("comments = %+v, want one comment edited in place", c)
	}
	if got := e.runs("limit=100"); len(got) != 3 {
		t.Errorf("a pull request started runs: %d runs, want 3", len(got))
	}

	// A pull request from a fork gets no plan (no --allow-fork-prs).
	forkHead := e.commit("fork change", map[string]string{"jobs/fork.hcl": dmJob("fork", "true", "")})
	e.git("update-ref", "refs/pull/6/head", forkHead)
	fork := loadFixture(t, "pull_request/opened.payload.json")
	fork["number"] = 6
	fpr := fork["pull_request"].(map[string]any)
	fpr["number"] = 6
	fpr["head"].(map[string]any)["sha"] = forkHead
	fpr["head"].(map[string]any)["repo"].(map[string]any)["full_name"] = "mallory/Hello-World"
	fpr["base"].(map[string]any)["ref"] = "main"
	if code := e.webhook("pull_request", "delivery-fork", mustJSON(t, fork)); code/100 != 2 {
		t.Fatalf("fork pull_request answered %d", code)
	}

	// A bad signature is refused and changes nothing.
	req, _ := http.NewRequest("POST", "http://"+e.addr+"/webhooks/github", bytes.NewReader(push))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-GitHub-Event", "push")
	req.Header.Set("X-GitHub-Delivery", "delivery-forged")
	req.Header.Set("X-Hub-Signature-256", webhooks.Sign([]byte("wrong secret"), push))
	if resp, err := e.client.Do(req); err != nil || resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("forged delivery: %v %v", resp, err)
	} else {
		resp.Body.Close()
	}

	// A force-push that drops the last applied commit pauses until an
	// operator accepts the new head; then the last applied tree is diffed
	// against it.
	e.git("checkout", "-q", "main")
	e.git("reset", "-q", "--hard", second)
	rewritten := e.commit("rewritten history", map[string]string{"jobs/hello.hcl": dmJob("hello", "echo rewritten on ${host.name}", "")})
	forced := loadFixture(t, "push/with-new-branch.payload.json")
	forced["ref"], forced["before"], forced["after"] = "refs/heads/main", invalid, rewritten
	forced["created"], forced["forced"] = false, true
	if code := e.webhook("push", "delivery-force", mustJSON(t, forced)); code != http.StatusAccepted {
		t.Fatalf("force-push answered %d", code)
	}
	e.waitFor("pause", 20*time.Second, func() bool {
		st := e.status()
		return strings.Contains(st["paused"], third[:12]) && st["head"] == rewritten
	})
	if _, ok := e.fake.LatestStatus(rewritten, "ripple/job/hello"); ok {
		t.Fatal("a paused daemon ran a job")
	}
	if code := e.post("/api/v1/reconcile", `{"accept":"`+rewritten[:10]+`","reason":"history rewrite reviewed"}`); code != http.StatusAccepted {
		t.Fatalf("accept answered %d", code)
	}
	e.waitStatus(rewritten, "ripple/job/hello", "success")
	if r := e.runs("job=hello&limit=1"); len(r) != 1 || r[0].Actor != "e2e" || r[0].Commit != rewritten {
		t.Errorf("accepted run = %+v", r)
	}
	if _, ok := e.fake.LatestStatus(forkHead, "ripple/plan"); ok {
		t.Error("a fork pull request was planned")
	}

	// Every delivery was handed over and none was shed.
	m := e.metrics()
	if depth := metricValue(t, m, "ripple_webhook_queue_depth"); depth != 0 {
		t.Errorf("ripple_webhook_queue_depth = %v, want 0", depth)
	}
	for _, ev := range []string{"push", "pull_request"} {
		name := `ripple_webhook_shed_total{event="` + ev + `",reason="queue_full"}`
		if shed := metricValue(t, m, name); shed != 0 {
			t.Errorf("%s = %v, want 0", name, shed)
		}
	}
}

func (e *dmEnv) status() map[string]string {
	e.t.Helper()
	req, _ := http.NewRequest("GET", "http://"+e.addr+"/api/v1/status", nil)
	req.Header.Set("Authorization", "Bearer "+dmOperator)
	resp, err := e.client.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	var raw map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&raw); err != nil {
		e.t.Fatal(err)
	}
	out := map[string]string{}
	for k, v := range raw {
		out[k] = fmt.Sprint(v)
	}
	return out
}

func (e *dmEnv) post(path, body string) int {
	e.t.Helper()
	req, _ := http.NewRequest("POST", "http://"+e.addr+path, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+dmOperator)
	resp, err := e.client.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// TestDaemonKilledMidRunResumes kills the daemon with SIGKILL while a run
// is between waves (and while GitHub rate-limits its statuses) and checks
// that a restart finishes it: the job's status ends final and no status of
// the commit stays pending.
func TestDaemonKilledMidRunResumes(t *testing.T) {
	e := newDmEnv(t, 3)
	base := e.commit("inventory", map[string]string{"hosts.hcl": e.fleet.HCL()})
	e.start()
	e.waitStatus(base, "ripple/validate", "success")

	slow := e.commit("slow job", map[string]string{
		"jobs/slow.hcl": "job \"slow\" {\n  targets { groups = [\"fleet\"] }\n  step \"wait\" {\n    run        = \"sleep 1\"\n    idempotent = true\n  }\n  rollout { waves = [1] }\n}\n",
	})
	// GitHub rate-limits the next status write: statuses wait, the
	// rollout does not.
	e.fake.FailNext(githubfake.Failure{Kind: githubfake.TooManyRequests, Method: "POST", RetryAfter: 3 * time.Second})
	if code := e.webhook("push", "kill-1", pushPayload(t, base, slow)); code != http.StatusAccepted {
		t.Fatalf("push answered %d", code)
	}
	e.waitFor("the run to be running", 20*time.Second, func() bool {
		r := e.runs("job=slow")
		return len(r) == 1 && r[0].State == "running"
	})
	if st, ok := e.fake.LatestStatus(slow, "ripple/validate"); ok {
		t.Errorf("a status was delivered through the rate limit: %+v", st)
	}
	// The outbox metrics show the limit and the statuses it holds back.
	e.waitFor("the rate limit in /metrics", 5*time.Second, func() bool {
		return strings.Contains(e.metrics(), `ripple_github_requests_total{kind="status",result="rate_limited"} 1`)
	})
	if depth := metricValue(t, e.metrics(), "ripple_github_outbox_depth"); depth < 1 {
		t.Errorf("ripple_github_outbox_depth = %v while GitHub holds statuses back, want >= 1", depth)
	}
	time.Sleep(1200 * time.Millisecond)
	e.kill()

	e.start()
	e.waitStatus(slow, "ripple/job/slow", "success")
	e.waitFor("last applied", 20*time.Second, func() bool {
		r := e.runs("job=slow")
		return len(r) == 1 && r[0].State == "succeeded"
	})
	// Give the outbox a moment, then no context may be left pending.
	time.Sleep(1500 * time.Millisecond)
	for _, ctx := range []string{"ripple/validate", "ripple/job/slow"} {
		if st, ok := e.fake.LatestStatus(slow, ctx); !ok || st.State == "pending" {
			t.Errorf("%s on the killed commit = %+v (found %v)", ctx, st, ok)
		}
	}
	if n := len(e.runs("limit=100")); n != 1 {
		t.Errorf("runs = %d, want the one resumed run", n)
	}
	e.waitFor("an empty outbox in /metrics", 10*time.Second, func() bool {
		m := e.metrics()
		return metricValue(t, m, "ripple_github_outbox_depth") == 0 && metricValue(t, m, "ripple_github_outbox_oldest_age_seconds") == 0
	})
}

// metricValue is the value of the unlabelled series name on a /metrics
// page; the test fails when the page lacks it.
func metricValue(t *testing.T, page, name string) float64 {
	t.Helper()
	for line := range strings.SplitSeq(page, "\n") {
		if v, ok := strings.CutPrefix(line, name+" "); ok {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				t.Fatalf("%s: %v", line, err)
			}
			return f
		}
	}
	t.Fatalf("/metrics lacks %s:\n%s", name, grepLines(page, "ripple_github"))
	return 0
}

// TestDaemonSIGTERMDrainsInFlightSteps stops the daemon with SIGTERM while
// a non-idempotent step runs on a host: the step finishes and is recorded,
// no new host starts, and after a restart the run ends successfully without
// running the step twice anywhere.
func TestDaemonSIGTERMDrainsInFlightSteps(t *testing.T) {
	e := newDmEnv(t, 3)
	marks := t.TempDir()
	base := e.commit("inventory", map[string]string{"hosts.hcl": e.fleet.HCL()})
	e.start()
	e.waitStatus(base, "ripple/validate", "success")

	job := fmt.Sprintf("job \"counted\" {\n  targets { groups = [\"fleet\"] }\n  step \"count\" {\n    run = \"echo run >> %s/${host.name}; sleep 2\"\n  }\n  rollout { waves = [1] }\n}\n", marks)
	head := e.commit("counted job", map[string]string{"jobs/counted.hcl": job})
	if code := e.webhook("push", "term-1", pushPayload(t, base, head)); code != http.StatusAccepted {
		t.Fatalf("push answered %d", code)
	}
	first := filepath.Join(marks, e.fleet.Hosts[0].Name)
	e.waitFor("the first host's step to start", 20*time.Second, func() bool { _, err := os.Stat(first); return err == nil })
	start := time.Now()
	e.stop() // SIGTERM, waits for the process
	if took := time.Since(start); took < time.Second {
		t.Errorf("the daemon exited after %s, before its in-flight step (2s) could finish", took)
	}
	for _, h := range e.fleet.Hosts[1:] {
		if _, err := os.Stat(filepath.Join(marks, h.Name)); err == nil {
			t.Errorf("%s started after SIGTERM", h.Name)
		}
	}

	e.start()
	e.waitStatus(head, "ripple/job/counted", "success")
	for _, h := range e.fleet.Hosts {
		b, err := os.ReadFile(filepath.Join(marks, h.Name))
		if err != nil || strings.Count(string(b), "run") != 1 {
			t.Errorf("%s ran the step %d times (%v), want once", h.Name, strings.Count(string(b), "run"), err)
		}
	}
}
