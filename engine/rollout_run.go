package engine

import (
	"context"
	"fmt"
	"strings"
	"sync"

	"github.com/rs/zerolog"

	"github.com/ripple-ops/ripple/definitions"
)

// runExec is one execution (or resumption) of one run. Its fields are owned
// by the goroutine running execute; host goroutines touch only the journal,
// the endpoint cache and the counters, each under its own lock.
type runExec struct {
	r    *Rollout
	defs *definitions.Definitions
	job  *definitions.Job
	run  *Run
	ctl  *runControl
	wait bool // block while waiting for approval (else return)
	log  zerolog.Logger
	jr   *journal
	ev   eventLog

	baseline map[gatePair]string // gate checks failing before wave 1 -> their output
	followed string              // commit whose moved window the log has named

	epMu sync.Mutex
	eps  map[string]endpointResult

	cntMu  sync.Mutex
	runOK  int // hosts that finished all steps, whole run
	waveOK int // this wave
	waveKO int
}

type endpointResult struct {
	ep  Endpoint
	err error
}

// execute drives the run from its journal to the next stop.
func (x *runExec) execute(ctx context.Context) (*Run, error) {
	var err error
	if x.jr, err = loadJournal(ctx, x.r.opts.Store, x.run.ID); err != nil {
		return nil, err
	}
	if err := x.reloadEvents(ctx); err != nil {
		return nil, err
	}
	x.job = x.defs.Jobs[x.run.Job]
	if x.job == nil {
		msg := fmt.Sprintf("job %s is not defined at commit %s", x.run.Job, shortCommit(x.run.Commit))
		return x.finish(ctx, RunError, msg, msg)
	}

	// Steps cut short by a crash first: nothing else may touch a host
	// whose state is unknown.
	if stop, err := x.resolveInterrupted(ctx); err != nil || stop {
		return x.run, err
	}
	// An abort recorded earlier wins over everything else.
	if e, ok := x.ev.find(EventAbort); ok {
		return x.fail(ctx, RunAborted, abortReason(e))
	}
	// A rollback in progress is carried to its end.
	if e, ok := x.ev.find(EventRollback); ok {
		return x.fail(ctx, RunFailed, e.Reason)
	}

	resumed := !x.run.Started.IsZero()
	if x.run.Started.IsZero() {
		x.run.Started = x.r.opts.Clock.Now()
	}
	if x.run.State != RunWaitingApproval {
		x.run.State = RunRunning
	}
	x.run.Error = ""
	if err := x.save(ctx); err != nil {
		return nil, err
	}
	reason := "start"
	if resumed {
		reason = fmt.Sprintf("resume at wave %d/%d", x.run.CurrentWave+1, len(x.run.Waves))
	}
	if err := x.event(ctx, EventStart, ActorRipple, reason); err != nil {
		return nil, err
	}
	x.log.Info().Bool("resumed", resumed).Int("wave", x.run.CurrentWave+1).Int("waves", len(x.run.Waves)).Msg("run executing")
	x.runOK = x.countRunOK()
	x.report(ProgressEvent{Kind: ProgressRunStart, Message: reason})

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
		if failReason != "" {
			return x.fail(ctx, RunFailed, fmt.Sprintf("wave %d/%d failed: %s", w+1, len(x.run.Waves), failReason))
		}
		x.run.CurrentWave = w + 1
		if err := x.save(ctx); err != nil {
			return nil, err
		}
		x.report(ProgressEvent{Kind: ProgressWaveDone, Wave: w + 1, Message: fmt.Sprintf("wave %d/%d done", w+1, len(x.run.Waves))})
	}
	total := countHosts(x.run.Waves)
	msg := fmt.Sprintf("%s ok in %s", PluralOf(x.runOK, total, "host"), Plural(len(x.run.Waves), "wave"))
	return x.finish(ctx, RunSucceeded, msg, msg)
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
		if _, ok := x.ev.approvedSince(EventWaitApproval); ok {
			x.run.State = RunRunning
			return false, x.save(ctx)
		}
		if x.ctl.aborted() {
			return false, nil // the caller applies the abort
		}
		if x.run.State != RunWaitingApproval || x.ev.last(EventWaitApproval) < 0 {
			// The event first: an approval is only valid after it.
			if err := x.event(ctx, EventWaitApproval, ActorRipple, fmt.Sprintf("after wave %d", w)); err != nil {
				return true, err
			}
			x.run.State = RunWaitingApproval
			x.run.Summary = fmt.Sprintf("waiting for approval after wave %d/%d", w, len(x.run.Waves))
			if err := x.r.setStatus(ctx, x.run, "pending", x.run.Summary); err != nil {
				return true, err
			}
			if err := x.save(ctx); err != nil {
				return true, err
			}
			x.log.Info().Int("wave", w).Msg("waiting for approval")
			x.report(ProgressEvent{Kind: ProgressWaiting, Wave: w, Message: x.run.Summary + fmt.Sprintf(" (run %d)", x.run.ID)})
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
func (x *runExec) abortNow(ctx context.Context) (*Run, error) {
	if err := x.reloadEvents(ctx); err != nil {
		return nil, err
	}
	e, _ := x.ev.find(EventAbort)
	return x.fail(ctx, RunAborted, abortReason(e))
}

func abortReason(e Event) string {
	s := "aborted by " + actorOr(e.Actor)
	if e.Reason != "" {
		s += ": " + e.Reason
	}
	return s
}

// fail applies the job's on_failure policy and ends the run in state
// (failed or aborted). reason is a headline with optional detail lines.
func (x *runExec) fail(ctx context.Context, state RunState, reason string) (*Run, error) {
	x.log.Warn().Str("reason", flatten(reason)).Str("on_failure", onFailure(x.job)).Msg("run failing")
	if onFailure(x.job) == "halt" {
		return x.finish(ctx, state, headline(reason)+"; halted", flatten(reason)+"; halted")
	}
	if _, ok := x.ev.find(EventRollback); !ok {
		if err := x.event(ctx, EventRollback, ActorRipple, reason); err != nil {
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
func (x *runExec) finish(ctx context.Context, state RunState, short, full string) (*Run, error) {
	x.run.State = state
	x.run.Summary = short
	if state != RunSucceeded {
		x.run.Error = full
	}
	x.run.Finished = x.r.opts.Clock.Now()
	// The final status and event before the final state: once the run is
	// final nothing revisits it, so nothing may be left to write.
	status := "failure"
	switch state {
	case RunSucceeded:
		status = "success"
	case RunError:
		status = "error"
	}
	if err := x.r.setStatus(ctx, x.run, status, short); err != nil {
		return nil, err
	}
	if err := x.event(ctx, EventFinish, ActorRipple, string(state)+": "+full); err != nil {
		return nil, err
	}
	if err := x.save(ctx); err != nil {
		return nil, err
	}
	x.log.Info().Str("state", string(state)).Str("summary", full).Msg("run finished")
	x.report(ProgressEvent{Kind: ProgressRunDone, Message: full})
	return x.run, nil
}

// save writes the run row.
func (x *runExec) save(ctx context.Context) error {
	x.run.Updated = x.r.opts.Clock.Now()
	if err := x.r.opts.Store.UpdateRun(ctx, x.run); err != nil {
		return fmt.Errorf("update run %d: %w", x.run.ID, err)
	}
	return nil
}

func (x *runExec) event(ctx context.Context, action, actor, reason string) error {
	e := Event{RunID: x.run.ID, At: x.r.opts.Clock.Now(), Actor: actor, Action: action, Reason: reason}
	if err := x.r.opts.Store.AddEvent(ctx, e); err != nil {
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
func (x *runExec) report(ev ProgressEvent) {
	ev.RunID, ev.Job, ev.Waves = x.run.ID, x.run.Job, len(x.run.Waves)
	if ev.State == "" {
		ev.State = x.run.State
	}
	ev.RunHosts = countHosts(x.run.Waves)
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
		if !ok || hs.Phase != PhaseFinished || !hs.Result.Status.Succeeded() {
			return false
		}
	}
	return true
}

// endpoint resolves and caches how to reach host.
func (x *runExec) endpoint(h *definitions.Host) (Endpoint, error) {
	x.epMu.Lock()
	defer x.epMu.Unlock()
	if r, ok := x.eps[h.Name]; ok {
		return r.ep, r.err
	}
	ep, err := endpointFor(x.defs, h, x.r.opts.Secrets)
	x.eps[h.Name] = endpointResult{ep, err}
	return ep, err
}

// stepDef finds the definition of a journal row's step, and whether it may
// run again after an interruption. Restores of file backups always may.
func (x *runExec) stepIdempotent(hs HostStep) bool {
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

// resolveInterrupted applies the recovery rule to host-steps that were
// started but never finished (the process died mid-step): idempotent ones
// simply run again; others stop the run in needs_operator, unless an
// operator has approved since, which counts them as done.
func (x *runExec) resolveInterrupted(ctx context.Context) (stop bool, err error) {
	var blocked []HostStep
	approval, approved := x.ev.approvedSince(EventNeedsOperator)
	abort, aborted := x.ev.find(EventAbort)
	for _, hs := range x.jr.interrupted() {
		res := StepResult{ExitCode: -1, Started: x.r.opts.Clock.Now()}
		switch {
		case aborted && !hs.Rollback:
			// No forward step runs again once the run is aborted.
			res.Status = StepFailed
			res.Error = fmt.Sprintf("interrupted by a restart; not run again: the run was aborted by %s", actorOr(abort.Actor))
		case x.stepIdempotent(hs):
			x.log.Info().Str("host", hs.Host).Str("step", hs.Step).Msg("interrupted idempotent step runs again")
			continue
		case approved:
			res.Status = StepOK
			res.Error = fmt.Sprintf("interrupted by a restart; counted as done by %s", actorOr(approval.Actor))
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
	x.run.State = RunNeedsOperator
	x.run.Summary = "needs operator: " + msg
	x.run.Error = fmt.Sprintf("%s; check the host(s) (%s), then approve to count the step as done, or abort", msg, strings.Join(names, ", "))
	if err := x.save(ctx); err != nil {
		return true, err
	}
	if err := x.event(ctx, EventNeedsOperator, ActorRipple, x.run.Error); err != nil {
		return true, err
	}
	if err := x.r.setStatus(ctx, x.run, "error", x.run.Summary); err != nil {
		return true, err
	}
	x.log.Error().Str("host", first.Host).Str("step", first.Step).Int("interrupted", len(blocked)).Msg("run needs an operator")
	x.report(ProgressEvent{Kind: ProgressRunDone, State: RunNeedsOperator, Message: x.run.Error})
	return true, nil
}
