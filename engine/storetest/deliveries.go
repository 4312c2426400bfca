package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/ripple-ops/ripple/engine"
)

func testDeliveries(t *testing.T, open Open) {
	ctx := context.Background()
	s, _, _ := fresh(t, open)
	steps := []struct {
		id, event string
		wantNew   bool
	}{
		{"d1", "push", true},
		{"d2", "pull_request", true},
		{"d1", "push", false}, // redelivery
		{"d3", "push", true},
	}
	for _, st := range steps {
		isNew, err := s.RecordDelivery(ctx, st.id, st.event)
		if err != nil {
			t.Fatal(err)
		}
		if isNew != st.wantNew {
			t.Errorf("RecordDelivery(%s) isNew = %v, want %v", st.id, isNew, st.wantNew)
		}
	}
	for id, want := range map[string]bool{"d1": true, "d2": true, "d3": true, "d4": false} {
		if got, err := s.DeliverySeen(ctx, id); err != nil || got != want {
			t.Errorf("DeliverySeen(%s) = %v, %v; want %v", id, got, err, want)
		}
	}
	for _, id := range []string{"d2", "unknown"} {
		if err := s.MarkDeliveryProcessed(ctx, id); err != nil {
			t.Fatal(err)
		}
	}
	got, err := s.UnprocessedDeliveries(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"d1", "d3"}, got); diff != "" {
		t.Errorf("UnprocessedDeliveries (-want +got):\n%s", diff)
	}
}

func testCompactDeliveries(t *testing.T, open Open) {
	ctx := context.Background()
	s, clock, _ := fresh(t, open)
	base := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	for i, id := range []string{"old", "new"} {
		clock.Set(base.Add(time.Duration(i) * 24 * time.Hour))
		if _, err := s.RecordDelivery(ctx, id, "push"); err != nil {
			t.Fatal(err)
		}
	}
	// "old" is received at base, "new" a day later; compact just past old's retention.
	if err := s.Compact(ctx, base.Add(engine.DeliveryRetention+time.Hour)); err != nil {
		t.Fatal(err)
	}
	for id, want := range map[string]bool{"old": false, "new": true} {
		if got, err := s.DeliverySeen(ctx, id); err != nil || got != want {
			t.Errorf("after Compact, DeliverySeen(%s) = %v, %v; want %v", id, got, err, want)
		}
	}
}
