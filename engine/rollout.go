package engine

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/rs/zerolog"

	"github.com/ripple-ops/ripple/definitions"
)

// ErrNotWaiting is returned by Approve for a run that waits for no operator.
var ErrNotWaiting = errors.New("run is not waiting for an operator")

// ErrRunFinished is returned by Abort for a run already in a final state.
var ErrRunFinished = errors.New("run already finished")

// RolloutOptions configures a Rollout. Store and Executor are required.
type RolloutOptions struct {
	Store    Store
	Executor Executor
	// Checker runs health gate checks; required when a job has a gate.
	Checker Checker
	// Secrets resolves env() and file() when steps and checks are rendered.
	Secrets  definitions.SecretSource
	Progress Progress // optional
	Logger   zerolog.Logger
	Clock    Clock // default RealClock
	// GatePoll is how often a health gate checks its monitors; default 2s,
	// and never more than half of min_healthy_time (floor 50ms).
	GatePoll time.Duration
	// RunURL returns the target_url of a run's commit statuses; optional.
	RunURL func(runID int64) string
	// ReturnOnWait makes Execute return as soon as a run waits for an
	// operator (approval), instead of blocking until Approve or Abort. The
	// one-shot `ripple apply` sets it; a daemon leaves it off.
	ReturnOnWait bool
	// WindowDefs, when set, returns the definitions whose maintenance
	// window policy runs follow: a job defined there waits for its window
	// there (or for none) instead of the one at its run's commit, so that
	// a window moved in a later commit moves the runs waiting for it.
	// `ripple apply` returns the commit it applies, the daemon its last
	// applied commit; a run waiting for a window asks again at least every
	// WindowRecheck. Nil, or a nil result: every run follows its commit.
	WindowDefs func() *definitions.Definitions
}

// Rollout executes runs: waves in order, max_parallel hosts at once, the
// failure budget and health gate after each wave, pause and approval
// between waves, and rollback or halt on failure. At most one run per job
// executes at a time; a later run of the same job queues behind it (FIFO).
//
// A Rollout is safe for concurrent use and starts no goroutine of its own:
// Execute runs in its caller's goroutine and waits for every goroutine it
// starts.
type Rollout struct {
	opts RolloutOptions
	log  zerolog.Logger

	mu       sync.Mutex
	slots    map[string]*jobSlot   // job -> the run holding it and its queue
	controls map[int64]*runControl // runs executing in this process
}

// jobSlot serializes the runs of one job.
type jobSlot struct {
	holder  int64
	waiters []*slotWaiter
}

type slotWaiter struct {
	run   int64
	ready chan struct{} // closed when the slot passes to run
}

// runControl carries operator decisions to an executing run.
type runControl struct {
	approve   chan struct{} // one slot: an approval is pending
	abort     chan struct{} // closed on abort
	abortOnce sync.Once
}

func newRunControl() *runControl {
	return &runControl{approve: make(chan struct{}, 1), abort: make(chan struct{})}
}

func (c *runControl) aborted() bool {
	select {
	case <-c.abort:
		return true
	default:
		return false
	}
}

// NewRollout returns a Rollout. It panics if Store or Executor is nil, which
// is a wiring bug.
func NewRollout(opts RolloutOptions) *Rollout {
	if opts.Store == nil || opts.Executor == nil {
		panic("engine: NewRollout needs a Store and an Executor")
	}
	if opts.Clock == nil {
		opts.Clock = RealClock{}
	}
	if opts.Progress == nil {
		opts.Progress = discardProgress{}
	}
	if opts.GatePoll <= 0 {
		opts.GatePoll = 2 * time.Second
	}
	return &Rollout{
		opts:     opts,
		log:      opts.Logger.With().Str("component", "rollout").Logger(),
		slots:    map[string]*jobSlot{},
		controls: map[int64]*runControl{},
	}
}

// RunRequest asks for a new run of one job at one commit.
type RunRequest struct {
	Job     string
	Commit  string
	Branch  string
	Trigger string // "commit", "manual", "schedule", "apply"
	Actor   string
	Reason  string
	// Waves are the planned host names per wave; see definitions.Waves.
	Waves [][]string
}

// Submit records a new queued run and its pending commit status. It does
// not execute it; call Execute.
func (r *Rollout) Submit(ctx context.Context, req RunRequest) (*Run, error) {
	if len(req.Waves) == 0 {
		return nil, fmt.Errorf("submit run of %s: no hosts planned", req.Job)
	}
	for i, w := range req.Waves {
		if len(w) == 0 {
			return nil, fmt.Errorf("submit run of %s: wave %d is empty", req.Job, i+1)
		}
	}
	now := r.opts.Clock.Now()
	run := &Run{
		Job: req.Job, Commit: req.Commit, Branch: req.Branch,
		Trigger: req.Trigger, Actor: req.Actor, Reason: req.Reason,
		State: RunQueued, Waves: req.Waves,
		Summary: "queued", Created: now, Updated: now,
	}
	if err := r.opts.Store.CreateRun(ctx, run); err != nil {
		return nil, fmt.Errorf("create run of %s: %w", req.Job, err)
	}
	if err := r.opts.Store.AddEvent(ctx, Event{RunID: run.ID, At: now, Actor: actorOr(req.Actor), Action: EventSubmit, Reason: req.Reason}); err != nil {
		return nil, fmt.Errorf("record run %d: %w", run.ID, err)
	}
	if err := r.setStatus(ctx, run, "pending", fmt.Sprintf("queued: %s in %s", Plural(countHosts(run.Waves), "host"), Plural(len(run.Waves), "wave"))); err != nil {
		return nil, err
	}
	return run, nil
}

// Execute carries run id on from wherever its journal says it is: a fresh
// queued run starts, an interrupted one resumes (see Recover for the rules).
// It waits first until no other run of the same job executes in this
// Rollout. It returns when the run reaches a final state, stops in
// needs_operator, or (with ReturnOnWait) waits for approval; otherwise it
// blocks while the run waits for approval.
//
// defs must be the definitions of the run's commit. When ctx ends, no new
// step starts; steps already running finish (each within its timeout) and
// are journaled; then Execute returns ctx's error and leaves the run as
// the journal has it, to be resumed later. Only a process that dies
// mid-step leaves a step "started" for Recover to resolve.
func (r *Rollout) Execute(ctx context.Context, defs *definitions.Definitions, id int64) (*Run, error) {
	return r.execute(ctx, defs, id, r.opts.ReturnOnWait)
}

func (r *Rollout) execute(ctx context.Context, defs *definitions.Definitions, id int64, returnOnWait bool) (*Run, error) {
	run, err := r.opts.Store.GetRun(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("load run %d: %w", id, err)
	}
	if run.State.Final() {
		return run, nil
	}
	ctl, err := r.register(id)
	if err != nil {
		return nil, err
	}
	defer r.unregister(id)

	release, err := r.acquire(ctx, run)
	if err != nil {
		return nil, err
	}
	defer release()

	// Re-read: the run may have changed while it was queued.
	if run, err = r.opts.Store.GetRun(ctx, id); err != nil {
		return nil, fmt.Errorf("load run %d: %w", id, err)
	}
	if run.State.Final() {
		return run, nil
	}
	x := &runExec{
		r:    r,
		defs: defs,
		run:  run,
		ctl:  ctl,
		wait: !returnOnWait,
		log:  r.log.With().Int64("run", run.ID).Str("job", run.Job).Str("commit", shortCommit(run.Commit)).Logger(),
		eps:  map[string]endpointResult{},
	}
	return x.execute(ctx)
}

// Approve records an operator's approval of a run that waits for one
// (waiting_approval, or needs_operator after an interrupted step, which the
// approval counts as done) and wakes the run if it executes in this process.
// Otherwise the caller carries the run on with Execute.
func (r *Rollout) Approve(ctx context.Context, id int64, actor, reason string) error {
	run, err := r.opts.Store.GetRun(ctx, id)
	if err != nil {
		return fmt.Errorf("load run %d: %w", id, err)
	}
	if run.State != RunWaitingApproval && run.State != RunNeedsOperator {
		return fmt.Errorf("approve run %d (%s): %w", id, run.State, ErrNotWaiting)
	}
	if err := r.opts.Store.AddEvent(ctx, Event{RunID: id, At: r.opts.Clock.Now(), Actor: actorOr(actor), Action: EventApprove, Reason: reason}); err != nil {
		return fmt.Errorf("record approval of run %d: %w", id, err)
	}
	r.log.Info().Int64("run", id).Str("actor", actor).Str("reason", reason).Msg("approved")
	r.mu.Lock()
	ctl := r.controls[id]
	r.mu.Unlock()
	if ctl != nil {
		select {
		case ctl.approve <- struct{}{}:
		default:
		}
	}
	return nil
}

// Abort records an operator's abort. An executing run stops between hosts
// (hosts in the middle of their steps finish them), applies its job's
// on_failure policy and ends aborted. A run not executing in this process
// does so the next time Execute carries it on.
func (r *Rollout) Abort(ctx context.Context, id int64, actor, reason string) error {
	run, err := r.opts.Store.GetRun(ctx, id)
	if err != nil {
		return fmt.Errorf("load run %d: %w", id, err)
	}
	if run.State.Final() {
		return fmt.Errorf("abort run %d (%s): %w", id, run.State, ErrRunFinished)
	}
	if err := r.opts.Store.AddEvent(ctx, Event{RunID: id, At: r.opts.Clock.Now(), Actor: actorOr(actor), Action: EventAbort, Reason: reason}); err != nil {
		return fmt.Errorf("record abort of run %d: %w", id, err)
	}
	r.log.Info().Int64("run", id).Str("actor", actor).Str("reason", reason).Msg("abort requested")
	r.mu.Lock()
	ctl := r.controls[id]
	r.mu.Unlock()
	if ctl != nil {
		ctl.abortOnce.Do(func() { close(ctl.abort) })
	}
	return nil
}

func (r *Rollout) register(id int64) (*runControl, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, ok := r.controls[id]; ok {
		return nil, fmt.Errorf("run %d is already executing", id)
	}
	c := newRunControl()
	r.controls[id] = c
	return c, nil
}

func (r *Rollout) unregister(id int64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	delete(r.controls, id)
}

// acquire waits until run holds its job's slot. The returned func releases
// it to the next waiter.
func (r *Rollout) acquire(ctx context.Context, run *Run) (func(), error) {
	r.mu.Lock()
	slot := r.slots[run.Job]
	if slot == nil {
		r.slots[run.Job] = &jobSlot{holder: run.ID}
		r.mu.Unlock()
		return func() { r.release(run.Job) }, nil
	}
	w := &slotWaiter{run: run.ID, ready: make(chan struct{})}
	slot.waiters = append(slot.waiters, w)
	ahead := slot.holder
	r.mu.Unlock()

	r.log.Info().Int64("run", run.ID).Str("job", run.Job).Int64("behind", ahead).Msg("queued behind the job's active run")
	if err := r.setStatus(ctx, run, "pending", fmt.Sprintf("queued behind run %d", ahead)); err != nil {
		r.log.Warn().Err(err).Int64("run", run.ID).Msg("set queued status")
	}
	select {
	case <-w.ready:
		return func() { r.release(run.Job) }, nil
	case <-ctx.Done():
		r.mu.Lock()
		defer r.mu.Unlock()
		select {
		case <-w.ready: // handed over just now: pass it on
			r.releaseLocked(run.Job)
		default:
			for i, o := range slot.waiters {
				if o == w {
					slot.waiters = append(slot.waiters[:i], slot.waiters[i+1:]...)
					break
				}
			}
		}
		return nil, ctx.Err()
	}
}

func (r *Rollout) release(job string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.releaseLocked(job)
}

func (r *Rollout) releaseLocked(job string) {
	slot := r.slots[job]
	if slot == nil {
		return
	}
	if len(slot.waiters) == 0 {
		delete(r.slots, job)
		return
	}
	next := slot.waiters[0]
	slot.waiters = slot.waiters[1:]
	slot.holder = next.run
	close(next.ready)
}

// setStatus records the job's commit status for run.
func (r *Rollout) setStatus(ctx context.Context, run *Run, state, desc string) error {
	s := CommitStatus{
		Commit:      run.Commit,
		Context:     statusContext(run.Job),
		State:       state,
		Description: statusDescription(run, desc),
		Updated:     r.opts.Clock.Now(),
	}
	if r.opts.RunURL != nil {
		s.TargetURL = r.opts.RunURL(run.ID)
	}
	if err := r.opts.Store.SetStatus(ctx, s); err != nil {
		return fmt.Errorf("set status %s on %s: %w", s.Context, shortCommit(run.Commit), err)
	}
	return nil
}

// statusDescription is desc as run's commit status says it. A manual or
// scheduled run at a commit writes the same ripple/job/<job> context as the
// merge's run did, so its descriptions say so ("manual run by alice: 1/1
// host ok in 1 wave", "scheduled run: 4/4 hosts ok in 2 waves"), and the
// merge's result is not mistaken for it. When the actor's name would push a
// manual run's description over GitHub's 140 characters, it is left out
// ("manual run: ..."); what is still too long is cut as always.
func statusDescription(run *Run, desc string) string {
	switch run.Trigger {
	case TriggerManual:
		prefix := "manual run by " + actorOr(run.Actor) + ": "
		if utf8.RuneCountInString(prefix+desc) > maxStatusDescription {
			prefix = "manual run: "
		}
		desc = prefix + desc
	case TriggerSchedule:
		desc = "scheduled run: " + desc
	}
	return truncateDescription(desc)
}

func actorOr(a string) string {
	if a == "" {
		return ActorRipple
	}
	return a
}

func shortCommit(c string) string {
	if len(c) > 12 {
		return c[:12]
	}
	return c
}

func countHosts(waves [][]string) int {
	n := 0
	for _, w := range waves {
		n += len(w)
	}
	return n
}
