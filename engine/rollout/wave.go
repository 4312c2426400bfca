package rollout

import (
	"context"
	"fmt"

	"golang.org/x/sync/errgroup"

	"github.com/ripple-ops/ripple/definitions"
	"github.com/ripple-ops/ripple/engine"
)

// runWave runs wave w (0-based): plans its host-steps, runs its hosts at
// most max_parallel at once, then applies the failure budget and the health
// gate. failReason is non-empty when the wave failed; err is for the
// journal or ctx, which leave the run to be resumed.
func (x *runExec) runWave(ctx context.Context, w int) (failReason string, err error) {
	hosts := x.run.Waves[w]
	keys := make([]stepKey, 0, len(hosts)*len(x.job.Steps))
	for _, h := range hosts {
		for _, st := range x.job.Steps {
			keys = append(keys, stepKey{wave: w, host: h, step: st.Name})
		}
	}
	if err := x.jr.plan(ctx, keys); err != nil {
		return "", err
	}

	x.cntMu.Lock()
	x.waveOK, x.waveKO = 0, 0
	runOK := x.runOK
	x.cntMu.Unlock()
	total := engine.CountHosts(x.run.Waves)
	x.run.Summary = runningDescription(w+1, len(x.run.Waves), runOK, total, 0)
	if err := x.save(ctx); err != nil {
		return "", err
	}
	if err := x.r.setStatus(ctx, x.run, "pending", x.run.Summary); err != nil {
		return "", err
	}
	x.log.Info().Int("wave", w+1).Int("hosts", len(hosts)).Msg("wave starting")
	x.releaseAlerts(ctx)
	x.holdAlerts(hosts)
	x.report(engine.ProgressEvent{Kind: engine.ProgressWaveStart, Wave: w + 1, WaveHosts: len(hosts),
		Message: fmt.Sprintf("wave %d/%d: %s", w+1, len(x.run.Waves), engine.Plural(len(hosts), "host"))})

	outcomes := make([]hostOutcome, len(hosts))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(maxParallel(x.job))
	for i, h := range hosts {
		if gctx.Err() != nil {
			break
		}
		g.Go(func() error {
			o, err := x.runHost(gctx, w, h)
			outcomes[i] = o
			if err == nil && !o.skipped {
				x.hostReport(w, len(hosts), o)
			}
			return err
		})
	}
	if err := g.Wait(); err != nil {
		return "", err
	}
	if err := ctx.Err(); err != nil {
		return "", err
	}

	if x.ctl.aborted() {
		return "", nil
	}
	ran := ranOutcomes(outcomes)
	if fail, reason := waveVerdict(x.job.Rollout.MaxFailures, ran); fail {
		x.run.Summary = runningDescription(w+1, len(x.run.Waves), x.runOK, total, failedCount(ran))
		return reason, nil
	}
	x.run.Summary = runningDescription(w+1, len(x.run.Waves), x.runOK, total, failedCount(ran))
	if err := x.r.setStatus(ctx, x.run, "pending", x.run.Summary); err != nil {
		return "", err
	}
	// Every host that finished its steps is gated, those failing before
	// the run included: a host still not healthy at the deadline counts
	// against the budget like a host whose step failed.
	unhealthy, err := x.gate(ctx, w, hostsOK(outcomes))
	if err != nil || x.ctl.aborted() {
		return "", err
	}
	if len(unhealthy) > 0 {
		for i := range outcomes {
			if why, ok := unhealthy[outcomes[i].host]; ok {
				outcomes[i].failed, outcomes[i].gate, outcomes[i].err = true, true, why
				x.countGateFailure()
			}
		}
		ran = ranOutcomes(outcomes)
		x.run.Summary = runningDescription(w+1, len(x.run.Waves), x.runOK, total, failedCount(ran))
		if err := x.recordGateFailures(ctx, w, unhealthy); err != nil {
			return "", err
		}
		if fail, reason := waveVerdict(x.job.Rollout.MaxFailures, ran); fail {
			return reason, nil
		}
		x.report(engine.ProgressEvent{Kind: engine.ProgressGate, Wave: w + 1,
			Message: fmt.Sprintf("health gate: %s not healthy by the deadline, within max_failures %s", engine.Plural(len(unhealthy), "host"), budgetString(x.job.Rollout.MaxFailures))})
	}
	return "", x.recordWave(ctx, w)
}

// ranOutcomes leaves out hosts an abort skipped.
func ranOutcomes(outcomes []hostOutcome) []hostOutcome {
	var ran []hostOutcome
	for _, o := range outcomes {
		if !o.skipped {
			ran = append(ran, o)
		}
	}
	return ran
}

func failedCount(outcomes []hostOutcome) int {
	n := 0
	for _, o := range outcomes {
		if o.failed {
			n++
		}
	}
	return n
}

// hostsOK lists the hosts of a wave that finished every step: the gate
// watches those (a host whose step failed already counts against the
// budget).
func hostsOK(outcomes []hostOutcome) []string {
	var out []string
	for _, o := range outcomes {
		if !o.failed && !o.skipped {
			out = append(out, o.host)
		}
	}
	return out
}

func (x *runExec) hostReport(w, waveHosts int, o hostOutcome) {
	x.cntMu.Lock()
	if o.failed {
		x.waveKO++
	} else {
		x.waveOK++
		if !o.already { // counted by countRunOK when the run resumed
			x.runOK++
		}
	}
	done, ko := x.waveOK+x.waveKO, x.waveKO
	x.cntMu.Unlock()
	ev := engine.ProgressEvent{Kind: engine.ProgressHost, Wave: w + 1, Host: o.host, Failed: o.failed, Step: o.step,
		WaveHosts: waveHosts, WaveDone: done, WaveFailed: ko}
	if o.failed {
		ev.Error = o.summary()
		x.log.Warn().Str("host", o.host).Str("step", o.step).Str("status", string(o.status)).Str("error", engine.FirstLine(o.err, 200)).Msg("host failed")
	}
	x.report(ev)
}

// runHost runs the job's steps in order on one host, skipping those the
// journal says finished and stopping at the first that does not succeed.
// A host that has not started yet is skipped once the run is aborted. err
// is only for the journal and ctx.
func (x *runExec) runHost(ctx context.Context, w int, name string) (hostOutcome, error) {
	out := hostOutcome{host: name, already: true}
	started := false
	for _, st := range x.job.Steps {
		k := stepKey{wave: w, host: name, step: st.Name}
		if hs, ok := x.jr.get(k); ok && hs.Phase != engine.PhasePlanned {
			started = true
			if hs.Phase == engine.PhaseFinished {
				out.step, out.status = st.Name, hs.Result.Status
				if !hs.Result.Status.Succeeded() {
					out.failed, out.err = true, hs.Result.Error
					return out, nil
				}
				continue
			}
		}
		if !started && x.ctl.aborted() {
			out.skipped = true
			return out, nil
		}
		started = true
		out.step, out.already = st.Name, false
		res, err := x.runStep(ctx, k, func(ctx context.Context, ep engine.Endpoint) (engine.StepResult, error) {
			hs, err := x.hostStep(st, ep.Host)
			if err != nil {
				return engine.StepResult{}, fmt.Errorf("cannot render: %w", err)
			}
			return x.r.opts.Executor.RunStep(ctx, ep, hs), nil
		})
		if err != nil {
			return out, err
		}
		out.status = res.Status
		if !res.Status.Succeeded() {
			out.failed = true
			out.err = res.Error
			if out.err == "" {
				out.err = engine.FirstLine(res.Stderr, 200)
			}
			return out, nil
		}
	}
	return out, nil
}

// runStep journals and performs one action on a host: started (durable),
// then the action, then finished. A preparation error (the host is gone, a
// secret or template fails) is recorded as a failed result without
// touching the host. No action starts once ctx has ended; one that started
// runs to its end (each step has its own timeout) and its result is
// journaled before ctx's error is returned, so a shutdown drains in-flight
// steps instead of leaving them for recovery to guess about.
func (x *runExec) runStep(ctx context.Context, k stepKey, act func(context.Context, engine.Endpoint) (engine.StepResult, error)) (engine.StepResult, error) {
	if err := ctx.Err(); err != nil {
		return engine.StepResult{}, err
	}
	if f := x.r.opts.Fence; f != nil {
		if err := f(); err != nil {
			return engine.StepResult{}, err
		}
	}
	start := x.r.opts.Clock.Now()
	failed := func(msg string) engine.StepResult {
		return engine.StepResult{Status: engine.StepFailed, ExitCode: -1, Error: msg, Started: start}
	}
	if err := x.jr.start(ctx, k); err != nil {
		return engine.StepResult{}, err
	}
	drain := context.WithoutCancel(ctx)
	var res engine.StepResult
	h := x.defs.Hosts[k.host]
	if h == nil {
		res = failed(fmt.Sprintf("host %s is not defined at commit %s", k.host, engine.ShortCommit(x.run.Commit)))
	} else if ep, err := x.endpoint(h); err != nil {
		res = failed(err.Error())
	} else if r, err := act(drain, ep); err != nil {
		res = failed(err.Error())
	} else {
		res = r
	}
	if res.Status == "" {
		res.Status = engine.StepFailed
	}
	res = x.r.redactResult(res)
	if err := x.jr.finish(drain, k, res); err != nil {
		return engine.StepResult{}, err
	}
	x.r.opts.Metrics.hostStep(res)
	return res, ctx.Err()
}

// hostStep is step st rendered for host h with the run's params; an exec
// run's step is its command as the operator gave it, through the host's
// shell like a run step, never evaluated as a template.
func (x *runExec) hostStep(st *definitions.Step, h *definitions.Host) (*definitions.HostStep, error) {
	if x.run.Exec != nil {
		return &definitions.HostStep{Name: ExecStep, Kind: definitions.StepRun, Command: x.command, Timeout: x.run.Exec.Timeout}, nil
	}
	return renderStep(x.defs, x.job, st, h, x.r.opts.Secrets, x.params)
}
