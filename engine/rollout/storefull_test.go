package rollout

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/ripple-ops/ripple/engine"
	"github.com/ripple-ops/ripple/engine/enginetest"
)

// fullStore is the fixture's store on a disk that fills up: from the write
// fillAt picks, every write fails as sqlstore fails it on a full disk
// (engine.ErrStoreUnwritable) until free. Reads always work.
type fullStore struct {
	*enginetest.MemStore
	mu     sync.Mutex
	full   bool
	fillAt func(op string, hs engine.HostStep) bool
}

func (s *fullStore) refuse(op string, hs engine.HostStep) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.full && s.fillAt != nil && s.fillAt(op, hs) {
		s.full = true
	}
	if s.full {
		// As sqlstore: the store's error, wrapped by the method's context.
		return fmt.Errorf("%s: %w", op, fmt.Errorf("%w: /var/lib/ripple/ripple.db: commit: database or disk is full (13)", engine.ErrStoreUnwritable))
	}
	return nil
}

func (s *fullStore) fill() { s.mu.Lock(); s.full = true; s.mu.Unlock() }
func (s *fullStore) free() { s.mu.Lock(); s.full = false; s.fillAt = nil; s.mu.Unlock() }

func (s *fullStore) CreateRun(ctx context.Context, r *engine.Run) error {
	if err := s.refuse("create run", engine.HostStep{}); err != nil {
		return err
	}
	return s.MemStore.CreateRun(ctx, r)
}

func (s *fullStore) UpdateRun(ctx context.Context, r *engine.Run) error {
	if err := s.refuse("update run", engine.HostStep{}); err != nil {
		return err
	}
	return s.MemStore.UpdateRun(ctx, r)
}

func (s *fullStore) PlanHostSteps(ctx context.Context, rows []engine.HostStep) error {
	if err := s.refuse("plan", engine.HostStep{}); err != nil {
		return err
	}
	return s.MemStore.PlanHostSteps(ctx, rows)
}

func (s *fullStore) StartHostStep(ctx context.Context, hs engine.HostStep) error {
	if err := s.refuse("start", hs); err != nil {
		return err
	}
	return s.MemStore.StartHostStep(ctx, hs)
}

func (s *fullStore) FinishHostStep(ctx context.Context, hs engine.HostStep) error {
	if err := s.refuse("finish", hs); err != nil {
		return err
	}
	return s.MemStore.FinishHostStep(ctx, hs)
}

func (s *fullStore) AddEvent(ctx context.Context, e engine.Event) error {
	if err := s.refuse("event", engine.HostStep{}); err != nil {
		return err
	}
	return s.MemStore.AddEvent(ctx, e)
}

func (s *fullStore) SetStatus(ctx context.Context, st engine.CommitStatus) error {
	if err := s.refuse("status", engine.HostStep{}); err != nil {
		return err
	}
	return s.MemStore.SetStatus(ctx, st)
}

func (s *fullStore) RecordSync(ctx context.Context, u []engine.SyncUpdate) error {
	if err := s.refuse("sync", engine.HostStep{}); err != nil {
		return err
	}
	return s.MemStore.RecordSync(ctx, u)
}

// fillsAt is a fillAt that fills the disk at the op write of step on host.
func fillsAt(op, host, step string) func(string, engine.HostStep) bool {
	return func(o string, hs engine.HostStep) bool { return o == op && hs.Host == host && hs.Step == step }
}

func (f *fixture) fullStore(fillAt func(string, engine.HostStep) bool) (*fullStore, *Runner) {
	s := &fullStore{MemStore: f.store, fillAt: fillAt}
	return s, f.rollout(func(o *Options) { o.Store, o.Sync = s, s })
}

func interruptions(t *testing.T, s *fullStore, id int64) []engine.Event {
	t.Helper()
	ev, err := s.Events(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	var out []engine.Event
	for _, e := range ev {
		if e.Action == engine.EventInterrupted {
			out = append(out, e)
		}
	}
	return out
}

// TestStoreFullEndsExecutionResumesWithReason fills the disk at one
// journal write of a run (one host at a time, so the moment is exact):
// execution ends with an error wrapping engine.ErrStoreUnwritable and no
// host starts after it; executing again while the disk is full records
// nothing and runs nothing; once it writes, the run's record first says
// why it stopped, then the run goes on by the recovery rules, and no
// non-idempotent step ever runs twice.
func TestStoreFullEndsExecutionResumesWithReason(t *testing.T) {
	for _, tc := range []struct {
		name       string
		fillAt     func(string, engine.HostStep) bool
		idempotent bool
		// after the store writes again
		want      engine.RunState
		wantError string
		wantWhy   string         // the interrupted event's reason
		calls     map[string]int // host/step -> calls when the run ends
	}{
		{name: "result of a non-idempotent step not journaled", fillAt: fillsAt("finish", "h01", "one"),
			want: engine.RunNeedsOperator, wantError: "step one on h01 was interrupted and is not idempotent",
			wantWhy: "store cannot write: /var/lib/ripple/ripple.db: commit: database or disk is full (13) (writing journal result of one on h01: finish)",
			calls:   map[string]int{"h01/one": 1, "h01/two": 1, "h02/one": 1, "h03/two": 1}},
		{name: "result of an idempotent step not journaled", fillAt: fillsAt("finish", "h01", "one"), idempotent: true,
			want: engine.RunSucceeded, wantWhy: "store cannot write: /var/lib/ripple/ripple.db: commit: database or disk is full (13) (writing journal result of one on h01: finish)",
			calls: map[string]int{"h01/one": 2, "h01/two": 1, "h02/one": 1, "h03/two": 1}},
		{name: "start of a step not journaled", fillAt: fillsAt("start", "h02", "two"),
			want: engine.RunSucceeded, wantWhy: "store cannot write: /var/lib/ripple/ripple.db: commit: database or disk is full (13) (writing journal start of two on h02: start)",
			calls: map[string]int{"h01/one": 1, "h02/one": 1, "h02/two": 1, "h03/two": 1}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			f := newFixture(t, 3)
			f.job.Rollout.MaxParallel = 1
			f.job.Steps[0].Idempotent = tc.idempotent
			s, r := f.fullStore(tc.fillAt)
			run := f.submit(r, f.waves(1, 2))

			_, err := r.Execute(ctx, f.defs, run.ID)
			if !errors.Is(err, engine.ErrStoreUnwritable) {
				t.Fatalf("execute on a full disk = %v, want ErrStoreUnwritable", err)
			}
			ran := len(f.exec.Calls())
			rec, _ := s.GetRun(ctx, run.ID)
			if rec.State != engine.RunRunning {
				t.Fatalf("record while the disk is full: %s", rec.State)
			}
			// Still full: nothing is recorded, nothing runs.
			if _, err := r.Execute(ctx, f.defs, run.ID); !errors.Is(err, engine.ErrStoreUnwritable) {
				t.Fatalf("execute again on a full disk = %v", err)
			}
			if n := len(f.exec.Calls()); n != ran {
				t.Fatalf("%d steps ran while the disk stayed full", n-ran)
			}

			s.free()
			got, err := r.Execute(ctx, f.defs, run.ID)
			if err != nil {
				t.Fatalf("execute once the store writes: %v", err)
			}
			ev := interruptions(t, s, run.ID)
			if len(ev) != 1 || ev[0].Reason != tc.wantWhy {
				t.Fatalf("interrupted events = %+v, want one saying %q", ev, tc.wantWhy)
			}
			if got.State != tc.want || !strings.Contains(got.Error, tc.wantError) {
				t.Fatalf("run %s (%q), want %s (%q)", got.State, got.Error, tc.want, tc.wantError)
			}
			if got.State == engine.RunNeedsOperator {
				if err := r.Approve(ctx, run.ID, "alice", "checked h01"); err != nil {
					t.Fatal(err)
				}
				if got = f.execute(r, run.ID); got.State != engine.RunSucceeded {
					t.Fatalf("after approval: %s (%s)", got.State, got.Error)
				}
				rows, _ := s.HostSteps(ctx, run.ID)
				for _, hs := range rows {
					if hs.Host == "h01" && hs.Step == "one" && hs.Result.Error != "interrupted by a store write failure; counted as done by alice" {
						t.Errorf("h01/one = %+v", hs.Result)
					}
				}
			}
			for hs, n := range tc.calls {
				h, st, _ := strings.Cut(hs, "/")
				if c := f.exec.Count(h, st); c != n {
					t.Errorf("%s ran %d times, want %d", hs, c, n)
				}
			}
			if st := s.Status(run.Commit, "app"); st.State != "success" {
				t.Errorf("final status %+v", st)
			}
		})
	}
}

// TestRecoverLeavesRunsWhenStoreCannotWrite: recovery on a store that
// cannot write does not fail start-up; the job's runs are returned as they
// were, and carried on in order once it writes.
func TestRecoverLeavesRunsWhenStoreCannotWrite(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, 2)
	f.job.Steps[0].Idempotent = true
	first := f.seed(engine.RunRunning, [][]string{{"h01", "h02"}}, 0, []engine.HostStep{
		row(0, "h01", "one", engine.PhaseStarted, ""), row(0, "h02", "one", engine.PhasePlanned, ""),
	})
	second := f.seed(engine.RunQueued, [][]string{{"h01", "h02"}}, 0, nil)
	s, r := f.fullStore(nil)
	s.fill()
	got, err := r.Recover(ctx, f.loader())
	if err != nil {
		t.Fatalf("recover on a full disk: %v", err)
	}
	if len(got) != 2 || got[0].ID != first.ID || got[0].State != engine.RunRunning || got[1].ID != second.ID || got[1].State != engine.RunQueued {
		t.Fatalf("recovered %+v, want both runs as they were", got)
	}
	if n := len(f.exec.Calls()); n != 0 {
		t.Fatalf("%d steps ran on a full disk", n)
	}
	s.free()
	for _, run := range got {
		if end := f.execute(r, run.ID); end.State != engine.RunSucceeded {
			t.Fatalf("run %d: %s (%s)", run.ID, end.State, end.Error)
		}
	}
	if ev := interruptions(t, s, first.ID); len(ev) != 1 {
		t.Errorf("first run's interrupted events = %+v", ev)
	}
	if f.exec.Count("h01", "one") != 2 || f.exec.Count("h02", "two") != 2 {
		t.Errorf("calls %+v", f.exec.Calls())
	}
}
