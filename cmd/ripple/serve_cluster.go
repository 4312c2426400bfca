package main

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"
	"golang.org/x/sync/errgroup"

	"github.com/ripple-ops/ripple/engine"
	"github.com/ripple-ops/ripple/engine/cluster"
	"github.com/ripple-ops/ripple/engine/gitops"
	"github.com/ripple-ops/ripple/engine/httpapi"
	"github.com/ripple-ops/ripple/engine/monitor"
	"github.com/ripple-ops/ripple/engine/pgstore"
	"github.com/ripple-ops/ripple/engine/source"
)

// clusterNode is this daemon as one node of a cluster on a PostgreSQL
// store: its membership (heartbeats, the leader lease), its follower (the
// applied commit for its monitors and UI, actions handed to the leader),
// and, during each of its terms as leader, the leader's components with
// writes fenced by the term's epoch.
type clusterNode struct {
	name     string
	member   atomic.Pointer[cluster.Member]
	pg       *pgstore.Store
	mirror   *source.Mirror
	follower *gitops.Follower
	leaders  *leaderParts
	lease    time.Duration
	log      zerolog.Logger
}

// renewEvery is how often the lease is renewed and nodes heartbeat: every
// 2s (DESIGN.md), more often for a lease under 10s.
func renewEvery(lease time.Duration) time.Duration { return min(cluster.DefaultRenew, lease/5) }

// deadAfter is when a node that stopped heartbeating counts as dead.
func (n *clusterNode) deadAfter(c *serveConfig) time.Duration { return 3 * renewEvery(c.lease) }

// term is the node and epoch the store's fence checks each leader write
// against; epoch 0 (no term) writes nothing of the leader's.
func (n *clusterNode) term() (string, int64) {
	if m := n.member.Load(); m != nil {
		return m.Term()
	}
	return n.name, 0
}

// owns reports whether this node checks monitor on host.
func (n *clusterNode) owns(monitor, host string) bool {
	if m := n.member.Load(); m != nil {
		return m.Owns(cluster.CheckKey(monitor, host))
	}
	return true
}

// start opens the mirror this node's follower and terms share, and makes
// the member and the follower.
func (n *clusterNode) start(ctx context.Context, c *serveConfig, pg *pgstore.Store, leaders *leaderParts, metrics prometheus.Registerer, log zerolog.Logger) (*gitops.Follower, error) {
	n.pg, n.leaders, n.lease = pg, leaders, c.lease
	n.log = log.With().Str("node", n.name).Logger()
	mirror, err := openMirror(ctx, c, log)
	if err != nil {
		return nil, err
	}
	n.mirror = mirror
	renew := renewEvery(c.lease)
	member, err := cluster.New(cluster.Options{
		Store: pg, Node: n.name, URL: c.publicURL, Version: version, Lease: c.lease, Renew: renew, Heartbeat: renew,
		Lead: n.lead, Logger: log,
		OnMembers: func([]string) { leaders.monitors.Rebalance(context.Background()) },
	})
	if err != nil {
		return nil, err
	}
	n.member.Store(member)
	n.follower, err = gitops.NewFollower(gitops.FollowerOptions{
		Repo: mirror, Branch: c.branch, RepoURL: c.repo, Store: pg, Sync: pg, Member: member, Actions: pg,
		Holds: leaders.monitors, Limits: c.limits, Logger: log,
	})
	if err != nil {
		return nil, err
	}
	metrics.MustRegister(newClusterCollector(member))
	return n.follower, nil
}

// run takes part in the cluster until ctx ends: heartbeats, campaigns,
// and this node's terms as leader. On return the lease is released.
func (n *clusterNode) run(ctx context.Context) error {
	return n.member.Load().Run(ctx)
}

// lead runs the leader's components for one term, until ctx ends (the
// lease is lost or the node stops) or one of them fails (the term ends and
// the lease is given up).
func (n *clusterNode) lead(ctx context.Context, epoch int64) error {
	member := n.member.Load()
	holds := gitops.NewHoldSet(n.leaders.monitors)
	defer holds.End(context.WithoutCancel(ctx))
	l, err := n.leaders.build(holds, member.Fence, n.mirror)
	if err != nil {
		return err
	}
	l.daemon.Subscribe(n.leaders.secrets, l.runner, l.schedules)
	x := &cluster.Executor{Store: n.pg, Node: n.name, Epoch: epoch, Handlers: gitops.Handlers(l.daemon), Logger: n.log}
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error { return l.daemon.Run(gctx) })
	g.Go(func() error { n.follower.Lead(gctx, l.daemon, holds); return nil })
	g.Go(func() error { return x.Run(gctx) })
	g.Go(func() error { return l.schedules.Run(gctx) })
	g.Go(func() error { return n.pg.RunCompaction(gctx, n.log) })
	if r := n.leaders.reporter; r != nil {
		g.Go(func() error { return r.Run(gctx) })
	}
	err = g.Wait()
	if errors.Is(err, context.Canceled) {
		return nil
	}
	return err
}

// openMirror opens this node's mirror of the ops repo, retrying a fetch
// that fails with a network error for --start-timeout.
func openMirror(ctx context.Context, c *serveConfig, log zerolog.Logger) (*source.Mirror, error) {
	opts := source.MirrorOptions{
		URL: c.repo, Branch: c.branch, Dir: filepath.Join(c.data, "mirror"),
		TokenFile: c.repoTokenFile, SSHKeyFile: c.repoSSHKeyFile, KnownHostsFile: c.repoKnownHostsFile,
	}
	deadline := time.Now().Add(c.startTimeout)
	where := fmt.Sprintf("repository %s, branch %s", source.RedactURL(c.repo), c.branch)
	for attempt := 1; ; attempt++ {
		m, err := source.OpenMirror(ctx, opts)
		if err == nil {
			if _, err = m.Fetch(ctx); err == nil {
				return m, nil
			}
		}
		if !source.TransientFetchError(err) {
			return nil, fmt.Errorf("cannot read the %s: %w", where, err)
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("cannot reach the %s (%d attempts in %s): %w", where, attempt, c.startTimeout, err)
		}
		log.Error().Err(err).Int("attempt", attempt).Msg("cannot reach the repository; retrying")
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(min(5*time.Second, time.Until(deadline))):
		}
	}
}

// Cluster implements httpapi.ClusterSource: the nodes as the database has
// them, the lease, and each live node's share of the checks.
func (n *clusterNode) Cluster(ctx context.Context) (httpapi.Cluster, error) {
	lease, err := n.pg.CurrentLease(ctx)
	if err != nil {
		return httpapi.Cluster{}, err
	}
	nodes, err := n.pg.Nodes(ctx)
	if err != nil {
		return httpapi.Cluster{}, err
	}
	dead := 3 * renewEvery(n.lease)
	var live []string
	for _, x := range nodes {
		if x.Age < dead {
			live = append(live, x.Name)
		}
	}
	shares := map[string]int{}
	if defs := n.follower.Definitions(); defs != nil && len(live) > 0 {
		for _, m := range defs.Monitors {
			for _, h := range defs.Select(m.Targets) {
				shares[cluster.Owner(live, cluster.CheckKey(m.Name, h.Name))]++
			}
		}
	}
	out := httpapi.Cluster{Node: n.name, Epoch: lease.Epoch, Lease: n.lease.String(), Nodes: []httpapi.ClusterNode{}}
	if lease.Holder != "" {
		out.Leader, out.LeaseExpires = lease.Holder, lease.Expires
	}
	for _, x := range nodes {
		out.Nodes = append(out.Nodes, httpapi.ClusterNode{
			Name: x.Name, URL: x.URL, Version: x.Version, Started: x.Started, Heartbeat: x.Heartbeat,
			HeartbeatAge: x.Age.Seconds(), Live: x.Age < dead, Leader: x.Name == out.Leader, Checks: shares[x.Name],
		})
	}
	return out, nil
}

// clusterCollector exports this node's view of the cluster.
type clusterCollector struct {
	m                    *cluster.Member
	leader, epoch, nodes *prometheus.Desc
	mu                   sync.Mutex
}

func newClusterCollector(m *cluster.Member) *clusterCollector {
	return &clusterCollector{m: m,
		leader: prometheus.NewDesc("ripple_cluster_leader", "1 while this node holds the leader lease, else 0.", nil, nil),
		epoch:  prometheus.NewDesc("ripple_cluster_epoch", "The epoch of the leader lease as this node last saw it.", nil, nil),
		nodes:  prometheus.NewDesc("ripple_cluster_live_nodes", "Nodes whose heartbeat is recent, this one included.", nil, nil),
	}
}

func (c *clusterCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.leader
	ch <- c.epoch
	ch <- c.nodes
}

func (c *clusterCollector) Collect(ch chan<- prometheus.Metric) {
	c.mu.Lock()
	defer c.mu.Unlock()
	leads := 0.0
	if _, ok := c.m.Leading(); ok {
		leads = 1
	}
	ch <- prometheus.MustNewConstMetric(c.leader, prometheus.GaugeValue, leads)
	ch <- prometheus.MustNewConstMetric(c.epoch, prometheus.GaugeValue, float64(c.m.Lease().Epoch))
	ch <- prometheus.MustNewConstMetric(c.nodes, prometheus.GaugeValue, float64(len(c.m.Live())))
}

// clusterMonitors is the monitor state a cluster node shows: its runner's
// for the pairs it checks, the store's (saved with every result by the
// node that checks them) for the others, and for trap blocks the latest
// either has.
type clusterMonitors struct {
	runner *monitor.Runner
	store  engine.MonitorStateStore
	owns   func(monitor, host string) bool
	log    zerolog.Logger
}

// Both sources tell the index pages when their states changed.
var (
	_ httpapi.VersionedSource = (*monitor.Runner)(nil)
	_ httpapi.VersionedSource = clusterMonitors{}
	// A host's page on a node of one reads its host's states alone.
	_ httpapi.HostStatesSource = (*monitor.Runner)(nil)
)

// StatesVersion implements httpapi.VersionedSource with the runner's
// version: the states other nodes save change no version, so the index
// pages show them within httpapi.HealthMaxAge.
func (c clusterMonitors) StatesVersion() uint64 { return c.runner.StatesVersion() }

// States implements httpapi.MonitorSource.
func (c clusterMonitors) States() []engine.MonitorHostState {
	out := c.runner.States()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	recs, err := c.store.MonitorStates(ctx)
	if err != nil {
		c.log.Warn().Err(err).Msg("read the monitor states other nodes saved")
		return out
	}
	saved := make(map[[2]string]engine.MonitorRecord, len(recs))
	for _, r := range recs {
		saved[[2]string{r.Monitor, r.Host}] = r
	}
	for i := range out {
		s := &out[i]
		r, ok := saved[[2]string{s.Monitor, s.Host}]
		// A pair this node checks shows its own state, unless another
		// node saved a later one: a trap block's state is set by
		// whichever node received the trap.
		if !ok || c.owns(s.Monitor, s.Host) && !r.LastAt.After(s.LastAt) {
			continue
		}
		s.State, s.Since, s.Consecutive, s.Firing, s.Notified = r.State, r.Since, r.Consecutive, r.Firing, r.Notified
		s.LastOutput, s.LastAt, s.Pending = r.LastOutput, r.LastAt, r.Pending
		// Why the checking node holds its alerts back, and an ack
		// made on any node, of the state that node saw.
		s.Suppressed, s.Ack = r.Suppressed, nil
		if a, ok := c.runner.AckOf(s.Monitor, s.Host); ok && a.Covers(r.State, r.Since) {
			s.Ack = &a
		}
	}
	return out
}
