package pgstore

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/ripple-ops/ripple/engine"
	"github.com/ripple-ops/ripple/engine/storetest"
)

func newRun(t testing.TB, s *Store) int64 {
	t.Helper()
	r := &engine.Run{Job: "web", Commit: "c1"}
	if err := s.CreateRun(context.Background(), r); err != nil {
		t.Fatal(err)
	}
	return r.ID
}

// The contract checks (every write kept, failures isolated) are the
// suite's; here they run on stores tuned so that writes must share
// batches.

func TestGroupCommitBatchesConcurrentWrites(t *testing.T) {
	s := openTuned(t, 5*time.Millisecond, 64)
	id := newRun(t, s)
	before := s.gc.batches.Load()
	const hosts = 300
	storetest.JournalHosts(t, s, id, hosts)
	batches := s.gc.batches.Load() - before
	if batches >= 2*hosts/4 {
		t.Errorf("%d writes took %d commits; want them batched", 2*hosts, batches)
	}
	t.Logf("%d writes in %d commits", 2*hosts, batches)
}

func TestGroupCommitIsolatesFailures(t *testing.T) {
	s := openTuned(t, 100*time.Millisecond, 64) // long window: all writes share one batch
	before := s.gc.batches.Load()
	storetest.IsolatedFailure(t, s)
	// The run, then the batch of five that failed: the bad write alone
	// (refused, no commit), the four others together.
	if got := s.gc.batches.Load() - before; got != 2 {
		t.Errorf("%d commits, want 2 (the run, the four good writes together)", got)
	}
}

func TestGroupCommitCancel(t *testing.T) {
	ctx := context.Background()
	s := openTuned(t, -1, 64)
	id := newRun(t, s)
	// Hold the writer inside a write, queue a second one, then cancel it:
	// it must report the cancellation and never be written.
	inside, release := make(chan struct{}), make(chan struct{})
	blockerDone := make(chan error, 1)
	go func() {
		blockerDone <- s.write(ctx, func(*queue) {
			close(inside)
			<-release
		})
	}()
	<-inside
	qctx, qcancel := context.WithCancel(ctx)
	queued := make(chan error, 1)
	go func() { queued <- s.StartHostStep(qctx, engine.HostStep{RunID: id, Host: "b", Step: "s"}) }()
	time.Sleep(20 * time.Millisecond)
	qcancel()
	if err := <-queued; !errors.Is(err, context.Canceled) {
		t.Errorf("queued write after cancel = %v, want context.Canceled", err)
	}
	close(release)
	if err := <-blockerDone; err != nil {
		t.Fatal(err)
	}
	rows, err := s.HostSteps(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 0 {
		t.Errorf("canceled writes were written: %+v", rows)
	}
}

func TestGroupCommitAbandonedRequestIsSkipped(t *testing.T) {
	g := &groupCommitter{}
	ran := false
	r := &writeReq{fn: func(*queue) { ran = true }, done: make(chan error, 1)}
	r.state.Store(reqAbandoned)
	g.runBatch([]*writeReq{r}) // would panic on a nil pool if it tried
	if ran {
		t.Error("abandoned request ran")
	}
}

// errNotLeader is the fence's refusal in these tests.
var errNotLeader = errors.New("not the leader")

// TestFence: the fence runs inside the transaction of every batch that
// holds a leader's write, sees that write, and refuses it by returning an
// error; a node's own writes in the same batch are committed without it.
func TestFence(t *testing.T) {
	ctx := context.Background()
	var mu sync.Mutex
	leader, calls := true, 0
	var seen int64
	fence := func(ctx context.Context, tx pgx.Tx) error {
		mu.Lock()
		defer mu.Unlock()
		calls++
		// Inside the transaction: the batch's uncommitted rows are visible.
		if err := tx.QueryRow(ctx, "SELECT count(*) FROM events").Scan(&seen); err != nil {
			return err
		}
		if !leader {
			return errNotLeader
		}
		return nil
	}
	s := openDSN(t, pg.Database(t), Options{Fence: fence, window: 100 * time.Millisecond, limit: 64})
	id := newRun(t, s)
	if err := s.AddEvent(ctx, engine.Event{RunID: id, Action: "start"}); err != nil {
		t.Fatal(err)
	}
	if calls != 2 || seen != 1 {
		t.Errorf("fence called %d times, saw %d events; want twice (run, event), seeing the event", calls, seen)
	}

	// A node's own write alone: no fence.
	if _, err := s.RecordDelivery(ctx, "d1", "push"); err != nil {
		t.Fatal(err)
	}
	if calls != 2 {
		t.Errorf("fence ran for a node's write (%d calls)", calls)
	}

	// The leader lost its lease: its writes are refused, a node's writes
	// batched with them are kept.
	mu.Lock()
	leader = false
	mu.Unlock()
	var wg sync.WaitGroup
	var eventErr, deliveryErr, metricErr error
	wg.Add(3)
	go func() { defer wg.Done(); eventErr = s.AddEvent(ctx, engine.Event{RunID: id, Action: "late"}) }()
	go func() { defer wg.Done(); _, deliveryErr = s.RecordDelivery(ctx, "d2", "push") }()
	go func() {
		defer wg.Done()
		metricErr = s.AppendMetrics(ctx, []engine.MetricSample{{Monitor: "m", Host: "h", Metric: "x", At: time.Now(), Value: 1}})
	}()
	wg.Wait()
	if !errors.Is(eventErr, errNotLeader) {
		t.Errorf("fenced write = %v, want errNotLeader", eventErr)
	}
	if deliveryErr != nil || metricErr != nil {
		t.Errorf("node writes in a refused batch = %v, %v; want both kept", deliveryErr, metricErr)
	}
	evs, err := s.Events(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) != 1 {
		t.Errorf("%d events, want the first only", len(evs))
	}
	if ok, err := s.DeliverySeen(ctx, "d2"); err != nil || !ok {
		t.Errorf("DeliverySeen(d2) = %v, %v; want true", ok, err)
	}
	for _, w := range []func() error{
		func() error { return s.CreateRun(ctx, &engine.Run{Job: "j"}) },
		func() error { return s.StartHostStep(ctx, engine.HostStep{RunID: id, Host: "h", Step: "s"}) },
		func() error { return s.UpdateRun(ctx, &engine.Run{ID: id, Job: "web", State: engine.RunFailed}) },
		func() error { return s.PlanHostSteps(ctx, []engine.HostStep{{RunID: id, Host: "h", Step: "s"}}) },
		func() error { return s.FinishHostStep(ctx, engine.HostStep{RunID: id, Host: "h", Step: "s"}) },
		func() error {
			return s.MarkStatusDelivered(ctx, engine.CommitStatus{Commit: "c", Context: "x", State: "pending"})
		},
		func() error {
			return s.SetStatus(ctx, engine.CommitStatus{Commit: "c", Context: "x", State: "pending"})
		},
		func() error { return s.SetLastApplied(ctx, "main", "c") },
		func() error {
			return s.RecordSync(ctx, []engine.SyncUpdate{{Job: "j", Host: "h", Deployed: &engine.SyncMark{Run: 1}}})
		},
		func() error {
			return s.RecordFiring(ctx, engine.Firing{Job: "j", At: time.Now(), Outcome: engine.FiringStarted})
		},
	} {
		if err := w(); !errors.Is(err, errNotLeader) {
			t.Errorf("a leader's write after losing the lease = %v, want errNotLeader", err)
		}
	}
}

func TestNotifyListen(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	s := openTest(t)
	got := make(chan string, 10)
	done := make(chan error, 1)
	go func() { done <- s.Listen(ctx, "ripple_actions", func(p string) { got <- p }) }()
	if p := <-got; p != "" {
		t.Fatalf("first call = %q, want \"\" (listening)", p)
	}
	for i := range 3 {
		want := fmt.Sprintf("approve %d", i)
		if err := s.Notify(ctx, "ripple_actions", want); err != nil {
			t.Fatal(err)
		}
		select {
		case p := <-got:
			if p != want {
				t.Errorf("payload %q, want %q", p, want)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("no notification")
		}
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Listen = %v, want nil after cancel", err)
	}
}
