package sqlstore

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/ripple-ops/ripple/engine"
)

func TestRunRoundTrip(t *testing.T) {
	ctx := context.Background()
	s := openTest(t)
	started := time.Date(2026, 1, 2, 3, 4, 5, 6, time.UTC)
	r := &engine.Run{
		Job: "web", Commit: "c1", Branch: "main", Trigger: "commit", Actor: "alice", Reason: "push",
		Waves: [][]string{{"a"}, {"b", "c"}}, Started: started,
	}
	if err := s.CreateRun(ctx, r); err != nil {
		t.Fatal(err)
	}
	if r.ID == 0 || r.State != engine.RunQueued || r.Created.IsZero() || r.Updated.IsZero() {
		t.Fatalf("CreateRun did not fill ID, State, Created, Updated: %+v", r)
	}
	got, err := s.GetRun(ctx, r.ID)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(r, got); diff != "" {
		t.Errorf("GetRun after create (-want +got):\n%s", diff)
	}

	r.State = engine.RunFailed
	r.CurrentWave = 1
	r.Summary = "1 failed"
	r.Error = "budget exceeded"
	r.Finished = started.Add(time.Minute)
	r.Waves = nil
	if err := s.UpdateRun(ctx, r); err != nil {
		t.Fatal(err)
	}
	got, err = s.GetRun(ctx, r.ID)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(r, got); diff != "" {
		t.Errorf("GetRun after update (-want +got):\n%s", diff)
	}

	if err := s.UpdateRun(ctx, &engine.Run{ID: 999, State: engine.RunFailed}); !errors.Is(err, engine.ErrNotFound) {
		t.Errorf("UpdateRun(missing) = %v, want ErrNotFound", err)
	}
	if _, err := s.GetRun(ctx, 999); !errors.Is(err, engine.ErrNotFound) {
		t.Errorf("GetRun(missing) = %v, want ErrNotFound", err)
	}
}

func TestListRuns(t *testing.T) {
	ctx := context.Background()
	s := openTest(t)
	seed := []struct {
		job, commit string
		state       engine.RunState
	}{
		{"web", "c1", engine.RunSucceeded}, // id 1
		{"db", "c1", engine.RunFailed},     // id 2
		{"web", "c2", engine.RunRunning},   // id 3
		{"web", "c3", engine.RunQueued},    // id 4
		{"db", "c3", engine.RunRunning},    // id 5
	}
	for _, r := range seed {
		if err := s.CreateRun(ctx, &engine.Run{Job: r.job, Commit: r.commit, State: r.state}); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		name string
		f    engine.RunFilter
		want []int64
	}{
		{"all newest first", engine.RunFilter{}, []int64{5, 4, 3, 2, 1}},
		{"job", engine.RunFilter{Job: "web"}, []int64{4, 3, 1}},
		{"commit", engine.RunFilter{Commit: "c1"}, []int64{2, 1}},
		{"one state", engine.RunFilter{States: []engine.RunState{engine.RunRunning}}, []int64{5, 3}},
		{"states", engine.RunFilter{States: []engine.RunState{engine.RunRunning, engine.RunQueued}}, []int64{5, 4, 3}},
		{"job and state", engine.RunFilter{Job: "db", States: []engine.RunState{engine.RunRunning}}, []int64{5}},
		{"limit", engine.RunFilter{Job: "web", Limit: 2}, []int64{4, 3}},
		{"no match", engine.RunFilter{Job: "nope"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			runs, err := s.ListRuns(ctx, tt.f)
			if err != nil {
				t.Fatal(err)
			}
			var ids []int64
			for _, r := range runs {
				ids = append(ids, r.ID)
			}
			if diff := cmp.Diff(tt.want, ids); diff != "" {
				t.Errorf("ids (-want +got):\n%s", diff)
			}
		})
	}
}

func TestEvents(t *testing.T) {
	ctx := context.Background()
	s := openTest(t)
	at := time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC)
	add := []engine.Event{
		{RunID: 1, At: at, Actor: "alice", Action: "approve", Reason: "looks good"},
		{RunID: 2, At: at, Actor: "bob", Action: "abort"},
		{RunID: 1, Actor: "ripple", Action: "start"}, // At filled by the store
	}
	for _, e := range add {
		if err := s.AddEvent(ctx, e); err != nil {
			t.Fatal(err)
		}
	}
	got, err := s.Events(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[1].At.IsZero() {
		t.Fatalf("Events(1) = %+v", got)
	}
	want := []engine.Event{add[0], {RunID: 1, At: got[1].At, Actor: "ripple", Action: "start"}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Events(1) (-want +got):\n%s", diff)
	}
	if got, _ := s.Events(ctx, 3); len(got) != 0 {
		t.Errorf("Events(3) = %+v, want none", got)
	}
}

func TestLastApplied(t *testing.T) {
	ctx := context.Background()
	s := openTest(t)
	if got, err := s.LastApplied(ctx, "main"); err != nil || got != "" {
		t.Fatalf("LastApplied before any = %q, %v", got, err)
	}
	steps := []struct{ branch, commit string }{{"main", "a"}, {"prod", "x"}, {"main", "b"}}
	for _, st := range steps {
		if err := s.SetLastApplied(ctx, st.branch, st.commit); err != nil {
			t.Fatal(err)
		}
	}
	for branch, want := range map[string]string{"main": "b", "prod": "x", "dev": ""} {
		got, err := s.LastApplied(ctx, branch)
		if err != nil || got != want {
			t.Errorf("LastApplied(%s) = %q, %v; want %q", branch, got, err, want)
		}
	}
}
