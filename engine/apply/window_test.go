package apply

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/ripple-ops/ripple/engine"
)

// set moves the virtual clock to t (the operator runs apply again later).
// windowJob is a job on 3 hosts in waves of 1 and 2, in window "night",
// with a pause of an hour between waves; %s is extra rollout attributes.
const windowJob = `
window "night" {
  cron     = "%s"
  duration = "30m"
}
job "app" {
  targets { groups = ["all"] }
  window = "night"
  step "one" { run = "echo v1" }
  rollout {
    waves = [1, "100%%"]
    pause = "1h"
    %s
  }
}
`

func windowRepo(cron, extra string) *mapRepo {
	repo := &mapRepo{}
	repo.commit("c1", map[string]string{"hosts.hcl": applyFleet(3), "jobs.hcl": fmt.Sprintf(windowJob, cron, extra)})
	return repo
}

func at(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}

// windowApply is a fixture for apply tests of windowRepo("0 1 * * *", "")
// whose steps record when they start.
func windowApply(t *testing.T) (*fixture, *mapRepo, *stepStarts) {
	f := newFixture(t)
	starts := &stepStarts{}
	f.exec.SetBehave(starts.behave(f))
	return f, windowRepo("0 1 * * *", ""), starts
}

// stepStarts records "host@time" of every forward step the fake runs.
type stepStarts struct {
	mu  sync.Mutex
	got []string
}

func (s *stepStarts) behave(f *fixture) func(host, step string) engine.StepResult {
	return func(host, step string) engine.StepResult {
		s.mu.Lock()
		defer s.mu.Unlock()
		s.got = append(s.got, host+"@"+f.clock.Now().UTC().Format("Jan 2 15:04"))
		return engine.StepResult{Status: engine.StepOK}
	}
}

func (s *stepStarts) sorted() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := slices.Clone(s.got)
	sort.Strings(out)
	return out
}

// A run waiting for its window is resumed by checking the window first:
// the pause it already served is not served again, and the pause it
// serves says until when.
func TestApplyResumeChecksTheWindowBeforeThePause(t *testing.T) {
	f, repo, starts := windowApply(t)
	ctx := context.Background()

	// 00:00: the window opens at 01:00; nothing runs.
	res, err := Run(ctx, applyOpts(f, repo))
	if err != nil || len(res.Waiting()) != 1 || res.Waiting()[0].State != engine.RunWaitingWindow {
		t.Fatalf("before the window: %+v, %v", res, err)
	}
	// 01:00: wave 1, then the pause (01:00-02:00) outlasts the window.
	f.clock.Set(at("2026-01-01T01:00:00Z"))
	res, err = Run(ctx, applyOpts(f, repo))
	if err != nil || len(res.Waiting()) != 1 || res.Waiting()[0].State != engine.RunWaitingWindow {
		t.Fatalf("in the window: %+v, %v", res, err)
	}
	if !slices.Contains(f.events.Messages(), "pause 1h0m0s before wave 2/2, until 2026-01-01T02:00:00Z") {
		t.Fatalf("the pause does not say until when: %q", f.events.Messages())
	}
	if got := f.clock.Now(); !got.Equal(at("2026-01-01T02:00:00Z")) {
		t.Fatalf("clock %s after the pause", got)
	}
	// 02:00 and 03:00: the window is closed; apply says so at once.
	for _, now := range []string{"2026-01-01T02:00:00Z", "2026-01-01T03:00:00Z"} {
		f.clock.Set(at(now))
		res, err = Run(ctx, applyOpts(f, repo))
		if err != nil || len(res.Waiting()) != 1 {
			t.Fatalf("%s: %+v, %v", now, res, err)
		}
		if got := f.clock.Now(); !got.Equal(at(now)) {
			t.Fatalf("%s: apply waited until %s before noticing the closed window", now, got)
		}
		if s := res.Waiting()[0].Summary; s != "wave 2/2 waits for window night (opens 2026-01-02T01:00:00Z)" {
			t.Fatalf("%s: summary %q", now, s)
		}
	}
	// Next day 01:00: wave 2 starts at once, its pause long served.
	f.clock.Set(at("2026-01-02T01:00:00Z"))
	res, err = Run(ctx, applyOpts(f, repo))
	if err != nil || res.Failed() || !res.Applied {
		t.Fatalf("next window: %+v, %v", res, err)
	}
	want := []string{"h01@Jan 1 01:00", "h02@Jan 2 01:00", "h03@Jan 2 01:00"}
	if diff := cmp.Diff(want, starts.sorted()); diff != "" {
		t.Fatalf("step starts (-want +got):\n%s", diff)
	}
}

// An interrupted pause is served to its end, not from its start again.
func TestApplyInterruptedPauseIsServedToItsEndOnly(t *testing.T) {
	f := newFixture(t)
	repo := windowRepo("0 1 * * *", "")
	ctx := context.Background()
	f.clock.Set(at("2026-01-01T01:00:00Z"))
	// The first apply is interrupted during the pause.
	cctx, cancel := context.WithCancel(ctx)
	defer cancel()
	o := applyOpts(f, repo)
	o.Progress = engine.ProgressFunc(func(ev engine.ProgressEvent) {
		f.events.Report(ev)
		if strings.HasPrefix(ev.Message, "pause ") {
			cancel()
		}
	})
	if _, err := Run(cctx, o); err == nil {
		t.Fatal("interrupted apply returned no error")
	}
	// 01:20, still inside the window: 40 minutes of pause are left.
	f.clock.Set(at("2026-01-01T01:20:00Z"))
	res, err := Run(ctx, applyOpts(f, repo))
	if err != nil {
		t.Fatal(err)
	}
	if got := f.clock.Now(); !got.Equal(at("2026-01-01T02:00:00Z")) {
		t.Fatalf("clock %s after the rest of the pause", got)
	}
	if len(res.Waiting()) != 1 || res.Waiting()[0].State != engine.RunWaitingWindow {
		t.Fatalf("result %+v", res)
	}
}

// --abort ends a run waiting for its window under its on_failure policy,
// as an abort between waves does.
func TestApplyAbortsARunWaitingForItsWindow(t *testing.T) {
	for _, tc := range []struct{ policy, summary string }{
		{`on_failure = "halt"`, "aborted by ci: window missed; halted"},
		{`on_failure = "rollback"`, "aborted by ci: window missed; nothing to roll back on 1 host"},
	} {
		t.Run(tc.policy, func(t *testing.T) {
			f := newFixture(t)
			repo := windowRepo("0 1 * * *", tc.policy)
			ctx := context.Background()
			f.clock.Set(at("2026-01-01T01:00:00Z"))
			res, err := Run(ctx, applyOpts(f, repo))
			if err != nil || len(res.Waiting()) != 1 || res.Waiting()[0].State != engine.RunWaitingWindow {
				t.Fatalf("first apply: %+v, %v", res, err)
			}
			calls := len(f.exec.Calls())
			o := applyOpts(f, repo)
			o.Decision, o.Reason = DecisionAbort, "window missed"
			res, err = Run(ctx, o)
			if err != nil {
				t.Fatal(err)
			}
			if !res.Failed() || res.Applied || len(res.Runs) != 1 {
				t.Fatalf("after abort: %+v", res)
			}
			run := res.Runs[0]
			if run.State != engine.RunAborted || !strings.HasPrefix(run.Summary, tc.summary) {
				t.Fatalf("run %s: %q", run.State, run.Summary)
			}
			if n := len(f.exec.Calls()); n != calls {
				t.Fatalf("%d steps ran after the abort", n-calls)
			}
			// Approve has nothing to approve in a run waiting for a window.
			o.Decision = DecisionApprove
			if _, err := Run(ctx, o); err == nil || !strings.Contains(err.Error(), "no run waits for an operator") {
				t.Fatalf("approve: %v", err)
			}
		})
	}
}

// A later commit that moves the window moves the run waiting for it; once
// the run succeeds its commit is applied, so the later commit does not run
// the job a second time.
func TestApplyFollowsTheWindowOfTheAppliedCommit(t *testing.T) {
	f, repo, starts := windowApply(t)
	ctx := context.Background()
	if res, err := Run(ctx, applyOpts(f, repo)); err != nil || len(res.Waiting()) != 1 {
		t.Fatalf("first apply: %+v, %v", res, err)
	}
	// c2 moves the window to 00:10-00:40 and changes nothing else.
	repo.commit("c2", map[string]string{"hosts.hcl": applyFleet(3), "jobs.hcl": fmt.Sprintf(windowJob, "10 0 * * *", "")})
	f.clock.Set(at("2026-01-01T00:05:00Z"))
	res, err := Run(ctx, applyOpts(f, repo))
	if err != nil || len(res.Waiting()) != 1 {
		t.Fatalf("before the moved window: %+v, %v", res, err)
	}
	if s := res.Waiting()[0].Summary; s != "wave 1/2 waits for window night (opens 2026-01-01T00:10:00Z)" {
		t.Fatalf("summary %q", s)
	}
	// 00:10: wave 1; the pause ends at 01:10, after the moved window.
	f.clock.Set(at("2026-01-01T00:10:00Z"))
	if res, err = Run(ctx, applyOpts(f, repo)); err != nil || len(res.Waiting()) != 1 {
		t.Fatalf("in the moved window: %+v, %v", res, err)
	}
	f.clock.Set(at("2026-01-02T00:10:00Z"))
	res, err = Run(ctx, applyOpts(f, repo))
	if err != nil || res.Failed() || !res.Applied {
		t.Fatalf("next day: %+v, %v", res, err)
	}
	want := []string{"h01@Jan 1 00:10", "h02@Jan 2 00:10", "h03@Jan 2 00:10"}
	if diff := cmp.Diff(want, starts.sorted()); diff != "" {
		t.Fatalf("step starts (-want +got):\n%s", diff)
	}
	if c, _ := f.store.LastApplied(ctx, "main"); c != "c2" {
		t.Fatalf("last applied %q", c)
	}
	if runs, _ := f.store.ListRuns(ctx, engine.RunFilter{}); len(runs) != 1 {
		t.Fatalf("%d runs, want 1", len(runs))
	}
}

// --retry runs the jobs that failed at the applied commit once more, and
// only those.
func TestApplyRetryRunsTheFailedJobsAgain(t *testing.T) {
	f := newFixture(t)
	repo := &mapRepo{}
	two := fmt.Sprintf(applyJob, "v1") + strings.ReplaceAll(fmt.Sprintf(applyJob, "v1"), `job "app"`, `job "web"`)
	repo.commit("c1", map[string]string{"hosts.hcl": applyFleet(2), "jobs.hcl": two})
	ctx := context.Background()
	// h01 fails its first three steps: app and web at the first apply,
	// app again at the first retry.
	var mu sync.Mutex
	h01 := 0
	f.exec.SetBehave(func(host, step string) engine.StepResult {
		mu.Lock()
		defer mu.Unlock()
		if host == "h01" {
			if h01++; h01 <= 3 {
				return engine.StepResult{Status: engine.StepFailed, Error: "nope"}
			}
		}
		return engine.StepResult{Status: engine.StepOK}
	})
	res, err := Run(ctx, applyOpts(f, repo))
	if err != nil || !res.Failed() || len(res.Runs) != 2 {
		t.Fatalf("first apply: %+v, %v", res, err)
	}
	o := applyOpts(f, repo)
	o.Retry, o.Reason = true, "fixed the mirror"
	res, err = Run(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range res.Runs {
		got = append(got, fmt.Sprintf("%d %s %s", r.ID, r.Job, r.State))
	}
	if diff := cmp.Diff([]string{"3 app failed", "4 web succeeded"}, got); diff != "" {
		t.Fatalf("retried runs (-want +got):\n%s", diff)
	}
	if run, _ := f.store.GetRun(ctx, 4); run.Reason != "ripple apply --retry of run 2 (failed): fixed the mirror" {
		t.Fatalf("reason %q", run.Reason)
	}
	// The next retry runs app only, and the commit is applied.
	res, err = Run(ctx, o)
	if err != nil || res.Failed() || !res.Applied {
		t.Fatalf("second retry: %+v, %v", res, err)
	}
	if len(res.Runs) != 2 || res.Runs[0].ID != 5 || res.Runs[0].Job != "app" || res.Runs[1].ID != 4 {
		t.Fatalf("runs %+v", res.Runs)
	}
	// Nothing left to retry.
	res, err = Run(ctx, o)
	if err != nil || !res.Applied || len(res.Runs) != 0 {
		t.Fatalf("third retry: %+v, %v", res, err)
	}
}

// When a resumed run ends, the jobs its commit had not started yet run at
// that commit, which is then applied: the later commit does not run the
// resumed job a second time.
func TestApplyFinishesTheResumedCommitFirst(t *testing.T) {
	f := newFixture(t)
	web := strings.ReplaceAll(fmt.Sprintf(applyJob, "w1"), `job "app"`, `job "web"`)
	files := func(cron string) map[string]string {
		return map[string]string{"hosts.hcl": applyFleet(3), "jobs.hcl": fmt.Sprintf(windowJob, cron, "") + web}
	}
	repo := &mapRepo{}
	repo.commit("c1", files("0 1 * * *"))
	ctx := context.Background()
	if res, err := Run(ctx, applyOpts(f, repo)); err != nil || len(res.Waiting()) != 1 || len(f.exec.Calls()) != 0 {
		t.Fatalf("first apply: %+v, %v", res, err)
	}
	repo.commit("c2", files("0 5 * * *"))
	f.clock.Set(at("2026-01-01T05:00:00Z"))
	res, err := Run(ctx, applyOpts(f, repo))
	if err != nil || len(res.Waiting()) != 1 { // the pause outlasts the window
		t.Fatalf("in the window: %+v, %v", res, err)
	}
	f.clock.Set(at("2026-01-02T05:00:00Z"))
	res, err = Run(ctx, applyOpts(f, repo))
	if err != nil || res.Failed() || !res.Applied {
		t.Fatalf("next day: %+v, %v", res, err)
	}
	var got []string
	runs, _ := f.store.ListRuns(ctx, engine.RunFilter{})
	for _, r := range runs {
		got = append(got, fmt.Sprintf("%d %s %s %s", r.ID, r.Job, r.Commit, r.State))
	}
	if diff := cmp.Diff([]string{"2 web c1 succeeded", "1 app c1 succeeded"}, got); diff != "" {
		t.Fatalf("runs (-want +got):\n%s", diff)
	}
	if n := len(f.exec.Calls()); n != 6 {
		t.Fatalf("%d steps ran, want 6", n)
	}
	if c, _ := f.store.LastApplied(ctx, "main"); c != "c2" {
		t.Fatalf("last applied %q", c)
	}
}
