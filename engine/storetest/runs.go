package storetest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/ripple-ops/ripple/engine"
)

func testRunRoundTrip(t *testing.T, open Open) {
	ctx := context.Background()
	s, _, _ := fresh(t, open)
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

	// What a run was given: its params (as JSON values) and an exec run's
	// command, both kept as they were written, and both updatable.
	p := &engine.Run{
		Job: "restart-app", Commit: "c1", Trigger: "manual",
		Params: map[string]json.RawMessage{"service": json.RawMessage(`"app"`), "count": json.RawMessage(`3`), "hosts": json.RawMessage(`["a","b"]`), "password": json.RawMessage(`"***"`)},
		Waves:  [][]string{{"a"}},
	}
	x := &engine.Run{
		Trigger: engine.TriggerExec, Commit: "c1", Waves: [][]string{{"a", "b"}},
		Exec: &engine.ExecSpec{Command: "uptime; echo 'done' | tr a-z A-Z", Timeout: 90 * time.Second, MaxParallel: 5},
	}
	for _, r := range []*engine.Run{p, x} {
		if err := s.CreateRun(ctx, r); err != nil {
			t.Fatal(err)
		}
		got, err := s.GetRun(ctx, r.ID)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(r, got); diff != "" {
			t.Errorf("GetRun of a run with inputs (-want +got):\n%s", diff)
		}
	}
	p.Params = map[string]json.RawMessage{"service": json.RawMessage(`"worker"`)}
	x.Exec.Command = "uptime"
	for _, r := range []*engine.Run{p, x} {
		if err := s.UpdateRun(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	if list, err := s.ListRuns(ctx, engine.RunFilter{Limit: 2}); err != nil || len(list) != 2 {
		t.Fatalf("ListRuns = %v, %v", list, err)
	} else if diff := cmp.Diff([]*engine.Run{x, p}, list); diff != "" {
		t.Errorf("ListRuns after updating inputs (-want +got):\n%s", diff)
	}

	if err := s.UpdateRun(ctx, &engine.Run{ID: 999, State: engine.RunFailed}); !errors.Is(err, engine.ErrNotFound) {
		t.Errorf("UpdateRun(missing) = %v, want ErrNotFound", err)
	}
	if _, err := s.GetRun(ctx, 999); !errors.Is(err, engine.ErrNotFound) {
		t.Errorf("GetRun(missing) = %v, want ErrNotFound", err)
	}
}

func testListRuns(t *testing.T, open Open) {
	ctx := context.Background()
	s, _, _ := fresh(t, open)
	t0 := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	seed := []struct {
		job, commit    string
		state          engine.RunState
		actor, trigger string
	}{
		{"web", "c1", engine.RunSucceeded, "ripple", "commit"}, // id 1
		{"db", "c1", engine.RunFailed, "ripple", "commit"},     // id 2
		{"web", "c2", engine.RunRunning, "alice", "manual"},    // id 3
		{"web", "c3", engine.RunQueued, "bob", "sync"},         // id 4
		{"db", "c3", engine.RunRunning, "alice", "manual"},     // id 5
	}
	for i, r := range seed {
		run := &engine.Run{Job: r.job, Commit: r.commit, State: r.state, Actor: r.actor, Trigger: r.trigger, Created: t0.Add(time.Duration(i) * time.Hour)}
		if err := s.CreateRun(ctx, run); err != nil {
			t.Fatal(err)
		}
	}
	// Runs 2 and 3 reached h1; run 5 reached h2.
	for _, hs := range []engine.HostStep{{RunID: 2, Host: "h1", Step: "a"}, {RunID: 2, Host: "h1", Step: "b"}, {RunID: 3, Host: "h1", Step: "a"}, {RunID: 5, Host: "h2", Step: "a"}} {
		if err := s.PlanHostSteps(ctx, []engine.HostStep{hs}); err != nil {
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
		{"actor", engine.RunFilter{Actor: "alice"}, []int64{5, 3}},
		{"trigger", engine.RunFilter{Trigger: "commit"}, []int64{2, 1}},
		{"host", engine.RunFilter{Host: "h1"}, []int64{3, 2}},
		{"host and job", engine.RunFilter{Host: "h1", Job: "db"}, []int64{2}},
		{"since", engine.RunFilter{Since: t0.Add(3 * time.Hour)}, []int64{5, 4}},
		{"until", engine.RunFilter{Until: t0.Add(time.Hour)}, []int64{1}},
		{"time range", engine.RunFilter{Since: t0.Add(time.Hour), Until: t0.Add(3 * time.Hour)}, []int64{3, 2}},
		{"limit", engine.RunFilter{Job: "web", Limit: 2}, []int64{4, 3}},
		{"next page", engine.RunFilter{Before: 4, Limit: 2}, []int64{3, 2}},
		{"last page", engine.RunFilter{Before: 2, Limit: 2}, []int64{1}},
		{"previous page", engine.RunFilter{After: 2, Oldest: true, Limit: 2}, []int64{3, 4}},
		{"oldest first", engine.RunFilter{Oldest: true}, []int64{1, 2, 3, 4, 5}},
		{"keyset and filter", engine.RunFilter{Job: "web", Before: 4}, []int64{3, 1}},
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

	counts := []struct {
		name string
		f    engine.RunFilter
		want map[engine.RunState]int
	}{
		{"all", engine.RunFilter{}, map[engine.RunState]int{engine.RunSucceeded: 1, engine.RunFailed: 1, engine.RunRunning: 2, engine.RunQueued: 1}},
		{"job", engine.RunFilter{Job: "web"}, map[engine.RunState]int{engine.RunSucceeded: 1, engine.RunRunning: 1, engine.RunQueued: 1}},
		{"host", engine.RunFilter{Host: "h1"}, map[engine.RunState]int{engine.RunFailed: 1, engine.RunRunning: 1}},
		{"keyset and limit ignored", engine.RunFilter{Actor: "alice", Before: 4, Limit: 1}, map[engine.RunState]int{engine.RunRunning: 2}},
		{"none", engine.RunFilter{Job: "nope"}, map[engine.RunState]int{}},
	}
	for _, tt := range counts {
		t.Run("count "+tt.name, func(t *testing.T) {
			got, err := s.CountRuns(ctx, tt.f)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("CountRuns (-want +got):\n%s", diff)
			}
		})
	}

	latest, err := s.LatestRuns(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range latest {
		got = append(got, fmt.Sprintf("%s:%d", r.Job, r.ID))
	}
	if diff := cmp.Diff([]string{"db:5", "web:4"}, got); diff != "" {
		t.Errorf("LatestRuns (-want +got):\n%s", diff)
	}
}

func testEvents(t *testing.T, open Open) {
	ctx := context.Background()
	s, _, _ := fresh(t, open)
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

func testLastApplied(t *testing.T, open Open) {
	ctx := context.Background()
	s, _, _ := fresh(t, open)
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

// testReopenKeepsData: what was written before Close is there after a
// reopen, and writes after Close fail with engine.ErrClosed.
func testReopenKeepsData(t *testing.T, open Open) {
	ctx := context.Background()
	s, _, reopen := fresh(t, open)
	r := &engine.Run{Job: "web", Commit: "c1"}
	if err := s.CreateRun(ctx, r); err != nil {
		t.Fatal(err)
	}
	if err := s.SetLastApplied(ctx, "main", "c1"); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Errorf("second Close = %v, want nil", err)
	}
	if err := s.CreateRun(ctx, &engine.Run{Job: "web"}); !errors.Is(err, engine.ErrClosed) {
		t.Errorf("CreateRun after Close = %v, want ErrClosed", err)
	}

	s = reopen()
	if _, err := s.GetRun(ctx, r.ID); err != nil {
		t.Errorf("GetRun after reopen: %v", err)
	}
	if c, err := s.LastApplied(ctx, "main"); err != nil || c != "c1" {
		t.Errorf("LastApplied after reopen = %q, %v", c, err)
	}
}

// testCloseDuringWrites: writes racing Close either succeed or fail with
// engine.ErrClosed, and every one that succeeded is there after a reopen.
func testCloseDuringWrites(t *testing.T, open Open) {
	ctx := context.Background()
	s, _, reopen := fresh(t, open)
	id := newRun(t, s)
	var wg sync.WaitGroup
	errs := make([]error, 50)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = s.StartHostStep(ctx, engine.HostStep{RunID: id, Host: fmt.Sprintf("h%d", i), Step: "s"})
		}()
	}
	time.Sleep(time.Millisecond)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	ok := map[string]bool{}
	for i, err := range errs {
		switch {
		case err == nil:
			ok[fmt.Sprintf("h%d", i)] = true
		case !errors.Is(err, engine.ErrClosed):
			t.Errorf("write %d during Close: %v", i, err)
		}
	}
	s = reopen()
	rows, err := s.HostSteps(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rows {
		delete(ok, r.Host)
	}
	if len(ok) > 0 {
		t.Errorf("%d writes that returned nil before Close are missing after a reopen", len(ok))
	}
}
