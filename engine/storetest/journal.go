package storetest

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/ripple-ops/ripple/engine"
)

func testJournal(t *testing.T, open Open) {
	ctx := context.Background()
	s, _, _ := fresh(t, open)
	run := &engine.Run{Job: "web", Commit: "c1"}
	if err := s.CreateRun(ctx, run); err != nil {
		t.Fatal(err)
	}
	id := run.ID
	plan := []engine.HostStep{
		{RunID: id, Wave: 0, Host: "a", Step: "install"},
		{RunID: id, Wave: 0, Host: "a", Step: "restart"},
		{RunID: id, Wave: 1, Host: "b", Step: "install"},
	}
	if err := s.PlanHostSteps(ctx, plan); err != nil {
		t.Fatal(err)
	}
	t0 := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	if err := s.StartHostStep(ctx, engine.HostStep{RunID: id, Wave: 0, Host: "a", Step: "install",
		Result: engine.StepResult{Started: t0}}); err != nil {
		t.Fatal(err)
	}
	backup := &engine.Backup{Destination: "/etc/x", Path: "/var/backup/x", Existed: true}
	const stepDiff = "--- /etc/x (before)\n+++ /etc/x (after)\n@@ -1 +1 @@\n-workers=4\n+workers=8\n"
	if err := s.FinishHostStep(ctx, engine.HostStep{RunID: id, Wave: 0, Host: "a", Step: "install",
		Result: engine.StepResult{Status: engine.StepChanged, ExitCode: 0, Stdout: "out", Stderr: "err",
			Duration: 1500 * time.Millisecond, Backup: backup, Diff: stepDiff}}); err != nil {
		t.Fatal(err)
	}
	if err := s.StartHostStep(ctx, engine.HostStep{RunID: id, Wave: 0, Host: "a", Step: "restart",
		Result: engine.StepResult{Started: t0.Add(2 * time.Second)}}); err != nil {
		t.Fatal(err)
	}
	// A rollback row is distinct from the forward row of the same step, and
	// need not be planned.
	if err := s.FinishHostStep(ctx, engine.HostStep{RunID: id, Wave: 0, Host: "a", Step: "install", Rollback: true,
		Result: engine.StepResult{Status: engine.StepFailed, ExitCode: 3, Error: "exit 3", Started: t0.Add(time.Minute),
			Duration: time.Second}}); err != nil {
		t.Fatal(err)
	}
	// Re-planning after a restart keeps what the journal already knows.
	if err := s.PlanHostSteps(ctx, plan); err != nil {
		t.Fatal(err)
	}

	want := []engine.HostStep{
		{RunID: id, Wave: 0, Host: "a", Step: "install", Phase: engine.PhaseFinished, Result: engine.StepResult{
			Status: engine.StepChanged, Stdout: "out", Stderr: "err", Started: t0, Duration: 1500 * time.Millisecond, Backup: backup, Diff: stepDiff}},
		{RunID: id, Wave: 0, Host: "a", Step: "restart", Phase: engine.PhaseStarted, Result: engine.StepResult{Started: t0.Add(2 * time.Second)}},
		{RunID: id, Wave: 1, Host: "b", Step: "install", Phase: engine.PhasePlanned},
		{RunID: id, Wave: 0, Host: "a", Step: "install", Rollback: true, Phase: engine.PhaseFinished, Result: engine.StepResult{
			Status: engine.StepFailed, ExitCode: 3, Error: "exit 3", Started: t0.Add(time.Minute), Duration: time.Second}},
	}
	got, err := s.HostSteps(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("HostSteps (-want +got):\n%s", diff)
	}

	// Starting a finished step again (an idempotent re-run) clears its result.
	if err := s.StartHostStep(ctx, engine.HostStep{RunID: id, Wave: 0, Host: "a", Step: "install"}); err != nil {
		t.Fatal(err)
	}
	got, err = s.HostSteps(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if got[0].Phase != engine.PhaseStarted || got[0].Result.Backup != nil || got[0].Result.Diff != "" || got[0].Result.Status != "" || got[0].Result.Started.IsZero() {
		t.Errorf("restarted row = %+v", got[0])
	}

	if got, err := s.HostSteps(ctx, id+1); err != nil || len(got) != 0 {
		t.Errorf("HostSteps(other run) = %v, %v", got, err)
	}
	// The journal refuses rows for runs that do not exist.
	if err := s.StartHostStep(ctx, engine.HostStep{RunID: id + 1, Host: "a", Step: "x"}); err == nil {
		t.Error("StartHostStep for a missing run succeeded")
	}
}

func testJournalConcurrentHosts(t *testing.T, open Open) {
	s, _, _ := fresh(t, open)
	JournalHosts(t, s, newRun(t, s), 300)
}

// JournalHosts starts and finishes one step on each of hosts hosts of run
// runID at once, one goroutine per host, and checks that every write was
// kept: a row per host, finished and ok.
func JournalHosts(t testing.TB, s Store, runID int64, hosts int) {
	t.Helper()
	ctx := context.Background()
	var wg sync.WaitGroup
	errs := make(chan error, hosts)
	for i := range hosts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			hs := engine.HostStep{RunID: runID, Host: fmt.Sprintf("h%03d", i), Step: "s"}
			if err := s.StartHostStep(ctx, hs); err != nil {
				errs <- err
				return
			}
			hs.Result.Status = engine.StepOK
			errs <- s.FinishHostStep(ctx, hs)
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	rows, err := s.HostSteps(ctx, runID)
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != hosts {
		t.Fatalf("got %d rows, want %d", len(rows), hosts)
	}
	for _, r := range rows {
		if r.Phase != engine.PhaseFinished || r.Result.Status != engine.StepOK {
			t.Errorf("row %s: %s %s", r.Host, r.Phase, r.Result.Status)
		}
	}
}

func testJournalIsolatesFailures(t *testing.T, open Open) {
	s, _, _ := fresh(t, open)
	IsolatedFailure(t, s)
}

// IsolatedFailure writes five journal rows at once, one of them for a run
// that does not exist: that write fails and the four others are kept, so
// one caller's error never undoes another's write (a store that shares
// commits between callers must isolate them).
func IsolatedFailure(t testing.TB, s Store) {
	t.Helper()
	ctx := context.Background()
	id := newRun(t, s)
	var wg sync.WaitGroup
	results := make([]error, 5)
	for i := range results {
		wg.Add(1)
		go func() {
			defer wg.Done()
			runID := id
			if i == 2 {
				runID = id + 100 // no such run: the foreign key refuses it
			}
			results[i] = s.StartHostStep(ctx, engine.HostStep{RunID: runID, Host: fmt.Sprintf("h%d", i), Step: "s"})
		}()
	}
	wg.Wait()
	for i, err := range results {
		if (err != nil) != (i == 2) {
			t.Errorf("write %d: err = %v", i, err)
		}
	}
	rows, err := s.HostSteps(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 4 {
		t.Errorf("got %d rows, want the 4 good writes", len(rows))
	}
}

// testCanceledWrite: a write whose ctx has ended fails with ctx's error and
// writes nothing.
func testCanceledWrite(t *testing.T, open Open) {
	ctx := context.Background()
	s, _, _ := fresh(t, open)
	id := newRun(t, s)
	canceled, cancel := context.WithCancel(ctx)
	cancel()
	if err := s.StartHostStep(canceled, engine.HostStep{RunID: id, Host: "a", Step: "s"}); !errors.Is(err, context.Canceled) {
		t.Errorf("write with a canceled ctx = %v", err)
	}
	rows, err := s.HostSteps(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 0 {
		t.Errorf("canceled writes were written: %+v", rows)
	}
}

// testOrdering: a large plan reads back in plan order, and many events in
// the order they were added.
func testOrdering(t *testing.T, open Open) {
	ctx := context.Background()
	s, _, _ := fresh(t, open)
	id := newRun(t, s)
	var plan []engine.HostStep
	for i := range 2000 {
		// Host names that sort differently from the plan's order.
		plan = append(plan, engine.HostStep{RunID: id, Wave: i / 500, Host: fmt.Sprintf("h%04d", (i*7919)%2000), Step: "deploy"})
	}
	if err := s.PlanHostSteps(ctx, plan); err != nil {
		t.Fatal(err)
	}
	got, err := s.HostSteps(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	for i := range plan {
		plan[i].Phase = engine.PhasePlanned
	}
	if diff := cmp.Diff(plan, got); diff != "" {
		t.Errorf("HostSteps of a 2000-row plan (-want +got):\n%s", diff)
	}

	var want []string
	for i := range 300 {
		action := fmt.Sprintf("action-%03d", (i*37)%300)
		want = append(want, action)
		if err := s.AddEvent(ctx, engine.Event{RunID: id, Actor: "ripple", Action: action}); err != nil {
			t.Fatal(err)
		}
	}
	evs, err := s.Events(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	var actions []string
	for _, e := range evs {
		actions = append(actions, e.Action)
	}
	if diff := cmp.Diff(want, actions); diff != "" {
		t.Errorf("Events order (-want +got):\n%s", diff)
	}
}

// testLargeOutput: megabytes of step output are kept whole.
func testLargeOutput(t *testing.T, open Open) {
	ctx := context.Background()
	s, _, reopen := fresh(t, open)
	id := newRun(t, s)
	var b strings.Builder
	for i := 0; b.Len() < 4<<20; i++ {
		fmt.Fprintf(&b, "line %d: %s\n", i, strings.Repeat("x", i%200))
	}
	stdout, stderr := b.String(), strings.Repeat("warning: ünïcödé\n", 64<<10)
	hs := engine.HostStep{RunID: id, Host: "a", Step: "s", Result: engine.StepResult{Status: engine.StepOK, Stdout: stdout, Stderr: stderr}}
	if err := s.FinishHostStep(ctx, hs); err != nil {
		t.Fatal(err)
	}
	s = reopen()
	got, err := s.HostSteps(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].Result.Stdout != stdout || got[0].Result.Stderr != stderr {
		t.Errorf("large output not kept whole: %d rows", len(got))
	}
}

// testHostTextBytes: what hosts send (step output and errors, check
// output, a sync error, a drift diff) may be any bytes, not UTF-8, with
// NULs; it reads back byte for byte.
func testHostTextBytes(t *testing.T, open Open) {
	ctx := context.Background()
	s, _, _ := fresh(t, open)
	id := newRun(t, s)
	raw := "a\x00b\xff\xfe\xc3(c\r\n\x1b[31mred\x1b[0m é"
	hs := engine.HostStep{RunID: id, Host: "a", Step: "s",
		Result: engine.StepResult{Status: engine.StepFailed, Stdout: raw, Stderr: raw + "2", Error: raw + "3"}}
	if err := s.FinishHostStep(ctx, hs); err != nil {
		t.Fatal(err)
	}
	got, err := s.HostSteps(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if r := got[0].Result; r.Stdout != raw || r.Stderr != raw+"2" || r.Error != raw+"3" {
		t.Errorf("step output = %q, %q, %q; want %q and suffixes", r.Stdout, r.Stderr, r.Error, raw)
	}
	if err := s.SaveMonitorState(ctx, engine.MonitorRecord{Monitor: "m", Host: "a", State: engine.StateCritical, LastOutput: raw}); err != nil {
		t.Fatal(err)
	}
	ms, err := s.MonitorStates(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(ms) != 1 || ms[0].LastOutput != raw {
		t.Errorf("monitor output = %+v, want %q", ms, raw)
	}
	at := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	err = s.RecordSync(ctx, []engine.SyncUpdate{{Job: "j", Host: "a",
		Attempt: &engine.SyncMark{Fingerprint: "f", Commit: "c", Run: id, At: at}, Outcome: engine.ReasonFailed, Error: raw,
		Drift: &engine.DriftMark{Status: engine.DriftDrifted, Fingerprint: "f", Detail: raw + "4", At: at}}})
	if err != nil {
		t.Fatal(err)
	}
	hsync, err := s.HostSyncs(ctx, "j")
	if err != nil {
		t.Fatal(err)
	}
	if len(hsync) != 1 || hsync[0].Error != raw || hsync[0].Drift.Detail != raw+"4" {
		t.Errorf("sync text = %+v, want %q", hsync, raw)
	}
}
