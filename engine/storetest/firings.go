package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/ripple-ops/ripple/engine"
)

func testFirings(t *testing.T, open Open) {
	ctx := context.Background()
	s, _, _ := fresh(t, open)
	if got, err := s.LastFiring(ctx, "patch"); err != nil || !got.IsZero() {
		t.Fatalf("LastFiring with none = %v, %v; want zero", got, err)
	}
	tokyo, err := time.LoadLocation("Asia/Tokyo")
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 11, 29, 3, 0, 0, 0, tokyo)
	recs := []engine.Firing{
		{Job: "patch", At: at, Outcome: engine.FiringStarted},
		{Job: "patch", At: at.Add(48 * time.Hour), Outcome: engine.FiringMissedOutside},
		{Job: "backup", At: at.Add(72 * time.Hour), Outcome: engine.FiringStarted},
		// Recorded later but for an earlier cron time: not the latest.
		{Job: "patch", At: at.Add(24 * time.Hour), Outcome: engine.FiringError, Error: "daemon is not running"},
	}
	for _, f := range recs {
		if err := s.RecordFiring(ctx, f); err != nil {
			t.Fatal(err)
		}
	}
	got, err := s.LastFiring(ctx, "patch")
	if err != nil {
		t.Fatal(err)
	}
	if want := at.Add(48 * time.Hour); !got.Equal(want) {
		t.Errorf("LastFiring(patch) = %v, want %v (any outcome counts)", got, want)
	}
	list, err := s.Firings(ctx, "patch", 2)
	if err != nil {
		t.Fatal(err)
	}
	want := []engine.Firing{
		{Job: "patch", At: at.Add(48 * time.Hour).UTC(), Outcome: engine.FiringMissedOutside},
		{Job: "patch", At: at.Add(24 * time.Hour).UTC(), Outcome: engine.FiringError, Error: "daemon is not running"},
	}
	if diff := cmp.Diff(want, list); diff != "" {
		t.Errorf("Firings(patch, 2) (-want +got):\n%s", diff)
	}
}
