package rollout

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"

	"github.com/ripple-ops/ripple/definitions"
	"github.com/ripple-ops/ripple/engine"
	"github.com/ripple-ops/ripple/engine/convergence"
	"github.com/ripple-ops/ripple/engine/enginetest"
)

func TestWavesRunInOrderWithStepsInOrder(t *testing.T) {
	f := newFixture(t, 20)
	f.exec.Delay = time.Millisecond
	run := f.runOnce(1, 2, 10, 7)
	if run.State != engine.RunSucceeded {
		t.Fatalf("state %s (%s), want succeeded", run.State, run.Error)
	}
	waveOf := map[string]int{}
	for w, hosts := range run.Waves {
		for _, h := range hosts {
			waveOf[h] = w
		}
	}
	calls := f.exec.Calls()
	if len(calls) != 40 {
		t.Fatalf("%d calls, want 40", len(calls))
	}
	// Every call of wave w comes before every call of wave w+1, and on each
	// host "one" comes before "two".
	lastWave := 0
	seen := map[string][]string{}
	for _, c := range calls {
		w := waveOf[c.Host]
		if w < lastWave {
			t.Fatalf("call %d on %s (wave %d) after wave %d started", c.Seq, c.Host, w+1, lastWave+1)
		}
		lastWave = w
		seen[c.Host] = append(seen[c.Host], c.Step)
	}
	for h, steps := range seen {
		if diff := cmp.Diff([]string{"one", "two"}, steps); diff != "" {
			t.Errorf("steps on %s (-want +got):\n%s", h, diff)
		}
	}
	if st := f.store.Status(run.Commit, "app"); st.State != "success" || st.Description != "20/20 hosts ok in 4 waves" {
		t.Errorf("final status %+v", st)
	}
	steps, _ := f.store.HostSteps(context.Background(), run.ID)
	for _, hs := range steps {
		if hs.Phase != engine.PhaseFinished {
			t.Errorf("row %+v not finished", hs)
		}
	}
	// Statuses on state changes only: queued, per wave start and end, final.
	var pending []string
	for _, st := range f.store.StatusLog() {
		if st.State == "pending" {
			pending = append(pending, st.Description)
		}
	}
	want := []string{"queued: 20 hosts in 4 waves",
		"wave 1/4: 0/20 hosts ok", "wave 1/4: 1/20 hosts ok",
		"wave 2/4: 1/20 hosts ok", "wave 2/4: 3/20 hosts ok",
		"wave 3/4: 3/20 hosts ok", "wave 3/4: 13/20 hosts ok",
		"wave 4/4: 13/20 hosts ok", "wave 4/4: 20/20 hosts ok"}
	if diff := cmp.Diff(want, pending); diff != "" {
		t.Errorf("pending statuses (-want +got):\n%s", diff)
	}
}

func TestMaxParallelNeverExceeded(t *testing.T) {
	for _, limit := range []int{1, 3, 8} {
		t.Run(fmt.Sprint(limit), func(t *testing.T) {
			f := newFixture(t, 24)
			f.job.Rollout.MaxParallel = limit
			f.exec.Delay = 2 * time.Millisecond
			if run := f.runOnce(4, 20); run.State != engine.RunSucceeded {
				t.Fatalf("state %s: %s", run.State, run.Error)
			}
			if f.exec.MaxConcurrent() > limit {
				t.Fatalf("%d steps at once, max_parallel %d", f.exec.MaxConcurrent(), limit)
			}
			if limit > 1 && f.exec.MaxConcurrent() < 2 {
				t.Fatalf("no parallelism seen (max %d)", f.exec.MaxConcurrent())
			}
		})
	}
}

func TestFailedStepStopsTheHost(t *testing.T) {
	f := newFixture(t, 4)
	f.job.Rollout.MaxFailures = definitions.Budget{Count: 1}
	f.exec.SetBehave(func(host, step string) engine.StepResult {
		if host == "h02" && step == "one" {
			return engine.StepResult{Status: engine.StepFailed, ExitCode: 3, Error: "exit 3"}
		}
		return engine.StepResult{Status: engine.StepOK}
	})
	run := f.runOnce(4)
	if run.State != engine.RunSucceeded {
		t.Fatalf("state %s (%s): one failure is within max_failures 1", run.State, run.Error)
	}
	if n := f.exec.Count("h02", "two"); n != 0 {
		t.Fatalf("step two ran %d times on the host that failed step one", n)
	}
	if n := f.exec.Count("h03", "two"); n != 1 {
		t.Fatalf("step two ran %d times on h03", n)
	}
}

func TestFailureBudget(t *testing.T) {
	fail := func(st engine.StepStatus) engine.StepResult {
		return engine.StepResult{Status: st, ExitCode: -1, Error: string(st)}
	}
	cases := []struct {
		name     string
		budget   definitions.Budget
		failing  map[string]engine.StepStatus // in wave 2 (h02..h11)
		wantFail bool
	}{
		{"zero budget, no failure", definitions.Budget{}, nil, false},
		{"zero budget, one failure", definitions.Budget{}, map[string]engine.StepStatus{"h05": engine.StepFailed}, true},
		{"count 2, two failures", definitions.Budget{Count: 2}, map[string]engine.StepStatus{"h05": engine.StepFailed, "h06": engine.StepTimeout}, false},
		{"count 2, three failures", definitions.Budget{Count: 2}, map[string]engine.StepStatus{"h05": engine.StepFailed, "h06": engine.StepTimeout, "h07": engine.StepUnreachable}, true},
		{"20% equalled", definitions.Budget{Percent: 20, IsPercent: true}, map[string]engine.StepStatus{"h05": engine.StepUnreachable, "h06": engine.StepFailed}, false},
		{"20% exceeded", definitions.Budget{Percent: 20, IsPercent: true}, map[string]engine.StepStatus{"h05": engine.StepUnreachable, "h06": engine.StepFailed, "h07": engine.StepTimeout}, true},
		{"unreachable counts", definitions.Budget{}, map[string]engine.StepStatus{"h09": engine.StepUnreachable}, true},
		{"timeout counts", definitions.Budget{}, map[string]engine.StepStatus{"h09": engine.StepTimeout}, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, 21)
			f.job.Rollout.MaxFailures = tc.budget
			f.job.Rollout.MaxParallel = 3
			f.exec.SetBehave(func(host, step string) engine.StepResult {
				if st, ok := tc.failing[host]; ok && step == "one" {
					return fail(st)
				}
				return engine.StepResult{Status: engine.StepChanged}
			})
			run := f.runOnce(1, 10, 10)
			if got := run.State == engine.RunFailed; got != tc.wantFail {
				t.Fatalf("state %s (%s), want failed=%v", run.State, run.Error, tc.wantFail)
			}
			wave3Touched := f.exec.Count("h12", "one") > 0
			if tc.wantFail {
				if wave3Touched {
					t.Fatal("wave 3 ran after wave 2 exceeded its budget")
				}
				if !strings.Contains(run.Error, "wave 2/3 failed") {
					t.Fatalf("error %q does not name the wave", run.Error)
				}
				// An unreachable host ran nothing: nothing to roll back there.
				reached := 11
				for _, st := range tc.failing {
					if st == engine.StepUnreachable {
						reached--
					}
				}
				if st := f.store.Status(run.Commit, "app"); st.State != "failure" || utf8.RuneCountInString(st.Description) > 140 ||
					!strings.HasSuffix(st.Description, fmt.Sprintf("; nothing to roll back on %d hosts (no rollback steps, no file backups)", reached)) {
					t.Fatalf("status %+v", st)
				}
			} else if !wave3Touched {
				t.Fatal("wave 3 did not run although wave 2 stayed within budget")
			}
		})
	}
}

func TestCanaryFailureRollsBackOnlyTheCanary(t *testing.T) {
	f := newFixture(t, 20)
	f.job.Rollback = []*definitions.Step{runStep(t, "undo")}
	f.exec.SetBehave(func(host, step string) engine.StepResult {
		if step == "two" {
			return engine.StepResult{Status: engine.StepFailed, ExitCode: 1, Error: "nginx: config test failed"}
		}
		return engine.StepResult{Status: engine.StepOK}
	})
	run := f.runOnce(1, 19)
	if run.State != engine.RunFailed {
		t.Fatalf("state %s", run.State)
	}
	if diff := cmp.Diff([]string{"h01"}, f.exec.HostsTouched()); diff != "" {
		t.Fatalf("hosts touched (-want +got):\n%s", diff)
	}
	var steps []string
	for _, c := range f.exec.Calls() {
		steps = append(steps, c.Step)
	}
	if diff := cmp.Diff([]string{"one", "two", "undo"}, steps); diff != "" {
		t.Fatalf("calls on the canary (-want +got):\n%s", diff)
	}
	for _, want := range []string{"wave 1/2 failed", "h01: step two failed: nginx: config test failed", "rolled back 1 host ("} {
		if !strings.Contains(run.Error, want) {
			t.Errorf("error %q lacks %q", run.Error, want)
		}
	}
}

func TestRollbackRestoresFileBackupsWithoutRollbackBlock(t *testing.T) {
	f := newFixture(t, 3)
	f.job.Steps = []*definitions.Step{
		{Name: "conf", Kind: definitions.StepFile, File: &definitions.FileStep{Source: "a", Destination: "/etc/a"}},
		{Name: "conf2", Kind: definitions.StepFile, File: &definitions.FileStep{Source: "b", Destination: "/etc/b"}},
		runStep(t, "reload"),
	}
	f.defs.FS = enginetest.MapFS(map[string]string{"a": "A", "b": "B"})
	f.exec.SetBehave(func(host, step string) engine.StepResult {
		switch {
		case step == "conf":
			return engine.StepResult{Status: engine.StepChanged, Backup: &engine.Backup{Destination: "/etc/a", Path: "/etc/.a.bak", Existed: true}}
		case step == "conf2" && host == "h02":
			return engine.StepResult{Status: engine.StepUnchanged} // nothing written: nothing to restore
		case step == "conf2":
			return engine.StepResult{Status: engine.StepChanged, Backup: &engine.Backup{Destination: "/etc/b"}}
		case host == "h03":
			return engine.StepResult{Status: engine.StepFailed, Error: "reload failed"}
		}
		return engine.StepResult{Status: engine.StepOK}
	})
	run := f.runOnce(2, 1)
	if run.State != engine.RunFailed {
		t.Fatalf("state %s", run.State)
	}
	var restores []string
	for _, c := range f.exec.Calls() {
		if c.Restore {
			restores = append(restores, c.Host+":"+c.Backup.Destination)
		}
	}
	slices.Sort(restores)
	want := []string{"h01:/etc/a", "h01:/etc/b", "h02:/etc/a", "h03:/etc/a", "h03:/etc/b"}
	if diff := cmp.Diff(want, restores); diff != "" {
		t.Fatalf("restores (-want +got):\n%s", diff)
	}
	// Last step first on each host.
	var h01 []string
	for _, c := range f.exec.Calls() {
		if c.Restore && c.Host == "h01" {
			h01 = append(h01, c.Backup.Destination)
		}
	}
	if diff := cmp.Diff([]string{"/etc/b", "/etc/a"}, h01); diff != "" {
		t.Fatalf("restore order on h01 (-want +got):\n%s", diff)
	}
}

func TestHaltStopsWithoutRollback(t *testing.T) {
	f := newFixture(t, 5)
	f.job.Rollout.OnFailure = "halt"
	f.job.Rollback = []*definitions.Step{runStep(t, "undo")}
	f.exec.SetBehave(func(host, step string) engine.StepResult {
		if host == "h02" {
			return engine.StepResult{Status: engine.StepUnreachable, Error: "dial: connection refused"}
		}
		return engine.StepResult{Status: engine.StepOK}
	})
	run := f.runOnce(1, 4)
	if run.State != engine.RunFailed || !strings.HasSuffix(run.Error, "halted") {
		t.Fatalf("state %s error %q", run.State, run.Error)
	}
	for _, c := range f.exec.Calls() {
		if c.Step == "undo" {
			t.Fatalf("rollback step ran under halt: %+v", c)
		}
	}
}

func TestGateTurningCriticalFailsWithinDeadline(t *testing.T) {
	f := newFixture(t, 10)
	f.addGate(30*time.Second, 2*time.Minute)
	f.job.Rollback = []*definitions.Step{runStep(t, "undo")}
	var mu sync.Mutex
	var brokenAt time.Time
	f.exec.SetBehave(func(host, step string) engine.StepResult {
		mu.Lock()
		defer mu.Unlock()
		if host == "h01" && step == "two" {
			brokenAt = f.clock.Now()
		}
		return engine.StepResult{Status: engine.StepOK}
	})
	f.checker.SetState(func(_, host string, now time.Time) engine.CheckState {
		mu.Lock()
		defer mu.Unlock()
		if host == "h01" && !brokenAt.IsZero() && now.Sub(brokenAt) > 10*time.Second {
			return engine.StateCritical
		}
		return engine.StateOK
	})
	run := f.runOnce(1, 9)
	if run.State != engine.RunFailed {
		t.Fatalf("state %s: %s", run.State, run.Error)
	}
	if !strings.Contains(run.Error, "health gate") || !strings.Contains(run.Error, "health@h01 CRITICAL") {
		t.Fatalf("error %q", run.Error)
	}
	if took := run.Finished.Sub(brokenAt); took > 2*time.Minute+time.Second {
		t.Fatalf("gate failed %s after the wave, healthy_deadline 2m", took)
	}
	if f.exec.Count("h02", "one") != 0 {
		t.Fatal("wave 2 ran after the gate failed")
	}
	if f.exec.Count("h01", "undo") != 1 {
		t.Fatal("rollback did not run on the canary")
	}
}

func TestGateWaitsMinHealthyTime(t *testing.T) {
	f := newFixture(t, 4)
	f.addGate(30*time.Second, 5*time.Minute)
	var mu sync.Mutex
	var waveEnd time.Time
	f.exec.SetBehave(func(host, step string) engine.StepResult {
		mu.Lock()
		defer mu.Unlock()
		waveEnd = f.clock.Now()
		return engine.StepResult{Status: engine.StepOK}
	})
	// Flaps once, early: the continuous-OK timer must restart after it.
	f.checker.SetState(func(_, host string, now time.Time) engine.CheckState {
		mu.Lock()
		defer mu.Unlock()
		if d := now.Sub(waveEnd); d >= 10*time.Second && d < 12*time.Second {
			return engine.StateWarning
		}
		return engine.StateOK
	})
	start := f.clock.Now()
	run := f.runOnce(2, 2)
	if run.State != engine.RunSucceeded {
		t.Fatalf("state %s: %s", run.State, run.Error)
	}
	// Each wave's gate needs 30s of OK after the flap at ~10s.
	if took := run.Finished.Sub(start); took < 2*30*time.Second {
		t.Fatalf("run took %s of virtual time; two gates of 30s min_healthy_time", took)
	}
}

// A host failing its gate before the run counts like any other: named in
// the run's start (event and progress), and failing the wave when it is
// still not healthy at the deadline and the budget is exceeded.
func TestGateCountsHostsFailingBeforeTheRun(t *testing.T) {
	f := newFixture(t, 6)
	f.addGate(10*time.Second, time.Minute)
	f.checker.SetState(func(_, host string, _ time.Time) engine.CheckState {
		if host == "h04" {
			return engine.StateCritical // broken before and after
		}
		return engine.StateOK
	})
	run := f.runOnce(1, 5)
	if run.State != engine.RunFailed || !strings.Contains(run.Error, "wave 2/2 failed") ||
		!strings.Contains(run.Error, "by the health gate") || !strings.Contains(run.Error, "health@h04 CRITICAL") {
		t.Fatalf("state %s: %s", run.State, run.Error)
	}
	ev, _ := f.store.Events(context.Background(), run.ID)
	base, ok := eventLog(ev).find(engine.EventGateBaseline)
	if !ok || base.Reason != "health@h04" {
		t.Fatalf("baseline event %+v", base)
	}
	if got := base.Text(); !strings.Contains(got, "1 gate check already failing before the first wave (they count): health@h04") {
		t.Errorf("baseline event text %q", got)
	}
	var reported bool
	for _, e := range f.events.Events() {
		if e.Kind == engine.ProgressGate && strings.Contains(e.Message, "already failing before the run (they count") && strings.Contains(e.Message, "health@h04") {
			reported = true
		}
	}
	if !reported {
		t.Fatal("the pre-existing gate failure on h04 was not reported at the start")
	}
	gate, ok := eventLog(ev).find(engine.EventGateFailed)
	if !ok || !strings.Contains(gate.Reason, "h04: health@h04 CRITICAL") {
		t.Fatalf("gate_failed event %+v", gate)
	}
}

// Within max_failures, a host still failing at the deadline does not fail
// the wave; it is recorded out of sync (failed by the gate), the others
// synced.
func TestGateFailureWithinBudgetIsRecordedFailed(t *testing.T) {
	f := newFixture(t, 6)
	f.addGate(10*time.Second, time.Minute)
	f.job.Rollout.MaxFailures = definitions.Budget{Count: 1}
	f.checker.SetState(func(_, host string, _ time.Time) engine.CheckState {
		if host == "h04" {
			return engine.StateCritical
		}
		return engine.StateOK
	})
	run := f.runOnce(1, 5)
	if run.State != engine.RunSucceeded {
		t.Fatalf("state %s: %s", run.State, run.Error)
	}
	recs, err := f.store.HostSyncs(context.Background(), "app")
	if err != nil || len(recs) != 6 {
		t.Fatalf("%d sync records, %v", len(recs), err)
	}
	desired := definitions.NewFingerprints(f.defs).Job("app")
	for _, rec := range recs {
		st := convergence.DeriveSync(desired[rec.Host], f.defs.Commit, rec)
		want := engine.SyncSynced
		if rec.Host == "h04" {
			want = engine.SyncOutOfSync
			if st.Reason != engine.ReasonFailed || !strings.Contains(st.Detail, "health gate: health@h04 CRITICAL") {
				t.Errorf("h04: %+v", st)
			}
		}
		if st.State != want {
			t.Errorf("%s: %s, want %s", rec.Host, st.State, want)
		}
	}
}

// A first deploy whose absence makes every gate check fail: the gate
// waits, and passes once the deploy fixed the hosts.
func TestGateWaitsForTheDeployToFixHosts(t *testing.T) {
	f := newFixture(t, 4)
	f.addGate(10*time.Second, 2*time.Minute)
	var mu sync.Mutex
	deployed := map[string]bool{}
	f.exec.SetBehave(func(host, step string) engine.StepResult {
		mu.Lock()
		defer mu.Unlock()
		if step == "two" {
			deployed[host] = true
		}
		return engine.StepResult{Status: engine.StepOK}
	})
	f.checker.SetState(func(_, host string, _ time.Time) engine.CheckState {
		mu.Lock()
		defer mu.Unlock()
		if deployed[host] {
			return engine.StateOK
		}
		return engine.StateCritical
	})
	start := f.clock.Now()
	run := f.runOnce(1, 3)
	if run.State != engine.RunSucceeded {
		t.Fatalf("state %s: %s", run.State, run.Error)
	}
	if took := run.Finished.Sub(start); took < 2*10*time.Second {
		t.Fatalf("run took %s of virtual time; two gates of 10s", took)
	}
	ev, _ := f.store.Events(context.Background(), run.ID)
	if base, _ := eventLog(ev).find(engine.EventGateBaseline); strings.Count(base.Reason, "health@") != 4 {
		t.Errorf("baseline %q, want all 4 hosts failing before the run", base.Reason)
	}
}

func TestApproveContinues(t *testing.T) {
	f := newFixture(t, 6)
	f.job.Rollout.ApproveAfter = 1
	r := f.rollout()
	run := f.submit(r, f.waves(1, 5))
	done := make(chan *engine.Run)
	go func() { done <- f.execute(r, run.ID) }()
	waitState(t, f.store, run.ID, engine.RunWaitingApproval)
	if n := len(f.exec.Calls()); n != 2 {
		t.Fatalf("%d calls before approval, want the canary's 2", n)
	}
	if st := f.store.Status(run.Commit, "app"); st.State != "pending" || !strings.Contains(st.Description, "waiting for approval") {
		t.Fatalf("status while waiting: %+v", st)
	}
	if err := r.Approve(context.Background(), run.ID, "alice", "canary looks fine"); err != nil {
		t.Fatal(err)
	}
	got := <-done
	if got.State != engine.RunSucceeded || len(f.exec.Calls()) != 12 {
		t.Fatalf("state %s, %d calls", got.State, len(f.exec.Calls()))
	}
	ev, _ := f.store.Events(context.Background(), run.ID)
	e, ok := eventLog(ev).find(engine.EventApprove)
	if !ok || e.Actor != "alice" || e.Reason != "canary looks fine" {
		t.Fatalf("approve event %+v", e)
	}
}

func TestAbortWhileWaitingRollsBack(t *testing.T) {
	f := newFixture(t, 6)
	f.job.Rollout.ApproveAfter = 2
	f.job.Rollback = []*definitions.Step{runStep(t, "undo")}
	r := f.rollout()
	run := f.submit(r, f.waves(1, 2, 3))
	done := make(chan *engine.Run)
	go func() { done <- f.execute(r, run.ID) }()
	waitState(t, f.store, run.ID, engine.RunWaitingApproval)
	if err := r.Abort(context.Background(), run.ID, "bob", "wrong config"); err != nil {
		t.Fatal(err)
	}
	got := <-done
	if got.State != engine.RunAborted || !strings.Contains(got.Error, "aborted by bob: wrong config") {
		t.Fatalf("state %s error %q", got.State, got.Error)
	}
	for _, h := range []string{"h01", "h02", "h03"} {
		if f.exec.Count(h, "undo") != 1 {
			t.Errorf("no rollback on %s", h)
		}
	}
	if f.exec.Count("h04", "one") != 0 {
		t.Error("wave 3 ran after abort")
	}
}

func TestAbortStopsBetweenHosts(t *testing.T) {
	f := newFixture(t, 6)
	f.job.Rollout.MaxParallel = 1
	f.job.Rollout.OnFailure = "halt"
	f.exec.Started = make(chan string, 100)
	f.exec.Block = make(chan struct{})
	r := f.rollout()
	run := f.submit(r, f.waves(6))
	done := make(chan *engine.Run)
	go func() { done <- f.execute(r, run.ID) }()
	if got := <-f.exec.Started; got != "h01/one" {
		t.Fatalf("first call %s", got)
	}
	if err := r.Abort(context.Background(), run.ID, "carol", ""); err != nil {
		t.Fatal(err)
	}
	close(f.exec.Block)
	got := <-done
	if got.State != engine.RunAborted {
		t.Fatalf("state %s", got.State)
	}
	// h01 was in the middle of its steps: it finishes them. Nobody else starts.
	if diff := cmp.Diff([]string{"h01"}, f.exec.HostsTouched()); diff != "" {
		t.Fatalf("hosts touched (-want +got):\n%s", diff)
	}
	if f.exec.Count("h01", "two") != 1 {
		t.Fatal("h01 did not finish its steps")
	}
}

func TestReturnOnWaitThenApproveAndExecute(t *testing.T) {
	f := newFixture(t, 4)
	f.job.Rollout.ApproveAfter = 1
	r := f.rollout(func(o *Options) { o.ReturnOnWait = true })
	run := f.execute(r, f.submit(r, f.waves(1, 3)).ID)
	if run.State != engine.RunWaitingApproval {
		t.Fatalf("state %s", run.State)
	}
	if err := r.Approve(context.Background(), run.ID, "dan", ""); err != nil {
		t.Fatal(err)
	}
	// A new process (new Runner) carries it on.
	run = f.execute(f.rollout(), run.ID)
	if run.State != engine.RunSucceeded {
		t.Fatalf("state %s: %s", run.State, run.Error)
	}
	for _, h := range []string{"h01", "h02", "h03", "h04"} {
		if f.exec.Count(h, "one") != 1 {
			t.Errorf("step one ran %d times on %s", f.exec.Count(h, "one"), h)
		}
	}
	if err := r.Approve(context.Background(), run.ID, "dan", ""); err == nil {
		t.Fatal("approving a finished run succeeded")
	}
}

func TestOneActiveRunPerJob(t *testing.T) {
	f := newFixture(t, 2)
	other := &definitions.Job{Name: "other", Steps: []*definitions.Step{runStep(t, "x")}, Rollout: definitions.Rollout{MaxParallel: 1}}
	f.defs.Jobs["other"] = other
	f.exec.Started = make(chan string, 100)
	f.exec.Block = make(chan struct{})
	r := f.rollout()
	first := f.submit(r, f.waves(2))
	second := f.submit(r, f.waves(2))
	third, err := r.Submit(context.Background(), engine.RunRequest{Job: "other", Commit: "c0ffee", Waves: [][]string{{"h01"}}})
	if err != nil {
		t.Fatal(err)
	}
	results := make(chan *engine.Run, 3)
	go func() { results <- f.execute(r, first.ID) }()
	<-f.exec.Started // first holds the job
	ones := 1
	go func() { results <- f.execute(r, second.ID) }()
	waitStatus(t, f.store, "c0ffee", "app", fmt.Sprintf("queued behind run %d", first.ID))
	go func() { results <- f.execute(r, third.ID) }()
	// The other job is not held back: its step starts while app's second
	// run waits for the first.
	for got := <-f.exec.Started; got != "h01/x"; got = <-f.exec.Started {
		if ones++; ones > 2 {
			t.Fatalf("%s started while the first run still holds the job", got)
		}
	}
	close(f.exec.Block)
	for range 3 {
		if got := <-results; got.State != engine.RunSucceeded {
			t.Fatalf("run %d: %s", got.ID, got.State)
		}
	}
	if n := f.exec.Count("h01", "one"); n != 2 {
		t.Fatalf("step one ran %d times on h01, want once per run", n)
	}
}

func TestStatusDescriptionFitsAndCountsFirst(t *testing.T) {
	if got := runningDescription(2, 4, 12, 40, 0); got != "wave 2/4: 12/40 hosts ok" {
		t.Fatal(got)
	}
	if got := runningDescription(2, 4, 12, 40, 3); got != "wave 2/4: 12/40 hosts ok, 3 failed" {
		t.Fatal(got)
	}
	long := engine.TruncateDescription(strings.Repeat("é", 300))
	if n := len([]rune(long)); n != 140 {
		t.Fatalf("%d runes", n)
	}
}

func waitState(t *testing.T, s *enginetest.MemStore, id int64, want engine.RunState) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		if r, _ := s.GetRun(context.Background(), id); r.State == want {
			return
		}
		time.Sleep(time.Millisecond)
	}
	r, _ := s.GetRun(context.Background(), id)
	t.Fatalf("run %d in state %s, want %s", id, r.State, want)
}

func waitStatus(t *testing.T, s *enginetest.MemStore, commit, job, desc string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		if s.Status(commit, job).Description == desc {
			return
		}
		time.Sleep(time.Millisecond)
	}
	t.Fatalf("status %+v, want %q", s.Status(commit, job), desc)
}

func TestWavesStartOnlyInsideTheWindow(t *testing.T) {
	f := newFixture(t, 3)
	f.defs.Windows = map[string]*definitions.Window{"night": nightWindow(t, "0 1 * * *")}
	f.job.Window = "night"
	f.job.Rollout.Pause = time.Hour
	var mu sync.Mutex
	var starts []time.Time
	f.exec.SetBehave(func(host, step string) engine.StepResult {
		mu.Lock()
		defer mu.Unlock()
		if step == "one" {
			starts = append(starts, f.clock.Now())
		}
		return engine.StepResult{Status: engine.StepOK}
	})
	// A Runner that does not wait stops in waiting_window.
	r := f.rollout(func(o *Options) { o.ReturnOnWait = true })
	run := f.execute(r, f.submit(r, f.waves(1, 2)).ID)
	if run.State != engine.RunWaitingWindow || len(starts) != 0 {
		t.Fatalf("state %s, %d starts", run.State, len(starts))
	}
	if st := f.store.Status(run.Commit, "app"); !strings.Contains(st.Description, "waits for window night (opens 2026-01-01T01:00:00Z)") {
		t.Fatalf("status %+v", st)
	}
	// One that waits runs wave 1 at 01:00 and, after the pause closes the
	// window, wave 2 at 01:00 the next day.
	run = f.execute(f.rollout(), run.ID)
	if run.State != engine.RunSucceeded {
		t.Fatalf("state %s: %s", run.State, run.Error)
	}
	want := []string{"2026-01-01T01:00:00Z", "2026-01-02T01:00:00Z", "2026-01-02T01:00:00Z"}
	var got []string
	for _, s := range starts {
		got = append(got, s.Format(time.RFC3339))
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("wave starts (-want +got):\n%s", diff)
	}
}

// TestWaitingRunFollowsTheAppliedWindow: a daemon's run waiting for its
// window looks again at the window of the last applied commit at least
// every WindowRecheck, so a window moved in Git while the run waits moves
// the run, and its status says when the new window opens.
func TestWaitingRunFollowsTheAppliedWindow(t *testing.T) {
	f := newFixture(t, 2)
	f.defs.Windows = map[string]*definitions.Window{"night": nightWindow(t, "0 3 * * *")}
	f.job.Window = "night"
	var mu sync.Mutex
	var starts []string
	f.exec.SetBehave(func(host, step string) engine.StepResult {
		mu.Lock()
		defer mu.Unlock()
		if step == "one" {
			starts = append(starts, f.clock.Now().Format(time.RFC3339))
		}
		return engine.StepResult{Status: engine.StepOK}
	})
	// The applied commit moves the window to 00:20 once the run has
	// waited a few minutes for 03:00.
	moved := &definitions.Definitions{Commit: "c2", Jobs: f.defs.Jobs,
		Windows: map[string]*definitions.Window{"night": nightWindow(t, "20 0 * * *")}}
	var statuses []string
	r := f.rollout()
	r.windowDefs = func() *definitions.Definitions {
		statuses = append(statuses, f.store.Status(f.defs.Commit, "app").Description)
		if f.clock.Now().Before(at("2026-01-01T00:05:00Z")) {
			return f.defs
		}
		return moved
	}
	run := f.execute(r, f.submit(r, f.waves(1, 1)).ID)
	if run.State != engine.RunSucceeded {
		t.Fatalf("state %s: %s", run.State, run.Error)
	}
	if diff := cmp.Diff([]string{"2026-01-01T00:20:00Z", "2026-01-01T00:20:00Z"}, starts); diff != "" {
		t.Errorf("wave starts (-want +got):\n%s", diff)
	}
	if !slices.ContainsFunc(statuses, func(s string) bool { return strings.Contains(s, "waits for window night (opens 2026-01-01T03:00:00Z)") }) ||
		!slices.ContainsFunc(statuses, func(s string) bool { return strings.Contains(s, "waits for window night (opens 2026-01-01T00:20:00Z)") }) {
		t.Errorf("statuses while waiting: %q", slices.Compact(statuses))
	}
}

func TestCancelDrainsInFlightSteps(t *testing.T) {
	f := newFixture(t, 4)
	f.job.Rollout.MaxParallel = 2
	f.exec.Started = make(chan string, 100)
	f.exec.Block = make(chan struct{})
	r := f.rollout()
	run := f.submit(r, f.waves(4))
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() {
		_, err := r.Execute(ctx, f.defs, run.ID)
		errc <- err
	}()
	<-f.exec.Started
	<-f.exec.Started // two hosts in flight
	cancel()
	time.Sleep(10 * time.Millisecond)
	close(f.exec.Block) // the in-flight steps finish after the cancel
	if err := <-errc; !errors.Is(err, context.Canceled) {
		t.Fatalf("Execute returned %v", err)
	}
	rows, _ := f.store.HostSteps(context.Background(), run.ID)
	for _, hs := range rows {
		if hs.Phase == engine.PhaseStarted {
			t.Fatalf("row %+v left started after a graceful stop", hs)
		}
	}
	if n := len(f.exec.Calls()); n != 2 {
		t.Fatalf("%d steps ran, want the 2 in flight", n)
	}
	// The next process carries on without an operator.
	got := f.execute(f.rollout(), run.ID)
	if got.State != engine.RunSucceeded {
		t.Fatalf("state %s: %s", got.State, got.Error)
	}
	for _, h := range []string{"h01", "h02", "h03", "h04"} {
		if n := f.exec.Count(h, "one"); n != 1 {
			t.Errorf("step one ran %d times on %s", n, h)
		}
	}
}

// TestManualRunStatusSaysManual: a manual run writes the commit's
// ripple/job/<job> status like the merge's run did; its description says
// it was manual, and by whom while that fits in 140 characters.
func TestManualRunStatusSaysManual(t *testing.T) {
	f := newFixture(t, 2)
	r := f.rollout()
	run, err := r.Submit(context.Background(), engine.RunRequest{Job: f.job.Name, Commit: f.defs.Commit, Branch: "main",
		Trigger: engine.TriggerManual, Actor: "alice", Reason: "rotate logs", Waves: [][]string{{"h02"}}})
	if err != nil {
		t.Fatal(err)
	}
	f.execute(r, run.ID)
	if st := f.store.Status(run.Commit, "app"); st.State != "success" || st.Description != "manual run by alice: 1/1 host ok in 1 wave" {
		t.Errorf("final status %+v", st)
	}
	if got := f.store.StatusLog()[0].Description; got != "manual run by alice: queued: 1 host in 1 wave" {
		t.Errorf("queued status %q", got)
	}

	long := &engine.Run{Trigger: engine.TriggerManual, Actor: strings.Repeat("a", 60)}
	desc := strings.Repeat("x", 100)
	if got := statusDescription(long, desc); got != "manual run: "+desc {
		t.Errorf("long actor: %q", got)
	}
	if got := statusDescription(&engine.Run{Trigger: engine.TriggerCommit}, desc); got != desc {
		t.Errorf("merge run: %q", got)
	}
	if got := statusDescription(long, strings.Repeat("x", 200)); utf8.RuneCountInString(got) != 140 || !strings.HasPrefix(got, "manual run: x") {
		t.Errorf("too long: %q", got)
	}
}

// TestScheduledRunStatusSaysScheduled: a scheduled run also replaces the
// commit's ripple/job/<job> status; its description says it was scheduled
// (the scheduler, not a person, started it, so it names no one).
func TestScheduledRunStatusSaysScheduled(t *testing.T) {
	f := newFixture(t, 4)
	r := f.rollout()
	run, err := r.Submit(context.Background(), engine.RunRequest{Job: f.job.Name, Commit: f.defs.Commit, Branch: "main",
		Trigger: engine.TriggerSchedule, Actor: "schedule", Reason: "schedule 2026-11-29T02:00:00Z",
		Waves: [][]string{{"h01", "h02"}, {"h03", "h04"}}})
	if err != nil {
		t.Fatal(err)
	}
	f.execute(r, run.ID)
	if st := f.store.Status(run.Commit, "app"); st.State != "success" || st.Description != "scheduled run: 4/4 hosts ok in 2 waves" {
		t.Errorf("final status %+v", st)
	}
	for _, st := range f.store.StatusLog() {
		if !strings.HasPrefix(st.Description, "scheduled run: ") {
			t.Errorf("%s status %q does not say scheduled", st.State, st.Description)
		}
	}
	if got := f.store.StatusLog()[0].Description; got != "scheduled run: queued: 4 hosts in 2 waves" {
		t.Errorf("queued status %q", got)
	}

	sched := &engine.Run{Trigger: engine.TriggerSchedule, Actor: "schedule"}
	if got := statusDescription(sched, strings.Repeat("x", 200)); utf8.RuneCountInString(got) != 140 || !strings.HasPrefix(got, "scheduled run: x") {
		t.Errorf("too long: %q", got)
	}
}

// nightWindow is window "night" on cron spec, 30 minutes long, in UTC.
func nightWindow(t *testing.T, spec string) *definitions.Window {
	t.Helper()
	c, err := definitions.ParseCron(spec, time.UTC)
	if err != nil {
		t.Fatal(err)
	}
	return &definitions.Window{Name: "night", Cron: spec, Opens: c, Duration: 30 * time.Minute, Timezone: "UTC", Location: time.UTC}
}

// syncStates derives the sync state of every recorded host of job app.
func (f *fixture) syncStates(t *testing.T) map[string]convergence.HostSyncState {
	t.Helper()
	recs, err := f.store.HostSyncs(context.Background(), "app")
	if err != nil {
		t.Fatal(err)
	}
	desired := definitions.NewFingerprints(f.defs).Job("app")
	out := map[string]convergence.HostSyncState{}
	for _, rec := range recs {
		out[rec.Host] = convergence.DeriveSync(desired[rec.Host], f.defs.Commit, rec)
	}
	return out
}

// Every run leaves what it did on each host: failed where a step failed,
// rolled back where the rollback undid a host, nothing where it never got.
func TestRunRecordsSyncStatePerHost(t *testing.T) {
	f := newFixture(t, 6)
	f.job.Rollback = []*definitions.Step{runStep(t, "undo")}
	f.exec.SetBehave(func(host, step string) engine.StepResult {
		if host == "h03" && step == "two" {
			return engine.StepResult{Status: engine.StepFailed, Error: "exit status 1"}
		}
		return engine.StepResult{Status: engine.StepOK}
	})
	run := f.runOnce(1, 2, 3) // wave 2 (h02, h03) fails and rolls back
	if run.State != engine.RunFailed {
		t.Fatalf("state %s", run.State)
	}
	got := f.syncStates(t)
	want := map[string]string{
		"h01": "out of sync (rolled back at c0ffee)",
		"h02": "out of sync (rolled back at c0ffee)",
		"h03": "out of sync (failed at c0ffee)",
	}
	if len(got) != len(want) {
		t.Fatalf("recorded %v, want h01-h03 only (the run never reached h04-h06)", got)
	}
	for h, w := range want {
		if got[h].ReasonText() != w {
			t.Errorf("%s: %q, want %q", h, got[h].ReasonText(), w)
		}
	}
	if !strings.Contains(got["h03"].Detail, "step two failed: exit status 1") {
		t.Errorf("h03 detail %q", got["h03"].Detail)
	}

	// A rollback with nothing to undo leaves what the run deployed.
	f2 := newFixture(t, 3)
	f2.exec.SetBehave(func(host, step string) engine.StepResult {
		if host == "h03" {
			return engine.StepResult{Status: engine.StepFailed}
		}
		return engine.StepResult{Status: engine.StepOK}
	})
	f2.runOnce(1, 2)
	if got := f2.syncStates(t); got["h01"].State != engine.SyncSynced || got["h02"].State != engine.SyncSynced || got["h03"].Reason != engine.ReasonFailed {
		t.Errorf("nothing undone: %+v", got)
	}

	// A later run that succeeds makes the hosts synced.
	f.exec.SetBehave(nil)
	if run := f.runOnce(6); run.State != engine.RunSucceeded {
		t.Fatalf("second run %s: %s", run.State, run.Error)
	}
	for h, st := range f.syncStates(t) {
		if st.State != engine.SyncSynced {
			t.Errorf("%s after a successful run: %s", h, st.ReasonText())
		}
	}
}

func TestAbortedRunRecordsUnreachedHostsAborted(t *testing.T) {
	f := newFixture(t, 3)
	f.job.Rollout.OnFailure = "halt"
	f.job.Rollout.ApproveAfter = 1
	r := f.rollout(func(o *Options) { o.ReturnOnWait = true })
	run := f.execute(r, f.submit(r, f.waves(1, 2)).ID)
	if run.State != engine.RunWaitingApproval {
		t.Fatalf("state %s", run.State)
	}
	if err := r.Abort(context.Background(), run.ID, "alice", "not today"); err != nil {
		t.Fatal(err)
	}
	if run = f.execute(r, run.ID); run.State != engine.RunAborted {
		t.Fatalf("state %s: %s", run.State, run.Error)
	}
	got := f.syncStates(t)
	if got["h01"].State != engine.SyncSynced || got["h02"].ReasonText() != "out of sync (aborted at c0ffee)" || got["h03"].Reason != engine.ReasonAborted {
		t.Errorf("sync after an abort under halt: %+v", got)
	}
}

// A host that could not be reached ran nothing: the rollback skips it and
// says it was unreachable, not "incomplete".
func TestUnreachableHostIsNotARollbackFailure(t *testing.T) {
	f := newFixture(t, 3)
	f.job.Rollback = []*definitions.Step{runStep(t, "undo")}
	f.exec.SetBehave(func(host, step string) engine.StepResult {
		if host == "h02" {
			return engine.StepResult{Status: engine.StepUnreachable, Error: "dial tcp 10.0.0.2:22: connect: connection refused"}
		}
		return engine.StepResult{Status: engine.StepOK}
	})
	run := f.runOnce(1, 2)
	if run.State != engine.RunFailed {
		t.Fatalf("state %s", run.State)
	}
	if strings.Contains(run.Error, "incomplete") || !strings.Contains(run.Error, "1 host unreachable, nothing ran there: h02") {
		t.Fatalf("error %q", run.Error)
	}
	if f.exec.Count("h02", "undo") != 0 || f.exec.Count("h03", "undo") != 1 {
		t.Fatalf("undo on h02 %d, h03 %d", f.exec.Count("h02", "undo"), f.exec.Count("h03", "undo"))
	}
}

// TestScheduledRunWaitingForWindowIsNotPending: a scheduled run waiting
// for its maintenance window says so on its commit status without holding
// it pending (branch protection would wait on it for hours): success with
// "waiting for window NAME (opens T)" until a wave starts, then pending as
// it runs, then its final state. A merge's own run still waits pending: its
// commit is not applied until it has run.
func TestScheduledRunWaitingForWindowIsNotPending(t *testing.T) {
	for _, tc := range []struct {
		trigger, state, desc string
	}{
		{engine.TriggerSchedule, "success", "scheduled run: waiting for window night (opens 2026-01-01T01:00:00Z), then wave 1/2"},
		{engine.TriggerCommit, "pending", "wave 1/2 waits for window night (opens 2026-01-01T01:00:00Z)"},
	} {
		t.Run(tc.trigger, func(t *testing.T) {
			f := newFixture(t, 3)
			f.defs.Windows = map[string]*definitions.Window{"night": nightWindow(t, "0 1 * * *")}
			f.job.Window = "night"
			r := f.rollout(func(o *Options) { o.ReturnOnWait = true })
			run, err := r.Submit(context.Background(), engine.RunRequest{Job: f.job.Name, Commit: f.defs.Commit, Branch: "main",
				Trigger: tc.trigger, Actor: engine.ActorRipple, Waves: f.waves(1, 2)})
			if err != nil {
				t.Fatal(err)
			}
			run = f.execute(r, run.ID)
			if run.State != engine.RunWaitingWindow || !strings.Contains(run.Summary, "waits for window night (opens 2026-01-01T01:00:00Z)") {
				t.Fatalf("run %s: %s", run.State, run.Summary)
			}
			st := f.store.Status(run.Commit, "app")
			if st.State != tc.state || st.Description != tc.desc {
				t.Fatalf("status while waiting = %s %q, want %s %q", st.State, st.Description, tc.state, tc.desc)
			}
			// Once the window opens the waves run, pending, and the run
			// ends with its own final state.
			run = f.execute(f.rollout(), run.ID)
			if run.State != engine.RunSucceeded {
				t.Fatalf("state %s: %s", run.State, run.Error)
			}
			var states []string
			for _, s := range f.store.StatusLog() {
				states = append(states, s.State)
			}
			if !slices.Contains(states, "pending") || states[len(states)-1] != "success" || !strings.Contains(f.store.Status(run.Commit, "app").Description, "3/3 hosts ok") {
				t.Errorf("statuses %q, last %+v", states, f.store.Status(run.Commit, "app"))
			}
		})
	}
}

// TestRolloutRedactsLoadedSecrets: a secret some other job or check loaded
// (in the registry, not in this step's own secrets) printed by a step is
// redacted from everything the rollout stores and reports: the journal,
// the run's summary, error and reason, its events, its commit statuses and
// its progress events.
func TestRolloutRedactsLoadedSecrets(t *testing.T) {
	const secret = "hunter2-loaded-elsewhere"
	f := newFixture(t, 2)
	f.job.Rollout.OnFailure = "halt"
	f.exec.SetBehave(func(host, step string) engine.StepResult {
		return engine.StepResult{Status: engine.StepFailed, ExitCode: 1, Stdout: "out " + secret, Stderr: secret + "\n", Error: "command: exit status 1: " + secret}
	})
	values := engine.NewSecretRegistry()
	values.Add(secret + "\n")
	r := f.rollout(func(o *Options) { o.Redact = values })
	run, err := r.Submit(context.Background(), engine.RunRequest{Job: f.job.Name, Commit: f.defs.Commit, Branch: "main", Trigger: engine.TriggerManual,
		Actor: "alice", Reason: "pasted " + secret, Waves: f.waves(2)})
	if err != nil {
		t.Fatal(err)
	}
	got := f.execute(r, run.ID)
	if got.State != engine.RunFailed {
		t.Fatalf("state %s", got.State)
	}
	var texts []string
	for _, r := range f.store.AllRuns() {
		texts = append(texts, r.Summary, r.Error, r.Reason)
	}
	rows, _ := f.store.HostSteps(context.Background(), run.ID)
	for _, hs := range rows {
		texts = append(texts, hs.Result.Stdout, hs.Result.Stderr, hs.Result.Error)
	}
	evs, _ := f.store.Events(context.Background(), run.ID)
	for _, e := range evs {
		texts = append(texts, e.Reason)
	}
	for _, st := range f.store.StatusLog() {
		texts = append(texts, st.Description)
	}
	for _, ev := range f.events.Events() {
		texts = append(texts, ev.Message, ev.Error)
	}
	texts = append(texts, got.Summary, got.Error)
	all := strings.Join(texts, "\n")
	if strings.Contains(all, secret) {
		t.Errorf("the secret was stored or reported:\n%s", all)
	}
	if !strings.Contains(all, "out [redacted]") || !strings.Contains(got.Error, "exit status 1: [redacted]") {
		t.Errorf("no redacted output:\n%s", all)
	}
}
