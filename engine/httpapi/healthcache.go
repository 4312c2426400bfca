package httpapi

import (
	"context"
	"sync"
	"time"
)

// HealthMaxAge is how long a HealthCache shares one count while the
// monitor states' version stays the same: the bound on what no version
// tells of (a silence running out, a dependency's suppression, another
// cluster node's results, a problem's latest output).
const HealthMaxAge = time.Second

// VersionedSource is a MonitorSource that says when its states changed:
// StatesVersion differs after a change of what FleetHealth counts (a
// pair's first result, its state, a firing or flapping mark, an
// undelivered alert, a hold, a silence or an acknowledgement made).
// What it need not tell of is shown within HealthMaxAge.
// *monitor.Runner implements it.
type VersionedSource interface {
	MonitorSource
	StatesVersion() uint64
}

// HealthCache shares one FleetHealth among the requests of an index page
// or the overview: it is counted again when the inventory (the applied
// commit) or the source's StatesVersion changed, or after MaxAge, and
// requests that arrive while it is being counted wait for that count
// instead of counting too. A source without a version is counted on
// every request. It is safe for concurrent use; the zero value is ready.
// The Health it returns is shared: read-only.
type HealthCache struct {
	// MaxAge defaults to HealthMaxAge; Now to time.Now.
	MaxAge time.Duration
	Now    func() time.Time

	mu     sync.Mutex
	last   *healthEntry
	flight *healthFlight
}

// healthKey is what a count is of; a cache serves one source.
type healthKey struct {
	inv     *Inventory
	version uint64
}

type healthEntry struct {
	key healthKey
	at  time.Time
	h   *Health
}

type healthFlight struct {
	key  healthKey
	done chan struct{}
	h    *Health
	err  error
}

// Get is FleetHealth(ctx, inv, src, store), shared as HealthCache says.
func (c *HealthCache) Get(ctx context.Context, inv *Inventory, src MonitorSource, store any) (*Health, error) {
	vs, ok := src.(VersionedSource)
	if !ok {
		return FleetHealth(ctx, inv, src, store)
	}
	now, maxAge := time.Now, c.MaxAge
	if c.Now != nil {
		now = c.Now
	}
	if maxAge <= 0 {
		maxAge = HealthMaxAge
	}
	// The version is read before the count: a change during the count
	// leaves the entry under the older version, to be counted again.
	key := healthKey{inv: inv, version: vs.StatesVersion()}
	c.mu.Lock()
	if e := c.last; e != nil && e.key == key && now().Sub(e.at) < maxAge {
		c.mu.Unlock()
		return e.h, nil
	}
	f := c.flight
	if f == nil || f.key != key {
		f = &healthFlight{key: key, done: make(chan struct{})}
		c.flight = f
		at := now()
		go c.count(f, at, inv, src, store)
	}
	c.mu.Unlock()
	select {
	case <-f.done:
		return f.h, f.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// count runs one FleetHealth for the requests waiting on f, detached from
// any one request's context: a request that gives up does not fail the
// others.
func (c *HealthCache) count(f *healthFlight, at time.Time, inv *Inventory, src MonitorSource, store any) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	f.h, f.err = FleetHealth(ctx, inv, src, store)
	c.mu.Lock()
	if c.flight == f {
		c.flight = nil
	}
	if f.err == nil && (c.last == nil || !c.last.at.After(at)) {
		c.last = &healthEntry{key: f.key, at: at, h: f.h}
	}
	c.mu.Unlock()
	close(f.done)
}
