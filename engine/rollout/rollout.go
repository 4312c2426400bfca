package rollout

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rs/zerolog"

	"github.com/ripple-ops/ripple/definitions"
	"github.com/ripple-ops/ripple/engine"
)

// Store is what a rollout keeps durably: its runs, their journal and
// audit events, and the commit statuses it reports.
type Store interface {
	engine.RunStore
	engine.JournalStore
	engine.EventStore
	engine.StatusWriter
}

// Options configures a Runner. Store and Executor are required.
type Options struct {
	Store    Store
	Executor engine.Executor
	// Holds, when set, holds the monitor alerts of each wave's hosts while
	// the wave runs and its gate watches them (engine.AlertHolder).
	Holds engine.AlertHolder
	// Checker runs health gate checks; required when a job has a gate.
	Checker engine.Checker
	// Secrets resolves env() and file() when steps and checks are rendered.
	Secrets definitions.SecretSource
	// Redact holds every secret the process has loaded; the rollout
	// removes them from everything it stores and reports (see redact.go).
	// Nil redacts nothing beyond what executors redact.
	Redact   *engine.SecretRegistry
	Progress engine.Progress // optional
	Logger   zerolog.Logger
	Clock    engine.Clock // default RealClock
	// GatePoll is how often a health gate checks its monitors; default 2s,
	// and never more than half of min_healthy_time (floor 50ms).
	GatePoll time.Duration
	// RunURL returns the target_url of a run's commit statuses; optional.
	RunURL func(runID int64) string
	// ReturnOnWait makes Execute return as soon as a run waits for an
	// operator (approval), instead of blocking until Approve or Abort. The
	// one-shot `ripple apply` sets it; a daemon leaves it off.
	ReturnOnWait bool
	// Outbox, when set, is woken after each commit status the rollout
	// records, so that it goes out without waiting for the outbox's poll.
	Outbox engine.StatusNotifier
	// Sync, when set, records what each run did on each host (deployed,
	// failed, rolled back, aborted) for the sync state of its job there.
	Sync engine.SyncStore
	// Metrics, when set, counts runs and host steps (see NewMetrics).
	Metrics *Metrics
	// Fence, when set, is asked before each host step starts: a non-nil
	// error (a cluster node that lost its leader lease) starts no step and
	// ends the execution with that error, leaving the run to the next
	// leader's recovery. Steps already started run to their end.
	Fence func() error
}

// Runner executes runs: waves in order, max_parallel hosts at once, the
// failure budget and health gate after each wave, pause and approval
// between waves, and rollback or halt on failure. At most one run per job
// executes at a time; a later run of the same job queues behind it (FIFO).
// A run stopped for an operator (needs_operator, or waiting for approval
// when Execute returned) still holds its job: a later run of the job does
// not start until it has ended (Execute returns engine.ErrJobHeld).
//
// A Runner is safe for concurrent use and starts no goroutine of its own:
// Execute runs in its caller's goroutine and waits for every goroutine it
// starts.
type Runner struct {
	opts Options
	log  zerolog.Logger

	// applied holds the definitions of the applied commit (ApplyConfig):
	// runs waiting for their maintenance window follow the window defined
	// there, so that moving a window in Git moves the runs waiting for it.
	// windowDefs reads it; tests replace it.
	applied    atomic.Pointer[definitions.Definitions]
	windowDefs func() *definitions.Definitions

	mu       sync.Mutex
	slots    map[string]*jobSlot   // job -> the run holding it and its queue
	controls map[int64]*runControl // runs executing in this process
	// stalls are the runs whose last execution in this process ended
	// because the store could not write, with that error: their next
	// execution records it before anything else.
	stalls map[int64]string
	// inputs are the inputs of the runs this process recorded, as given
	// (sensitive param values, exec commands), until each ends; see
	// inputs.go.
	inputs map[int64]*runInputs
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

// New returns a Runner. It panics if Store or Executor is nil, which
// is a wiring bug.
func New(opts Options) *Runner {
	if opts.Store == nil || opts.Executor == nil {
		panic("rollout: New needs a Store and an Executor")
	}
	if opts.Clock == nil {
		opts.Clock = engine.RealClock{}
	}
	if opts.Progress == nil {
		opts.Progress = engine.Discard
	}
	if opts.GatePoll <= 0 {
		opts.GatePoll = 2 * time.Second
	}
	r := &Runner{
		opts:     opts,
		log:      opts.Logger.With().Str("component", "rollout").Logger(),
		slots:    map[string]*jobSlot{},
		controls: map[int64]*runControl{},
		stalls:   map[int64]string{},
		inputs:   map[int64]*runInputs{},
	}
	r.windowDefs = r.applied.Load
	return r
}

var _ engine.ConfigApplier = (*Runner)(nil)

// ApplyConfig implements engine.ConfigApplier: runs waiting for their
// maintenance window follow the window that defs (the applied commit)
// defines for their job, instead of the one at their own commit; a run
// waiting for a window looks again at least every WindowRecheck.
func (r *Runner) ApplyConfig(_ context.Context, defs *definitions.Definitions) error {
	r.applied.Store(defs)
	return nil
}

// Submit records a new queued run and its pending commit status (an exec
// run, which belongs to no job, has none). It does not execute it; call
// Execute. The run's inputs as given (req.Sensitive, an exec command) stay
// in this Runner's memory until the run ends; the store gets them masked
// and redacted (see inputs.go), and every sensitive value joins the
// secrets redacted everywhere.
func (r *Runner) Submit(ctx context.Context, req engine.RunRequest) (*engine.Run, error) {
	what := req.Job
	if req.Exec != nil {
		what = "exec"
		if req.Job != "" || req.Exec.Command == "" || len(req.Waves) != 1 {
			return nil, errors.New("submit exec run: it needs a command and one wave, and has no job")
		}
	}
	if len(req.Waves) == 0 {
		return nil, fmt.Errorf("submit run of %s: no hosts planned", what)
	}
	for i, w := range req.Waves {
		if len(w) == 0 {
			return nil, fmt.Errorf("submit run of %s: wave %d is empty", what, i+1)
		}
	}
	for _, v := range req.Sensitive {
		r.opts.Redact.Add(sensitiveTexts(v)...)
	}
	now := r.opts.Clock.Now()
	run := &engine.Run{
		Job: req.Job, Commit: req.Commit, Branch: req.Branch,
		Trigger: req.Trigger, Actor: req.Actor, Reason: req.Reason,
		State: engine.RunQueued, Waves: req.Waves,
		Summary: "queued", Created: now, Updated: now,
		Params: maps.Clone(req.Params),
	}
	if req.Exec != nil {
		spec := *req.Exec
		run.Exec = &spec
	}
	if err := r.createRun(ctx, run); err != nil {
		return nil, fmt.Errorf("create run of %s: %w", what, err)
	}
	r.remember(run.ID, req)
	if _, err := r.addEvent(ctx, engine.Event{RunID: run.ID, At: now, Actor: engine.ActorOr(req.Actor), Action: engine.EventSubmit, Reason: submitText(run)}); err != nil {
		return nil, fmt.Errorf("record run %d: %w", run.ID, err)
	}
	if err := r.setStatus(ctx, run, "pending", fmt.Sprintf("queued: %s in %s", engine.Plural(engine.CountHosts(run.Waves), "host"), engine.Plural(len(run.Waves), "wave"))); err != nil {
		return nil, err
	}
	return run, nil
}

// Execute carries run id on from wherever its journal says it is: a fresh
// queued run starts, an interrupted one resumes (see Recover for the rules).
// It waits first until no other run of the same job executes in this
// Runner. It returns when the run reaches a final state, stops in
// needs_operator, or (with ReturnOnWait) waits for approval; otherwise it
// blocks while the run waits for approval. When an earlier run of the job
// is stopped for an operator, it returns at once with the run still queued
// and an error wrapping engine.ErrJobHeld: execute it again once that run
// has ended.
//
// defs must be the definitions of the run's commit. When ctx ends, no new
// step starts; steps already running finish (each within its timeout) and
// are journaled; then Execute returns ctx's error and leaves the run as
// the journal has it, to be resumed later. Only a process that dies
// mid-step leaves a step "started" for Recover to resolve.
//
// A write the store cannot make (an error wrapping
// engine.ErrStoreUnwritable: a full disk) ends the execution the same way:
// no new step starts, steps already running finish, and Execute returns
// that error. Nothing more can be recorded then, so the run's record still
// says it runs; the next Execute of the run (once the store writes again)
// first records why it stopped (an "interrupted" event), then carries it
// on by the recovery rules: a step whose result could not be journaled
// counts as interrupted, runs again only if idempotent, and otherwise
// stops the run for an operator.
func (r *Runner) Execute(ctx context.Context, defs *definitions.Definitions, id int64) (*engine.Run, error) {
	return r.execute(ctx, defs, id, r.opts.ReturnOnWait)
}

func (r *Runner) execute(ctx context.Context, defs *definitions.Definitions, id int64, returnOnWait bool) (*engine.Run, error) {
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
	if run.Exec == nil {
		if err := r.checkHeld(ctx, run); err != nil {
			return run, err
		}
	}
	x := &runExec{
		r:       r,
		defs:    defs,
		run:     run,
		ctl:     ctl,
		wait:    !returnOnWait,
		log:     r.log.With().Int64("run", run.ID).Str("job", run.Job).Str("commit", engine.ShortCommit(run.Commit)).Logger(),
		eps:     map[string]endpointResult{},
		stalled: r.stall(id),
	}
	got, err := x.execute(ctx)
	if errors.Is(err, engine.ErrStoreUnwritable) {
		r.noteStall(id, err)
	}
	if got != nil && got.State.Final() {
		r.forget(id)
	}
	return got, err
}

// noteStall remembers that run id's execution ended because the store
// could not write; the first such error is the one its next execution
// records.
func (r *Runner) noteStall(id int64, err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, ok := r.stalls[id]; !ok {
		r.stalls[id] = stallReason(err)
	}
}

// stallReason puts the store's own error first (it names the database
// file and why it cannot write), then what the run was writing: the line
// people see is cut after 160 characters.
func stallReason(err error) string {
	msg := err.Error()
	i := strings.Index(msg, engine.ErrStoreUnwritable.Error())
	if i <= 0 {
		return msg
	}
	return msg[i:] + " (writing " + strings.TrimSuffix(msg[:i], ": ") + ")"
}

// stall returns why run id's last execution here stopped on a store write,
// or "".
func (r *Runner) stall(id int64) string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.stalls[id]
}

// stallRecorded forgets run id's stall once its record says why.
func (r *Runner) stallRecorded(id int64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	delete(r.stalls, id)
}

// checkHeld returns engine.ErrJobHeld when an earlier run of run's job is
// stopped for an operator: run must not start while the state of that
// run's hosts is in doubt, nor race its rollback. run stays queued, saying
// so in its summary and status. Runs are held first come, first served (by
// id), so two runs that both wait for an operator never hold each other.
func (r *Runner) checkHeld(ctx context.Context, run *engine.Run) error {
	open, err := r.opts.Store.ListRuns(ctx, engine.RunFilter{Job: run.Job, States: []engine.RunState{engine.RunNeedsOperator, engine.RunWaitingApproval}})
	if err != nil {
		return fmt.Errorf("runs of %s: %w", run.Job, err)
	}
	var holder *engine.Run
	for _, o := range open {
		if o.ID < run.ID && (holder == nil || o.ID < holder.ID) {
			holder = o
		}
	}
	if holder == nil {
		return nil
	}
	what := "needs an operator"
	if holder.State == engine.RunWaitingApproval {
		what = "waits for approval"
	}
	desc := fmt.Sprintf("queued behind run %d, which %s", holder.ID, what)
	if run.Summary != desc {
		run.Summary, run.Updated = desc, r.opts.Clock.Now()
		if err := r.updateRun(ctx, run); err != nil {
			return fmt.Errorf("update run %d: %w", run.ID, err)
		}
		if err := r.setStatus(ctx, run, "pending", desc); err != nil {
			return err
		}
		r.log.Info().Int64("run", run.ID).Str("job", run.Job).Int64("behind", holder.ID).Msg(desc)
	}
	return fmt.Errorf("run %d of %s behind run %d: %w", run.ID, run.Job, holder.ID, engine.ErrJobHeld)
}

// Approve records an operator's approval of a run that waits for one
// (waiting_approval, or needs_operator after an interrupted step, which the
// approval counts as done) and wakes the run if it executes in this process.
// Otherwise the caller carries the run on with Execute.
func (r *Runner) Approve(ctx context.Context, id int64, actor, reason string) error {
	run, err := r.opts.Store.GetRun(ctx, id)
	if err != nil {
		return fmt.Errorf("load run %d: %w", id, err)
	}
	if run.State != engine.RunWaitingApproval && run.State != engine.RunNeedsOperator {
		return fmt.Errorf("approve run %d (%s): %w", id, run.State, engine.ErrNotWaiting)
	}
	e, err := r.addEvent(ctx, engine.Event{RunID: id, At: r.opts.Clock.Now(), Actor: engine.ActorOr(actor), Action: engine.EventApprove, Reason: reason})
	if err != nil {
		return fmt.Errorf("record approval of run %d: %w", id, err)
	}
	r.log.Info().Int64("run", id).Str("actor", actor).Str("reason", e.Reason).Msg("approved")
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
// (one that needs an operator, or waits for approval after Execute
// returned) does so the next time Execute carries it on: the caller hands
// it to Execute, as after Approve.
func (r *Runner) Abort(ctx context.Context, id int64, actor, reason string) error {
	run, err := r.opts.Store.GetRun(ctx, id)
	if err != nil {
		return fmt.Errorf("load run %d: %w", id, err)
	}
	if run.State.Final() {
		return fmt.Errorf("abort run %d (%s): %w", id, run.State, engine.ErrRunFinished)
	}
	e, err := r.addEvent(ctx, engine.Event{RunID: id, At: r.opts.Clock.Now(), Actor: engine.ActorOr(actor), Action: engine.EventAbort, Reason: reason})
	if err != nil {
		return fmt.Errorf("record abort of run %d: %w", id, err)
	}
	r.log.Info().Int64("run", id).Str("actor", actor).Str("reason", e.Reason).Msg("abort requested")
	r.mu.Lock()
	ctl := r.controls[id]
	r.mu.Unlock()
	if ctl != nil {
		ctl.abortOnce.Do(func() { close(ctl.abort) })
	}
	return nil
}

func (r *Runner) register(id int64) (*runControl, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, ok := r.controls[id]; ok {
		return nil, fmt.Errorf("run %d is already executing", id)
	}
	c := newRunControl()
	r.controls[id] = c
	return c, nil
}

func (r *Runner) unregister(id int64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	delete(r.controls, id)
}

// acquire waits until run holds its job's slot. The returned func releases
// it to the next waiter.
func (r *Runner) acquire(ctx context.Context, run *engine.Run) (func(), error) {
	key := slotKey(run)
	r.mu.Lock()
	slot := r.slots[key]
	if slot == nil {
		r.slots[key] = &jobSlot{holder: run.ID}
		r.mu.Unlock()
		return func() { r.release(key) }, nil
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
		return func() { r.release(key) }, nil
	case <-ctx.Done():
		r.mu.Lock()
		defer r.mu.Unlock()
		select {
		case <-w.ready: // handed over just now: pass it on
			r.releaseLocked(key)
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

func (r *Runner) release(job string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.releaseLocked(job)
}

func (r *Runner) releaseLocked(job string) {
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

// setStatus records the job's commit status for run. An exec run belongs
// to no job and changes nothing Git says: it has none.
func (r *Runner) setStatus(ctx context.Context, run *engine.Run, state, desc string) error {
	if run.Exec != nil {
		return nil
	}
	s := engine.CommitStatus{
		Commit:      run.Commit,
		Context:     engine.StatusContext(run.Job),
		State:       state,
		Description: statusDescription(run, r.redact(desc)),
		Updated:     r.opts.Clock.Now(),
	}
	if r.opts.RunURL != nil {
		s.TargetURL = r.opts.RunURL(run.ID)
	}
	if err := r.opts.Store.SetStatus(ctx, s); err != nil {
		return fmt.Errorf("set status %s on %s: %w", s.Context, engine.ShortCommit(run.Commit), err)
	}
	if r.opts.Outbox != nil {
		r.opts.Outbox.Notify()
	}
	return nil
}
