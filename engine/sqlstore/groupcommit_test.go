package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"testing"
	"time"

	"github.com/ripple-ops/ripple/engine"
	"github.com/ripple-ops/ripple/engine/storetest"
)

// openTuned opens a store with explicit group commit settings.
func openTuned(t testing.TB, window time.Duration, limit int) *Store {
	t.Helper()
	s, err := open(context.Background(), t.TempDir(), options{window: window, limit: limit})
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

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
	storetest.IsolatedFailure(t, openTuned(t, 100*time.Millisecond, 64)) // long window: all writes share one batch
}

func TestGroupCommitCancel(t *testing.T) {
	ctx := context.Background()
	s := openTuned(t, 0, 64)
	id := newRun(t, s)

	// Hold the writer inside a write, queue a second one, then cancel it:
	// it must report the cancellation and never be written.
	inside, release := make(chan struct{}), make(chan struct{})
	blockerDone := make(chan error, 1)
	go func() {
		blockerDone <- s.write(ctx, func(context.Context, *sql.Tx) error {
			close(inside)
			<-release
			return nil
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
	r := &writeReq{fn: func(context.Context, *sql.Tx) error { ran = true; return nil }, done: make(chan error, 1)}
	r.state.Store(reqAbandoned)
	g.runBatch(context.Background(), []*writeReq{r}) // would panic on a nil db if it tried
	if ran {
		t.Error("abandoned request ran")
	}
}
