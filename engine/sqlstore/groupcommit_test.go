package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/ripple-ops/ripple/engine"
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

func TestGroupCommitBatchesConcurrentWrites(t *testing.T) {
	ctx := context.Background()
	s := openTuned(t, 5*time.Millisecond, 64)
	id := newRun(t, s)
	before := s.gc.batches.Load()
	const hosts = 300
	var wg sync.WaitGroup
	errs := make(chan error, hosts)
	for i := range hosts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			hs := engine.HostStep{RunID: id, Host: fmt.Sprintf("h%03d", i), Step: "s"}
			if err := s.StartHostStep(ctx, hs); err != nil {
				errs <- err
				return
			}
			hs.Result.Status = engine.StepOK
			errs <- s.FinishHostStep(ctx, hs)
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	rows, err := s.HostSteps(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != hosts {
		t.Fatalf("got %d rows, want %d", len(rows), hosts)
	}
	for _, r := range rows {
		if r.Phase != engine.PhaseFinished || r.Result.Status != engine.StepOK {
			t.Errorf("row %s: %s %s", r.Host, r.Phase, r.Result.Status)
		}
	}
	batches := s.gc.batches.Load() - before
	if batches >= 2*hosts/4 {
		t.Errorf("%d writes took %d commits; want them batched", 2*hosts, batches)
	}
	t.Logf("%d writes in %d commits", 2*hosts, batches)
}

func TestGroupCommitIsolatesFailures(t *testing.T) {
	ctx := context.Background()
	s := openTuned(t, 100*time.Millisecond, 64) // long window: all writes share one batch
	id := newRun(t, s)
	var wg sync.WaitGroup
	results := make([]error, 5)
	for i := range results {
		wg.Add(1)
		go func() {
			defer wg.Done()
			runID := id
			if i == 2 {
				runID = id + 100 // no such run: the foreign key refuses it
			}
			results[i] = s.StartHostStep(ctx, engine.HostStep{RunID: runID, Host: fmt.Sprintf("h%d", i), Step: "s"})
		}()
	}
	wg.Wait()
	for i, err := range results {
		if (err != nil) != (i == 2) {
			t.Errorf("write %d: err = %v", i, err)
		}
	}
	rows, err := s.HostSteps(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 4 {
		t.Errorf("got %d rows, want the 4 good writes", len(rows))
	}
}

func TestGroupCommitCancel(t *testing.T) {
	ctx := context.Background()
	s := openTuned(t, 0, 64)
	id := newRun(t, s)

	canceled, cancel := context.WithCancel(ctx)
	cancel()
	if err := s.StartHostStep(canceled, engine.HostStep{RunID: id, Host: "a", Step: "s"}); !errors.Is(err, context.Canceled) {
		t.Errorf("write with a canceled ctx = %v", err)
	}

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

func TestCloseWaitsForWriter(t *testing.T) {
	ctx := context.Background()
	s, err := Open(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
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
	for i, err := range errs {
		if err != nil && !errors.Is(err, ErrClosed) {
			t.Errorf("write %d during Close: %v", i, err)
		}
	}
}
