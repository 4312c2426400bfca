package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/ripple-ops/ripple/engine"
)

// ErrClosed is returned by writes after Close; it is engine.ErrClosed.
var ErrClosed = engine.ErrClosed

// writeFunc is one caller's write. It runs inside a transaction shared with
// other callers' writes and may run twice (see runBatch), so it must not
// have side effects outside tx other than setting result fields.
type writeFunc func(ctx context.Context, tx *sql.Tx) error

// Request states. A request moves from pending to taken (the writer will
// run it and report) or to abandoned (its caller gave up; it never runs).
const (
	reqPending int32 = iota
	reqTaken
	reqAbandoned
)

type writeReq struct {
	fn    writeFunc
	state atomic.Int32
	done  chan error // buffered: the writer never blocks on a caller
}

// groupCommitter owns the writer connection. One goroutine (run) takes
// pending writes, runs a batch of them in one BEGIN IMMEDIATE transaction and
// commits it (one fsync under synchronous=FULL), then wakes each caller.
type groupCommitter struct {
	db     *sql.DB
	reqs   chan *writeReq // unbuffered: a send succeeds only if run takes it
	quit   chan struct{}
	exited chan struct{}
	window time.Duration // how long to wait for more writes after the first
	limit  int           // writes per batch at most
	// observe, when set, is told the outcome of every commit, in order,
	// from run's goroutine (the store's write health).
	observe func(error)

	batches atomic.Int64 // committed transactions, for tests and benchmarks
	writes  atomic.Int64 // writes committed
}

func newGroupCommitter(db *sql.DB, window time.Duration, limit int) *groupCommitter {
	if limit < 1 {
		limit = 1
	}
	return &groupCommitter{
		db:     db,
		reqs:   make(chan *writeReq),
		quit:   make(chan struct{}),
		exited: make(chan struct{}),
		window: window,
		limit:  limit,
	}
}

// do runs fn in a shared transaction and returns once that transaction is
// committed and synced, or with fn's or the commit's error. If ctx ends
// first, do returns ctx.Err() only when fn has not been taken by the writer,
// so an error from ctx always means nothing was written; once taken, do
// waits for the commit, which is bounded by one batch.
func (g *groupCommitter) do(ctx context.Context, fn writeFunc) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	req := &writeReq{fn: fn, done: make(chan error, 1)}
	select {
	case g.reqs <- req:
	case <-g.quit:
		return ErrClosed
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case err := <-req.done:
		return err
	case <-ctx.Done():
		if req.state.CompareAndSwap(reqPending, reqAbandoned) {
			return ctx.Err()
		}
		return <-req.done
	}
}

// run is the writer goroutine. It returns after stop; a batch in progress
// is finished first.
func (g *groupCommitter) run() {
	defer close(g.exited)
	ctx := context.Background() // a taken batch always runs to its end
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	batch := make([]*writeReq, 0, g.limit)
	for {
		batch = batch[:0]
		select {
		case r := <-g.reqs:
			batch = append(batch, r)
		case <-g.quit:
			return
		}
		batch = g.collect(batch, timer)
		g.runBatch(ctx, batch)
	}
}

// collect adds whatever is already waiting, then waits up to the window for
// more, until the batch is full.
func (g *groupCommitter) collect(batch []*writeReq, timer *time.Timer) []*writeReq {
	deadline := time.Now().Add(g.window)
	for len(batch) < g.limit {
		select {
		case r := <-g.reqs:
			batch = append(batch, r)
			continue
		default:
		}
		wait := time.Until(deadline)
		if wait <= 0 {
			return batch
		}
		timer.Reset(wait)
		select {
		case r := <-g.reqs:
			batch = append(batch, r)
			if !timer.Stop() {
				<-timer.C
			}
		case <-timer.C:
			return batch
		case <-g.quit:
			if !timer.Stop() {
				<-timer.C
			}
			return batch
		}
	}
	return batch
}

// runBatch claims the batch's live requests and commits them together. If
// any write fails, the shared transaction is rolled back and each write is
// retried alone, so one caller's error never undoes another's write.
func (g *groupCommitter) runBatch(ctx context.Context, batch []*writeReq) {
	live := batch[:0]
	for _, r := range batch {
		if r.state.CompareAndSwap(reqPending, reqTaken) {
			live = append(live, r)
		}
	}
	if len(live) == 0 {
		return
	}
	errs := make([]error, len(live))
	err := g.commit(ctx, func(ctx context.Context, tx *sql.Tx) error {
		for i, r := range live {
			if errs[i] = r.fn(ctx, tx); errs[i] != nil {
				return errs[i]
			}
		}
		return nil
	})
	if err == nil {
		g.batches.Add(1)
		g.writes.Add(int64(len(live)))
		for _, r := range live {
			r.done <- nil
		}
		return
	}
	if len(live) == 1 {
		live[0].done <- err
		return
	}
	for _, r := range live {
		err := g.commit(ctx, r.fn)
		if err == nil {
			g.batches.Add(1)
			g.writes.Add(1)
		}
		r.done <- err
	}
}

// commit runs fn in one write transaction and tells observe how it went.
func (g *groupCommitter) commit(ctx context.Context, fn writeFunc) error {
	err := g.commitTx(ctx, fn)
	if g.observe != nil {
		g.observe(err)
	}
	return err
}

func (g *groupCommitter) commitTx(ctx context.Context, fn writeFunc) error {
	tx, err := g.db.BeginTx(ctx, nil) // BEGIN IMMEDIATE via _txlock
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	if err := fn(ctx, tx); err != nil {
		tx.Rollback() //nolint:errcheck // the write's error is the one to report
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

// stop makes new writes fail with ErrClosed and waits for run to return.
func (g *groupCommitter) stop() {
	close(g.quit)
	<-g.exited
}
