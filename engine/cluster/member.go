package cluster

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/rs/zerolog"
)

// Defaults, as DESIGN.md: the lease is renewed every 2s and expires after
// 10s; nodes heartbeat every 2s and count as dead after 3 missed beats.
const (
	DefaultLease     = 10 * time.Second
	DefaultRenew     = 2 * time.Second
	DefaultHeartbeat = 2 * time.Second
	deadAfterBeats   = 3
)

// Options configures a Member. Store and Node are required; Lead runs the
// leader's components for one term.
type Options struct {
	Store Store
	Node  string
	URL   string // this node's public URL, for `ripple cluster`
	// Version is this binary's version, shown beside each node.
	Version string
	Lease   time.Duration // default DefaultLease
	Renew   time.Duration // default DefaultRenew
	// Heartbeat is how often the node says it is alive; default
	// DefaultHeartbeat. A node is dead after three missed beats.
	Heartbeat time.Duration
	// Lead runs the leader's components until ctx ends (the term ends:
	// the lease is lost, or the member stops) and returns once they have
	// stopped. A Lead that returns early, with or without an error, ends
	// the term: the member gives the lease up and campaigns again.
	Lead func(ctx context.Context, epoch int64) error
	// OnMembers, when set, is called from the heartbeat loop whenever the
	// set of live nodes changes, with the new set (sorted).
	OnMembers func(live []string)
	Logger    zerolog.Logger
	// Now is the local monotonic clock; nil is time.Now. Only local
	// deadlines use it.
	Now func() time.Time
}

// Member is this daemon's part in the cluster: heartbeats, the leader
// election and, while it leads, its term.
type Member struct {
	opts Options
	log  zerolog.Logger

	mu sync.Mutex
	// epoch is the lease this node holds, 0 when it does not lead;
	// deadline is when, on the local clock, the lease may have expired: a
	// renewal sent at t extends it to t + lease, minus a renewal interval
	// of margin.
	epoch    int64
	deadline time.Time
	live     []string
	nodes    []NodeInfo // as the last heartbeat read them
	lease    Lease      // the last lease seen, whoever holds it
	state    json.RawMessage
	beat     chan struct{} // one slot: heartbeat now (Publish)
}

// New returns a member that does nothing until Run.
func New(opts Options) (*Member, error) {
	switch {
	case opts.Store == nil:
		return nil, errors.New("cluster: a store is required")
	case opts.Node == "":
		return nil, errors.New("cluster: a node name is required")
	}
	if opts.Lease <= 0 {
		opts.Lease = DefaultLease
	}
	if opts.Renew <= 0 {
		opts.Renew = DefaultRenew
	}
	if opts.Heartbeat <= 0 {
		opts.Heartbeat = DefaultHeartbeat
	}
	if opts.Renew*2 > opts.Lease {
		return nil, fmt.Errorf("cluster: the lease (%s) must be at least twice the renewal interval (%s)", opts.Lease, opts.Renew)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &Member{opts: opts, log: opts.Logger.With().Str("component", "cluster").Str("node", opts.Node).Logger(),
		live: []string{opts.Node}, beat: make(chan struct{}, 1)}, nil
}

// Publish sets what this node's heartbeats carry (NodeInfo.State) and
// sends a heartbeat at once: the leader publishes its daemon status and
// alert holds this way, for the followers to read.
func (m *Member) Publish(state json.RawMessage) {
	m.mu.Lock()
	m.state = state
	m.mu.Unlock()
	select {
	case m.beat <- struct{}{}:
	default:
	}
}

// Nodes lists the nodes as the last heartbeat read them, with their age,
// sorted by name.
func (m *Member) Nodes() []NodeInfo {
	m.mu.Lock()
	defer m.mu.Unlock()
	return slices.Clone(m.nodes)
}

// Leader is the node that holds the lease as this node last saw it, and
// whether it is alive (its heartbeat is recent); ok is false when no node
// holds a lease.
func (m *Member) Leader() (n NodeInfo, alive, ok bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.lease.Holder == "" {
		return NodeInfo{}, false, false
	}
	for _, x := range m.nodes {
		if x.Name == m.lease.Holder {
			return x, x.Name == m.opts.Node || x.Age < deadAfterBeats*m.opts.Heartbeat, true
		}
	}
	return NodeInfo{Name: m.lease.Holder}, false, true
}

// Node is this node's name.
func (m *Member) Node() string { return m.opts.Node }

// Leading reports whether this node holds a lease that has not expired on
// the local clock, and its epoch.
func (m *Member) Leading() (epoch int64, ok bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.epoch == 0 || !m.opts.Now().Before(m.deadline) {
		return 0, false
	}
	return m.epoch, true
}

// Fence is nil while this node may act as the leader: it holds the lease
// and the lease has not expired on the local clock. A rollout asks before
// each host step; after a takeover the store refuses the leader's writes
// anyway (ErrFenced), this stops a leader that cannot reach the database
// from starting new steps before anyone took over.
func (m *Member) Fence() error {
	if _, ok := m.Leading(); !ok {
		return ErrFenced
	}
	return nil
}

// Term is the node and the epoch its writes carry; the epoch is 0 when
// this node does not lead. The store's fencing compares it with the
// database's lease in each write transaction.
func (m *Member) Term() (node string, epoch int64) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.opts.Node, m.epoch
}

// Lease is the last lease this node saw, whoever holds it.
func (m *Member) Lease() Lease {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.lease
}

// Live lists the nodes alive at the last heartbeat, sorted; this node is
// always in it.
func (m *Member) Live() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return slices.Clone(m.live)
}

// Owns reports whether this node runs the work keyed key (a monitor's
// check on a host): rendezvous hashing over the live nodes, so that when
// a node comes or goes only its share moves.
func (m *Member) Owns(key string) bool {
	m.mu.Lock()
	live := m.live
	m.mu.Unlock()
	return Owner(live, key) == m.opts.Node
}

// Owner is the node of nodes that owns key: the one with the highest hash
// of (node, key).
func Owner(nodes []string, key string) string {
	var best string
	var top uint64
	for _, n := range nodes {
		h := fnv.New64a()
		h.Write([]byte(n))
		h.Write([]byte{0})
		h.Write([]byte(key))
		if s := mix(h.Sum64()); best == "" || s > top {
			best, top = n, s
		}
	}
	return best
}

// mix is MurmurHash3's 64-bit finalizer: FNV alone barely changes its high
// bits for names that differ in one character ("node1", "node2"), so one
// node would win almost every key.
func mix(x uint64) uint64 {
	x ^= x >> 33
	x *= 0xff51afd7ed558ccd
	x ^= x >> 33
	x *= 0xc4ceb9fe1a85ec53
	x ^= x >> 33
	return x
}

// Run heartbeats and campaigns until ctx ends; while this node leads, it
// runs Options.Lead. On return the lease, if held, is released so another
// node takes over at once.
func (m *Member) Run(ctx context.Context) error {
	var wg sync.WaitGroup
	defer wg.Wait()
	wg.Go(func() { m.heartbeats(ctx) })
	m.campaign(ctx)
	return nil
}

func (m *Member) heartbeats(ctx context.Context) {
	started := time.Now().UTC()
	t := time.NewTicker(m.opts.Heartbeat)
	defer t.Stop()
	for {
		m.mu.Lock()
		state := m.state
		m.mu.Unlock()
		if err := m.opts.Store.Heartbeat(ctx, NodeInfo{Name: m.opts.Node, URL: m.opts.URL, Version: m.opts.Version, Started: started, State: state}); err != nil && ctx.Err() == nil {
			m.log.Warn().Err(err).Msg("heartbeat")
		}
		m.refreshLive(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-m.beat:
		}
	}
}

// refreshLive reads the live nodes (a heartbeat younger than three beats)
// and tells OnMembers when the set changed.
func (m *Member) refreshLive(ctx context.Context) {
	nodes, err := m.opts.Store.Nodes(ctx)
	if err != nil {
		if ctx.Err() == nil {
			m.log.Warn().Err(err).Msg("read the cluster's nodes")
		}
		return
	}
	slices.SortFunc(nodes, func(a, b NodeInfo) int { return strings.Compare(a.Name, b.Name) })
	live := []string{m.opts.Node}
	for _, n := range nodes {
		if n.Name != m.opts.Node && n.Age < deadAfterBeats*m.opts.Heartbeat {
			live = append(live, n.Name)
		}
	}
	slices.Sort(live)
	m.mu.Lock()
	changed := !slices.Equal(live, m.live)
	m.live, m.nodes = live, nodes
	m.mu.Unlock()
	if changed {
		m.log.Info().Strs("live", live).Msg("cluster members changed")
		if m.opts.OnMembers != nil {
			m.opts.OnMembers(live)
		}
	}
}

// campaign tries to take the lease every renewal interval, and leads a
// term each time it gets it.
func (m *Member) campaign(ctx context.Context) {
	for ctx.Err() == nil {
		sent := m.opts.Now()
		lease, ok, err := m.opts.Store.AcquireLease(ctx, m.opts.Node, m.opts.Lease)
		switch {
		case err != nil:
			if ctx.Err() == nil {
				m.log.Warn().Err(err).Msg("campaign for the leader lease")
			}
		case ok:
			m.lead(ctx, lease, sent)
			continue
		default:
			m.mu.Lock()
			if m.lease.Holder != lease.Holder || m.lease.Epoch != lease.Epoch {
				m.log.Info().Str("leader", lease.Holder).Int64("epoch", lease.Epoch).Msg("following")
			}
			m.lease = lease
			m.mu.Unlock()
		}
		select {
		case <-ctx.Done():
		case <-time.After(m.opts.Renew):
		}
	}
}

// lead runs one term: Lead in its own goroutine, the lease renewed every
// Renew. The term ends when the lease is lost (another epoch, or not
// renewed before it expires on the local clock), when Lead returns, or
// when ctx ends; then Lead's context is cancelled and lead waits for it.
func (m *Member) lead(ctx context.Context, lease Lease, sent time.Time) {
	m.mu.Lock()
	m.epoch, m.deadline, m.lease = lease.Epoch, sent.Add(m.opts.Lease-m.opts.Renew), lease
	m.mu.Unlock()
	log := m.log.With().Int64("epoch", lease.Epoch).Logger()
	log.Info().Msg("leading")

	termCtx, endTerm := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- m.opts.Lead(termCtx, lease.Epoch) }()

	why, release := "", false
	t := time.NewTicker(m.opts.Renew)
	defer t.Stop()
	for why == "" {
		select {
		case <-ctx.Done():
			why, release = "stopping", true
		case err := <-done:
			done <- err
			why, release = "the leader's components stopped", true
			if err != nil {
				why += ": " + err.Error()
			}
		case <-t.C:
			sent := m.opts.Now()
			// A renewal that cannot answer before the lease may have
			// expired is as good as failed: bound it by the deadline.
			m.mu.Lock()
			deadline := m.deadline
			m.mu.Unlock()
			rctx, cancel := context.WithTimeout(ctx, max(deadline.Sub(sent), m.opts.Renew))
			l, ok, err := m.opts.Store.RenewLease(rctx, m.opts.Node, lease.Epoch, m.opts.Lease)
			cancel()
			switch {
			case err != nil:
				if _, still := m.Leading(); !still {
					why = "the lease could not be renewed before it expired: " + err.Error()
				} else {
					log.Warn().Err(err).Msg("renew the leader lease; retrying")
				}
			case !ok:
				why = fmt.Sprintf("the lease was taken over (now %s, epoch %d)", l.Holder, l.Epoch)
			default:
				m.mu.Lock()
				m.deadline, m.lease = sent.Add(m.opts.Lease-m.opts.Renew), l
				m.mu.Unlock()
			}
		}
	}
	// No new host step from here on (Fence), then stop the components.
	m.mu.Lock()
	m.epoch = 0
	m.mu.Unlock()
	log.Warn().Str("why", why).Msg("stepping down")
	endTerm()
	if err := <-done; err != nil && !errors.Is(err, context.Canceled) {
		log.Error().Err(err).Msg("leader components")
	}
	if release {
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
		if err := m.opts.Store.ReleaseLease(rctx, m.opts.Node, lease.Epoch); err != nil {
			log.Warn().Err(err).Msg("release the leader lease")
		}
		cancel()
	}
}

// CheckKey is the key of the check of monitor on host, whose owner runs
// it (Owns, Owner).
func CheckKey(monitor, host string) string { return monitor + "@" + host }
