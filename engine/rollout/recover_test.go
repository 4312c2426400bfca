package rollout

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/ripple-ops/ripple/definitions"
	"github.com/ripple-ops/ripple/engine"
	"github.com/ripple-ops/ripple/engine/enginetest"
)

func (f *fixture) loader() engine.DefinitionsLoader {
	return func(_ context.Context, commit string) (*definitions.Definitions, error) {
		if commit != f.defs.Commit {
			return nil, fmt.Errorf("no commit %s", commit)
		}
		return f.defs, nil
	}
}

// seed writes a run with the given journal rows straight into the store,
// as a process that died would have left them.
func (f *fixture) seed(state engine.RunState, waves [][]string, current int, rows []engine.HostStep, events ...engine.Event) *engine.Run {
	f.t.Helper()
	ctx := context.Background()
	run := &engine.Run{Job: "app", Commit: f.defs.Commit, State: state, Waves: waves, CurrentWave: current}
	if state != engine.RunQueued {
		run.Started = f.clock.Now()
	}
	if err := f.store.CreateRun(ctx, run); err != nil {
		f.t.Fatal(err)
	}
	for i := range rows {
		rows[i].RunID = run.ID
		f.store.Upsert(rows[i])
	}
	for _, e := range events {
		e.RunID = run.ID
		f.store.AppendEvent(e)
	}
	return run
}

func row(wave int, host, step string, phase engine.StepPhase, st engine.StepStatus) engine.HostStep {
	return engine.HostStep{Wave: wave, Host: host, Step: step, Phase: phase, Result: engine.StepResult{Status: st}}
}

func TestRecoverHalfWrittenJournals(t *testing.T) {
	waves := [][]string{{"h01"}, {"h02", "h03"}}
	all := func(phase engine.StepPhase) []engine.HostStep { // wave 1 finished, wave 2 in phase
		return []engine.HostStep{
			row(0, "h01", "one", engine.PhaseFinished, engine.StepOK), row(0, "h01", "two", engine.PhaseFinished, engine.StepOK),
			row(1, "h02", "one", phase, ""), row(1, "h02", "two", engine.PhasePlanned, ""),
			row(1, "h03", "one", engine.PhasePlanned, ""), row(1, "h03", "two", engine.PhasePlanned, ""),
		}
	}
	cases := []struct {
		name       string
		state      engine.RunState
		current    int
		rows       []engine.HostStep
		idempotent bool
		want       engine.RunState
		wantCalls  map[string]int // host/step -> calls
		wantError  string
	}{
		{name: "queued, never started", state: engine.RunQueued, want: engine.RunSucceeded,
			wantCalls: map[string]int{"h01/one": 1, "h02/one": 1, "h03/two": 1}},
		{name: "wave planned, nothing started", state: engine.RunRunning, current: 1, rows: all(engine.PhasePlanned), want: engine.RunSucceeded,
			wantCalls: map[string]int{"h01/one": 0, "h02/one": 1, "h03/two": 1}},
		{name: "wave finished, current wave not advanced", state: engine.RunRunning, current: 0,
			rows: all(engine.PhasePlanned)[:2], want: engine.RunSucceeded,
			wantCalls: map[string]int{"h01/one": 0, "h01/two": 0, "h02/one": 1}},
		{name: "started, not idempotent", state: engine.RunRunning, current: 1, rows: all(engine.PhaseStarted), want: engine.RunNeedsOperator,
			wantCalls: map[string]int{"h02/one": 0, "h03/one": 0},
			wantError: "step one on h02 was interrupted and is not idempotent"},
		{name: "started, idempotent", state: engine.RunRunning, current: 1, rows: all(engine.PhaseStarted), idempotent: true, want: engine.RunSucceeded,
			wantCalls: map[string]int{"h02/one": 1, "h02/two": 1, "h01/one": 0}},
		{name: "finished failed step is kept", state: engine.RunRunning, current: 1,
			rows: append(all(engine.PhasePlanned)[:2], engine.HostStep{Wave: 1, Host: "h02", Step: "one", Phase: engine.PhaseFinished, Result: engine.StepResult{Status: engine.StepFailed, Error: "boom"}}),
			want: engine.RunFailed, wantCalls: map[string]int{"h02/one": 0, "h02/two": 0, "h03/one": 1},
			wantError: "h02: step one failed: boom"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, 3)
			f.job.Steps[0].Idempotent = tc.idempotent
			run := f.seed(tc.state, waves, tc.current, tc.rows)
			got, err := f.rollout().Recover(context.Background(), f.loader())
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != 1 || got[0].ID != run.ID {
				t.Fatalf("recovered %v", got)
			}
			if got[0].State != tc.want {
				t.Fatalf("state %s (%s), want %s", got[0].State, got[0].Error, tc.want)
			}
			if !strings.Contains(got[0].Error, tc.wantError) {
				t.Fatalf("error %q lacks %q", got[0].Error, tc.wantError)
			}
			for hs, n := range tc.wantCalls {
				h, s, _ := strings.Cut(hs, "/")
				if c := f.exec.Count(h, s); c != n {
					t.Errorf("%s ran %d times, want %d", hs, c, n)
				}
			}
			if st := f.store.Status(run.Commit, "app"); st.State == "pending" {
				t.Errorf("status left pending: %+v", st)
			}
		})
	}
}

func TestNeedsOperatorApproveCountsStepDone(t *testing.T) {
	f := newFixture(t, 2)
	run := f.seed(engine.RunRunning, [][]string{{"h01", "h02"}}, 0, []engine.HostStep{
		row(0, "h01", "one", engine.PhaseStarted, ""), row(0, "h01", "two", engine.PhasePlanned, ""),
		row(0, "h02", "one", engine.PhaseFinished, engine.StepOK), row(0, "h02", "two", engine.PhasePlanned, ""),
	})
	r := f.rollout()
	got := f.execute(r, run.ID)
	if got.State != engine.RunNeedsOperator {
		t.Fatalf("state %s", got.State)
	}
	if st := f.store.Status(run.Commit, "app"); st.State != "error" || !strings.Contains(st.Description, "needs operator: step one on h01") {
		t.Fatalf("status %+v", st)
	}
	// Executing again without an operator changes nothing.
	if got = f.execute(r, run.ID); got.State != engine.RunNeedsOperator || len(f.exec.Calls()) != 0 {
		t.Fatalf("state %s after a plain re-run, %d calls", got.State, len(f.exec.Calls()))
	}
	if err := r.Approve(context.Background(), run.ID, "erin", "checked h01 by hand"); err != nil {
		t.Fatal(err)
	}
	got = f.execute(r, run.ID)
	if got.State != engine.RunSucceeded {
		t.Fatalf("state %s: %s", got.State, got.Error)
	}
	if f.exec.Count("h01", "one") != 0 || f.exec.Count("h01", "two") != 1 || f.exec.Count("h02", "one") != 0 {
		t.Fatalf("calls %+v", f.exec.Calls())
	}
	rows, _ := f.store.HostSteps(context.Background(), run.ID)
	for _, hs := range rows {
		if hs.Host == "h01" && hs.Step == "one" && !strings.Contains(hs.Result.Error, "counted as done by erin") {
			t.Fatalf("resolved row %+v", hs)
		}
	}
}

func TestNeedsOperatorAbortRollsBack(t *testing.T) {
	f := newFixture(t, 2)
	f.job.Rollback = []*definitions.Step{runStep(t, "undo")}
	run := f.seed(engine.RunRunning, [][]string{{"h01"}, {"h02"}}, 1, []engine.HostStep{
		row(0, "h01", "one", engine.PhaseFinished, engine.StepOK), row(0, "h01", "two", engine.PhaseFinished, engine.StepOK),
		row(1, "h02", "one", engine.PhaseStarted, ""), row(1, "h02", "two", engine.PhasePlanned, ""),
	})
	r := f.rollout()
	if got := f.execute(r, run.ID); got.State != engine.RunNeedsOperator {
		t.Fatalf("state %s", got.State)
	}
	if err := r.Abort(context.Background(), run.ID, "fay", "host is broken"); err != nil {
		t.Fatal(err)
	}
	got := f.execute(r, run.ID)
	if got.State != engine.RunAborted {
		t.Fatalf("state %s", got.State)
	}
	if f.exec.Count("h01", "undo") != 1 || f.exec.Count("h02", "undo") != 1 || f.exec.Count("h02", "one") != 0 {
		t.Fatalf("calls %+v", f.exec.Calls())
	}
}

func TestRecoverMidRollbackContinuesIt(t *testing.T) {
	f := newFixture(t, 3)
	f.job.Rollback = []*definitions.Step{runStep(t, "undo")}
	rb := func(host string, phase engine.StepPhase) engine.HostStep {
		return engine.HostStep{Wave: 0, Host: host, Step: "undo", Rollback: true, Phase: phase, Result: engine.StepResult{Status: engine.StepOK}}
	}
	f.job.Rollback[0].Idempotent = true
	f.seed(engine.RunRunning, [][]string{{"h01", "h02", "h03"}}, 0, []engine.HostStep{
		row(0, "h01", "one", engine.PhaseFinished, engine.StepOK), row(0, "h01", "two", engine.PhaseFinished, engine.StepFailed),
		row(0, "h02", "one", engine.PhaseFinished, engine.StepOK), row(0, "h02", "two", engine.PhaseFinished, engine.StepOK),
		row(0, "h03", "one", engine.PhasePlanned, ""), row(0, "h03", "two", engine.PhasePlanned, ""),
		rb("h01", engine.PhaseFinished), rb("h02", engine.PhaseStarted),
	}, engine.Event{Action: engine.EventRollback, Reason: "wave 1/1 failed: 1/3 hosts failed (max_failures 0)\nh01: step two failed"})
	got, err := f.rollout().Recover(context.Background(), f.loader())
	if err != nil {
		t.Fatal(err)
	}
	if got[0].State != engine.RunFailed || !strings.Contains(got[0].Error, "wave 1/1 failed") {
		t.Fatalf("state %s error %q", got[0].State, got[0].Error)
	}
	if f.exec.Count("h01", "undo") != 0 || f.exec.Count("h02", "undo") != 1 || f.exec.Count("h03", "undo") != 0 {
		t.Fatalf("calls %+v", f.exec.Calls())
	}
}

func TestRecoverEndsRunWhoseCommitIsGone(t *testing.T) {
	f := newFixture(t, 1)
	run := f.seed(engine.RunRunning, [][]string{{"h01"}}, 0, nil)
	gone := *run
	gone.Commit = "gone"
	f.store.SetRun(gone)
	got, err := f.rollout().Recover(context.Background(), f.loader())
	if err != nil {
		t.Fatal(err)
	}
	if got[0].State != engine.RunError || !strings.Contains(got[0].Error, "cannot load commit gone") {
		t.Fatalf("state %s error %q", got[0].State, got[0].Error)
	}
	if st := f.store.Status("gone", "app"); st.State != "error" {
		t.Fatalf("status %+v", st)
	}
}

// TestCrashAtEveryWrite kills the store (as the process dying) after each
// possible number of writes of a run, then recovers in a new Runner until
// the run ends, operators approving whatever needs them. Whatever the
// crash point: the run ends in the expected final state, no non-idempotent
// step ran twice on a host, and no status stays pending.
func TestCrashAtEveryWrite(t *testing.T) {
	variants := []struct {
		name    string
		setup   func(f *fixture)
		waves   []int
		want    engine.RunState
		onceAll []string // non-idempotent steps
	}{
		{"success", func(f *fixture) { f.job.Steps[1].Idempotent = true }, []int{1, 2, 3}, engine.RunSucceeded, []string{"one"}},
		{"approval", func(f *fixture) { f.job.Rollout.ApproveAfter = 1 }, []int{1, 5}, engine.RunSucceeded, []string{"one", "two"}},
		{"failure and rollback", func(f *fixture) {
			f.job.Rollback = []*definitions.Step{runStep(t, "undo")}
			f.exec.SetBehave(func(host, step string) engine.StepResult {
				if host == "h03" && step == "two" {
					return engine.StepResult{Status: engine.StepFailed, Error: "boom"}
				}
				return engine.StepResult{Status: engine.StepOK}
			})
		}, []int{1, 2, 3}, engine.RunFailed, []string{"one", "two", "undo"}},
		{"gate", func(f *fixture) { f.addGate(0, 0) }, []int{2, 4}, engine.RunSucceeded, []string{"one", "two"}},
	}
	for _, v := range variants {
		t.Run(v.name, func(t *testing.T) {
			// A clean run first, to count its writes.
			ref := newFixture(t, 6)
			v.setup(ref)
			total := writesOf(t, ref, v.waves)
			for n := 0; n < total; n++ {
				f := newFixture(t, 6)
				v.setup(f)
				crashRecover(t, f, v.waves, n, v.want, v.onceAll)
			}
		})
	}
}

func writesOf(t *testing.T, f *fixture, waves []int) int {
	r := f.rollout(func(o *Options) { o.ReturnOnWait = true })
	run := f.submit(r, f.waves(waves...))
	before := f.store.Writes()
	for range 5 {
		got := f.execute(r, run.ID)
		if got.State.Final() {
			return f.store.Writes() - before
		}
		if err := r.Approve(context.Background(), run.ID, "op", ""); err != nil {
			t.Fatal(err)
		}
	}
	t.Fatal("reference run did not finish")
	return 0
}

func crashRecover(t *testing.T, f *fixture, waves []int, n int, want engine.RunState, once []string) {
	t.Helper()
	ctx := context.Background()
	r := f.rollout(func(o *Options) { o.ReturnOnWait = true })
	run := f.submit(r, f.waves(waves...))
	f.store.CrashAfter(f.store.Writes() + n)
	// The live process: executes, and approves when asked, until it dies.
	for crashed := false; !crashed; {
		got, err := r.Execute(ctx, f.defs, run.ID)
		switch {
		case errors.Is(err, enginetest.ErrCrashed):
			crashed = true
		case err != nil:
			t.Fatalf("crash after %d writes: Execute returned %v", n, err)
		case got.State.Final():
			t.Fatalf("crash after %d writes: run finished before the crash", n)
		default:
			crashed = errors.Is(r.Approve(ctx, run.ID, "op", ""), enginetest.ErrCrashed)
		}
	}
	f.store.Revive()
	var got *engine.Run
	operator := false
	for range 6 {
		rr := f.rollout(func(o *Options) { o.ReturnOnWait = true })
		runs, err := rr.Recover(ctx, f.loader())
		if err != nil {
			t.Fatalf("crash after %d writes: recover: %v", n, err)
		}
		if len(runs) == 0 {
			break
		}
		got = runs[0]
		if got.State.Final() {
			break
		}
		operator = operator || got.State == engine.RunNeedsOperator
		if err := rr.Approve(ctx, got.ID, "op", "after crash"); err != nil {
			t.Fatalf("crash after %d writes: state %s: %v", n, got.State, err)
		}
	}
	final, _ := f.store.GetRun(ctx, run.ID)
	// An operator who counts an interrupted step as done may change the
	// outcome; the run must still end.
	if final.State != want && (!operator || !final.State.Final()) {
		t.Fatalf("crash after %d writes: state %s (%s), want %s", n, final.State, final.Error, want)
	}
	if final.State == engine.RunSucceeded && !strings.HasPrefix(final.Summary, "6/6 hosts ok") {
		t.Fatalf("crash after %d writes: summary %q", n, final.Summary)
	}
	for _, h := range f.waves(waves...) {
		for _, host := range h {
			for _, s := range once {
				if c := f.exec.Count(host, s); c > 1 {
					t.Fatalf("crash after %d writes: %s ran %d times on %s", n, s, c, host)
				}
			}
		}
	}
	if st := f.store.Status(run.Commit, "app"); st.State == "pending" {
		t.Fatalf("crash after %d writes: status left pending: %+v", n, st)
	}
}

func TestRecoverNeverBlocksOnApproval(t *testing.T) {
	f := newFixture(t, 3)
	f.job.Rollout.ApproveAfter = 1
	f.seed(engine.RunQueued, [][]string{{"h01"}, {"h02", "h03"}}, 0, nil)
	r := f.rollout() // a daemon's Runner: Execute would block on approval
	got, err := r.Recover(context.Background(), f.loader())
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].State != engine.RunWaitingApproval {
		t.Fatalf("recovered %+v", got)
	}
	if err := r.Approve(context.Background(), got[0].ID, "op", ""); err != nil {
		t.Fatal(err)
	}
	if run := f.execute(r, got[0].ID); run.State != engine.RunSucceeded {
		t.Fatalf("state %s", run.State)
	}
}

// TestFenceStopsNewStepsOnly: once the fence says this node lost its
// leader lease, no host step starts; the steps in flight finish and are
// journaled; Execute returns the fence's error and leaves the run for the
// next leader, which carries it on without running a step twice.
func TestFenceStopsNewStepsOnly(t *testing.T) {
	f := newFixture(t, 4)
	f.job.Rollout.MaxParallel = 2
	f.exec.Started = make(chan string, 100)
	f.exec.Block = make(chan struct{})
	fenced := errors.New("fenced: lease lost")
	var lost atomic.Bool
	r := f.rollout(func(o *Options) {
		o.Fence = func() error {
			if lost.Load() {
				return fenced
			}
			return nil
		}
	})
	run := f.submit(r, f.waves(4))
	errc := make(chan error, 1)
	go func() {
		_, err := r.Execute(context.Background(), f.defs, run.ID)
		errc <- err
	}()
	<-f.exec.Started
	<-f.exec.Started // two hosts in flight
	lost.Store(true)
	close(f.exec.Block)
	if err := <-errc; !errors.Is(err, fenced) {
		t.Fatalf("Execute returned %v, want the fence's error", err)
	}
	if n := len(f.exec.Calls()); n != 2 {
		t.Fatalf("%d steps ran, want only the 2 in flight", n)
	}
	rows, _ := f.store.HostSteps(context.Background(), run.ID)
	for _, hs := range rows {
		if hs.Phase == engine.PhaseStarted {
			t.Fatalf("row %+v left started: an in-flight step's result was not journaled", hs)
		}
	}
	if got, _ := f.store.GetRun(context.Background(), run.ID); got.State.Final() {
		t.Fatalf("a fenced run was ended (%s); the next leader must resume it", got.State)
	}
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

// TestRunWaitingForOperatorHoldsItsJob: while a run needs an operator, a
// later run of its job does not start, neither from Execute nor from
// Recover: it stays queued and says behind which run. Once an abort has
// ended the first run, the later one runs.
func TestRunWaitingForOperatorHoldsItsJob(t *testing.T) {
	f := newFixture(t, 1)
	first := f.seed(engine.RunRunning, [][]string{{"h01"}}, 0, []engine.HostStep{
		row(0, "h01", "one", engine.PhaseStarted, ""), row(0, "h01", "two", engine.PhasePlanned, ""),
	})
	r := f.rollout()
	second := f.submit(r, f.waves(1))
	got, err := r.Recover(context.Background(), f.loader())
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].State != engine.RunNeedsOperator || got[1].State != engine.RunQueued {
		t.Fatalf("recovered %+v", got)
	}
	if _, err := r.Execute(context.Background(), f.defs, second.ID); !errors.Is(err, engine.ErrJobHeld) {
		t.Fatalf("a later run executed while run %d needs an operator: %v", first.ID, err)
	}
	if n := len(f.exec.Calls()); n != 0 {
		t.Fatalf("%d steps ran", n)
	}
	held, _ := f.store.GetRun(context.Background(), second.ID)
	if want := fmt.Sprintf("queued behind run %d, which needs an operator", first.ID); held.State != engine.RunQueued || held.Summary != want ||
		f.store.Status(f.defs.Commit, "app").Description != want {
		t.Fatalf("held run %s %q, status %+v", held.State, held.Summary, f.store.Status(f.defs.Commit, "app"))
	}

	if err := r.Abort(context.Background(), first.ID, "fay", "checked"); err != nil {
		t.Fatal(err)
	}
	if got := f.execute(r, first.ID); got.State != engine.RunAborted || got.Finished.IsZero() {
		t.Fatalf("aborted run %+v", got)
	}
	if got := f.execute(r, second.ID); got.State != engine.RunSucceeded {
		t.Fatalf("later run %s: %s", got.State, got.Error)
	}
	if f.exec.Count("h01", "one") != 1 {
		t.Errorf("calls %+v", f.exec.Calls())
	}
}
