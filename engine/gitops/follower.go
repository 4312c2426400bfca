package gitops

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/rs/zerolog"

	"github.com/ripple-ops/ripple/definitions"
	"github.com/ripple-ops/ripple/engine"
	"github.com/ripple-ops/ripple/engine/cluster"
	"github.com/ripple-ops/ripple/engine/convergence"
	"github.com/ripple-ops/ripple/engine/source"
)

// In a cluster (engine/cluster) one node leads, and its term runs a
// Daemon: it reconciles, rolls out, schedules, checks drift and writes to
// GitHub. Every node, the leader too, runs a Follower. It follows the base
// commit the leader records in the store (BaseKey), so that the monitors,
// notifiers and web UI of every node use the applied commit's
// definitions; it applies the leader's alert holds to this node's
// monitors; and it serves the daemon's side of the API on this node,
// handing each action to the leader through the database
// (cluster.Forwarder), where Handlers carry it out.

// LeaderState is what the leader publishes with its heartbeats for the
// followers: its daemon's status and the hosts whose alerts its rollouts
// hold.
type LeaderState struct {
	Status engine.DaemonStatus `json:"status"`
	Holds  []string            `json:"holds,omitempty"`
}

// FollowerStore is what a follower reads: the base commit, and runs (for
// sync states and self-heal).
type FollowerStore interface {
	engine.RunReader
	engine.AppliedStore
}

// FollowerOptions configures a Follower. Repo, Branch, Store, Member and
// Actions are required.
type FollowerOptions struct {
	// Repo is this node's mirror, open; the leader's term daemon shares it.
	Repo   *source.Mirror
	Branch string
	// RepoURL is shown in the status (redacted here).
	RepoURL string
	Store   FollowerStore
	// Sync is where the sync state is recorded; nil: none is served.
	Sync    engine.SyncStore
	Member  *cluster.Member
	Actions cluster.ActionStore
	// Holds is this node's monitor runner: the leader's alert holds are
	// applied to it. Nil: holds are not followed.
	Holds engine.AlertHolder
	// Limits bound the loads of the base commit, as the daemon's.
	Limits definitions.Limits
	// Poll is how often the base commit and the leader's state are read;
	// default 1s.
	Poll time.Duration
	// Wait bounds how long an action waits for the leader's answer
	// (a failover takes up to the lease); default 30s, and drift checks,
	// which reach every host, get ten times as long.
	Wait   time.Duration
	Logger zerolog.Logger
}

// Follower is one node's view of the GitOps daemon in a cluster; see the
// comment at the top of this file. It implements the surfaces' backends
// (httpapi.Backend, SyncBackend, RevertBackend) and engine.TriggerSink.
//
// Goroutines: Run's goroutine polls; Lead runs in the goroutine of the
// leader's term. Every method is safe for concurrent use.
type Follower struct {
	opts     FollowerOptions
	log      zerolog.Logger
	fwd      *cluster.Forwarder
	parsed   *definitions.Cache
	fps      fingerprints
	appliers []engine.ConfigApplier

	mu       sync.Mutex
	defs     *definitions.Definitions // at base; nil before the first load
	base     string
	applied  string
	ready    bool
	stopping bool
	lastErr  string
	term     *Daemon         // this node's daemon while it leads
	held     map[string]bool // the leader's holds applied to Holds
}

// NewFollower checks opts and returns a follower that does nothing until
// Run.
func NewFollower(opts FollowerOptions) (*Follower, error) {
	switch {
	case opts.Repo == nil || opts.Branch == "":
		return nil, errors.New("follower needs the mirror and its branch")
	case opts.Store == nil || opts.Actions == nil:
		return nil, errors.New("follower needs the store and its actions")
	case opts.Member == nil:
		return nil, errors.New("follower needs the cluster member")
	}
	if opts.Poll <= 0 {
		opts.Poll = time.Second
	}
	if opts.Wait <= 0 {
		opts.Wait = 30 * time.Second
	}
	return &Follower{
		opts:   opts,
		log:    opts.Logger.With().Str("component", "follower").Logger(),
		fwd:    &cluster.Forwarder{Store: opts.Actions, Node: opts.Member.Node()},
		parsed: definitions.NewCache(),
		held:   map[string]bool{},
	}, nil
}

// Subscribe makes appliers follow the base commit, as Daemon.Subscribe
// does on one node: monitors, notifiers. Call it before Run.
func (f *Follower) Subscribe(appliers ...engine.ConfigApplier) {
	f.appliers = append(f.appliers, appliers...)
}

// Run follows the base commit and the leader's holds until ctx ends.
func (f *Follower) Run(ctx context.Context) error {
	t := time.NewTicker(f.opts.Poll)
	defer t.Stop()
	for {
		f.follow(ctx)
		select {
		case <-ctx.Done():
			f.mu.Lock()
			f.stopping = true
			f.mu.Unlock()
			return nil
		case <-t.C:
		}
	}
}

// follow reads the base commit and, when it moved, loads its definitions
// for the subscribers; then it applies the leader's holds.
func (f *Follower) follow(ctx context.Context) {
	err := f.followBase(ctx)
	f.mu.Lock()
	f.ready = err == nil
	f.lastErr = ""
	if err != nil {
		f.lastErr = err.Error()
	}
	f.mu.Unlock()
	if err != nil && ctx.Err() == nil {
		f.log.Warn().Err(err).Msg("follow the applied commit")
	}
	f.followHolds(ctx)
}

func (f *Follower) followBase(ctx context.Context) error {
	base, err := f.opts.Store.LastApplied(ctx, BaseKey(f.opts.Branch))
	if err != nil {
		return fmt.Errorf("read the base commit: %w", err)
	}
	applied, err := f.opts.Store.LastApplied(ctx, f.opts.Branch)
	if err != nil {
		return fmt.Errorf("read the applied commit: %w", err)
	}
	f.mu.Lock()
	f.applied = applied
	same := base == f.base
	f.mu.Unlock()
	if same || base == "" {
		return nil
	}
	h := plumbing.NewHash(base)
	if !f.opts.Repo.HasCommit(h) {
		if _, err := f.opts.Repo.Fetch(ctx); err != nil {
			return fmt.Errorf("fetch the base commit %s: %w", engine.ShortCommit(base), err)
		}
		if !f.opts.Repo.HasCommit(h) {
			return fmt.Errorf("the base commit %s is not on branch %s", engine.ShortCommit(base), f.opts.Branch)
		}
	}
	defs, _, err := engine.LoadCommit(f.parsed, f.opts.Repo, base, f.opts.Limits)
	if err != nil {
		return err
	}
	f.mu.Lock()
	f.defs, f.base = defs, base
	f.mu.Unlock()
	f.log.Info().Str("commit", engine.ShortCommit(base)).Msg("following the applied commit")
	for _, a := range f.appliers {
		if err := a.ApplyConfig(ctx, defs); err != nil {
			f.log.Warn().Err(err).Str("commit", engine.ShortCommit(base)).Str("component", fmt.Sprintf("%T", a)).Msg("the applied commit's definitions were not all taken")
		}
	}
	return nil
}

// followHolds applies the holds the leader published to this node's
// monitors. While this node leads, its term's HoldSet passes holds on
// directly, and the follower holds nothing of its own.
func (f *Follower) followHolds(ctx context.Context) {
	if f.opts.Holds == nil {
		return
	}
	want := map[string]bool{}
	if f.leaderDaemon() == nil {
		if ls, ok := f.leaderState(); ok {
			for _, h := range ls.Holds {
				want[h] = true
			}
		}
	}
	f.mu.Lock()
	var add, drop []string
	for h := range want {
		if !f.held[h] {
			add = append(add, h)
		}
	}
	for h := range f.held {
		if !want[h] {
			drop = append(drop, h)
		}
	}
	f.held = want
	f.mu.Unlock()
	if len(add) > 0 {
		f.opts.Holds.Hold(add)
	}
	if len(drop) > 0 {
		f.opts.Holds.Release(ctx, drop)
	}
}

// leaderState is the state the live leader published; ok is false when
// no live node leads or it published nothing yet.
func (f *Follower) leaderState() (LeaderState, bool) {
	n, alive, ok := f.opts.Member.Leader()
	if !ok || !alive || len(n.State) == 0 {
		return LeaderState{}, false
	}
	var ls LeaderState
	if err := json.Unmarshal(n.State, &ls); err != nil {
		f.log.Warn().Err(err).Str("leader", n.Name).Msg("the leader's published state does not decode")
		return LeaderState{}, false
	}
	return ls, true
}

func (f *Follower) leaderDaemon() *Daemon {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.term
}

// Lead is this node's part as the leader for one term, until ctx ends: d
// (the term's daemon, which the caller runs) answers this node's API
// directly, and its status and holds are published for the followers.
func (f *Follower) Lead(ctx context.Context, d *Daemon, holds *HoldSet) {
	f.mu.Lock()
	f.term = d
	f.mu.Unlock()
	defer func() {
		f.mu.Lock()
		f.term = nil
		f.mu.Unlock()
		f.opts.Member.Publish(nil)
	}()
	var last []byte
	t := time.NewTicker(250 * time.Millisecond)
	defer t.Stop()
	for {
		b, err := json.Marshal(LeaderState{Status: d.Status(), Holds: holds.Hosts()})
		if err == nil && !bytes.Equal(b, last) {
			f.opts.Member.Publish(b)
			last = b
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-holds.changed:
		}
	}
}

// CommitInfo is the subject, author and time of commit sha (a full id),
// read from this node's mirror.
func (f *Follower) CommitInfo(sha string) (engine.CommitInfo, error) {
	return f.opts.Repo.CommitInfo(sha)
}

// Status is the leader's status as it last published it, with this node
// and the leader named; Ready is this node's.
func (f *Follower) Status() engine.DaemonStatus {
	var st engine.DaemonStatus
	leader := ""
	if d := f.leaderDaemon(); d != nil {
		st, leader = d.Status(), f.opts.Member.Node()
	} else if ls, ok := f.leaderState(); ok {
		st = ls.Status
		n, _, _ := f.opts.Member.Leader()
		leader = n.Name
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if st.Branch == "" {
		st = engine.DaemonStatus{Branch: f.opts.Branch, Repo: source.RedactURL(f.opts.RepoURL), Base: f.base, LastApplied: f.applied, LastError: f.lastErr}
	}
	st.Node, st.Leader = f.opts.Member.Node(), leader
	st.Ready, st.Stopping = f.readyLocked(), f.stopping
	return st
}

// Ready reports whether this node serves: the store answers, and a node
// that leads still holds its lease.
func (f *Follower) Ready() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.readyLocked()
}

func (f *Follower) readyLocked() bool {
	if f.term != nil && f.opts.Member.Fence() != nil {
		return false
	}
	return f.ready && !f.stopping
}

// Definitions are those of the base commit; nil before the first load.
func (f *Follower) Definitions() *definitions.Definitions {
	if d := f.leaderDaemon(); d != nil {
		if defs := d.Definitions(); defs != nil {
			return defs
		}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.defs
}

// SyncStates reads the sync state from the store, on any node.
func (f *Follower) SyncStates(ctx context.Context, jobs ...string) ([]convergence.JobSync, error) {
	return syncStates(ctx, f.Definitions(), &f.fps, f.opts.Sync, f.opts.Store, jobs)
}

// The leader's actions, each as an action of the database.

type runAction struct {
	Run    int64  `json:"run"`
	Actor  string `json:"actor"`
	Reason string `json:"reason"`
}

type jobAction struct {
	Job    string                     `json:"job"`
	Hosts  []string                   `json:"hosts,omitempty"`
	Params map[string]json.RawMessage `json:"params,omitempty"` // never a sensitive one (refuseSensitive)
	Actor  string                     `json:"actor"`
	Reason string                     `json:"reason"`
}

type acceptAction struct {
	Head   string `json:"head"`
	Actor  string `json:"actor"`
	Reason string `json:"reason"`
}

type revertAction struct {
	Commit string `json:"commit"`
	Run    int64  `json:"run,omitempty"`
	Actor  string `json:"actor"`
	Reason string `json:"reason"`
}

type driftAction struct {
	Jobs []string `json:"jobs,omitempty"`
}

type factsAction struct {
	Hosts []string `json:"hosts,omitempty"`
}

type triggerAction struct {
	Source string `json:"source"`
}

// Kinds of actions.
const (
	actApprove     = "approve"
	actAbort       = "abort"
	actRun         = "run"
	actExec        = "exec"
	actSync        = "sync"
	actAccept      = "accept"
	actRevert      = "revert"
	actDrift       = "drift"
	actFacts       = "facts"
	actTrigger     = "trigger"
	actPush        = "push"
	actPullRequest = "pull_request"
)

// do hands an action to the leader and waits for its answer, for at most
// wait; no answer in time is ErrNotRunning (503: try again).
func (f *Follower) do(ctx context.Context, wait time.Duration, kind string, req, resp any) error {
	wctx, cancel := context.WithTimeout(ctx, wait)
	defer cancel()
	err := f.fwd.Do(wctx, kind, req, resp)
	if err != nil && ctx.Err() == nil && errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("%w: %w", engine.ErrNotRunning, err)
	}
	return err
}

// Approve hands the approval to the leader.
func (f *Follower) Approve(ctx context.Context, runID int64, actor, reason string) error {
	if d := f.leaderDaemon(); d != nil {
		return d.Approve(ctx, runID, actor, reason)
	}
	return f.do(ctx, f.opts.Wait, actApprove, runAction{runID, actor, reason}, nil)
}

// Abort hands the abort to the leader.
func (f *Follower) Abort(ctx context.Context, runID int64, actor, reason string) error {
	if d := f.leaderDaemon(); d != nil {
		return d.Abort(ctx, runID, actor, reason)
	}
	return f.do(ctx, f.opts.Wait, actAbort, runAction{runID, actor, reason}, nil)
}

// StartRun asks the leader for a manual run and returns it once queued.
// A value for a sensitive param never goes through the database: such a
// run is refused here (engine.ErrConflict) and must be started on the
// leader's node.
func (f *Follower) StartRun(ctx context.Context, req engine.JobRunRequest) (*engine.Run, error) {
	if d := f.leaderDaemon(); d != nil {
		return d.StartRun(ctx, req)
	}
	if err := f.refuseSensitive(req); err != nil {
		return nil, err
	}
	var run engine.Run
	if err := f.do(ctx, f.opts.Wait, actRun, jobAction{Job: req.Job, Hosts: req.Hosts, Params: req.Params, Actor: req.Actor, Reason: req.Reason}, &run); err != nil {
		return nil, err
	}
	return &run, nil
}

// refuseSensitive refuses to hand the leader a run with a value for a
// sensitive param: actions are rows of the shared database, and sensitive
// values are never stored.
func (f *Follower) refuseSensitive(req engine.JobRunRequest) error {
	defs := f.Definitions()
	if defs == nil || defs.Jobs[req.Job] == nil {
		return nil // the leader says what is wrong
	}
	j := defs.Jobs[req.Job]
	for name, v := range req.Params {
		if p := j.Param(name); p != nil && p.Sensitive && strings.TrimSpace(string(v)) != "null" {
			leader := "the leader"
			if n, alive, ok := f.opts.Member.Leader(); ok && alive {
				leader = "the leader, " + n.Name
			}
			return fmt.Errorf("param %s of job %s is sensitive, and this node (%s) would have to hand it to the leader through the database, where sensitive values never go: start the run on %s: %w",
				name, req.Job, f.opts.Member.Node(), leader, engine.ErrConflict)
		}
	}
	return nil
}

// Exec asks the leader for an exec run and returns it once queued.
func (f *Follower) Exec(ctx context.Context, req engine.ExecRequest) (*engine.Run, error) {
	if d := f.leaderDaemon(); d != nil {
		return d.Exec(ctx, req)
	}
	if err := req.Check(); err != nil {
		return nil, err
	}
	var run engine.Run
	if err := f.do(ctx, f.opts.Wait, actExec, req, &run); err != nil {
		return nil, err
	}
	return &run, nil
}

// StartSync asks the leader for a sync run.
func (f *Follower) StartSync(ctx context.Context, job string, hosts []string, actor, reason string) (*engine.Run, error) {
	if d := f.leaderDaemon(); d != nil {
		return d.StartSync(ctx, job, hosts, actor, reason)
	}
	var run engine.Run
	if err := f.do(ctx, f.opts.Wait, actSync, jobAction{Job: job, Hosts: hosts, Actor: actor, Reason: reason}, &run); err != nil {
		return nil, err
	}
	return &run, nil
}

// Accept hands the acceptance of rewritten history to the leader.
func (f *Follower) Accept(ctx context.Context, head, actor, reason string) error {
	if d := f.leaderDaemon(); d != nil {
		return d.Accept(ctx, head, actor, reason)
	}
	return f.do(ctx, f.opts.Wait, actAccept, acceptAction{head, actor, reason}, nil)
}

// Revert asks the leader for a revert branch (and pull request).
func (f *Follower) Revert(ctx context.Context, commit string, runID int64, actor, reason string) (engine.RevertResult, error) {
	if d := f.leaderDaemon(); d != nil {
		return d.Revert(ctx, commit, runID, actor, reason)
	}
	var res engine.RevertResult
	err := f.do(ctx, f.opts.Wait, actRevert, revertAction{commit, runID, actor, reason}, &res)
	return res, err
}

// CheckDrift asks the leader to check drift now and returns what it found.
func (f *Follower) CheckDrift(ctx context.Context, jobs ...string) ([]engine.JobDrift, error) {
	if d := f.leaderDaemon(); d != nil {
		return d.CheckDrift(ctx, jobs...)
	}
	var out []engine.JobDrift
	err := f.do(ctx, 10*f.opts.Wait, actDrift, driftAction{jobs}, &out)
	return out, err
}

// GatherFacts asks the leader to gather facts now and returns the hosts'
// records.
func (f *Follower) GatherFacts(ctx context.Context, hosts ...string) ([]engine.FactsRecord, error) {
	if d := f.leaderDaemon(); d != nil {
		return d.GatherFacts(ctx, hosts...)
	}
	var out []engine.FactsRecord
	err := f.do(ctx, 10*f.opts.Wait, actFacts, factsAction{hosts}, &out)
	return out, err
}

// Trigger asks the leader to reconcile; it does not wait.
func (f *Follower) Trigger(source string) {
	if d := f.leaderDaemon(); d != nil {
		d.Trigger(source)
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := f.fwd.Send(ctx, actTrigger, "", triggerAction{source}); err != nil {
		f.log.Warn().Err(err).Str("trigger", source).Msg("hand a reconcile to the leader")
	}
}

// Push implements engine.TriggerSink: the event goes to the leader once,
// whichever nodes GitHub delivered it to.
func (f *Follower) Push(ctx context.Context, ev engine.PushEvent) error {
	return f.send(ctx, actPush, ev.DeliveryID, ev)
}

// PullRequest implements engine.TriggerSink, like Push.
func (f *Follower) PullRequest(ctx context.Context, ev engine.PullRequestEvent) error {
	return f.send(ctx, actPullRequest, ev.DeliveryID, ev)
}

func (f *Follower) send(ctx context.Context, kind, delivery string, ev any) error {
	key := ""
	if delivery != "" {
		key = "delivery:" + delivery
	}
	isNew, err := f.fwd.Send(ctx, kind, key, ev)
	if err != nil {
		return err
	}
	if !isNew {
		f.log.Info().Str("delivery", delivery).Str("event", kind).Msg("delivery already handed to the leader by another node")
	}
	return nil
}

var _ engine.TriggerSink = (*Follower)(nil)

// Handlers are the leader's side of the actions: d carries each out.
func Handlers(d *Daemon) map[string]cluster.Handler {
	return map[string]cluster.Handler{
		actApprove: handle(func(ctx context.Context, a runAction) (any, error) {
			return nil, d.Approve(ctx, a.Run, a.Actor, a.Reason)
		}),
		actAbort: handle(func(ctx context.Context, a runAction) (any, error) {
			return nil, d.Abort(ctx, a.Run, a.Actor, a.Reason)
		}),
		actRun: handle(func(ctx context.Context, a jobAction) (any, error) {
			return d.StartRun(ctx, engine.JobRunRequest{Job: a.Job, Hosts: a.Hosts, Params: a.Params, Actor: a.Actor, Reason: a.Reason})
		}),
		actExec: handle(func(ctx context.Context, req engine.ExecRequest) (any, error) {
			return d.Exec(ctx, req)
		}),
		actSync: handle(func(ctx context.Context, a jobAction) (any, error) {
			return d.StartSync(ctx, a.Job, a.Hosts, a.Actor, a.Reason)
		}),
		actAccept: handle(func(ctx context.Context, a acceptAction) (any, error) {
			return nil, d.Accept(ctx, a.Head, a.Actor, a.Reason)
		}),
		actRevert: handle(func(ctx context.Context, a revertAction) (any, error) {
			return d.Revert(ctx, a.Commit, a.Run, a.Actor, a.Reason)
		}),
		actDrift: handle(func(ctx context.Context, a driftAction) (any, error) {
			return d.CheckDrift(ctx, a.Jobs...)
		}),
		actFacts: handle(func(ctx context.Context, a factsAction) (any, error) {
			return d.GatherFacts(ctx, a.Hosts...)
		}),
		actTrigger: handle(func(_ context.Context, a triggerAction) (any, error) {
			d.Trigger(a.Source)
			return nil, nil
		}),
		actPush: handle(func(ctx context.Context, ev engine.PushEvent) (any, error) {
			return nil, d.Push(ctx, ev)
		}),
		actPullRequest: handle(func(ctx context.Context, ev engine.PullRequestEvent) (any, error) {
			return nil, d.PullRequest(ctx, ev)
		}),
	}
}

// handle decodes an action's payload into T for fn.
func handle[T any](fn func(context.Context, T) (any, error)) cluster.Handler {
	return func(ctx context.Context, payload json.RawMessage) (any, error) {
		var req T
		if err := json.Unmarshal(payload, &req); err != nil {
			return nil, fmt.Errorf("decode the request: %w: %w", err, engine.ErrInvalidRequest)
		}
		return fn(ctx, req)
	}
}

// HoldSet is the leader's alert holds for one term. The term's rollout
// holds and releases each wave's hosts here; they are passed on to this
// node's monitors (Local) at once, and published by Follower.Lead for the
// other nodes' monitors. End releases what the term still holds.
type HoldSet struct {
	local   engine.AlertHolder
	changed chan struct{}

	mu sync.Mutex
	n  map[string]int
}

// NewHoldSet returns an empty hold set passing holds on to local (nil:
// none on this node).
func NewHoldSet(local engine.AlertHolder) *HoldSet {
	return &HoldSet{local: local, changed: make(chan struct{}, 1), n: map[string]int{}}
}

var _ engine.AlertHolder = (*HoldSet)(nil)

// Hold implements engine.AlertHolder.
func (h *HoldSet) Hold(hosts []string) {
	h.mu.Lock()
	for _, x := range hosts {
		h.n[x]++
	}
	h.mu.Unlock()
	if h.local != nil {
		h.local.Hold(hosts)
	}
	h.poke()
}

// Release implements engine.AlertHolder.
func (h *HoldSet) Release(ctx context.Context, hosts []string) {
	h.mu.Lock()
	for _, x := range hosts {
		if h.n[x]--; h.n[x] <= 0 {
			delete(h.n, x)
		}
	}
	h.mu.Unlock()
	if h.local != nil {
		h.local.Release(ctx, hosts)
	}
	h.poke()
}

// Hosts lists the held hosts, sorted.
func (h *HoldSet) Hosts() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	out := make([]string, 0, len(h.n))
	for x := range h.n {
		out = append(out, x)
	}
	slices.Sort(out)
	return out
}

// End releases every hold the term still has (its rollouts stopped
// without releasing them: the next leader holds again as it resumes).
func (h *HoldSet) End(ctx context.Context) {
	h.mu.Lock()
	var hosts []string
	for x, n := range h.n {
		for range n {
			hosts = append(hosts, x)
		}
	}
	h.mu.Unlock()
	if len(hosts) > 0 {
		h.Release(ctx, hosts)
	}
}

func (h *HoldSet) poke() {
	select {
	case h.changed <- struct{}{}:
	default:
	}
}
