package sqlstore

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/ripple-ops/ripple/engine"
)

func TestSyncRecordsRunsAndDriftAcrossReopen(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s, err := Open(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	ok := engine.SyncMark{Fingerprint: "fp1", Commit: "c1", Run: 1, At: at}
	bad := engine.SyncMark{Fingerprint: "fp2", Commit: "c2", Run: 2, At: at.Add(time.Hour)}
	err = s.RecordSync(ctx, []engine.SyncUpdate{
		{Job: "app", Host: "web-01", Deployed: &ok},
		{Job: "app", Host: "web-02", Deployed: &ok},
		{Job: "app", Host: "web-02", Attempt: &bad, Outcome: engine.ReasonFailed, Error: "step reload failed: exit status 1"},
		{Job: "db", Host: "db-01", Drift: &engine.DriftMark{Status: engine.DriftDrifted, Fingerprint: "fp9", Detail: strings.Repeat("x", 100<<10), At: at}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s, err = Open(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
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
	if d := all[2].Drift; d.Status != engine.DriftDrifted || len(d.Detail) > maxDriftDetail || !strings.HasSuffix(d.Detail, "…") {
		t.Errorf("drift detail not capped: status %s, %d bytes", d.Status, len(d.Detail))
	}
}
