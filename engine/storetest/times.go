package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/ripple-ops/ripple/engine"
)

// testTimes: times come back equal to what was written, to the nanosecond
// (metrics: to the millisecond), in UTC whatever zone they were written
// in; a zero time stays zero.
func testTimes(t *testing.T, open Open) {
	ctx := context.Background()
	s, _, reopen := fresh(t, open)
	tokyo := time.FixedZone("JST", 9*60*60)
	at := time.Date(2026, 7, 14, 9, 30, 15, 123456789, tokyo)
	utc := func(what string, tm time.Time) {
		t.Helper()
		if !tm.IsZero() && tm.Location() != time.UTC {
			t.Errorf("%s read back in %v, want UTC", what, tm.Location())
		}
	}

	r := &engine.Run{Job: "web", Commit: "c1", Created: at, Started: at.Add(time.Nanosecond)} // Finished zero
	if err := s.CreateRun(ctx, r); err != nil {
		t.Fatal(err)
	}
	hs := engine.HostStep{RunID: r.ID, Host: "a", Step: "s",
		Result: engine.StepResult{Status: engine.StepOK, Started: at.Add(2 * time.Nanosecond), Duration: 1234567891 * time.Nanosecond}}
	if err := s.FinishHostStep(ctx, hs); err != nil {
		t.Fatal(err)
	}
	if err := s.AddEvent(ctx, engine.Event{RunID: r.ID, At: at.Add(3 * time.Nanosecond), Actor: "a", Action: "approve"}); err != nil {
		t.Fatal(err)
	}
	if err := s.SetStatus(ctx, engine.CommitStatus{Commit: "c1", Context: "ripple/plan", State: "success", Updated: at.Add(4 * time.Nanosecond)}); err != nil {
		t.Fatal(err)
	}
	mon := engine.MonitorRecord{Monitor: "m", Host: "a", State: engine.StateOK, Since: at.Add(5 * time.Nanosecond)} // LastAt zero
	if err := s.SaveMonitorState(ctx, mon); err != nil {
		t.Fatal(err)
	}
	mark := engine.SyncMark{Fingerprint: "f", Commit: "c1", Run: r.ID, At: at.Add(6 * time.Nanosecond)}
	if err := s.RecordSync(ctx, []engine.SyncUpdate{{Job: "j", Host: "a", Deployed: &mark}}); err != nil {
		t.Fatal(err)
	}
	if err := s.RecordFiring(ctx, engine.Firing{Job: "j", At: at.Add(7 * time.Nanosecond), Outcome: engine.FiringStarted}); err != nil {
		t.Fatal(err)
	}
	if err := s.AppendMetrics(ctx, []engine.MetricSample{{Monitor: "m", Host: "a", Metric: "load", At: at, Value: 1}}); err != nil {
		t.Fatal(err)
	}

	s = reopen()
	got, err := s.GetRun(ctx, r.ID)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(r, got); diff != "" {
		t.Errorf("run times (-want +got):\n%s", diff)
	}
	if !got.Finished.IsZero() {
		t.Errorf("zero Finished read back as %v", got.Finished)
	}
	utc("run created", got.Created)
	utc("run started", got.Started)
	utc("run updated", got.Updated)

	steps, err := s.HostSteps(ctx, r.ID)
	if err != nil {
		t.Fatal(err)
	}
	if res := steps[0].Result; !res.Started.Equal(hs.Result.Started) || res.Duration != hs.Result.Duration {
		t.Errorf("step started %v after %v, want %v after %v", res.Started, res.Duration, hs.Result.Started, hs.Result.Duration)
	}
	utc("step started", steps[0].Result.Started)

	evs, err := s.Events(ctx, r.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !evs[0].At.Equal(at.Add(3 * time.Nanosecond)) {
		t.Errorf("event at %v, want %v", evs[0].At, at.Add(3*time.Nanosecond))
	}
	utc("event", evs[0].At)

	sts, err := s.Statuses(ctx, "c1")
	if err != nil {
		t.Fatal(err)
	}
	if !sts[0].Updated.Equal(at.Add(4 * time.Nanosecond)) {
		t.Errorf("status updated %v, want %v", sts[0].Updated, at.Add(4*time.Nanosecond))
	}
	utc("status", sts[0].Updated)

	ms, err := s.MonitorStates(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !ms[0].Since.Equal(mon.Since) || !ms[0].LastAt.IsZero() {
		t.Errorf("monitor since %v, last %v; want %v and zero", ms[0].Since, ms[0].LastAt, mon.Since)
	}
	utc("monitor since", ms[0].Since)

	syncs, err := s.HostSyncs(ctx, "j")
	if err != nil {
		t.Fatal(err)
	}
	if !syncs[0].Deployed.At.Equal(mark.At) || !syncs[0].Attempt.At.IsZero() || !syncs[0].Drift.At.IsZero() {
		t.Errorf("sync deployed at %v, attempt %v, drift %v; want %v, zero, zero", syncs[0].Deployed.At, syncs[0].Attempt.At, syncs[0].Drift.At, mark.At)
	}
	utc("sync deployed", syncs[0].Deployed.At)

	last, err := s.LastFiring(ctx, "j")
	if err != nil {
		t.Fatal(err)
	}
	if !last.Equal(at.Add(7 * time.Nanosecond)) {
		t.Errorf("last firing %v, want %v", last, at.Add(7*time.Nanosecond))
	}
	utc("last firing", last)

	pts, err := s.QueryMetrics(ctx, "m", "a", "load", at.Add(-time.Hour), at.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if len(pts) != 1 || !pts[0].At.Equal(at.Truncate(time.Millisecond)) {
		t.Errorf("metric points %v, want one at %v", pts, at.Truncate(time.Millisecond))
	} else {
		utc("metric", pts[0].At)
	}
}
