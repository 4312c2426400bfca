package rollout

import (
	"context"
	"fmt"
	"strings"

	"github.com/ripple-ops/ripple/definitions"
	"github.com/ripple-ops/ripple/engine"
)

// The rollout's part in convergence: what each run did on each host, as
// engine.SyncStore records. A wave that passed records its hosts; a run
// that ends records all of its hosts, with what its failure policy did to
// them. Both are derived from the journal and the gate's events, so
// recording again after a restart writes the same marks.

// gateFailures reads the hosts the gate found unhealthy in earlier
// executions of the run from its events.
func (x *runExec) gateFailures() map[string]string {
	out := map[string]string{}
	for _, e := range x.ev {
		if e.Action != engine.EventGateFailed {
			continue
		}
		lines := strings.Split(e.Reason, "\n")
		for _, l := range lines[1:] {
			if h, why, ok := strings.Cut(l, ": "); ok {
				out[h] = why
			}
		}
	}
	return out
}

// countGateFailure moves a host whose steps succeeded but whose gate did
// not from the wave's and run's ok counts to its failed count.
func (x *runExec) countGateFailure() {
	x.cntMu.Lock()
	defer x.cntMu.Unlock()
	x.waveOK--
	x.waveKO++
	x.runOK--
}

// fingerprint is the job's fingerprint on host at the run's commit.
func (x *runExec) fingerprint(host string) string {
	x.fpMu.Lock()
	defer x.fpMu.Unlock()
	if x.fps == nil {
		x.fps = definitions.NewFingerprints(x.defs)
	}
	return x.fps.Host(x.run.Job, host)
}

// hostResult is what the journal says of one host of the run.
type hostResult struct {
	done    bool   // every forward step succeeded
	touched bool   // a forward step started
	failure string // the first forward step that did not succeed, and why
	// rolledBack: undo actions ran on the host and all succeeded;
	// rollbackFailure says why one did not.
	rolledBack      bool
	rollbackFailure string
}

func (x *runExec) hostResult(w int, host string) hostResult {
	var r hostResult
	r.rolledBack, r.rollbackFailure = x.rollbackResult(host)
	for _, st := range x.job.Steps {
		hs, ok := x.jr.get(stepKey{wave: w, host: host, step: st.Name})
		if !ok || hs.Phase == engine.PhasePlanned {
			return r
		}
		r.touched = true
		if hs.Phase != engine.PhaseFinished {
			r.failure = fmt.Sprintf("step %s was interrupted", st.Name)
			return r
		}
		if !hs.Result.Status.Succeeded() {
			r.failure = fmt.Sprintf("step %s %s", st.Name, hs.Result.Status)
			if e := engine.FirstLine(hs.Result.Error, 300); e != "" {
				r.failure += ": " + e
			}
			return r
		}
	}
	r.done = true
	return r
}

// rollbackResult reads the host's undo actions from the journal.
func (x *runExec) rollbackResult(host string) (ok bool, failure string) {
	n := 0
	for _, hs := range x.jr.hostRows(host, true) {
		n++
		switch {
		case hs.Phase != engine.PhaseFinished:
			return false, "rollback " + hs.Step + " did not finish"
		case !hs.Result.Status.Succeeded():
			return false, fmt.Sprintf("rollback %s %s: %s", hs.Step, hs.Result.Status, engine.FirstLine(hs.Result.Error, 200))
		}
	}
	return n > 0, ""
}

// recordWave records the hosts of wave w (0-based), whose verdict passed:
// deployed where every step succeeded and the gate passed, failed where a
// step or the gate did not.
func (x *runExec) recordWave(ctx context.Context, w int) error {
	var ups []engine.SyncUpdate
	for _, h := range x.run.Waves[w] {
		if u, ok := x.syncUpdate(w, h, false); ok {
			ups = append(ups, u)
		}
	}
	return x.recordSync(ctx, ups)
}

// recordRun records every host of the run as the run ends in state: what
// recordWave records, and on top of it hosts rolled back, and hosts an
// aborted run never reached.
func (x *runExec) recordRun(ctx context.Context, state engine.RunState) error {
	var ups []engine.SyncUpdate
	for w, hosts := range x.run.Waves {
		for _, h := range hosts {
			if u, ok := x.syncUpdate(w, h, state == engine.RunAborted); ok {
				ups = append(ups, u)
			}
		}
	}
	return x.recordSync(ctx, ups)
}

// syncUpdate is the record of host (wave w): failed where a step or the
// gate failed; rolled back where the rollback undid the host (the
// deployment before the run is the deployed one again); deployed where
// every step succeeded and nothing undid them; aborted where an aborted run
// never got. ok is false when there is nothing to record (a host a failed
// run never reached, or one still running).
func (x *runExec) syncUpdate(w int, host string, abortedRun bool) (engine.SyncUpdate, bool) {
	r := x.hostResult(w, host)
	u := engine.SyncUpdate{Job: x.run.Job, Host: host}
	mark := engine.SyncMark{Fingerprint: x.fingerprint(host), Commit: x.run.Commit, Run: x.run.ID, At: x.r.opts.Clock.Now()}
	failed := func(why string) {
		u.Attempt, u.Outcome, u.Error, u.Undeploy = &mark, engine.ReasonFailed, why, true
	}
	switch gate := x.gateFailed[host]; {
	case r.failure != "":
		failed(r.failure)
	case gate != "":
		failed("health gate: " + gate)
	case r.rollbackFailure != "":
		failed(r.rollbackFailure)
	case r.rolledBack:
		u.Attempt, u.Outcome, u.Undeploy = &mark, engine.ReasonRolledBack, true
	case r.done:
		u.Deployed = &mark
	case !r.touched && abortedRun:
		u.Attempt, u.Outcome = &mark, engine.ReasonAborted
	default:
		return u, false
	}
	return u, true
}

func (x *runExec) recordSync(ctx context.Context, ups []engine.SyncUpdate) error {
	// A manual job and an exec run have no sync state: nothing desires
	// them on a host.
	if x.r.opts.Sync == nil || len(ups) == 0 || x.run.Exec != nil || x.job.Manual {
		return nil
	}
	if err := x.r.opts.Sync.RecordSync(ctx, ups); err != nil {
		return fmt.Errorf("record sync state of run %d: %w", x.run.ID, err)
	}
	return nil
}
