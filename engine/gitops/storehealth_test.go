package gitops

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ripple-ops/ripple/engine"
	"github.com/ripple-ops/ripple/engine/enginetest"
)

// TestStoreWriteFailureHoldsRunsUntilTheStoreWrites: a run whose
// execution ends because the store cannot write holds its job (a run
// queued behind it waits), the status says why and which run stopped, the
// daemon probes the store by itself, and once a probe succeeds the loop
// carries the stopped run on, then the one behind it, with no restart.
func TestStoreWriteFailureHoldsRunsUntilTheStoreWrites(t *testing.T) {
	ctx := context.Background()
	repo := enginetest.NewGitRepo(t)
	repo.Commit("inventory and job", map[string]string{"hosts.hcl": enginetest.Inventory, "jobs/hello.hcl": enginetest.HelloJob})
	store := enginetest.NewMemStore()
	health := &dmHealth{}
	runner := &dmRunner{store: store}
	runner.stall = func(int64) error {
		if health.isFull() {
			return health.err()
		}
		return nil
	}
	health.fill()
	d := dmDaemon(t, repo, store, runner, func(o *Options) {
		o.Health, o.StoreRetry, o.StoreRetryMax = health, 5*time.Millisecond, 20*time.Millisecond
	})
	dmRun(t, d)

	dmWait(t, "the commit's run to stop on the store", func() bool { return len(d.Status().Store.StoppedRuns) == 1 })
	first := d.Status().Store.StoppedRuns[0]
	second, err := d.StartRun(ctx, engine.JobRunRequest{Job: "hello", Actor: "alice", Reason: "behind the stopped one"})
	if err != nil {
		t.Fatal(err)
	}
	dmWait(t, "probes", func() bool { return health.probeCount() >= 3 })
	st := d.Status()
	if st.Store.Writable || !slices.Equal(st.Store.StoppedRuns, []int64{first}) {
		t.Fatalf("store status %+v, want unwritable with run %d stopped", st.Store, first)
	}
	for _, want := range []string{"store cannot write", "database or disk is full", fmt.Sprintf("run %d stopped and resumes once it writes again", first)} {
		if !strings.Contains(st.LastError, want) {
			t.Errorf("last_error %q lacks %q", st.LastError, want)
		}
	}
	if got := runner.executedIDs(); !slices.Equal(got, []int64{first}) {
		t.Fatalf("executed %v while the store could not write, want only the first attempt of %d", got, first)
	}

	health.free()
	dmWait(t, "both runs to end", func() bool {
		r1, _ := store.GetRun(ctx, first)
		r2, _ := store.GetRun(ctx, second.ID)
		return r1.State == engine.RunSucceeded && r2.State == engine.RunSucceeded
	})
	if got := runner.executedIDs(); !slices.Equal(got, []int64{first, first, second.ID}) {
		t.Errorf("executed %v, want %d twice (stopped, resumed), then %d", got, first, second.ID)
	}
	st = d.Status()
	if !st.Store.Writable || len(st.Store.StoppedRuns) != 0 || strings.Contains(st.LastError, "store") {
		t.Errorf("status once the store writes: %+v, last_error %q", st.Store, st.LastError)
	}
}

// TestRecoveredRunsLeftByAFullStoreAreCarriedOn: runs Recover could not
// carry on because the store could not write (left queued or running) go
// to their job's worker like any other.
func TestRecoveredRunsLeftByAFullStoreAreCarriedOn(t *testing.T) {
	ctx := context.Background()
	repo := enginetest.NewGitRepo(t)
	head := repo.Commit("inventory and job", map[string]string{"hosts.hcl": enginetest.Inventory, "jobs/hello.hcl": enginetest.HelloJob})
	store := enginetest.NewMemStore()
	left := &engine.Run{Job: "hello", Commit: head, Branch: "main", Trigger: engine.TriggerManual, State: engine.RunRunning, Waves: [][]string{{"web-01"}}}
	if err := store.CreateRun(ctx, left); err != nil {
		t.Fatal(err)
	}
	runner := &dmRunner{store: store, recovered: []*engine.Run{left}}
	d := dmDaemon(t, repo, store, runner, func(o *Options) { o.Health = &dmHealth{} })
	dmRun(t, d)
	dmWait(t, "the left run to end", func() bool {
		r, err := store.GetRun(ctx, left.ID)
		return err == nil && r.State == engine.RunSucceeded
	})
}
