package sqlstore

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/ripple-ops/ripple/engine"
)

func TestJournal(t *testing.T) {
	ctx := context.Background()
	s := openTest(t)
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
	if err := s.FinishHostStep(ctx, engine.HostStep{RunID: id, Wave: 0, Host: "a", Step: "install",
		Result: engine.StepResult{Status: engine.StepChanged, ExitCode: 0, Stdout: "out", Stderr: "err",
			Duration: 1500 * time.Millisecond, Backup: backup}}); err != nil {
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
			Status: engine.StepChanged, Stdout: "out", Stderr: "err", Started: t0, Duration: 1500 * time.Millisecond, Backup: backup}},
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
	if got[0].Phase != engine.PhaseStarted || got[0].Result.Backup != nil || got[0].Result.Status != "" || got[0].Result.Started.IsZero() {
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
