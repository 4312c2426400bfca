package gitops

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/ripple-ops/ripple/definitions"
	"github.com/ripple-ops/ripple/engine"
	"github.com/ripple-ops/ripple/engine/enginetest"
	"github.com/ripple-ops/ripple/engine/source"
)

func dmDaemon(t *testing.T, repo *enginetest.GitRepo, store *enginetest.MemStore, runner *dmRunner, edit func(*Options)) *Daemon {
	t.Helper()
	opts := Options{
		Mirror:        source.MirrorOptions{URL: repo.Dir, Branch: "main", Dir: filepath.Join(t.TempDir(), "mirror")},
		Store:         store,
		Runner:        runner,
		RetryInterval: 50 * time.Millisecond,
		Logger:        zerolog.New(zerolog.NewTestWriter(t)),
	}
	if edit != nil {
		edit(&opts)
	}
	d, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func dmRun(t *testing.T, d *Daemon) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	})
}

func dmWait(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestTriggersCoalesce(t *testing.T) {
	d := dmDaemon(t, &enginetest.GitRepo{Dir: "/nonexistent"}, enginetest.NewMemStore(), &dmRunner{}, nil)
	for range 10 {
		d.Trigger("poll")
		_ = d.Push(context.Background(), engine.PushEvent{Ref: "refs/heads/main"})
	}
	if n := len(d.wake); n != 1 {
		t.Fatalf("queued triggers = %d, want 1", n)
	}
	<-d.wake
	d.Trigger("sighup")
	if n := len(d.wake); n != 1 {
		t.Fatalf("after draining, queued triggers = %d, want 1", n)
	}
}

func TestPushRefFiltering(t *testing.T) {
	tests := []struct {
		name string
		ev   engine.PushEvent
		want bool
	}{
		{"tracked branch", engine.PushEvent{Ref: "refs/heads/main"}, true},
		{"force-push to tracked branch", engine.PushEvent{Ref: "refs/heads/main", Forced: true}, true},
		{"other branch", engine.PushEvent{Ref: "refs/heads/feature"}, false},
		{"branch with the name as prefix", engine.PushEvent{Ref: "refs/heads/main-old"}, false},
		{"short ref", engine.PushEvent{Ref: "main"}, false},
		{"tag named like the branch", engine.PushEvent{Ref: "refs/tags/main", Tag: true}, false},
		{"deletion of the tracked branch", engine.PushEvent{Ref: "refs/heads/main", Deleted: true}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d := dmDaemon(t, &enginetest.GitRepo{Dir: "/nonexistent"}, enginetest.NewMemStore(), &dmRunner{}, nil)
			if err := d.Push(context.Background(), tc.ev); err != nil {
				t.Fatal(err)
			}
			if got := len(d.wake) == 1; got != tc.want {
				t.Errorf("triggered = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestMergeRollsOutAndRecordsLastApplied(t *testing.T) {
	repo := enginetest.NewGitRepo(t)
	head := repo.Commit("inventory and job", map[string]string{"hosts.hcl": enginetest.Inventory, "jobs/hello.hcl": enginetest.HelloJob})
	store := enginetest.NewMemStore()
	runner := &dmRunner{store: store}
	d := dmDaemon(t, repo, store, runner, nil)
	dmRun(t, d)

	dmWait(t, "last applied", func() bool { a, _ := store.LastApplied(context.Background(), "main"); return a == head })
	runs := store.AllRuns()
	if len(runs) != 1 || runs[0].Job != "hello" || runs[0].Trigger != engine.TriggerCommit || runs[0].Commit != head {
		t.Fatalf("runs = %+v", runs)
	}
	if got := runs[0].Waves; len(got) != 2 || len(got[0]) != 1 || len(got[1]) != 1 {
		t.Errorf("waves = %v, want [[web-01] [web-02]]", got)
	}
	if st, _ := store.StatusOf(head, engine.StatusValidate); st.State != "success" {
		t.Errorf("validate status = %+v", st)
	}

	// A commit that leaves the job alone runs nothing but is applied.
	head2 := repo.Commit("readme", map[string]string{"README.md": "ops repo\n"})
	d.Trigger("test")
	dmWait(t, "second commit applied", func() bool { a, _ := store.LastApplied(context.Background(), "main"); return a == head2 })
	if n := len(store.AllRuns()); n != 1 {
		t.Errorf("runs after an unrelated commit = %d, want 1", n)
	}

	// Changing the job runs it once more; polling again does not.
	head3 := repo.Commit("change job", map[string]string{"jobs/hello.hcl": strings.Replace(enginetest.HelloJob, "echo hello", "echo hi", 1)})
	d.Trigger("test")
	dmWait(t, "third commit applied", func() bool { a, _ := store.LastApplied(context.Background(), "main"); return a == head3 })
	d.Trigger("test")
	d.Trigger("test")
	time.Sleep(100 * time.Millisecond)
	if n := len(store.AllRuns()); n != 2 {
		t.Errorf("runs after changing the job = %d, want 2", n)
	}
	if st := d.Status(); st.Head != head3 || st.LastApplied != head3 || !st.Ready {
		t.Errorf("status = %+v", st)
	}
}

func TestInvalidCommitRunsNothingAndIsNotRevalidated(t *testing.T) {
	repo := enginetest.NewGitRepo(t)
	good := repo.Commit("good", map[string]string{"hosts.hcl": enginetest.Inventory, "jobs/hello.hcl": enginetest.HelloJob})
	store := enginetest.NewMemStore()
	runner := &dmRunner{store: store}
	d := dmDaemon(t, repo, store, runner, nil)
	dmRun(t, d)
	dmWait(t, "first commit applied", func() bool { a, _ := store.LastApplied(context.Background(), "main"); return a == good })

	bad := repo.Commit("bad", map[string]string{"jobs/hello.hcl": enginetest.HelloJob + "\njob \"broken\" {\n  targets { groups = [\"web\"] }\n  step \"x\" { run = }\n}\n"})
	d.Trigger("test")
	dmWait(t, "validate failure", func() bool { st, ok := store.StatusOf(bad, engine.StatusValidate); return ok && st.State == "failure" })
	st, _ := store.StatusOf(bad, engine.StatusValidate)
	if !strings.Contains(st.Description, "jobs/hello.hcl:") {
		t.Errorf("description %q does not name file:line", st.Description)
	}
	if len(st.Description) > 140 {
		t.Errorf("description longer than 140: %q", st.Description)
	}
	for range 3 {
		d.Trigger("poll")
		time.Sleep(30 * time.Millisecond)
	}
	if n := store.StatusCount(bad, engine.StatusValidate); n != 1 {
		t.Errorf("validate status recorded %d times, want once", n)
	}
	if n := len(store.AllRuns()); n != 1 {
		t.Errorf("runs = %d, want only the first commit's", n)
	}
	if s := d.Status(); s.LastApplied != good || !strings.Contains(s.Refused, "invalid") {
		t.Errorf("status = %+v", s)
	}
}

func TestForcePushPausesUntilAccepted(t *testing.T) {
	repo := enginetest.NewGitRepo(t)
	first := repo.Commit("first", map[string]string{"hosts.hcl": enginetest.Inventory, "jobs/hello.hcl": enginetest.HelloJob})
	second := repo.Commit("second", map[string]string{"jobs/hello.hcl": strings.Replace(enginetest.HelloJob, "echo hello", "echo two", 1)})
	store := enginetest.NewMemStore()
	runner := &dmRunner{store: store}
	d := dmDaemon(t, repo, store, runner, nil)
	dmRun(t, d)
	dmWait(t, "second applied", func() bool { a, _ := store.LastApplied(context.Background(), "main"); return a == second })

	repo.Git("reset", "-q", "--hard", first)
	rewritten := repo.Commit("rewritten", map[string]string{"jobs/hello.hcl": strings.Replace(enginetest.HelloJob, "echo hello", "echo three", 1)})
	d.Trigger("webhook")
	dmWait(t, "pause", func() bool { return d.Status().Paused != "" })
	if n := len(store.AllRuns()); n != 1 {
		t.Fatalf("runs while paused = %d, want 1", n)
	}
	if p := d.Status().Paused; !strings.Contains(p, second[:12]) || !strings.Contains(p, rewritten[:12]) {
		t.Errorf("paused reason %q should name both commits", p)
	}

	if err := d.Accept(context.Background(), second, "alice", "oops"); err == nil {
		t.Error("accepting a commit other than the paused head should fail")
	}
	if err := d.Accept(context.Background(), rewritten[:10], "alice", "history rewrite reviewed"); err != nil {
		t.Fatal(err)
	}
	dmWait(t, "rewritten applied", func() bool { a, _ := store.LastApplied(context.Background(), "main"); return a == rewritten })
	runs := store.AllRuns()
	if len(runs) != 2 || runs[1].Actor != "alice" || runs[1].Reason == "" {
		t.Errorf("runs = %+v", runs)
	}
	if d.Status().Paused != "" {
		t.Errorf("still paused: %+v", d.Status())
	}
}

func TestRemovingEverythingIsRefused(t *testing.T) {
	for _, allow := range []bool{false, true} {
		t.Run(map[bool]string{false: "refused", true: "allowed"}[allow], func(t *testing.T) {
			repo := enginetest.NewGitRepo(t)
			first := repo.Commit("first", map[string]string{"hosts.hcl": enginetest.Inventory, "jobs/hello.hcl": enginetest.HelloJob})
			store := enginetest.NewMemStore()
			runner := &dmRunner{store: store}
			d := dmDaemon(t, repo, store, runner, func(o *Options) { o.AllowEmpty = allow })
			dmRun(t, d)
			dmWait(t, "first applied", func() bool { a, _ := store.LastApplied(context.Background(), "main"); return a == first })

			empty := repo.Commit("remove all jobs", map[string]string{"jobs/hello.hcl": ""})
			d.Trigger("test")
			if allow {
				dmWait(t, "empty commit applied", func() bool { a, _ := store.LastApplied(context.Background(), "main"); return a == empty })
				return
			}
			dmWait(t, "refusal", func() bool {
				st, ok := store.StatusOf(empty, engine.StatusValidate)
				return ok && st.State == "failure"
			})
			st, _ := store.StatusOf(empty, engine.StatusValidate)
			if st.Description != "refused: the commit removes every job (start ripple serve with --allow-empty to allow)" {
				t.Errorf("description = %q", st.Description)
			}
			if a, _ := store.LastApplied(context.Background(), "main"); a != first {
				t.Errorf("last applied moved to %s", a)
			}
		})
	}
}

func TestPullRequestPlansWithoutRunning(t *testing.T) {
	repo := enginetest.NewGitRepo(t)
	base := repo.Commit("base", map[string]string{"hosts.hcl": enginetest.Inventory, "jobs/hello.hcl": enginetest.HelloJob})
	store := enginetest.NewMemStore()
	runner := &dmRunner{store: store}
	comments := &dmComments{}
	d := dmDaemon(t, repo, store, runner, func(o *Options) { o.Comments = comments })
	dmRun(t, d)
	dmWait(t, "base applied", func() bool { a, _ := store.LastApplied(context.Background(), "main"); return a == base })

	repo.Git("checkout", "-q", "-b", "change")
	prHead := repo.Commit("change", map[string]string{"jobs/hello.hcl": strings.Replace(enginetest.HelloJob, "echo hello", "echo pr", 1)})
	repo.Git("update-ref", "refs/pull/7/head", prHead)
	repo.Git("checkout", "-q", "main")

	fork := engine.PullRequestEvent{Number: 8, HeadSHA: prHead, BaseRef: "main", Fork: true, HeadRepo: "evil/fork"}
	if err := d.PullRequest(context.Background(), fork); err != nil {
		t.Fatal(err)
	}
	ev := engine.PullRequestEvent{Number: 7, Action: "opened", HeadSHA: prHead, BaseRef: "main", HeadRef: "change"}
	if err := d.PullRequest(context.Background(), ev); err != nil {
		t.Fatal(err)
	}
	dmWait(t, "plan status", func() bool { st, ok := store.StatusOf(prHead, engine.StatusPlan); return ok && st.State == "success" })
	st, _ := store.StatusOf(prHead, engine.StatusPlan)
	if st.Description != "1 job, 2 hosts in 2 waves" {
		t.Errorf("plan description = %q", st.Description)
	}
	if st, _ := store.StatusOf(prHead, engine.StatusValidate); st.State != "success" {
		t.Errorf("validate = %+v", st)
	}
	got := comments.get()
	if len(got) != 1 || got[0].pr != 7 || !strings.Contains(got[0].body, "`hello`") {
		t.Fatalf("comments = %+v", got)
	}
	if runner.executedCount() != 1 || len(store.AllRuns()) != 1 {
		t.Errorf("a pull request must not run anything: runs = %+v", store.AllRuns())
	}
}

// policyInventory is 20 web hosts with an HTTP monitor.
func policyInventory() string {
	var b strings.Builder
	b.WriteString("credential \"default\" {\n  user = \"deploy\"\n  private_key_file = \"/etc/ripple/key\"\n}\n")
	for i := 1; i <= 20; i++ {
		fmt.Fprintf(&b, "host \"web-%02d\" {\n  address = \"127.0.0.%d\"\n  groups  = [\"web\"]\n}\n", i, i)
	}
	b.WriteString("monitor \"web-http\" {\n  targets { groups = [\"web\"] }\n  check \"http\" { url = \"http://${host.address}/healthz\" }\n}\n")
	return b.String()
}

const policyJob = `
job "nginx-config" {
  targets { groups = ["web"] }
  step "reload" { run = "systemctl reload nginx" }
  rollout {
    waves        = [1, "25%", "100%"]
    max_failures = 0
    health_gate {
      monitors = ["web-http"]
    }
  }
}
`

// TestPullRequestCommentShowsPolicyChanges is the acceptance case of
// "policy changes are visible": a pull request that turns waves
// [1, "25%", "100%"] into ["100%"], raises max_failures and removes the
// gate gets a comment that shows each setting before -> after and flags
// each weakening, and a plan status that says so first. What runs still
// comes from the tracked branch: nothing runs for the pull request.
func TestPullRequestCommentShowsPolicyChanges(t *testing.T) {
	repo := enginetest.NewGitRepo(t)
	base := repo.Commit("base", map[string]string{"hosts.hcl": policyInventory(), "jobs/web.hcl": policyJob})
	store := enginetest.NewMemStore()
	runner := &dmRunner{store: store}
	comments := &dmComments{}
	d := dmDaemon(t, repo, store, runner, func(o *Options) { o.Comments = comments })
	dmRun(t, d)
	dmWait(t, "base applied", func() bool { a, _ := store.LastApplied(context.Background(), "main"); return a == base })
	runsBefore := len(store.AllRuns())

	repo.Git("checkout", "-q", "-b", "loosen")
	weakened := `
job "nginx-config" {
  targets { groups = ["web"] }
  step "reload" { run = "systemctl reload nginx" }
  step "notify" { run = "curl -fsS -H 'X-Token: ${env("CHAT_TOKEN")}' https://chat.example.net/deployed" }
  rollout {
    waves        = ["100%"]
    max_failures = 2
  }
}
`
	prHead := repo.Commit("loosen the rollout", map[string]string{"jobs/web.hcl": weakened})
	repo.Git("update-ref", "refs/pull/9/head", prHead)
	repo.Git("checkout", "-q", "main")

	ev := engine.PullRequestEvent{Number: 9, Action: "opened", HeadSHA: prHead, BaseRef: "main", HeadRef: "loosen"}
	if err := d.PullRequest(context.Background(), ev); err != nil {
		t.Fatal(err)
	}
	dmWait(t, "plan status", func() bool { _, ok := store.StatusOf(prHead, engine.StatusPlan); return ok })
	st, _ := store.StatusOf(prHead, engine.StatusPlan)
	wantDesc := "weakens rollout of nginx-config; 1 job, 20 hosts in 1 wave; 1 secret read added"
	if st.State != "success" || st.Description != wantDesc {
		t.Errorf("plan status = %s %q, want success %q", st.State, st.Description, wantDesc)
	}

	got := comments.get()
	if len(got) != 1 || got[0].pr != 9 {
		t.Fatalf("comments = %+v", got)
	}
	body := got[0].body
	for _, want := range []string{
		"⚠️ **This change weakens the rollout of `nginx-config`.**",
		"**Policy changes**",
		"| `nginx-config` | `waves` | `[1, \"25%\", \"100%\"]` | `[\"100%\"]` | ⚠️ weakens: first wave 1 -&gt; all 20 hosts; 3 waves -&gt; 1 |",
		"| `nginx-config` | `max_failures` | `0` | `2` | ⚠️ weakens: a wave fails only when more than 2 hosts fail, was 0 |",
		"| `nginx-config` | `health_gate` | `{monitors = [\"web-http\"], min_healthy_time = \"10s\", healthy_deadline = \"5m\"}` | `none` | ⚠️ weakens: health gate removed: waves no longer wait for web-http |",
		"**Secret reads added: 1**",
		"| `env(\"CHAT_TOKEN\")` | `jobs/web.hcl:5` |",
		// The full text plan has the same lines.
		`policy nginx-config: waves [1, "25%", "100%"] -> ["100%"] (weakens: first wave 1 -> all 20 hosts; 3 waves -> 1)`,
		"reads added (env() and file() calls the daemon will make; a plan reads none)\n  env(\"CHAT_TOKEN\") at jobs/web.hcl:5",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("comment lacks %q:\n%s", want, body)
		}
	}
	if n := strings.Count(body, "⚠️ weakens:"); n != 3 {
		t.Errorf("%d weakenings flagged, want 3:\n%s", n, body)
	}
	if n := len(store.AllRuns()); n != runsBefore {
		t.Errorf("a pull request must not run anything: %d runs, had %d", n, runsBefore)
	}
}

// TestPlanCommentEscapesPolicyAndReads: names and arguments come from the
// repository; in a table they can neither end a code span, a cell nor a
// row, nor become markup.
func TestPlanCommentEscapesPolicyAndReads(t *testing.T) {
	p := &definitions.PlanResult{
		From: strings.Repeat("a", 40), To: strings.Repeat("b", 40),
		Jobs: []definitions.PlannedJob{},
		PolicyChanges: []definitions.PolicyChange{{
			Job:    "web",
			Before: &definitions.JobPolicy{},
			After:  &definitions.JobPolicy{},
			Changes: []definitions.PolicyFieldChange{{
				Field: definitions.FieldWindow, Before: "a|b", After: nil, Weakens: true, Why: "<img src=x> | gone",
			}},
		}},
		SecretReadsAdded: []definitions.SecretRead{{Function: "env", Argument: "\"A|B`C\" <script>\nx", File: "jobs/x.hcl", Line: 3}},
	}
	body := planComment(p.To, p, nil)
	for _, want := range []string{
		"| `web` | `window` | `\"a\\|b\"` | `none` | ⚠️ weakens: &lt;img src=x&gt; \\| gone |",
		"| `env(\"A\\|B'C\" <script> x)` | `jobs/x.hcl:3` |",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("comment lacks %q:\n%s", want, body)
		}
	}
}

func TestPlanDescription(t *testing.T) {
	long := strings.Repeat("j", 128)
	weakened := func(jobs ...string) *definitions.PlanResult {
		p := &definitions.PlanResult{Jobs: []definitions.PlannedJob{}}
		for _, j := range jobs {
			p.PolicyChanges = append(p.PolicyChanges, definitions.PolicyChange{Job: j, Before: &definitions.JobPolicy{},
				Changes: []definitions.PolicyFieldChange{{Field: definitions.FieldSelfHeal, Weakens: true, Why: "on"}}})
		}
		return p
	}
	for _, tc := range []struct {
		p    *definitions.PlanResult
		want string
	}{
		{weakened(), "no changes"},
		{weakened("web"), "weakens rollout of web; no changes"},
		{weakened("a", "b", "c", "d", "e"), "weakens rollout of a, b, c and 2 more; no changes"},
		{weakened(long), "weakens rollout of 1 job; no changes"},
		{weakened("a", long), "weakens rollout of a and 1 more; no changes"},
	} {
		got := planDescription(tc.p)
		if got != tc.want {
			t.Errorf("planDescription = %q, want %q", got, tc.want)
		}
		if len(got) > engine.MaxStatusDescription {
			t.Errorf("%q is longer than %d", got, engine.MaxStatusDescription)
		}
	}
}

type dmComment struct {
	pr   int
	body string
}

type dmComments struct {
	mu   sync.Mutex
	list []dmComment
}

func (f *dmComments) UpsertPlanComment(_ context.Context, pr int, body string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.list = append(f.list, dmComment{pr, body})
	return nil
}

func (f *dmComments) get() []dmComment {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.list)
}

func TestRestartAdoptsRunsOfStartedCommit(t *testing.T) {
	repo := enginetest.NewGitRepo(t)
	first := repo.Commit("first", map[string]string{"hosts.hcl": enginetest.Inventory, "jobs/hello.hcl": enginetest.HelloJob})
	second := repo.Commit("second", map[string]string{"jobs/hello.hcl": strings.Replace(enginetest.HelloJob, "echo hello", "echo two", 1)})
	store := enginetest.NewMemStore()
	ctx := context.Background()
	_ = store.SetLastApplied(ctx, "main", first)
	// The previous process started second's run and died; recovery ended it.
	_ = store.CreateRun(ctx, &engine.Run{Job: "hello", Commit: second, Branch: "main", Trigger: engine.TriggerCommit, State: engine.RunSucceeded})
	runner := &dmRunner{store: store}
	d := dmDaemon(t, repo, store, runner, nil)
	dmRun(t, d)

	dmWait(t, "second applied", func() bool { a, _ := store.LastApplied(ctx, "main"); return a == second })
	if n := len(store.AllRuns()); n != 1 {
		t.Errorf("runs = %d: a commit whose runs were recorded must not get a second set", n)
	}
	if st := d.Status(); st.Base != second {
		t.Errorf("base = %s, want %s", st.Base, second)
	}
}

func TestApproveResumesRunStoppedForOperator(t *testing.T) {
	repo := enginetest.NewGitRepo(t)
	head := repo.Commit("first", map[string]string{"hosts.hcl": enginetest.Inventory, "jobs/hello.hcl": enginetest.HelloJob})
	store := enginetest.NewMemStore()
	ctx := context.Background()
	_ = store.SetLastApplied(ctx, "main", head)
	stopped := &engine.Run{Job: "hello", Commit: head, Branch: "main", Trigger: engine.TriggerManual, State: engine.RunNeedsOperator, Waves: [][]string{{"web-01"}}}
	_ = store.CreateRun(ctx, stopped)
	runner := &dmRunner{store: store}
	d := dmDaemon(t, repo, store, runner, nil)
	dmRun(t, d)
	dmWait(t, "ready", func() bool { return d.Status().Head == head })

	if err := d.Approve(ctx, stopped.ID, "alice", "checked the host"); err != nil {
		t.Fatal(err)
	}
	dmWait(t, "the run carried on", func() bool { r, _ := store.GetRun(ctx, stopped.ID); return r.State == engine.RunSucceeded })
	runner.mu.Lock()
	defer runner.mu.Unlock()
	if len(runner.approved) != 1 || runner.approved[0] != fmt.Sprintf("%d alice checked the host", stopped.ID) {
		t.Errorf("approvals = %v", runner.approved)
	}
}

// TestAbortEndsRunStoppedForOperator: an abort, like an approval, hands a
// run that needs an operator back to its job's worker, which ends it; a
// later run of the job waits in the queue until then, and runs after it.
func TestAbortEndsRunStoppedForOperator(t *testing.T) {
	repo := enginetest.NewGitRepo(t)
	head := repo.Commit("first", map[string]string{"hosts.hcl": enginetest.Inventory, "jobs/hello.hcl": enginetest.HelloJob})
	store := enginetest.NewMemStore()
	ctx := context.Background()
	_ = store.SetLastApplied(ctx, "main", head)
	stopped := &engine.Run{Job: "hello", Commit: head, Branch: "main", Trigger: engine.TriggerManual, State: engine.RunNeedsOperator, Waves: [][]string{{"web-01"}}}
	_ = store.CreateRun(ctx, stopped)
	runner := &dmRunner{store: store}
	d := dmDaemon(t, repo, store, runner, nil)
	dmRun(t, d)
	dmWait(t, "ready", func() bool { return d.Status().Head == head })

	later, err := d.StartRun(ctx, "hello", nil, "bob", "later")
	if err != nil {
		t.Fatal(err)
	}
	dmWait(t, "the later run tried", func() bool { return runner.executedCount() == 1 })
	time.Sleep(100 * time.Millisecond)
	if r, _ := store.GetRun(ctx, later.ID); r.State != engine.RunQueued || runner.executedCount() != 1 {
		t.Fatalf("later run %s after %d executions, want queued behind the run that needs an operator", r.State, runner.executedCount())
	}

	if err := d.Abort(ctx, stopped.ID, "alice", "host is broken"); err != nil {
		t.Fatal(err)
	}
	dmWait(t, "the aborted run ended", func() bool { r, _ := store.GetRun(ctx, stopped.ID); return r.State == engine.RunAborted })
	dmWait(t, "the later run ran", func() bool { r, _ := store.GetRun(ctx, later.ID); return r.State == engine.RunSucceeded })
	runner.mu.Lock()
	defer runner.mu.Unlock()
	if want := []int64{later.ID, stopped.ID, later.ID}; !slices.Equal(runner.executed, want) {
		t.Errorf("executed %v, want %v", runner.executed, want)
	}
}

func TestManualRun(t *testing.T) {
	repo := enginetest.NewGitRepo(t)
	head := repo.Commit("first", map[string]string{"hosts.hcl": enginetest.Inventory, "jobs/hello.hcl": enginetest.HelloJob})
	store := enginetest.NewMemStore()
	runner := &dmRunner{store: store}
	d := dmDaemon(t, repo, store, runner, nil)
	dmRun(t, d)
	ctx := context.Background()
	dmWait(t, "applied", func() bool { a, _ := store.LastApplied(ctx, "main"); return a == head })

	if _, err := d.StartRun(ctx, "hello", []string{"db-99"}, "alice", "x"); !errors.Is(err, engine.ErrInvalidRequest) {
		t.Errorf("unknown host: err = %v, want ErrInvalidRequest", err)
	}
	if _, err := d.StartRun(ctx, "nope", nil, "alice", "x"); !errors.Is(err, engine.ErrNotFound) {
		t.Errorf("unknown job: err = %v, want ErrNotFound", err)
	}
	r, err := d.StartRun(ctx, "hello", []string{"web-02"}, "alice", "rotate logs")
	if err != nil {
		t.Fatal(err)
	}
	if r.Trigger != engine.TriggerManual || r.Actor != "alice" || r.Reason != "rotate logs" || r.Commit != head || len(r.Waves) != 1 || r.Waves[0][0] != "web-02" {
		t.Errorf("run = %+v", r)
	}
	dmWait(t, "manual run executed", func() bool { got, _ := store.GetRun(ctx, r.ID); return got.State == engine.RunSucceeded })
}

func TestScheduledRunSkipsWhileJobIsActive(t *testing.T) {
	repo := enginetest.NewGitRepo(t)
	head := repo.Commit("first", map[string]string{"hosts.hcl": enginetest.Inventory, "jobs/hello.hcl": enginetest.HelloJob})
	store := enginetest.NewMemStore()
	runner := &dmRunner{store: store}
	d := dmDaemon(t, repo, store, runner, nil)
	dmRun(t, d)
	ctx := context.Background()
	dmWait(t, "applied", func() bool { a, _ := store.LastApplied(ctx, "main"); return a == head })

	busy := &engine.Run{Job: "hello", Commit: head, Trigger: engine.TriggerManual, State: engine.RunWaitingApproval}
	_ = store.CreateRun(ctx, busy)
	firing := time.Date(2026, 11, 29, 2, 0, 0, 0, time.UTC)
	if started, err := d.StartScheduled(ctx, "hello", firing); err != nil || started {
		t.Fatalf("with an active run: started=%v err=%v, want a skip", started, err)
	}
	busy.State = engine.RunSucceeded
	_ = store.UpdateRun(ctx, busy)
	if started, err := d.StartScheduled(ctx, "hello", firing); err != nil || !started {
		t.Fatalf("started=%v err=%v", started, err)
	}
	runs, _ := store.ListRuns(ctx, engine.RunFilter{Job: "hello", Limit: 1})
	if r := runs[0]; r.Trigger != engine.TriggerSchedule || r.Actor != "ripple" || r.Reason != "scheduled for 2026-11-29T02:00:00Z" || engine.CountHosts(r.Waves) != 2 {
		t.Errorf("scheduled run = %+v", r)
	}
}

func TestRequestsAfterStopAreRefused(t *testing.T) {
	repo := enginetest.NewGitRepo(t)
	repo.Commit("first", map[string]string{"hosts.hcl": enginetest.Inventory, "jobs/hello.hcl": enginetest.HelloJob})
	store := enginetest.NewMemStore()
	d := dmDaemon(t, repo, store, &dmRunner{store: store}, nil)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx) }()
	dmWait(t, "ready", func() bool { return d.Ready() })
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if d.Ready() {
		t.Error("ready after stop")
	}
	if _, err := d.StartRun(context.Background(), "hello", nil, "alice", "late"); !errors.Is(err, engine.ErrNotRunning) {
		t.Errorf("StartRun after stop: %v, want ErrNotRunning", err)
	}
}

// A run an earlier process left waiting for its window is executed again
// after recovery (Recover itself never waits), so that it carries on when
// the window opens.
func TestRecoveredRunWaitingForWindowIsExecutedAgain(t *testing.T) {
	repo := enginetest.NewGitRepo(t)
	head := repo.Commit("inventory and job", map[string]string{"hosts.hcl": enginetest.Inventory, "jobs/hello.hcl": enginetest.HelloJob})
	store := enginetest.NewMemStore()
	ctx := context.Background()
	waiting := &engine.Run{Job: "hello", Commit: head, Branch: "main", Trigger: engine.TriggerSchedule, State: engine.RunWaitingWindow,
		Waves: [][]string{{"web-01"}, {"web-02"}}}
	approval := &engine.Run{Job: "other", Commit: head, Branch: "main", Trigger: engine.TriggerManual, State: engine.RunWaitingApproval}
	for _, r := range []*engine.Run{waiting, approval} {
		if err := store.CreateRun(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	runner := &dmRunner{store: store, recovered: []*engine.Run{waiting, approval}}
	d := dmDaemon(t, repo, store, runner, nil)
	dmRun(t, d)

	dmWait(t, "the waiting run to end", func() bool {
		r, err := store.GetRun(ctx, waiting.ID)
		return err == nil && r.State == engine.RunSucceeded
	})
	runner.mu.Lock()
	defer runner.mu.Unlock()
	if slices.Contains(runner.executed, approval.ID) {
		t.Errorf("executed %v: a run waiting for approval waits for the operator, not the daemon", runner.executed)
	}
}
