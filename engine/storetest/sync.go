package storetest

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/ripple-ops/ripple/engine"
)

func testSyncAcrossReopen(t *testing.T, open Open) {
	ctx := context.Background()
	s, _, reopen := fresh(t, open)
	at := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	ok := engine.SyncMark{Fingerprint: "fp1", Commit: "c1", Run: 1, At: at}
	bad := engine.SyncMark{Fingerprint: "fp2", Commit: "c2", Run: 2, At: at.Add(time.Hour)}
	err := s.RecordSync(ctx, []engine.SyncUpdate{
		{Job: "app", Host: "web-01", Deployed: &ok},
		{Job: "app", Host: "web-02", Deployed: &ok},
		{Job: "app", Host: "web-02", Attempt: &bad, Outcome: engine.ReasonFailed, Error: "step reload failed: exit status 1"},
		{Job: "db", Host: "db-01", Drift: &engine.DriftMark{Status: engine.DriftDrifted, Fingerprint: "fp9", Detail: strings.Repeat("x", 100<<10), At: at}},
	})
	if err != nil {
		t.Fatal(err)
	}
	s = reopen()
	got, err := s.HostSyncs(ctx, "app")
	if err != nil {
		t.Fatal(err)
	}
	want := []engine.HostSync{
		{Job: "app", Host: "web-01", Deployed: ok},
		{Job: "app", Host: "web-02", Deployed: ok, Attempt: bad, Outcome: engine.ReasonFailed, Error: "step reload failed: exit status 1"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("app (-want +got):\n%s", diff)
	}
	// A later success clears the failed attempt.
	fixed := engine.SyncMark{Fingerprint: "fp2", Commit: "c2", Run: 3, At: at.Add(2 * time.Hour)}
	if err := s.RecordSync(ctx, []engine.SyncUpdate{{Job: "app", Host: "web-02", Deployed: &fixed}}); err != nil {
		t.Fatal(err)
	}
	all, err := s.HostSyncs(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 3 || all[0].Job != "app" || all[2].Job != "db" {
		t.Fatalf("all records: %+v", all)
	}
	if w := all[1]; w.Deployed != fixed || !w.Attempt.IsZero() || w.Outcome != "" {
		t.Errorf("web-02 after a success: %+v", w)
	}
	if d := all[2].Drift; d.Status != engine.DriftDrifted || len(d.Detail) > engine.MaxDriftDetail || !strings.HasSuffix(d.Detail, "…") {
		t.Errorf("drift detail not capped: status %s, %d bytes", d.Status, len(d.Detail))
	}
}

// testSyncRollback: a run that rolls a host back undoes its own
// deployment there, and the one it replaced is the deployed one again,
// even when a wave recorded the run's deployment twice.
func testSyncRollback(t *testing.T, open Open) {
	ctx := context.Background()
	s, _, _ := fresh(t, open)
	at := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	v1 := engine.SyncMark{Fingerprint: "fp1", Commit: "c1", Run: 1, At: at}
	v2 := engine.SyncMark{Fingerprint: "fp2", Commit: "c2", Run: 2, At: at.Add(time.Hour)}
	v2again := v2
	v2again.At = at.Add(2 * time.Hour)
	steps := [][]engine.SyncUpdate{
		{{Job: "app", Host: "a", Deployed: &v1}, {Job: "app", Host: "b", Deployed: &v1}},
		{{Job: "app", Host: "a", Deployed: &v2}, {Job: "app", Host: "b", Deployed: &v2}},
		{{Job: "app", Host: "a", Deployed: &v2again}},
		// Run 2 rolls a back; on b, run 3's rollback of a deployment it
		// never made changes nothing deployed.
		{{Job: "app", Host: "a", Attempt: &v2, Outcome: engine.ReasonRolledBack, Undeploy: true},
			{Job: "app", Host: "b", Attempt: &engine.SyncMark{Fingerprint: "fp3", Commit: "c3", Run: 3, At: at}, Outcome: engine.ReasonRolledBack, Undeploy: true}},
	}
	for _, u := range steps {
		if err := s.RecordSync(ctx, u); err != nil {
			t.Fatal(err)
		}
	}
	got, err := s.HostSyncs(ctx, "app")
	if err != nil {
		t.Fatal(err)
	}
	want := []engine.HostSync{
		{Job: "app", Host: "a", Deployed: v1, Attempt: v2, Outcome: engine.ReasonRolledBack},
		{Job: "app", Host: "b", Deployed: v2, Attempt: engine.SyncMark{Fingerprint: "fp3", Commit: "c3", Run: 3, At: at}, Outcome: engine.ReasonRolledBack},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("after rollbacks (-want +got):\n%s", diff)
	}
}
