package rollout

import (
	"context"
	"fmt"
	"strings"
	"sync"

	"github.com/rs/zerolog"

	"github.com/ripple-ops/ripple/definitions"
	"github.com/ripple-ops/ripple/engine"
)

// runExec is one execution (or resumption) of one run. Its fields are owned
// by the goroutine running execute; host goroutines touch only the journal,
// the endpoint cache and the counters, each under its own lock.
type runExec struct {
	r    *Runner
	defs *definitions.Definitions
	job  *definitions.Job
	run  *engine.Run
	ctl  *runControl
	wait bool // block while waiting for approval (else return)
	log  zerolog.Logger
	jr   *journal
	ev   eventLog
	// stalled is why the previous execution of the run in this process
	// stopped: a write the store could not make. Empty otherwise.
	stalled string
	// params are the run's param values (see lostInputs); command is an
	// exec run's command as the operator gave it.
	params  definitions.ParamValues
	command string

	held []string // hosts whose alerts this execution holds
	// gateFailed are the hosts a gate found unhealthy, with why (from the
	// run's events on a resume).
	gateFailed map[string]string

	fpMu     sync.Mutex
	fps      *definitions.Fingerprints
	followed string // commit whose moved window the log has named

	epMu sync.Mutex
	eps  map[string]endpointResult

	cntMu  sync.Mutex
	runOK  int // hosts that finished all steps, whole run
	waveOK int // this wave
	waveKO int
}

type endpointResult struct {
	ep  engine.Endpoint
	err error
}

// execute drives the run from its journal to the next stop.
func (x *runExec) execute(ctx context.Context) (*engine.Run, error) {
	var err error
	if x.jr, err = loadJournal(ctx, x.r.opts.Store, x.run.ID); err != nil {
		return nil, err
	}
	if err := x.reloadEvents(ctx); err != nil {
		return nil, err
	}
	if err := x.recordStall(ctx); err != nil {
		return nil, err
	}
	x.gateFailed = x.gateFailures()
	x.job = x.defs.Jobs[x.run.Job]
	if x.run.Exec != nil {
		x.job = execJob(x.run.Exec)
	}
	if x.job == nil {
		msg := fmt.Sprintf("job %s is not defined at commit %s", x.run.Job, engine.ShortCommit(x.run.Commit))
		return x.finish(ctx, engine.RunError, msg, msg)
	}
	// Without its inputs as given, a run that needs them touches nothing
	// more.
	if why := x.lostInputs(); why != "" {
		return x.abandon(ctx, why)
	}

	// Steps cut short by a crash first: nothing else may touch a host
	// whose state is unknown.
	if stop, err := x.resolveInterrupted(ctx); err != nil || stop {
		return x.run, err
	}
	// An abort recorded earlier wins over everything else.
	if e, ok := x.ev.find(engine.EventAbort); ok {
		return x.fail(ctx, engine.RunAborted, abortReason(e))
	}
	// A rollback in progress is carried to its end.
	if e, ok := x.ev.find(engine.EventRollback); ok {
		return x.fail(ctx, engine.RunFailed, e.Reason)
	}

	resumed := !x.run.Started.IsZero()
	if x.run.Started.IsZero() {
		x.run.Started = x.r.opts.Clock.Now()
	}
	if x.run.State != engine.RunWaitingApproval {
		x.run.State = engine.RunRunning
	}
	x.run.Error = ""
	if err := x.save(ctx); err != nil {
		return nil, err
	}
	reason := "start"
	if resumed {
		reason = fmt.Sprintf("resume at wave %d/%d", x.run.CurrentWave+1, len(x.run.Waves))
	}
	if err := x.event(ctx, engine.EventStart, engine.ActorRipple, reason); err != nil {
		return nil, err
	}
	defer x.releaseAlerts(context.WithoutCancel(ctx))
	x.log.Info().Bool("resumed", resumed).Int("wave", x.run.CurrentWave+1).Int("waves", len(x.run.Waves)).Msg("run executing")
	x.runOK = x.countRunOK()
	x.report(engine.ProgressEvent{Kind: engine.ProgressRunStart, Message: reason})

	if err := x.sampleBaseline(ctx); err != nil {
		return nil, err
	}
	for w := x.run.CurrentWave; w < len(x.run.Waves); w++ {
		if w > 0 {
			stop, err := x.betweenWaves(ctx, w)
			if err != nil || stop {
				return x.run, err
			}
			if x.ctl.aborted() {
				return x.abortNow(ctx)
			}
		}
		if stop, err := x.awaitWaveStart(ctx, w); err != nil || stop {
			return x.run, err
		}
		if x.ctl.aborted() {
			return x.abortNow(ctx)
		}
		failReason, err := x.runWave(ctx, w)
		if err != nil {
			return nil, err
		}
		if x.ctl.aborted() {
			return x.abortNow(ctx)
		}
		if failReason != "" && x.run.Exec != nil {
			return x.finishExec(ctx)
		}
		if failReason != "" {
			return x.fail(ctx, engine.RunFailed, fmt.Sprintf("wave %d/%d failed: %s", w+1, len(x.run.Waves), failReason))
		}
		x.releaseAlerts(ctx)
		x.run.CurrentWave = w + 1
		if err := x.save(ctx); err != nil {
			return nil, err
		}
		x.report(engine.ProgressEvent{Kind: engine.ProgressWaveDone, Wave: w + 1, Message: fmt.Sprintf("wave %d/%d done", w+1, len(x.run.Waves))})
	}
	if x.run.Exec != nil {
		return x.finishExec(ctx)
	}
	total := engine.CountHosts(x.run.Waves)
	msg := fmt.Sprintf("%s ok in %s", engine.PluralOf(x.runOK, total, "host"), engine.Plural(len(x.run.Waves), "wave"))
	return x.finish(ctx, engine.RunSucceeded, msg, msg)
}

// betweenWaves handles what comes between wave w-1 and wave w before the
// pause (see awaitWaveStart): approval after wave approve_after. stop means
// the run stopped (waiting with ReturnOnWait, or ctx ended).
func (x *runExec) betweenWaves(ctx context.Context, w int) (stop bool, err error) {
	if n := x.job.Rollout.ApproveAfter; n > 0 && n == w {
		return x.awaitApproval(ctx, w)
	}
	return false, nil
}

// awaitApproval stops the run after wave w until an operator approves or
// aborts. The wait survives restarts: it is an event, and so is the answer.
func (x *runExec) awaitApproval(ctx context.Context, w int) (stop bool, err error) {
	for {
		if _, ok := x.ev.approvedSince(engine.EventWaitApproval); ok {
			x.run.State = engine.RunRunning
			return false, x.save(ctx)
		}
		if x.ctl.aborted() {
			return false, nil // the caller applies the abort
		}
		if x.run.State != engine.RunWaitingApproval || x.ev.last(engine.EventWaitApproval) < 0 {
			// The event first: an approval is only valid after it.
			if err := x.event(ctx, engine.EventWaitApproval, engine.ActorRipple, fmt.Sprintf("after wave %d", w)); err != nil {
				return true, err
			}
			x.run.State = engine.RunWaitingApproval
			x.run.Summary = fmt.Sprintf("waiting for approval after wave %d/%d", w, len(x.run.Waves))
			if err := x.r.setStatus(ctx, x.run, "pending", x.run.Summary); err != nil {
				return true, err
			}
			if err := x.save(ctx); err != nil {
				return true, err
			}
			x.log.Info().Int("wave", w).Msg("waiting for approval")
			x.report(engine.ProgressEvent{Kind: engine.ProgressWaiting, Wave: w, Message: x.run.Summary + fmt.Sprintf(" (run %d)", x.run.ID)})
		}
		if !x.wait {
			return true, nil
		}
		select {
		case <-ctx.Done():
			return true, ctx.Err()
		case <-x.ctl.abort:
		case <-x.ctl.approve:
		}
		if err := x.reloadEvents(ctx); err != nil {
			return true, err
		}
	}
}

// abortNow ends the run for an abort recorded while it executed.
func (x *runExec) abortNow(ctx context.Context) (*engine.Run, error) {
	if err := x.reloadEvents(ctx); err != nil {
		return nil, err
	}
	e, _ := x.ev.find(engine.EventAbort)
	return x.fail(ctx, engine.RunAborted, abortReason(e))
}

func abortReason(e engine.Event) string {
	s := "aborted by " + engine.ActorOr(e.Actor)
	if e.Reason != "" {
		s += ": " + e.Reason
	}
	return s
}

// fail applies the job's on_failure policy and ends the run in state
// (failed or aborted). reason is a headline with optional detail lines.
func (x *runExec) fail(ctx context.Context, state engine.RunState, reason string) (*engine.Run, error) {
	x.log.Warn().Str("reason", flatten(reason)).Str("on_failure", onFailure(x.job)).Msg("run failing")
	if onFailure(x.job) == "halt" {
		return x.finish(ctx, state, headline(reason)+"; halted", flatten(reason)+"; halted")
	}
	if _, ok := x.ev.find(engine.EventRollback); !ok {
		if err := x.event(ctx, engine.EventRollback, engine.ActorRipple, reason); err != nil {
			return nil, err
		}
	}
	summary, err := x.rollback(ctx)
	if err != nil {
		return nil, err
	}
	return x.finish(ctx, state, headline(reason)+"; "+headline(summary), flatten(reason)+"; "+flatten(summary))
}

// finish records a final state and the final commit status: short goes
// to the status and the run's summary, full to the run's error.
func (x *runExec) finish(ctx context.Context, state engine.RunState, short, full string) (*engine.Run, error) {
	x.run.State = state
	x.run.Summary = short
	if state != engine.RunSucceeded {
		x.run.Error = full
	}
	x.run.Finished = x.r.opts.Clock.Now()
	// The final status and event before the final state: once the run is
	// final nothing revisits it, so nothing may be left to write.
	status := "failure"
	switch state {
	case engine.RunSucceeded:
		status = "success"
	case engine.RunError:
		status = "error"
	}
	if x.job != nil {
		if err := x.recordRun(ctx, state); err != nil {
			return nil, err
		}
	}
	if err := x.r.setStatus(ctx, x.run, status, short); err != nil {
		return nil, err
	}
	if err := x.event(ctx, engine.EventFinish, engine.ActorRipple, string(state)+": "+full); err != nil {
		return nil, err
	}
	if err := x.save(ctx); err != nil {
		return nil, err
	}
	x.r.opts.Metrics.runEnded(state)
	x.log.Info().Str("state", string(state)).Str("summary", full).Msg("run finished")
	x.report(engine.ProgressEvent{Kind: engine.ProgressRunDone, Message: full})
	return x.run, nil
}

// save writes the run row.
func (x *runExec) save(ctx context.Context) error {
	x.run.Updated = x.r.opts.Clock.Now()
	if err := x.r.updateRun(ctx, x.run); err != nil {
		return fmt.Errorf("update run %d: %w", x.run.ID, err)
	}
	return nil
}

func (x *runExec) event(ctx context.Context, action, actor, reason string) error {
	e, err := x.r.addEvent(ctx, engine.Event{RunID: x.run.ID, At: x.r.opts.Clock.Now(), Actor: actor, Action: action, Reason: reason})
	if err != nil {
		return fmt.Errorf("record %s event of run %d: %w", action, x.run.ID, err)
	}
	x.ev = append(x.ev, e)
	return nil
}

func (x *runExec) reloadEvents(ctx context.Context) error {
	ev, err := x.r.opts.Store.Events(ctx, x.run.ID)
	if err != nil {
		return fmt.Errorf("read events of run %d: %w", x.run.ID, err)
	}
	x.ev = ev
	return nil
}

// report sends a progress event, filling in the run's identity.
func (x *runExec) report(ev engine.ProgressEvent) {
	ev.RunID, ev.Job, ev.Waves = x.run.ID, x.run.Job, len(x.run.Waves)
	ev.Message, ev.Error = x.r.redact(ev.Message), x.r.redact(ev.Error)
	if ev.State == "" {
		ev.State = x.run.State
	}
	ev.RunHosts = engine.CountHosts(x.run.Waves)
	x.cntMu.Lock()
	ev.RunOK = x.runOK
	x.cntMu.Unlock()
	x.r.opts.Progress.Report(ev)
}

// countRunOK counts hosts whose forward steps all finished successfully.
func (x *runExec) countRunOK() int {
	n := 0
	for w, hosts := range x.run.Waves {
		for _, h := range hosts {
			if x.hostDone(w, h) {
				n++
			}
		}
	}
	return n
}

func (x *runExec) hostDone(w int, host string) bool {
	for _, st := range x.job.Steps {
		hs, ok := x.jr.get(stepKey{wave: w, host: host, step: st.Name})
		if !ok || hs.Phase != engine.PhaseFinished || !hs.Result.Status.Succeeded() {
			return false
		}
	}
	return true
}

// endpoint resolves and caches how to reach host.
func (x *runExec) endpoint(h *definitions.Host) (engine.Endpoint, error) {
	x.epMu.Lock()
	defer x.epMu.Unlock()
	if r, ok := x.eps[h.Name]; ok {
		return r.ep, r.err
	}
	ep, err := engine.EndpointFor(x.defs, h, x.r.opts.Secrets)
	x.eps[h.Name] = endpointResult{ep, err}
	return ep, err
}

// stepDef finds the definition of a journal row's step, and whether it may
// run again after an interruption. Restores of file backups always may.
func (x *runExec) stepIdempotent(hs engine.HostStep) bool {
	steps := x.job.Steps
	if hs.Rollback {
		if x.job.Rollback == nil {
			return true // a restore of a backup
		}
		steps = x.job.Rollback
	}
	for _, st := range steps {
		if st.Name == hs.Step {
			return st.Idempotent
		}
	}
	return false
}

// recordStall records, first thing when the run executes again, that its
// previous execution stopped because the store could not write: until
// now the store could not take even that.
func (x *runExec) recordStall(ctx context.Context) error {
	if x.stalled == "" {
		return nil
	}
	if err := x.event(ctx, engine.EventInterrupted, engine.ActorRipple, x.stalled); err != nil {
		return err
	}
	x.r.stallRecorded(x.run.ID)
	x.log.Warn().Str("stopped_by", x.stalled).Msg("run resumes after the store could not write")
	return nil
}

// interruptedBy names what cut the run's started steps short, for their
// recorded results: a store write failure when the run recorded one since
// it last started executing, else a restart.
func (x *runExec) interruptedBy() string {
	if x.ev.last(engine.EventInterrupted) > x.ev.last(engine.EventStart) {
		return "a store write failure"
	}
	return "a restart"
}

// resolveInterrupted applies the recovery rule to host-steps that were
// started but never finished (the process died mid-step, or their result
// could not be journaled because the store could not write): idempotent ones
// simply run again; others stop the run in needs_operator, unless an
// operator has approved since, which counts them as done.
func (x *runExec) resolveInterrupted(ctx context.Context) (stop bool, err error) {
	var blocked []engine.HostStep
	approval, approved := x.ev.approvedSince(engine.EventNeedsOperator)
	abort, aborted := x.ev.find(engine.EventAbort)
	for _, hs := range x.jr.interrupted() {
		res := engine.StepResult{ExitCode: -1, Started: x.r.opts.Clock.Now()}
		switch {
		case aborted && !hs.Rollback:
			// No forward step runs again once the run is aborted.
			res.Status = engine.StepFailed
			res.Error = fmt.Sprintf("interrupted by %s; not run again: the run was aborted by %s", x.interruptedBy(), engine.ActorOr(abort.Actor))
		case x.stepIdempotent(hs):
			x.log.Info().Str("host", hs.Host).Str("step", hs.Step).Msg("interrupted idempotent step runs again")
			continue
		case approved:
			res.Status = engine.StepOK
			res.Error = fmt.Sprintf("interrupted by %s; counted as done by %s", x.interruptedBy(), engine.ActorOr(approval.Actor))
		default:
			blocked = append(blocked, hs)
			continue
		}
		if err := x.jr.finish(ctx, keyOf(hs), res); err != nil {
			return true, err
		}
	}
	if len(blocked) == 0 {
		return false, nil
	}
	first := blocked[0]
	kind := "step"
	if first.Rollback {
		kind = "rollback step"
	}
	msg := fmt.Sprintf("%s %s on %s was interrupted and is not idempotent", kind, first.Step, first.Host)
	if len(blocked) > 1 {
		msg = fmt.Sprintf("%d interrupted steps are not idempotent, first %s on %s", len(blocked), first.Step, first.Host)
	}
	var names []string
	for _, hs := range blocked {
		names = append(names, hs.Step+"@"+hs.Host)
	}
	x.run.State = engine.RunNeedsOperator
	x.run.Summary = "needs operator: " + msg
	x.run.Error = fmt.Sprintf("%s; check the host(s) (%s), then approve to count the step as done, or abort", msg, strings.Join(names, ", "))
	if err := x.save(ctx); err != nil {
		return true, err
	}
	if err := x.event(ctx, engine.EventNeedsOperator, engine.ActorRipple, x.run.Error); err != nil {
		return true, err
	}
	if err := x.r.setStatus(ctx, x.run, "error", x.run.Summary); err != nil {
		return true, err
	}
	x.log.Error().Str("host", first.Host).Str("step", first.Step).Int("interrupted", len(blocked)).Msg("run needs an operator")
	x.report(engine.ProgressEvent{Kind: engine.ProgressRunDone, State: engine.RunNeedsOperator, Message: x.run.Error})
	return true, nil
}

// holdAlerts holds the monitor alerts of a wave's hosts while it runs and
// its gate watches them: the restarts a rollout causes page nobody, and
// alerts still firing when the wave ends are sent then.
func (x *runExec) holdAlerts(hosts []string) {
	// An ad-hoc command is not a rollout: monitoring goes on as usual.
	if x.r.opts.Holds == nil || len(hosts) == 0 || x.run.Exec != nil {
		return
	}
	x.held = hosts
	x.r.opts.Holds.Hold(hosts)
}

// releaseAlerts ends the hold of holdAlerts, if any.
func (x *runExec) releaseAlerts(ctx context.Context) {
	if x.r.opts.Holds == nil || len(x.held) == 0 {
		return
	}
	hosts := x.held
	x.held = nil
	x.r.opts.Holds.Release(ctx, hosts)
}
