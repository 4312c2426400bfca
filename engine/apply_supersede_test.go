package engine

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// A later commit that changes the job of a run waiting for its window
// supersedes the run (as a new Nomad job version replaces a deployment in
// progress): the run ends without its on_failure policy, and the job rolls
// out at the later commit, on every host, from wave 1.
func TestApplySupersedesARunWaitingForItsWindow(t *testing.T) {
	f := newFixture(t, 0)
	job := func(version string) map[string]string {
		j := strings.Replace(fmt.Sprintf(windowJob, "0 1 * * *", ""), "echo v1", "echo "+version, 1)
		return map[string]string{"hosts.hcl": applyFleet(3), "jobs.hcl": j}
	}
	repo := &mapRepo{}
	repo.commit("c1", job("v1"))
	ctx := context.Background()
	starts := &stepStarts{}
	f.exec.behave = starts.behave(f)
	// 01:00: wave 1 at c1; the pause outlasts the window.
	f.clock.set(at("2026-01-01T01:00:00Z"))
	if res, err := Apply(ctx, applyOpts(f, repo)); err != nil || len(res.Waiting()) != 1 {
		t.Fatalf("c1: %+v, %v", res, err)
	}
	// c2 changes the step: run 1 is superseded, run 2 waits for the window.
	repo.commit("c2", job("v2"))
	f.clock.set(at("2026-01-01T03:00:00Z"))
	res, err := Apply(ctx, applyOpts(f, repo))
	if err != nil || len(res.Waiting()) != 1 || res.Waiting()[0].ID != 2 {
		t.Fatalf("c2: %+v, %v", res, err)
	}
	if !containsNote(res.Notes, "run 1 of app at c1 superseded by c2 (the job changed)") {
		t.Fatalf("notes %q", res.Notes)
	}
	run1, _ := f.store.GetRun(ctx, 1)
	if run1.State != RunAborted || run1.Summary != "superseded by c2 (the job changed)" {
		t.Fatalf("run 1 %s: %q", run1.State, run1.Summary)
	}
	if st := f.store.status("c1", "app"); st.State != "failure" || st.Description != run1.Summary {
		t.Fatalf("status of c1: %+v", st)
	}
	if c, _ := f.store.LastApplied(ctx, "main"); c != "c1" {
		t.Fatalf("last applied %q, want c1 (its only job is superseded)", c)
	}
	// Next day 01:00: run 2 rolls v2 out on every host.
	f.clock.set(at("2026-01-02T01:00:00Z"))
	res, err = Apply(ctx, applyOpts(f, repo))
	if err != nil || len(res.Waiting()) != 1 {
		t.Fatalf("next day: %+v, %v", res, err)
	}
	f.clock.set(at("2026-01-03T01:00:00Z"))
	if res, err = Apply(ctx, applyOpts(f, repo)); err != nil || res.Failed() || !res.Applied {
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
	f := newFixture(t, 0)
	repo := windowRepo("0 1 * * *", "")
	ctx := context.Background()
	if res, err := Apply(ctx, applyOpts(f, repo)); err != nil || len(res.Waiting()) != 1 {
		t.Fatalf("c1: %+v, %v", res, err)
	}
	files := map[string]string{"hosts.hcl": applyFleet(3), "jobs.hcl": fmt.Sprintf(windowJob, "0 2 * * *", "") +
		strings.ReplaceAll(fmt.Sprintf(applyJob, "w1"), `job "app"`, `job "web"`)}
	repo.commit("c2", files)
	res, err := Apply(ctx, applyOpts(f, repo))
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
