package gitops

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/ripple-ops/ripple/definitions"
	"github.com/ripple-ops/ripple/engine"
)

// queuedRun is a run waiting for its job's worker.
type queuedRun struct {
	run   *engine.Run
	defs  *definitions.Definitions
	batch *commitBatch // nil for manual runs
	// answered marks a run an operator approved or aborted: it goes to the
	// front of its job's queue and restarts a held job's worker.
	answered bool
}

// commitBatch tracks the runs one commit started, so that the commit
// becomes the last applied one once all of them have ended.
type commitBatch struct {
	commit    string
	seq       int64
	committed time.Time
	mu        sync.Mutex
	remaining int
}

// runQueue runs each job's runs one after the other, in the order they were
// queued, with one worker goroutine per job that has work. Runs of
// different jobs go in parallel.
//
// A job is held, its worker stopped and the runs queued behind the head
// waiting, in two cases:
//   - a run of the job stopped for an operator: the runner refuses to
//     start its later runs (engine.ErrJobHeld) until an operator's answer
//     hands that run back (enqueue with answered), and the worker goes on
//     once it has ended;
//   - a run's execution ended because the store cannot write: the run goes
//     back to the head of the queue until resumeHeld (the store writes
//     again) starts the worker anew, which carries it on.
type runQueue struct {
	d      *Daemon
	mu     sync.Mutex
	jobs   map[string][]*queuedRun
	active map[string]bool
	held   map[string]holdReason
	ids    map[int64]bool // runs queued, held or executing
	wg     sync.WaitGroup

	appliedSeq int64 // guarded by mu
}

// holdReason is why a job's worker stopped with runs left in its queue.
type holdReason int

const (
	notHeld         holdReason = iota
	heldForOperator            // an earlier run of the job waits for an operator
	heldForStore               // the head run's execution ended on a store write failure
)

func (q *runQueue) init(d *Daemon) {
	q.d = d
	q.jobs = map[string][]*queuedRun{}
	q.active = map[string]bool{}
	q.held = map[string]holdReason{}
	q.ids = map[int64]bool{}
}

// has reports whether run id is queued or executing.
func (q *runQueue) has(id int64) bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.ids[id]
}

// enqueue adds qr to its job's queue and starts the job's worker if none is
// running and the job is not held; a run an operator answered goes first
// and releases the hold. ctx is the runs' context: cancelled at shutdown.
func (q *runQueue) enqueue(ctx context.Context, qr *queuedRun) {
	q.mu.Lock()
	defer q.mu.Unlock()
	job := queueKey(qr.run)
	if q.ids[qr.run.ID] {
		return
	}
	q.ids[qr.run.ID] = true
	if qr.answered {
		q.jobs[job] = append([]*queuedRun{qr}, q.jobs[job]...)
		if q.held[job] == heldForOperator {
			delete(q.held, job)
		}
	} else {
		q.jobs[job] = append(q.jobs[job], qr)
	}
	if q.active[job] || q.held[job] != notHeld {
		return
	}
	q.active[job] = true
	q.wg.Go(func() { q.work(ctx, job) })
}

// queueKey is the queue a run waits in: its job's; an exec run, which has
// no job, has one of its own and waits for no other run.
func queueKey(run *engine.Run) string {
	if run.Exec != nil {
		return fmt.Sprintf("exec/%d", run.ID)
	}
	return run.Job
}

// resumeHeld restarts the workers of the jobs a store write failure held;
// each carries its stopped run on first. It returns the runs resumed.
func (q *runQueue) resumeHeld(ctx context.Context) []int64 {
	q.mu.Lock()
	defer q.mu.Unlock()
	var ids []int64
	for job, why := range q.held {
		if why != heldForStore {
			continue
		}
		delete(q.held, job)
		if l := q.jobs[job]; len(l) > 0 {
			ids = append(ids, l[0].run.ID)
		}
		q.active[job] = true
		q.wg.Go(func() { q.work(ctx, job) })
	}
	slices.Sort(ids)
	return ids
}

// heldRuns lists the runs whose execution a store write failure stopped,
// waiting for the store to write again.
func (q *runQueue) heldRuns() []int64 {
	q.mu.Lock()
	defer q.mu.Unlock()
	var ids []int64
	for job, why := range q.held {
		if l := q.jobs[job]; why == heldForStore && len(l) > 0 {
			ids = append(ids, l[0].run.ID)
		}
	}
	slices.Sort(ids)
	return ids
}

func (q *runQueue) work(ctx context.Context, job string) {
	for {
		q.mu.Lock()
		l := q.jobs[job]
		if len(l) == 0 || ctx.Err() != nil {
			// Runs left queued at shutdown stay queued in the store; the
			// runner's recovery picks them up on the next start.
			for _, qr := range l {
				delete(q.ids, qr.run.ID)
			}
			delete(q.jobs, job)
			delete(q.active, job)
			q.mu.Unlock()
			return
		}
		qr := l[0]
		q.jobs[job] = l[1:]
		q.mu.Unlock()
		why := q.execute(ctx, qr)
		q.mu.Lock()
		if why != notHeld {
			// Back to the front; the worker stops until an operator's
			// answer hands the holding run back, or the store writes.
			qr.answered = false
			q.jobs[job] = append([]*queuedRun{qr}, q.jobs[job]...)
			q.held[job] = why
			delete(q.active, job)
			q.mu.Unlock()
			if why == heldForStore {
				q.d.storeFailed()
			}
			return
		}
		delete(q.ids, qr.run.ID)
		q.mu.Unlock()
	}
}

// execute hands qr to the runner; a hold reason says the run is not done
// and its job waits: it did not start because an earlier run of its job
// waits for an operator, or its execution ended because the store could
// not write, and only a store that writes again can carry it on.
func (q *runQueue) execute(ctx context.Context, qr *queuedRun) holdReason {
	d := q.d
	l := d.log.With().Int64("run", qr.run.ID).Str("job", qr.run.Job).Str("commit", engine.ShortCommit(qr.run.Commit)).Logger()
	l.Info().Str("trigger", qr.run.Trigger).Msg("run starting")
	run, err := d.opts.Runner.Execute(ctx, d.withFacts(ctx, qr.defs), qr.run.ID)
	if errors.Is(err, engine.ErrJobHeld) {
		l.Info().Err(err).Msg("run stays queued until the earlier run of its job has ended")
		return heldForOperator
	}
	// The runner persisted the outcome; read it back when it returned none.
	state := qr.run.State
	if run != nil {
		state = run.State
	} else if r, gerr := d.opts.Store.GetRun(context.WithoutCancel(ctx), qr.run.ID); gerr == nil {
		state = r.State
	}
	switch {
	case err != nil && ctx.Err() != nil:
		l.Info().Str("state", string(state)).Msg("run interrupted by shutdown; it resumes on the next start")
		return notHeld
	case errors.Is(err, engine.ErrStoreUnwritable):
		l.Error().Err(err).Msg("run stopped: the store cannot write; it resumes once the store writes again")
		return heldForStore
	case err != nil:
		l.Error().Err(err).Str("state", string(state)).Msg("run")
	default:
		l.Info().Str("state", string(state)).Msg("run ended")
	}
	if state.Final() {
		d.syncChanged()
	}
	if qr.batch != nil && state.Final() {
		q.batchDone(ctx, qr.batch)
	}
	return notHeld
}

// batchDone counts one run of b as ended and, after the last, records b's
// commit as applied unless a later commit already was.
func (q *runQueue) batchDone(ctx context.Context, b *commitBatch) {
	b.mu.Lock()
	b.remaining--
	last := b.remaining == 0
	b.mu.Unlock()
	if last {
		q.markApplied(context.WithoutCancel(ctx), b)
	}
}

func (q *runQueue) markApplied(ctx context.Context, b *commitBatch) {
	d := q.d
	q.mu.Lock()
	defer q.mu.Unlock()
	if b.seq < q.appliedSeq {
		return
	}
	if err := d.opts.Store.SetLastApplied(ctx, d.opts.Mirror.Branch, b.commit); err != nil {
		d.log.Error().Err(err).Str("commit", engine.ShortCommit(b.commit)).Msg("record last applied commit")
		return
	}
	q.appliedSeq = b.seq
	d.mu.Lock()
	d.state.LastApplied = b.commit
	d.mu.Unlock()
	d.metrics.applied(b.committed)
	d.log.Info().Str("commit", engine.ShortCommit(b.commit)).Msg("commit applied")
}

// watch waits for runs the runner recovered to end, then marks their
// commit applied. It polls the store: recovered runs are not executed
// through the queue.
func (q *runQueue) watch(ctx context.Context, b *commitBatch, ids []int64) {
	q.wg.Go(func() {
		t := time.NewTicker(time.Second)
		defer t.Stop()
		for {
			pending := ids[:0:0]
			for _, id := range ids {
				r, err := q.d.opts.Store.GetRun(ctx, id)
				if err != nil || !r.State.Final() {
					pending = append(pending, id)
				}
			}
			if len(pending) == 0 {
				q.markApplied(context.WithoutCancel(ctx), b)
				return
			}
			ids = pending
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
		}
	})
}

// wait waits for every worker to end, at most timeout; false means some
// are still running.
func (q *runQueue) wait(timeout time.Duration) bool {
	done := make(chan struct{})
	go func() {
		q.wg.Wait()
		close(done)
	}()
	select {
	case <-done:
		return true
	case <-time.After(timeout):
		return false
	}
}

type manualRequest struct {
	job, actor, reason string
	trigger            string
	hosts              []string
	params             map[string]json.RawMessage // as given (manual runs)
	sync               bool                       // only the job's out-of-sync and drifted hosts (of hosts, if set)
	exec               *engine.ExecRequest        // an exec run (checked), instead of a job's
	reply              chan manualReply           // buffered, one slot
}

type manualReply struct {
	run *engine.Run
	err error
}

// StartRun queues a manual run of req.Job at the base commit, on
// req.Hosts (every target host when empty), with req.Params checked
// against the job's params (a refused or missing value is an error wrapping
// engine.ErrInvalidRequest that names the param; nothing is recorded). The
// run is handed to the daemon's loop, which owns the runs' context; the
// call returns once the run is recorded.
func (d *Daemon) StartRun(ctx context.Context, req engine.JobRunRequest) (*engine.Run, error) {
	return d.submit(ctx, manualRequest{job: req.Job, hosts: req.Hosts, params: req.Params, actor: req.Actor, reason: req.Reason, trigger: engine.TriggerManual})
}

// StartScheduled implements ScheduledRunStarter: a run of job on all its
// hosts at the base commit, unless the job has a run that is not final yet
// (then started is false and nothing is queued).
func (d *Daemon) StartScheduled(ctx context.Context, job string, firing time.Time) (bool, error) {
	active, err := d.opts.Store.ListRuns(ctx, engine.RunFilter{Job: job, States: []engine.RunState{engine.RunQueued, engine.RunRunning, engine.RunWaitingApproval, engine.RunWaitingWindow, engine.RunNeedsOperator}, Limit: 1})
	if err != nil {
		return false, fmt.Errorf("runs of %s: %w", job, err)
	}
	if len(active) > 0 {
		return false, nil
	}
	// Started by ripple itself: the trigger says "schedule", the reason
	// which firing, and no person is named.
	reason := "scheduled for " + firing.UTC().Format(time.RFC3339)
	if _, err := d.submit(ctx, manualRequest{job: job, actor: engine.ActorRipple, reason: reason, trigger: engine.TriggerSchedule}); err != nil {
		return false, err
	}
	return true, nil
}

// submit hands a run request to the loop and waits for the recorded run.
func (d *Daemon) submit(ctx context.Context, req manualRequest) (*engine.Run, error) {
	req.reply = make(chan manualReply, 1)
	select {
	case d.manual <- req:
	case <-d.stopped:
		return nil, engine.ErrNotRunning
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	select {
	case rep := <-req.reply:
		return rep.run, rep.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

func (d *Daemon) startManual(ctx, runCtx context.Context, req manualRequest) (*engine.Run, error) {
	d.mu.Lock()
	defs, base := d.defs, d.state.Base
	d.mu.Unlock()
	if defs == nil {
		return nil, fmt.Errorf("no commit applied yet: %w", engine.ErrConflict)
	}
	if req.exec != nil {
		return d.startExec(ctx, runCtx, defs, base, req)
	}
	hosts := req.hosts
	if req.sync {
		var err error
		if hosts, err = d.syncHosts(ctx, req.job, req.hosts); err != nil {
			return nil, err
		}
	}
	j, err := jobPlan(defs, req.job, hosts)
	if err != nil {
		return nil, err
	}
	if j.hosts() == 0 {
		return nil, fmt.Errorf("job %q targets no host: %w", req.job, engine.ErrInvalidRequest)
	}
	job := defs.Jobs[req.job]
	var vals definitions.ParamValues
	if req.trigger == engine.TriggerSchedule {
		vals, err = job.ResolveParamValues(job.ScheduleParams)
	} else {
		vals, err = job.ResolveParams(req.params)
	}
	if err != nil {
		return nil, fmt.Errorf("job %s: %s: %w", req.job, strings.ReplaceAll(err.Error(), "\n", "; "), engine.ErrInvalidRequest)
	}
	run, err := d.opts.Runner.Submit(ctx, engine.RunRequest{
		Job: req.job, Commit: base, Branch: d.opts.Mirror.Branch, Trigger: req.trigger,
		Actor: req.actor, Reason: req.reason, Waves: j.Waves,
		Params: job.RecordParams(vals), Sensitive: job.SensitiveValues(vals),
	})
	if err != nil {
		return nil, fmt.Errorf("submit run of %s: %w", req.job, err)
	}
	if d.opts.Outbox != nil {
		d.opts.Outbox.Notify()
	}
	d.log.Info().Int64("run", run.ID).Str("job", req.job).Str("trigger", req.trigger).Str("actor", req.actor).Str("reason", run.Reason).
		Str("params", engine.ParamsQuoted(run.Params)).Int("hosts", j.hosts()).Msg("run queued")
	d.queue.enqueue(runCtx, &queuedRun{run: run, defs: defs})
	return run, nil
}

// resumeRun hands a run an operator approved or aborted to its job's
// worker, ahead of the runs the job holds back, unless it is already queued
// or executing here (then the answer reached it directly). The worker's
// Execute carries it on, or ends it under its on_failure policy.
func (d *Daemon) resumeRun(ctx, runCtx context.Context, id int64) {
	if d.queue.has(id) {
		return
	}
	run, err := d.opts.Store.GetRun(ctx, id)
	if err != nil {
		d.log.Error().Err(err).Int64("run", id).Msg("carry on a run an operator answered")
		return
	}
	if run.State != engine.RunNeedsOperator && run.State != engine.RunWaitingApproval {
		return
	}
	defs, err := d.loadCommit(ctx, run.Commit)
	if err != nil {
		d.log.Error().Err(err).Int64("run", id).Msg("carry on a run an operator answered")
		return
	}
	d.queue.enqueue(runCtx, &queuedRun{run: run, defs: defs, batch: d.batchOf(run), answered: true})
}

// resumeRecovered hands the recovered runs that still have work to do to
// their job's worker, in the order Recover returned them (per job, oldest
// first; Recover never waits): one that stopped at its maintenance window
// waits there in-process until the window opens and carries on; one left
// queued behind a run that waits for an operator waits in the queue until
// that run has ended; one Recover left queued or running because the store
// could not write executes now or, while it still cannot, waits for it in
// the queue. Runs started by this process wait inside Execute, or in the
// queue, already.
func (d *Daemon) resumeRecovered(ctx, runCtx context.Context, recovered []*engine.Run) {
	for _, r := range recovered {
		if r.State != engine.RunWaitingWindow && r.State != engine.RunQueued && r.State != engine.RunRunning {
			continue
		}
		defs, err := d.loadCommit(ctx, r.Commit)
		if err != nil {
			d.log.Error().Err(err).Int64("run", r.ID).Msg("resume recovered run")
			continue
		}
		d.log.Info().Int64("run", r.ID).Str("job", r.Job).Str("state", string(r.State)).Msg("recovered run waits in its job's queue")
		d.queue.enqueue(runCtx, &queuedRun{run: r, defs: defs, batch: d.batchOf(r)})
	}
}

// batchOf is the commit batch a commit-triggered run belongs to, if this
// process started it.
func (d *Daemon) batchOf(run *engine.Run) *commitBatch {
	if run.Trigger != engine.TriggerCommit {
		return nil
	}
	return d.batches[run.Commit]
}
