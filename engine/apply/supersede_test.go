package apply

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/ripple-ops/ripple/engine"
)

// A later commit that changes the job of a run waiting for its window
// supersedes the run (as a new Nomad job version replaces a deployment in
// progress): the run ends without its on_failure policy, and the job rolls
// out at the later commit, on every host, from wave 1.
func TestApplySupersedesARunWaitingForItsWindow(t *testing.T) {
	f := newFixture(t)
	job := func(version string) map[string]string {
		j := strings.Replace(fmt.Sprintf(windowJob, "0 1 * * *", ""), "echo v1", "echo "+version, 1)
		return map[string]string{"hosts.hcl": applyFleet(3), "jobs.hcl": j}
	}
	repo := &mapRepo{}
	repo.commit("c1", job("v1"))
	ctx := context.Background()
	starts := &stepStarts{}
	f.exec.SetBehave(starts.behave(f))
	// 01:00: wave 1 at c1; the pause outlasts the window.
	f.clock.Set(at("2026-01-01T01:00:00Z"))
	if res, err := Run(ctx, applyOpts(f, repo)); err != nil || len(res.Waiting()) != 1 {
		t.Fatalf("c1: %+v, %v", res, err)
	}
	// c2 changes the step: run 1 is superseded, run 2 waits for the window.
	repo.commit("c2", job("v2"))
	f.clock.Set(at("2026-01-01T03:00:00Z"))
	res, err := Run(ctx, applyOpts(f, repo))
	if err != nil || len(res.Waiting()) != 1 || res.Waiting()[0].ID != 2 {
		t.Fatalf("c2: %+v, %v", res, err)
	}
	if !containsNote(res.Notes, "run 1 of app at c1 superseded by c2 (the job changed)") {
		t.Fatalf("notes %q", res.Notes)
	}
	run1, _ := f.store.GetRun(ctx, 1)
	if run1.State != engine.RunAborted || run1.Summary != "superseded by c2 (the job changed)" {
		t.Fatalf("run 1 %s: %q", run1.State, run1.Summary)
	}
	if st := f.store.Status("c1", "app"); st.State != "failure" || st.Description != run1.Summary {
		t.Fatalf("status of c1: %+v", st)
	}
	if c, _ := f.store.LastApplied(ctx, "main"); c != "c1" {
		t.Fatalf("last applied %q, want c1 (its only job is superseded)", c)
	}
	// Next day 01:00: run 2 rolls v2 out on every host.
	f.clock.Set(at("2026-01-02T01:00:00Z"))
	res, err = Run(ctx, applyOpts(f, repo))
	if err != nil || len(res.Waiting()) != 1 {
		t.Fatalf("next day: %+v, %v", res, err)
	}
	f.clock.Set(at("2026-01-03T01:00:00Z"))
	if res, err = Run(ctx, applyOpts(f, repo)); err != nil || res.Failed() || !res.Applied {
		t.Fatalf("day after: %+v, %v", res, err)
	}
	want := []string{"h01@Jan 1 01:00", "h01@Jan 2 01:00", "h02@Jan 3 01:00", "h03@Jan 3 01:00"}
	if diff := cmp.Diff(want, starts.sorted()); diff != "" {
		t.Fatalf("step starts (-want +got):\n%s", diff)
	}
	if c, _ := f.store.LastApplied(ctx, "main"); c != "c2" {
		t.Fatalf("last applied %q", c)
	}
}

// A later commit that changes another job, or only the window, does not
// supersede the waiting run.
func TestApplyDoesNotSupersedeForOtherChanges(t *testing.T) {
	f := newFixture(t)
	repo := windowRepo("0 1 * * *", "")
	ctx := context.Background()
	if res, err := Run(ctx, applyOpts(f, repo)); err != nil || len(res.Waiting()) != 1 {
		t.Fatalf("c1: %+v, %v", res, err)
	}
	files := map[string]string{"hosts.hcl": applyFleet(3), "jobs.hcl": fmt.Sprintf(windowJob, "0 2 * * *", "") +
		strings.ReplaceAll(fmt.Sprintf(applyJob, "w1"), `job "app"`, `job "web"`)}
	repo.commit("c2", files)
	res, err := Run(ctx, applyOpts(f, repo))
	if err != nil || len(res.Waiting()) != 1 || res.Waiting()[0].ID != 1 {
		t.Fatalf("c2: %+v, %v", res, err)
	}
	if s := res.Waiting()[0].Summary; s != "wave 1/2 waits for window night (opens 2026-01-01T02:00:00Z)" {
		t.Fatalf("summary %q", s)
	}
}

func containsNote(notes []string, want string) bool {
	for _, n := range notes {
		if n == want {
			return true
		}
	}
	return false
}

// While a run waits for its window, a later commit's change to another job
// runs at once (as Argo CD syncs one application while another waits); the
// waiting run's commit and the later one are recorded as applied once the
// run ends, and no job runs twice.
func TestApplyRunsOtherJobsAheadOfAWaitingRun(t *testing.T) {
	f, repo, starts := windowApply(t)
	ctx := context.Background()
	// 00:00, c1: app waits for its window at 01:00.
	if res, err := Run(ctx, applyOpts(f, repo)); err != nil || len(res.Waiting()) != 1 {
		t.Fatalf("c1: %+v, %v", res, err)
	}
	// 00:10, c2 adds job web: it runs now, app still waits.
	web := strings.ReplaceAll(fmt.Sprintf(applyJob, "w1"), `job "app"`, `job "web"`)
	repo.commit("c2", map[string]string{"hosts.hcl": applyFleet(3), "jobs.hcl": fmt.Sprintf(windowJob, "0 1 * * *", "") + web})
	f.clock.Set(at("2026-01-01T00:10:00Z"))
	res, err := Run(ctx, applyOpts(f, repo))
	if err != nil || len(res.Waiting()) != 1 || res.Waiting()[0].Job != "app" || res.Failed() || res.Applied {
		t.Fatalf("c2: %+v, %v", res, err)
	}
	if !containsNote(res.Notes, "web ran at c2 ahead of the waiting runs") {
		t.Fatalf("notes %q", res.Notes)
	}
	if c, _ := f.store.LastApplied(ctx, "main"); c != "" {
		t.Fatalf("last applied %q while app waits", c)
	}
	// 01:00: app's window; the pause takes it to 02:00, when the window
	// is closed: the next day finishes it, and c1 and c2 are applied.
	for _, now := range []string{"2026-01-01T01:00:00Z", "2026-01-02T01:00:00Z"} {
		f.clock.Set(at(now))
		if res, err = Run(ctx, applyOpts(f, repo)); err != nil || res.Failed() {
			t.Fatalf("%s: %+v, %v", now, res, err)
		}
	}
	if !res.Applied {
		t.Fatalf("after app ended: %+v", res)
	}
	if c, _ := f.store.LastApplied(ctx, "main"); c != "c2" {
		t.Fatalf("last applied %q, want c2", c)
	}
	want := []string{"h01@Jan 1 00:10", "h01@Jan 1 01:00", "h02@Jan 1 00:10", "h02@Jan 2 01:00", "h03@Jan 1 00:10", "h03@Jan 2 01:00"}
	if diff := cmp.Diff(want, starts.sorted()); diff != "" {
		t.Fatalf("step starts, each job once per host (-want +got):\n%s", diff)
	}
}

// A job that the waiting run's commit changes too waits behind that run:
// running the later version first would let the older one land last.
func TestApplyHoldsBackJobsTheWaitingCommitChanges(t *testing.T) {
	f := newFixture(t)
	web := func(v string) string { return strings.ReplaceAll(fmt.Sprintf(applyJob, v), `job "app"`, `job "web"`) }
	repo := &mapRepo{}
	repo.commit("c1", map[string]string{"hosts.hcl": applyFleet(3), "jobs.hcl": fmt.Sprintf(windowJob, "0 1 * * *", "") + web("w1")})
	ctx := context.Background()
	starts := &stepStarts{}
	f.exec.SetBehave(starts.behave(f))
	// c1: app waits for its window; web (after app in name order) waits
	// behind it, as it always has within one commit.
	if res, err := Run(ctx, applyOpts(f, repo)); err != nil || len(res.Waiting()) != 1 {
		t.Fatalf("c1: %+v, %v", res, err)
	}
	// c2 changes web again: c1 changed it too, so it stays behind app.
	repo.commit("c2", map[string]string{"hosts.hcl": applyFleet(3), "jobs.hcl": fmt.Sprintf(windowJob, "0 1 * * *", "") + web("w2")})
	f.clock.Set(at("2026-01-01T00:10:00Z"))
	res, err := Run(ctx, applyOpts(f, repo))
	if err != nil || len(res.Waiting()) != 1 || len(starts.sorted()) != 0 {
		t.Fatalf("c2: %+v, %v, starts %q", res, err, starts.sorted())
	}
	if !containsNote(res.Notes, "web waits behind the waiting run at c1") {
		t.Fatalf("notes %q", res.Notes)
	}
}

// A job that ran ahead and waits in turn does not make the earlier commit's
// job run twice: when the earlier run ends, its commit is applied even
// though the later run still waits, and the later commit is planned from
// it once that run ends.
func TestApplyJobAheadWaitingDoesNotRunTheEarlierJobTwice(t *testing.T) {
	f, repo, starts := windowApply(t)
	ctx := context.Background()
	if res, err := Run(ctx, applyOpts(f, repo)); err != nil || len(res.Waiting()) != 1 {
		t.Fatalf("c1: %+v, %v", res, err)
	}
	// c2 adds web, in its own window at 05:00: it goes ahead and waits.
	web := `
window "late" {
  cron     = "0 5 * * *"
  duration = "30m"
}
job "web" {
  targets { groups = ["all"] }
  window = "late"
  step "one" { run = "echo w1" }
}
`
	repo.commit("c2", map[string]string{"hosts.hcl": applyFleet(3), "jobs.hcl": fmt.Sprintf(windowJob, "0 1 * * *", "") + web})
	f.clock.Set(at("2026-01-01T00:10:00Z"))
	if res, err := Run(ctx, applyOpts(f, repo)); err != nil || len(res.Waiting()) != 2 {
		t.Fatalf("c2: %+v, %v", res, err)
	}
	// app: wave 1 on Jan 1 at 01:00, wave 2 on Jan 2 at 01:00, when c1 is
	// applied while web still waits; web runs at 05:00 and c2 is applied.
	for _, now := range []string{"2026-01-01T01:00:00Z", "2026-01-02T01:00:00Z"} {
		f.clock.Set(at(now))
		if res, err := Run(ctx, applyOpts(f, repo)); err != nil || res.Failed() {
			t.Fatalf("%s: %+v, %v", now, res, err)
		}
	}
	if c, _ := f.store.LastApplied(ctx, "main"); c != "c1" {
		t.Fatalf("last applied %q after app ended, want c1", c)
	}
	f.clock.Set(at("2026-01-02T05:00:00Z"))
	res, err := Run(ctx, applyOpts(f, repo))
	if err != nil || !res.Applied || res.Failed() {
		t.Fatalf("05:00: %+v, %v", res, err)
	}
	if c, _ := f.store.LastApplied(ctx, "main"); c != "c2" {
		t.Fatalf("last applied %q, want c2", c)
	}
	want := []string{"h01@Jan 1 01:00", "h01@Jan 2 05:00", "h02@Jan 2 01:00", "h02@Jan 2 05:00", "h03@Jan 2 01:00", "h03@Jan 2 05:00"}
	if diff := cmp.Diff(want, starts.sorted()); diff != "" {
		t.Fatalf("step starts, each job once per host (-want +got):\n%s", diff)
	}
}
