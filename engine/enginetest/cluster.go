package enginetest

import (
	"context"
	"errors"
	"slices"
	"sync"
	"time"

	"github.com/ripple-ops/ripple/engine/cluster"
)

// Cluster is the shared database of a cluster in memory: the leader
// lease, the heartbeats and the actions (cluster.Store and
// cluster.ActionStore). Its clock is the process's, standing for the
// database's. SetDown makes one node's calls fail like a database it
// cannot reach.
type Cluster struct {
	mu    sync.Mutex
	lease cluster.Lease
	nodes map[string]cluster.NodeInfo
	down  map[string]bool
	acts  []cluster.Action
	out   map[int64]cluster.Outcome
}

// ErrDown is what the calls of a node cut off by SetDown return.
var ErrDown = errors.New("database unreachable")

var (
	_ cluster.Store       = (*Cluster)(nil)
	_ cluster.ActionStore = (*Cluster)(nil)
)

// NewCluster returns an empty cluster database.
func NewCluster() *Cluster {
	return &Cluster{nodes: map[string]cluster.NodeInfo{}, down: map[string]bool{}, out: map[int64]cluster.Outcome{}}
}

// SetDown cuts node off from the database, or reconnects it.
func (c *Cluster) SetDown(node string, down bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.down[node] = down
}

// SetLease sets the lease as another node's takeover would.
func (c *Cluster) SetLease(l cluster.Lease) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.lease = l
}

// CurrentLease implements cluster.Store.
func (c *Cluster) CurrentLease(context.Context) (cluster.Lease, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.lease, nil
}

// AcquireLease implements cluster.Store: every acquisition moves the
// epoch on.
func (c *Cluster) AcquireLease(_ context.Context, node string, ttl time.Duration) (cluster.Lease, bool, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.down[node] {
		return cluster.Lease{}, false, ErrDown
	}
	now := time.Now()
	if c.lease.Holder != "" && now.Before(c.lease.Expires) {
		return c.lease, false, nil
	}
	c.lease = cluster.Lease{Holder: node, Epoch: c.lease.Epoch + 1, Expires: now.Add(ttl)}
	return c.lease, true, nil
}

// RenewLease implements cluster.Store.
func (c *Cluster) RenewLease(_ context.Context, node string, epoch int64, ttl time.Duration) (cluster.Lease, bool, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.down[node] {
		return cluster.Lease{}, false, ErrDown
	}
	if c.lease.Holder != node || c.lease.Epoch != epoch || !time.Now().Before(c.lease.Expires) {
		return c.lease, false, nil
	}
	c.lease.Expires = time.Now().Add(ttl)
	return c.lease, true, nil
}

// ReleaseLease implements cluster.Store.
func (c *Cluster) ReleaseLease(_ context.Context, node string, epoch int64) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.lease.Holder == node && c.lease.Epoch == epoch {
		c.lease.Holder, c.lease.Expires = "", time.Time{}
	}
	return nil
}

// Heartbeat implements cluster.Store.
func (c *Cluster) Heartbeat(_ context.Context, n cluster.NodeInfo) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.down[n.Name] {
		return ErrDown
	}
	n.Heartbeat = time.Now()
	c.nodes[n.Name] = n
	return nil
}

// Nodes implements cluster.Store.
func (c *Cluster) Nodes(context.Context) ([]cluster.NodeInfo, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]cluster.NodeInfo, 0, len(c.nodes))
	for _, n := range c.nodes {
		n.Age = time.Since(n.Heartbeat)
		out = append(out, n)
	}
	return out, nil
}

// EnqueueAction implements cluster.ActionStore.
func (c *Cluster) EnqueueAction(_ context.Context, a cluster.Action) (int64, bool, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.down[a.Node] {
		return 0, false, ErrDown
	}
	if a.Key != "" {
		if i := slices.IndexFunc(c.acts, func(b cluster.Action) bool { return b.Key == a.Key }); i >= 0 {
			return c.acts[i].ID, false, nil
		}
	}
	a.ID, a.Created, a.ClaimedEpoch = int64(len(c.acts)+1), time.Now(), 0
	c.acts = append(c.acts, a)
	return a.ID, true, nil
}

// ClaimActions implements cluster.ActionStore.
func (c *Cluster) ClaimActions(_ context.Context, node string, epoch int64, limit int) ([]cluster.Action, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.down[node] {
		return nil, ErrDown
	}
	if epoch != c.lease.Epoch || node != c.lease.Holder {
		return nil, cluster.ErrFenced
	}
	var out []cluster.Action
	for i := range c.acts {
		a := &c.acts[i]
		if _, done := c.out[a.ID]; done || a.ClaimedEpoch == epoch {
			continue
		}
		out = append(out, *a)
		a.ClaimedEpoch = epoch
		if len(out) == limit {
			break
		}
	}
	return out, nil
}

// FinishAction implements cluster.ActionStore.
func (c *Cluster) FinishAction(_ context.Context, id int64, o cluster.Outcome) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.out[id] = o
	return nil
}

// ActionOutcome implements cluster.ActionStore.
func (c *Cluster) ActionOutcome(_ context.Context, id int64) (cluster.Outcome, bool, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	o, ok := c.out[id]
	return o, ok, nil
}

// Actions lists every action enqueued, in order.
func (c *Cluster) Actions() []cluster.Action {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.acts)
}
