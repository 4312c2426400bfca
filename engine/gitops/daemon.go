package gitops

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/rs/zerolog"

	"github.com/ripple-ops/ripple/definitions"
	"github.com/ripple-ops/ripple/engine"
	"github.com/ripple-ops/ripple/engine/source"
)

// Runner carries out runs; *Rollout implements it. The daemon decides
// which runs to start and hands each to Execute from one worker per job.
type Runner interface {
	// Submit records a queued run (and its pending status).
	Submit(ctx context.Context, req engine.RunRequest) (*engine.Run, error)
	// Execute carries run id on with defs, the definitions of its commit,
	// until it is final or needs an operator. When ctx ends it returns
	// ctx's error and leaves the run to be resumed.
	Execute(ctx context.Context, defs *definitions.Definitions, id int64) (*engine.Run, error)
	// Recover resumes or ends the runs an earlier process left unfinished;
	// the daemon calls it once, before it reconciles.
	Recover(ctx context.Context, load engine.DefinitionsLoader) ([]*engine.Run, error)
	Approve(ctx context.Context, id int64, actor, reason string) error
	Abort(ctx context.Context, id int64, actor, reason string) error
}

// Store is what the daemon reads and records: runs (to adopt and watch
// them), the last applied commit, commit statuses, and the audit event of
// a revert asked from a run.
type Store interface {
	engine.RunReader
	engine.AppliedStore
	engine.StatusWriter
	AddEvent(ctx context.Context, e engine.Event) error
}

// Options configures a Daemon. Store, Runner and Mirror are required.
type Options struct {
	// Repo, when set, is the mirror already open (a cluster node keeps one
	// for its follower and each term's daemon); else Run opens Mirror.
	Repo   *source.Mirror
	Mirror source.MirrorOptions
	Store  Store
	Runner Runner
	// Outbox and Comments are nil when GitHub reporting is off; statuses
	// are then only kept in the store.
	Outbox   engine.StatusNotifier
	Comments engine.PlanCommenter
	// Reverts opens the pull request of a revert branch; nil (no GitHub
	// reporting) leaves the branch for an operator to merge.
	Reverts engine.RevertPullRequestOpener
	// RevertAuthorName and RevertAuthorEmail sign revert commits; empty
	// means "ripple <ripple@localhost>".
	RevertAuthorName, RevertAuthorEmail string
	// RunURL is the page of a run, linked from a revert's pull request;
	// nil links none.
	RunURL func(id int64) string
	// Sync, when set, is where runs and drift checks recorded what they
	// found on each host: the daemon derives sync state from it, posts the
	// ripple/sync status, and serves sync runs. Nil: no sync state.
	Sync engine.SyncStore
	// Drift and Secrets, when Drift is set, run the drift checks of jobs
	// with drift_check (read-only, on each host through the transport) and
	// self-heal jobs with self_heal.
	Drift   engine.DriftChecker
	Secrets definitions.SecretSource
	// Facts and FactStore, when both are set, gather hosts' facts
	// (read-only) on demand (GatherFacts) and, with FactsInterval > 0,
	// when a host first appears and every FactsInterval; runs render with
	// the last facts as host.facts.
	Facts         engine.FactsProbe
	FactStore     engine.FactStore
	FactsInterval time.Duration
	// Redact holds every secret the process has loaded: removed from drift
	// details before they are stored or shown. Nil redacts nothing beyond
	// what the drift checker redacts.
	Redact *engine.SecretRegistry
	// Monitors, when set, are the live monitor states: plans name the gate
	// checks that fail before a merge runs.
	Monitors engine.MonitorStateReader
	// Health, when set, is the store's view of its own writes: the status
	// and /readyz report it, and while the store cannot write (or a run
	// waits for it) the daemon probes it with backoff, from StoreRetry up
	// to StoreRetryMax (defaults 1s and 15s), and resumes the runs a failed
	// write stopped once a probe succeeds. Nil: the store is taken as
	// writable, and such runs resume only on the next start.
	Health                    engine.StoreProbe
	StoreRetry, StoreRetryMax time.Duration
	// Poll is the backstop poll interval; 0 disables polling.
	Poll time.Duration
	// AllowEmpty lets a commit remove every host or every job.
	AllowEmpty bool
	// Limits bound loading each commit, the tracked branch's and pull
	// requests' alike, and every rendering (zero: the defaults; see
	// definitions.Limits): a pull request over them gets a ripple/validate
	// failure naming the limit.
	Limits definitions.Limits
	// AllowForkPRs plans pull requests from forks too.
	AllowForkPRs bool
	// ShutdownTimeout bounds how long Run waits for in-flight steps after
	// its context ends; 0 means 30s.
	ShutdownTimeout time.Duration
	// RetryInterval is the wait before retrying a failed clone or fetch;
	// 0 means 5s.
	RetryInterval time.Duration
	// StartTimeout bounds how long Run retries the first clone and fetch
	// of the repository while they fail with a transient (network) error;
	// 0 means 30s. A permanent error (see TransientFetchError) ends Run at
	// once. Once a fetch has succeeded, later failures are only retried.
	StartTimeout time.Duration
	Metrics      *Metrics // nil: no metrics
	Logger       zerolog.Logger
}

// Daemon is the GitOps loop: it mirrors the ops repo, reconciles the last
// applied commit up to the branch head when triggered, plans pull requests,
// and hands runs to the Runner.
//
// Goroutines: Run's own goroutine is the loop (fetches, validation, plans,
// run submission); the Mirror serializes all git access, including the
// commit loads of recovery. One worker goroutine per job with queued runs
// executes them in order; with Options.Health, watchStore probes the store
// while it cannot write. Run waits for all of them before it returns.
type Daemon struct {
	opts Options
	// parsed shares parsed files between the loads of successive
	// commits: a new head usually changes a few files of many.
	parsed  *definitions.Cache
	log     zerolog.Logger
	metrics *Metrics

	wake     chan struct{} // one slot: a branch reconcile is due
	manual   chan manualRequest
	resume   chan int64    // runs an operator approved, to carry on if idle
	stopped  chan struct{} // closed when the loop has returned
	prWake   chan struct{} // one slot: pull requests are waiting
	syncWake chan struct{} // one slot: the ripple/sync status is due
	// factsWake (one slot) says the definitions changed: hosts may have
	// appeared whose facts are due now.
	factsWake chan struct{}
	// storeKick (one slot) wakes watchStore when a run stopped on a store
	// write; storeBack (one slot) tells the loop that the store writes
	// again.
	storeKick chan struct{}
	storeBack chan struct{}

	fps fingerprints // desired fingerprints of the base commit

	// appliers follow the applied commit; set by Subscribe before Run.
	appliers []engine.ConfigApplier

	mu     sync.Mutex
	state  engine.DaemonStatus
	prs    map[int]engine.PullRequestEvent // latest event per pull request
	accept *acceptRequest
	defs   *definitions.Definitions // at state.Base; nil before the first load

	queue runQueue

	// Owned by Run's goroutine.
	mirror   *source.Mirror
	verdicts map[string]string // head -> remembered refusal (invalid, empty)
	posted   map[string]string // "commit context" -> last status recorded
	seq      int64             // order of commits handed to the runner
	batches  map[string]*commitBatch
}

type acceptRequest struct {
	head, actor, reason string
}

// New checks opts and returns a daemon that does nothing until Run.
func New(opts Options) (*Daemon, error) {
	switch {
	case opts.Store == nil:
		return nil, errors.New("daemon needs a store")
	case opts.Runner == nil:
		return nil, errors.New("daemon needs a runner")
	case opts.Mirror.URL == "" || opts.Mirror.Dir == "":
		return nil, errors.New("daemon needs a repository and a mirror directory")
	}
	if opts.Mirror.Branch == "" {
		opts.Mirror.Branch = "main"
	}
	if opts.ShutdownTimeout <= 0 {
		opts.ShutdownTimeout = 30 * time.Second
	}
	if opts.RetryInterval <= 0 {
		opts.RetryInterval = 5 * time.Second
	}
	if opts.StartTimeout <= 0 {
		opts.StartTimeout = 30 * time.Second
	}
	if opts.StoreRetry <= 0 {
		opts.StoreRetry = time.Second
	}
	if opts.StoreRetryMax <= 0 {
		opts.StoreRetryMax = 15 * time.Second
	}
	d := &Daemon{
		opts:      opts,
		parsed:    definitions.NewCache(),
		log:       opts.Logger.With().Str("component", "daemon").Logger(),
		metrics:   opts.Metrics,
		wake:      make(chan struct{}, 1),
		prWake:    make(chan struct{}, 1),
		syncWake:  make(chan struct{}, 1),
		factsWake: make(chan struct{}, 1),
		storeKick: make(chan struct{}, 1),
		storeBack: make(chan struct{}, 1),
		manual:    make(chan manualRequest),
		resume:    make(chan int64, 64),
		stopped:   make(chan struct{}),
		prs:       map[int]engine.PullRequestEvent{},
		verdicts:  map[string]string{},
		posted:    map[string]string{},
		batches:   map[string]*commitBatch{},
	}
	d.state = engine.DaemonStatus{Branch: opts.Mirror.Branch, Repo: source.RedactURL(opts.Mirror.URL)}
	if opts.Poll > 0 {
		d.state.PollEvery = opts.Poll.String()
	}
	d.queue.init(d)
	return d, nil
}

var _ engine.TriggerSink = (*Daemon)(nil)

// Subscribe makes each of appliers follow the applied commit: the daemon
// calls their ApplyConfig, in the order given, with the definitions of the
// base commit at start-up and of each commit whose runs it starts (the
// monitors, schedules, notifiers and windows of the branch follow Git).
// Call it before Run.
func (d *Daemon) Subscribe(appliers ...engine.ConfigApplier) {
	d.appliers = append(d.appliers, appliers...)
}

// applyConfig hands defs to every subscriber. A subscriber that cannot
// take it keeps its last good configuration; the error is logged here.
func (d *Daemon) applyConfig(ctx context.Context, defs *definitions.Definitions) {
	for _, a := range d.appliers {
		if err := a.ApplyConfig(ctx, defs); err != nil {
			d.log.Warn().Err(err).Str("commit", engine.ShortCommit(defs.Commit)).Str("component", fmt.Sprintf("%T", a)).Msg("the applied commit's definitions were not all taken")
		}
	}
}

// Trigger asks for a reconcile of the branch. Triggers coalesce: any number
// of calls before the loop gets to them cause one reconcile.
func (d *Daemon) Trigger(source string) {
	select {
	case d.wake <- struct{}{}:
		d.log.Debug().Str("trigger", source).Msg("reconcile requested")
	default:
	}
}

// Push implements TriggerSink: only a push to exactly refs/heads/<branch>
// that did not delete it triggers. The payload's commits are not used.
func (d *Daemon) Push(_ context.Context, ev engine.PushEvent) error {
	if !d.isBranchPush(ev) {
		d.log.Debug().Str("ref", ev.Ref).Bool("deleted", ev.Deleted).Str("delivery", ev.DeliveryID).Msg("push ignored")
		return nil
	}
	d.Trigger("webhook")
	return nil
}

func (d *Daemon) isBranchPush(ev engine.PushEvent) bool {
	return ev.Ref == "refs/heads/"+d.opts.Mirror.Branch && !ev.Deleted && !ev.Tag
}

// PullRequest implements TriggerSink: it queues a plan of the pull request
// if it targets the tracked branch (and is not from a fork, unless allowed).
func (d *Daemon) PullRequest(_ context.Context, ev engine.PullRequestEvent) error {
	l := d.log.With().Int("pr", ev.Number).Str("delivery", ev.DeliveryID).Logger()
	switch {
	case ev.BaseRef != d.opts.Mirror.Branch:
		l.Debug().Str("base", ev.BaseRef).Msg("pull request for another branch ignored")
		return nil
	case ev.Fork && !d.opts.AllowForkPRs:
		l.Info().Str("head_repo", ev.HeadRepo).Msg("pull request from a fork not planned (start with --allow-fork-prs to plan them)")
		return nil
	case ev.Number <= 0 || !isHexSHA(ev.HeadSHA):
		return fmt.Errorf("pull request event without number or head commit")
	}
	d.mu.Lock()
	d.prs[ev.Number] = ev
	d.mu.Unlock()
	select {
	case d.prWake <- struct{}{}:
	default:
	}
	return nil
}

// ResolveCommit turns a revision (abbreviated sha, branch name) into a
// full commit sha using the daemon's mirror. It fails before the mirror is
// open.
func (d *Daemon) ResolveCommit(rev string) (string, error) {
	d.mu.Lock()
	m := d.mirror
	d.mu.Unlock()
	if m == nil {
		return "", fmt.Errorf("resolve %q: %w", rev, engine.ErrNotRunning)
	}
	return m.Resolve(rev)
}

// CommitInfo is the subject, author and time of commit sha (a full id),
// read from the daemon's mirror. It fails before the mirror is open.
func (d *Daemon) CommitInfo(sha string) (engine.CommitInfo, error) {
	d.mu.Lock()
	m := d.mirror
	d.mu.Unlock()
	if m == nil {
		return engine.CommitInfo{}, fmt.Errorf("commit %s: %w", sha, engine.ErrNotRunning)
	}
	return m.CommitInfo(sha)
}

// Status returns a copy of the daemon's state. While the store cannot
// write, LastError says so first (see storeStatus).
func (d *Daemon) Status() engine.DaemonStatus {
	d.mu.Lock()
	st := d.state
	d.mu.Unlock()
	d.storeStatus(&st)
	return st
}

// Ready reports whether the repository was fetched and the daemon is not
// shutting down.
func (d *Daemon) Ready() bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.state.Ready && !d.state.Stopping
}

// Definitions returns the definitions of the base commit, or nil before
// the first load. The value is read-only.
func (d *Daemon) Definitions() *definitions.Definitions {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.defs
}

// Accept resumes reconciling after a force-push paused it: head must be the
// branch head the daemon paused at. The last applied tree is then diffed
// against head as usual.
func (d *Daemon) Accept(_ context.Context, head, actor, reason string) error {
	d.mu.Lock()
	paused, cur := d.state.Paused, d.state.Head
	if paused == "" {
		d.mu.Unlock()
		return fmt.Errorf("reconciling is not paused: %w", engine.ErrConflict)
	}
	if head == "" || !hasPrefixFold(cur, head) {
		d.mu.Unlock()
		return fmt.Errorf("paused at %s, not %s: %w", engine.ShortCommit(cur), head, engine.ErrConflict)
	}
	d.accept = &acceptRequest{head: cur, actor: actor, reason: reason}
	d.mu.Unlock()
	d.log.Info().Str("commit", engine.ShortCommit(cur)).Str("actor", actor).Str("reason", reason).Msg("operator accepted rewritten history")
	d.Trigger("accept")
	return nil
}

// Approve and Abort pass an operator's decision on to the runner, which
// records who and why.
func (d *Daemon) Approve(ctx context.Context, runID int64, actor, reason string) error {
	if err := d.opts.Runner.Approve(ctx, runID, actor, reason); err != nil {
		return err // it names the run
	}
	d.log.Info().Int64("run", runID).Str("actor", actor).Str("reason", reason).Msg("run approved")
	d.handBack(runID, "approve")
	return nil
}

// Abort ends a run on an operator's request. A run executing here stops
// by itself; one stopped for an operator is handed to its job's worker,
// which ends it under its on_failure policy.
func (d *Daemon) Abort(ctx context.Context, runID int64, actor, reason string) error {
	if err := d.opts.Runner.Abort(ctx, runID, actor, reason); err != nil {
		return err // it names the run
	}
	d.log.Info().Int64("run", runID).Str("actor", actor).Str("reason", reason).Msg("run aborted")
	d.handBack(runID, "abort")
	return nil
}

// handBack asks the loop to carry on a run an operator answered: a run
// that stopped for an operator (needs_operator, or waiting for approval
// after a restart) executes nowhere, so the loop hands it back to its
// job's worker (resumeRun). A run executing here already got the answer.
func (d *Daemon) handBack(runID int64, what string) {
	select {
	case d.resume <- runID:
	default:
		d.log.Warn().Int64("run", runID).Msgf("too many operator answers at once; %s again to carry this run on", what)
	}
}

// Run mirrors the repository, recovers unfinished runs, then reconciles on
// every trigger until ctx ends. Call it once. On return, every goroutine it started has
// ended (or the shutdown bound has passed, see Options).
func (d *Daemon) Run(ctx context.Context) error {
	runCtx, cancelRuns := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelRuns()
	err := d.loop(ctx, runCtx)
	close(d.stopped)

	d.mu.Lock()
	d.state.Stopping = true
	d.mu.Unlock()
	d.log.Info().Msg("stopping: no new hosts start; waiting for in-flight steps")
	cancelRuns()
	if !d.queue.wait(d.opts.ShutdownTimeout) {
		d.log.Warn().Stringer("bound", d.opts.ShutdownTimeout).Msg("in-flight steps did not finish in time; their runs resume on the next start")
	}
	if errors.Is(err, context.Canceled) && ctx.Err() != nil {
		return nil
	}
	return err
}

func (d *Daemon) loop(ctx, runCtx context.Context) error {
	if err := d.openMirror(ctx); err != nil {
		return err
	}
	d.mu.Lock()
	d.state.Ready = true
	d.mu.Unlock()
	// The base commit first: its definitions serve the API and the
	// components (monitors, schedules) while recovery carries runs on.
	if err := d.restoreBase(ctx, runCtx); err != nil {
		return err
	}
	recovered, err := d.opts.Runner.Recover(ctx, d.loadCommit)
	if err != nil {
		return fmt.Errorf("recover runs: %w", err)
	}
	for _, r := range recovered {
		d.log.Info().Int64("run", r.ID).Str("job", r.Job).Str("state", string(r.State)).Msg("recovered run")
	}
	d.syncChanged()
	d.resumeRecovered(ctx, runCtx, recovered)
	if d.opts.Drift != nil {
		d.queue.wg.Go(func() { d.driftLoop(ctx) })
	}
	if d.opts.Facts != nil && d.opts.FactStore != nil && d.opts.FactsInterval > 0 {
		d.queue.wg.Go(func() { d.factsLoop(ctx) })
	}
	if d.opts.Health != nil {
		d.queue.wg.Go(func() { d.watchStore(ctx) })
	}
	var tick <-chan time.Time
	if d.opts.Poll > 0 {
		t := time.NewTicker(d.opts.Poll)
		defer t.Stop()
		tick = t.C
	}
	d.Trigger("start")
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-tick:
			d.Trigger("poll")
		case <-d.wake:
			d.reconcileOnce(ctx, runCtx)
		case <-d.prWake:
			d.planPullRequests(ctx)
		case <-d.syncWake:
			d.postSyncStatus(ctx)
		case id := <-d.resume:
			d.resumeRun(ctx, runCtx, id)
		case <-d.storeBack:
			if ids := d.queue.resumeHeld(runCtx); len(ids) > 0 {
				d.log.Info().Ints64("runs", ids).Msg("the store writes again; resuming the runs it stopped")
			}
		case req := <-d.manual:
			run, err := d.startManual(ctx, runCtx, req)
			req.reply <- manualReply{run, err}
		}
	}
}

// openMirror clones or opens the mirror and fetches the tracked branch
// once, so that a repository that cannot be read fails start-up instead of
// leaving a daemon that is never ready. A permanent error is returned at
// once; a transient one is retried every RetryInterval for up to
// StartTimeout, with /readyz saying 503 meanwhile. A restart whose mirror
// holds the last applied commit starts from it instead (startFromMirror).
func (d *Daemon) openMirror(ctx context.Context) error {
	deadline := time.Now().Add(d.opts.StartTimeout)
	m := d.opts.Repo
	for attempt := 1; ; attempt++ {
		var err error
		if m == nil {
			m, err = source.OpenMirror(ctx, d.opts.Mirror)
		}
		if err == nil {
			_, err = m.Fetch(ctx)
		}
		if err == nil {
			d.mu.Lock()
			d.mirror = m
			d.mu.Unlock()
			return nil
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if m != nil && d.startFromMirror(ctx, m, err) {
			return nil
		}
		where := fmt.Sprintf("repository %s, branch %s", source.RedactURL(d.opts.Mirror.URL), d.opts.Mirror.Branch)
		if !source.TransientFetchError(err) {
			return fmt.Errorf("cannot read the %s: %w", where, err)
		}
		left := time.Until(deadline)
		if left <= 0 {
			return fmt.Errorf("cannot reach the %s (%d attempts in %s): %w", where, attempt, d.opts.StartTimeout, err)
		}
		wait := min(d.opts.RetryInterval, left)
		d.setError(err)
		d.log.Error().Err(err).Stringer("retry_in", wait).Int("attempt", attempt).Msg("cannot reach the repository; retrying")
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(wait):
		}
	}
}

// startFromMirror lets a restart go on when the repository cannot be
// fetched but the local mirror holds the last commit this daemon applied:
// monitors, schedules and the API keep working from it (as Argo CD keeps
// its last synced state while Git is down), the error shows in /healthz and
// the log, and every poll or webhook tries the fetch again. A first start,
// with nothing applied yet, still fails on an unreadable repository.
func (d *Daemon) startFromMirror(ctx context.Context, m *source.Mirror, fetchErr error) bool {
	applied, err := d.opts.Store.LastApplied(ctx, d.opts.Mirror.Branch)
	if err != nil || applied == "" || !m.HasCommit(plumbing.NewHash(applied)) {
		return false
	}
	d.mu.Lock()
	d.mirror = m
	d.mu.Unlock()
	d.setError(fetchErr)
	d.log.Warn().Err(fetchErr).Str("last_applied", engine.ShortCommit(applied)).
		Msg("cannot fetch the repository; starting from the last applied commit in the local mirror, the fetch is retried on every poll and webhook")
	return true
}

func (d *Daemon) setError(err error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if err == nil {
		d.state.LastError = ""
		return
	}
	d.state.LastError = err.Error()
}

func (d *Daemon) reconcileOnce(ctx, runCtx context.Context) {
	start := time.Now()
	err := d.reconcile(ctx, runCtx)
	result := "ok"
	if err != nil {
		result = "error"
		if ctx.Err() == nil {
			d.log.Error().Err(err).Msg("reconcile")
		}
	}
	d.setError(err)
	d.metrics.reconciled(result, time.Since(start))
}

func isHexSHA(s string) bool {
	if len(s) != 40 {
		return false
	}
	for _, c := range s {
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

func hasPrefixFold(full, prefix string) bool {
	if len(prefix) < 7 || len(prefix) > len(full) {
		return false
	}
	for i := range len(prefix) {
		a, b := full[i], prefix[i]
		if 'A' <= b && b <= 'F' {
			b += 'a' - 'A'
		}
		if a != b {
			return false
		}
	}
	return true
}
