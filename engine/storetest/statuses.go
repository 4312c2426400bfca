package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/ripple-ops/ripple/engine"
)

func testStatusOutbox(t *testing.T, open Open) {
	ctx := context.Background()
	at := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	st := func(commit, context, state, desc string, min int) engine.CommitStatus {
		return engine.CommitStatus{Commit: commit, Context: context, State: state, Description: desc,
			TargetURL: "https://ci/" + commit, Updated: at.Add(time.Duration(min) * time.Minute)}
	}
	type step struct {
		set     *engine.CommitStatus // SetStatus
		deliver *engine.CommitStatus // MarkStatusDelivered
	}
	set := func(s engine.CommitStatus) step { return step{set: &s} }
	deliver := func(s engine.CommitStatus) step { return step{deliver: &s} }

	tests := []struct {
		name        string
		steps       []step
		wantPending []engine.CommitStatus
		wantC1      []engine.CommitStatus
	}{
		{
			name:        "queued in order",
			steps:       []step{set(st("c1", "ripple/plan", "pending", "", 1)), set(st("c2", "ripple/plan", "pending", "", 2)), set(st("c1", "ripple/job/web", "pending", "", 3))},
			wantPending: []engine.CommitStatus{st("c1", "ripple/plan", "pending", "", 1), st("c2", "ripple/plan", "pending", "", 2), st("c1", "ripple/job/web", "pending", "", 3)},
			wantC1:      []engine.CommitStatus{st("c1", "ripple/job/web", "pending", "", 3), st("c1", "ripple/plan", "pending", "", 1)},
		},
		{
			name: "coalesced update keeps its place",
			steps: []step{set(st("c1", "ripple/plan", "pending", "", 1)), set(st("c2", "ripple/plan", "pending", "", 2)),
				set(st("c1", "ripple/plan", "success", "3 to add", 3))},
			wantPending: []engine.CommitStatus{st("c1", "ripple/plan", "success", "3 to add", 3), st("c2", "ripple/plan", "pending", "", 2)},
			wantC1:      []engine.CommitStatus{st("c1", "ripple/plan", "success", "3 to add", 3)},
		},
		{
			name:        "delivered leaves the outbox",
			steps:       []step{set(st("c1", "ripple/plan", "pending", "", 1)), deliver(st("c1", "ripple/plan", "pending", "", 1))},
			wantPending: nil,
			wantC1:      []engine.CommitStatus{st("c1", "ripple/plan", "pending", "", 1)},
		},
		{
			name: "stale delivery keeps newer state queued",
			steps: []step{set(st("c1", "ripple/plan", "pending", "", 1)), set(st("c1", "ripple/plan", "failure", "1 error", 2)),
				deliver(st("c1", "ripple/plan", "pending", "", 1))},
			wantPending: []engine.CommitStatus{st("c1", "ripple/plan", "failure", "1 error", 2)},
			wantC1:      []engine.CommitStatus{st("c1", "ripple/plan", "failure", "1 error", 2)},
		},
		{
			name: "update after delivery requeues at the back",
			steps: []step{set(st("c1", "ripple/plan", "pending", "", 1)), set(st("c2", "ripple/plan", "pending", "", 2)),
				deliver(st("c1", "ripple/plan", "pending", "", 1)), set(st("c1", "ripple/plan", "success", "", 3))},
			wantPending: []engine.CommitStatus{st("c2", "ripple/plan", "pending", "", 2), st("c1", "ripple/plan", "success", "", 3)},
			wantC1:      []engine.CommitStatus{st("c1", "ripple/plan", "success", "", 3)},
		},
		{
			name:        "delivering an unknown status is a no-op",
			steps:       []step{deliver(st("c9", "ripple/plan", "pending", "", 1)), set(st("c1", "ripple/plan", "pending", "", 1))},
			wantPending: []engine.CommitStatus{st("c1", "ripple/plan", "pending", "", 1)},
			wantC1:      []engine.CommitStatus{st("c1", "ripple/plan", "pending", "", 1)},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, _, _ := fresh(t, open)
			for _, sp := range tt.steps {
				var err error
				if sp.set != nil {
					err = s.SetStatus(ctx, *sp.set)
				} else {
					err = s.MarkStatusDelivered(ctx, *sp.deliver)
				}
				if err != nil {
					t.Fatal(err)
				}
			}
			pending, err := s.PendingStatuses(ctx, 0)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.wantPending, pending); diff != "" {
				t.Errorf("PendingStatuses (-want +got):\n%s", diff)
			}
			c1, err := s.Statuses(ctx, "c1")
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.wantC1, c1); diff != "" {
				t.Errorf("Statuses(c1) (-want +got):\n%s", diff)
			}
		})
	}
}

func testPendingStatusesLimit(t *testing.T, open Open) {
	ctx := context.Background()
	s, _, _ := fresh(t, open)
	for _, c := range []string{"a", "b", "c"} {
		if err := s.SetStatus(ctx, engine.CommitStatus{Commit: c, Context: "ripple/plan", State: "pending"}); err != nil {
			t.Fatal(err)
		}
	}
	got, err := s.PendingStatuses(ctx, 2)
	if err != nil {
		t.Fatal(err)
	}
	var commits []string
	for _, st := range got {
		commits = append(commits, st.Commit)
		if st.Updated.IsZero() {
			t.Errorf("status %s: Updated not filled", st.Commit)
		}
	}
	if diff := cmp.Diff([]string{"a", "b"}, commits); diff != "" {
		t.Errorf("PendingStatuses(2) commits (-want +got):\n%s", diff)
	}
}

func testOutboxStats(t *testing.T, open Open) {
	ctx := context.Background()
	s, _, _ := fresh(t, open)
	stats := func() (int, time.Time) {
		t.Helper()
		depth, oldest, err := s.OutboxStats(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return depth, oldest
	}
	if depth, oldest := stats(); depth != 0 || !oldest.IsZero() {
		t.Fatalf("empty outbox: depth %d, oldest %v; want 0 and the zero time", depth, oldest)
	}

	at := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	st := func(commit, state string, min int) engine.CommitStatus {
		return engine.CommitStatus{Commit: commit, Context: "ripple/plan", State: state, Updated: at.Add(time.Duration(min) * time.Minute)}
	}
	for _, x := range []engine.CommitStatus{st("c1", "pending", 1), st("c2", "pending", 2), st("c3", "pending", 3)} {
		if err := s.SetStatus(ctx, x); err != nil {
			t.Fatal(err)
		}
	}
	if depth, oldest := stats(); depth != 3 || !oldest.Equal(at.Add(time.Minute)) {
		t.Fatalf("three queued: depth %d, oldest %v; want 3 and %v", depth, oldest, at.Add(time.Minute))
	}
	if err := s.MarkStatusDelivered(ctx, st("c1", "pending", 1)); err != nil {
		t.Fatal(err)
	}
	// A newer state of c2 replaces the waiting one: its clock restarts.
	if err := s.SetStatus(ctx, st("c2", "success", 4)); err != nil {
		t.Fatal(err)
	}
	if depth, oldest := stats(); depth != 2 || !oldest.Equal(at.Add(3*time.Minute)) {
		t.Fatalf("after delivering c1 and updating c2: depth %d, oldest %v; want 2 and %v", depth, oldest, at.Add(3*time.Minute))
	}
	for _, x := range []engine.CommitStatus{st("c2", "success", 4), st("c3", "pending", 3)} {
		if err := s.MarkStatusDelivered(ctx, x); err != nil {
			t.Fatal(err)
		}
	}
	if depth, oldest := stats(); depth != 0 || !oldest.IsZero() {
		t.Fatalf("all delivered: depth %d, oldest %v; want 0 and the zero time", depth, oldest)
	}
}
