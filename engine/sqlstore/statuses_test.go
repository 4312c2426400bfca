package sqlstore

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/ripple-ops/ripple/engine"
)

func TestStatusOutbox(t *testing.T) {
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
			s := openTest(t)
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

func TestPendingStatusesLimit(t *testing.T) {
	ctx := context.Background()
	s := openTest(t)
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
