package pgstore

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/ripple-ops/ripple/engine"
)

// ErrClosed is returned by writes after Close; it is engine.ErrClosed.
var ErrClosed = engine.ErrClosed

// writeFunc is one caller's write: it queues its statements on q, in
// order. It may be called more than once (see runBatch), so it must have no
// effect outside q other than setting result fields from q's callbacks.
type writeFunc func(q *queue)

// Request states. A request moves from pending to taken (the writer will
// run it and report) or to abandoned (its caller gave up; it never runs).
const (
	reqPending int32 = iota
	reqTaken
	reqAbandoned
)

type writeReq struct {
	fn     writeFunc
	fenced bool // the leader's write: the fence runs in its transaction
	state  atomic.Int32
	done   chan error // buffered: the writer never blocks on a caller
}

// groupCommitter owns the writer connection. One goroutine (run) takes
// pending writes and runs a batch of them as one transaction sent in one
// pipeline (BEGIN and every write's statements in one round trip, then the
// fence if a write is fenced, then COMMIT), and wakes each caller after
// the commit.
type groupCommitter struct {
	pool    *pgxpool.Pool // the writer: at most one connection
	fence   func(ctx context.Context, tx pgx.Tx) error
	reqs    chan *writeReq // unbuffered: a send succeeds only if run takes it
	quit    chan struct{}
	exited  chan struct{}
	window  time.Duration // how long to wait for more writes after the first
	limit   int           // writes per batch at most
	timeout time.Duration // one transaction at most, from BEGIN to COMMIT

	batches atomic.Int64 // committed transactions, for tests and benchmarks
	writes  atomic.Int64 // writes committed
}

func newGroupCommitter(pool *pgxpool.Pool, fence func(context.Context, pgx.Tx) error, window time.Duration, limit int) *groupCommitter {
	return &groupCommitter{
		pool:    pool,
		fence:   fence,
		reqs:    make(chan *writeReq),
		quit:    make(chan struct{}),
		exited:  make(chan struct{}),
		window:  window,
		limit:   max(limit, 1),
		timeout: writeTimeout,
	}
}

// do runs fn in a shared transaction and returns once that transaction is
// committed, or with fn's, the fence's or the commit's error. If ctx ends
// first, do returns ctx.Err() only when fn has not been taken by the
// writer, so an error from ctx always means nothing was written; once
// taken, do waits for the commit, which is bounded by the write timeout.
func (g *groupCommitter) do(ctx context.Context, fn writeFunc, fenced bool) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	req := &writeReq{fn: fn, fenced: fenced, done: make(chan error, 1)}
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
		g.runBatch(batch)
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

// runBatch claims the batch's live requests and commits them together.
// When a write's statement fails, nothing of the batch was committed: that
// write runs again alone, for its own verdict, and the others are retried
// together, so one caller's error never undoes another's write. When the
// fence refuses, the fenced writes get its error and the others are
// retried without it. Any other error (the connection, the commit) is every
// write's: after a failed COMMIT the outcome is unknown, so nothing is
// retried.
func (g *groupCommitter) runBatch(batch []*writeReq) {
	live := batch[:0]
	for _, r := range batch {
		if r.state.CompareAndSwap(reqPending, reqTaken) {
			live = append(live, r)
		}
	}
	for len(live) > 0 {
		failed, err := g.commit(live)
		var fe *fenceError
		switch {
		case err == nil:
			for _, r := range live {
				r.done <- nil
			}
			return
		case errors.As(err, &fe):
			rest := live[:0]
			for _, r := range live {
				if r.fenced {
					r.done <- fe.err
				} else {
					rest = append(rest, r)
				}
			}
			live = rest
		case failed >= 0 && len(live) > 1:
			r := live[failed]
			live = append(live[:failed], live[failed+1:]...)
			_, err := g.commit([]*writeReq{r})
			if errors.As(err, &fe) {
				err = fe.err
			}
			r.done <- err
		default:
			for _, r := range live {
				r.done <- err
			}
			return
		}
	}
}

// fenceError is the fence's refusal of a transaction.
type fenceError struct{ err error }

func (e *fenceError) Error() string { return e.err.Error() }

// commit runs reqs in one transaction. failed is the index of the write
// whose statement failed, or -1 when the error is not one write's.
func (g *groupCommitter) commit(reqs []*writeReq) (failed int, err error) {
	ctx, cancel := context.WithTimeout(context.Background(), g.timeout)
	defer cancel()
	q := &queue{at: -1}
	q.b.BeginTx(pgx.TxOptions{})
	fenced := false
	for i, r := range reqs {
		q.cur = i
		r.fn(q)
		fenced = fenced || r.fenced
	}
	conn, err := g.pool.Acquire(ctx)
	if err != nil {
		return -1, fmt.Errorf("connect: %w", err)
	}
	defer conn.Release()
	br := conn.SendBatch(ctx, &q.b)
	tx := br.Tx()
	if err := br.Close(); err != nil {
		tx.Rollback(ctx) //nolint:errcheck // the statement's error is the one to report
		if q.at >= 0 {
			return q.owner[q.at], err
		}
		return -1, err
	}
	if fenced && g.fence != nil {
		if err := g.fence(ctx, tx); err != nil {
			tx.Rollback(ctx) //nolint:errcheck // the fence's error is the one to report
			return -1, &fenceError{err}
		}
	}
	if err := tx.Commit(ctx); err != nil {
		return -1, fmt.Errorf("commit (its outcome is unknown: read to find out): %w", err)
	}
	g.batches.Add(1)
	g.writes.Add(int64(len(reqs)))
	return -1, nil
}

// stop makes new writes fail with ErrClosed and waits for run to return.
func (g *groupCommitter) stop() {
	close(g.quit)
	<-g.exited
}

// queue collects the statements of a batch's writes into one pgx.Batch and
// remembers which write each statement belongs to, so that the write whose
// statement failed can be told from the others.
type queue struct {
	b     pgx.Batch
	owner []int // the write of each statement
	cur   int   // the write being queued
	at    int   // the statement whose result is being read; -1 before the first
}

// exec queues a statement.
func (q *queue) exec(sql string, args ...any) { q.add(sql, args, nil, nil) }

// execTag queues a statement and passes its command tag to fn; an error
// from fn fails the write.
func (q *queue) execTag(fn func(pgconn.CommandTag) error, sql string, args ...any) {
	q.add(sql, args, fn, nil)
}

// queryRow queues a statement returning one row and passes it to fn.
func (q *queue) queryRow(fn func(pgx.Row) error, sql string, args ...any) {
	q.add(sql, args, nil, fn)
}

func (q *queue) add(sql string, args []any, tagFn func(pgconn.CommandTag) error, rowFn func(pgx.Row) error) {
	textArgs(args)
	i := len(q.owner)
	q.owner = append(q.owner, q.cur)
	q.b.Queue(sql, args...).Fn = func(br pgx.BatchResults) error {
		q.at = i
		if rowFn != nil {
			return rowFn(br.QueryRow())
		}
		ct, err := br.Exec()
		if err != nil || tagFn == nil {
			return err
		}
		return tagFn(ct)
	}
}
