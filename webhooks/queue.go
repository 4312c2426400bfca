package webhooks

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync"

	"github.com/ripple-ops/ripple/engine"
)

// queue sits between the handler's answers and the sink: a request claims
// its delivery id, and once the id is known to be new the event is added
// here and answered 202; Handler.Run hands it to the sink and records the
// id. It is bounded by deliveries, not events: an id stays held until it is
// recorded, because until then only this queue knows it was accepted.
//
// Events coalesce: there is at most one pending event per ref and one per
// pull request, the latest to arrive. That loses nothing: a push only wakes
// the daemon, which diffs from git, and a pull request is planned at the
// head it has when the plan runs.
type queue struct {
	limit int
	wake  chan struct{} // one slot: pending events are waiting
	gauge func(n int)   // reports held, under mu; never nil

	mu      sync.Mutex
	ids     map[string]*claim // delivery id -> its claim, until recorded or given up
	pending map[string]*queued
	order   []string // keys of pending, oldest first
	held    int      // accepted deliveries not yet recorded or given up
}

// claim is one delivery id being handled. done is closed when the request
// that claimed it has decided: queued, or released (duplicate, refused,
// shed). Another request with the same id waits for that.
type claim struct {
	done   chan struct{}
	queued bool
}

// queued is one pending event and every delivery coalesced into it.
type queued struct {
	push       *engine.PushEvent
	pr         *engine.PullRequestEvent
	deliveries []acceptedDelivery // oldest first
}

type acceptedDelivery struct {
	id, event string
}

func newQueue(limit int, gauge func(int)) *queue {
	if gauge == nil {
		gauge = func(int) {}
	}
	return &queue{
		limit:   limit,
		wake:    make(chan struct{}, 1),
		gauge:   gauge,
		ids:     map[string]*claim{},
		pending: map[string]*queued{},
	}
}

// claim makes the caller the one request deciding about delivery id. It
// returns queued=true, without claiming, when the id is already accepted
// (a redelivery while the first is still queued). Otherwise the caller must
// end its claim with add or release. It waits while another request holds
// the same id, until that one decided or ctx ends.
func (q *queue) claim(ctx context.Context, id string) (queued bool, err error) {
	for {
		q.mu.Lock()
		c, ok := q.ids[id]
		switch {
		case !ok:
			q.ids[id] = &claim{done: make(chan struct{})}
			q.mu.Unlock()
			return false, nil
		case c.queued:
			q.mu.Unlock()
			return true, nil
		}
		q.mu.Unlock()
		select {
		case <-c.done:
		case <-ctx.Done():
			return false, fmt.Errorf("wait for delivery %s in flight: %w", id, ctx.Err())
		}
	}
}

// release ends a claim without queueing anything; waiters for the same id
// then claim it themselves.
func (q *queue) release(id string) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if c := q.ids[id]; c != nil && !c.queued {
		delete(q.ids, id)
		close(c.done)
	}
}

// add queues the claimed delivery id's event (p.push or p.pr), coalescing
// it with the pending event of the same ref or pull request. It returns
// false, leaving the claim to the caller, when the queue already holds
// limit deliveries.
func (q *queue) add(id, event string, p parsed) bool {
	key := queueKey(p)
	q.mu.Lock()
	if q.held >= q.limit {
		q.mu.Unlock()
		return false
	}
	it := q.pending[key]
	if it == nil {
		it = &queued{}
		q.pending[key] = it
		q.order = append(q.order, key)
	}
	// The latest event wins; the older deliveries are still recorded once
	// it is handed over.
	it.push, it.pr = p.push, p.pr
	it.deliveries = append(it.deliveries, acceptedDelivery{id: id, event: event})
	q.held++
	q.gauge(q.held)
	c := q.ids[id]
	c.queued = true
	close(c.done)
	q.mu.Unlock()
	select {
	case q.wake <- struct{}{}:
	default:
	}
	return true
}

// take removes every pending event, oldest first. Their deliveries stay
// held until done.
func (q *queue) take() []*queued {
	q.mu.Lock()
	defer q.mu.Unlock()
	out := make([]*queued, 0, len(q.order))
	for _, k := range q.order {
		out = append(out, q.pending[k])
	}
	clear(q.pending)
	q.order = q.order[:0]
	return out
}

// done forgets delivery ids that were recorded (or given up): from now on
// the delivery store answers for them.
func (q *queue) done(ds []acceptedDelivery) {
	q.mu.Lock()
	for _, d := range ds {
		delete(q.ids, d.id)
	}
	q.held -= len(ds)
	q.gauge(q.held)
	q.mu.Unlock()
}

// depth is the number of held deliveries.
func (q *queue) depth() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.held
}

// queueKey names what an event is about: a ref of a repository, or a pull
// request of one.
func queueKey(p parsed) string {
	repo := strings.ToLower(p.repo)
	if p.pr != nil {
		return eventPullRequest + " " + repo + "#" + strconv.Itoa(p.pr.Number)
	}
	return eventPush + " " + repo + " " + p.push.Ref
}
