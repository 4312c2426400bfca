package monitor

import (
	"context"
	"time"

	"github.com/ripple-ops/ripple/definitions"
	"github.com/ripple-ops/ripple/engine"
)

// Running one check: the scheduled ones (runEntry) and the health gate's
// (CheckNow) take the same path.

// checkEntry runs e's check once. A log check reads on from e's cursor
// and returns the cursor to keep; it holds e.logMu until unlock is called,
// after the caller recorded the result, so a concurrent check of the same
// entry cannot read the same lines.
func (r *Runner) checkEntry(ctx context.Context, e *monitorEntry, spec checkSpec) (res engine.CheckResult, cursor *engine.LogCursor, unlock func()) {
	if spec.check == nil || spec.check.Kind != definitions.CheckLog || spec.renderErr != "" {
		return r.check(ctx, spec, nil), nil, func() {}
	}
	e.logMu.Lock()
	r.mu.Lock()
	from := e.cursor
	r.mu.Unlock()
	res = r.check(ctx, spec, func(cctx context.Context) engine.CheckResult {
		lc, ok := r.opts.Checker.(engine.LogChecker)
		if !ok {
			return engine.CheckResult{State: engine.StateUnknown, Output: "this daemon has no log checker"}
		}
		var out engine.CheckResult
		out, cursor = lc.CheckLog(cctx, spec.endpoint, spec.check, from)
		return out
	})
	return res, cursor, e.logMu.Unlock
}

// check runs a check once, bounded by the monitor's timeout, through run
// (nil: the Checker). Its output is redacted of every loaded secret:
// every result, scheduled or a gate's, goes through here.
func (r *Runner) check(ctx context.Context, spec checkSpec, run func(context.Context) engine.CheckResult) engine.CheckResult {
	res := r.runCheck(ctx, spec, run)
	res.Output = r.opts.Redact.Redact(res.Output)
	return res
}

func (r *Runner) runCheck(ctx context.Context, spec checkSpec, run func(context.Context) engine.CheckResult) engine.CheckResult {
	start := r.opts.Now()
	if spec.renderErr != "" || spec.check == nil {
		return engine.CheckResult{State: engine.StateUnknown, Output: "cannot render check: " + spec.renderErr, At: start}
	}
	timeout := spec.timeout
	if timeout <= 0 {
		timeout = 10 * time.Second
	}
	cctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	if run == nil {
		run = func(cctx context.Context) engine.CheckResult {
			return r.opts.Checker.Check(cctx, spec.endpoint, spec.check)
		}
	}
	res := run(cctx)
	if res.At.IsZero() {
		res.At = start
	}
	return res
}

// CheckNow runs the check of (monitor, host) immediately, feeds the result
// into its state like a scheduled run, and returns it. Health gates use it
// to read fresh results through the same path as monitoring. In a cluster,
// a pair another node checks is only checked: its state is that node's.
func (r *Runner) CheckNow(ctx context.Context, monitor, host string) (engine.CheckResult, bool) {
	r.mu.Lock()
	e, ok := r.entries[entryKey{monitor, host}]
	var spec checkSpec
	if ok {
		spec = e.spec()
	}
	r.mu.Unlock()
	if !ok {
		return engine.CheckResult{}, false
	}
	if e.passive {
		// A trap block has nothing to run: its state is the answer.
		r.mu.Lock()
		st := e.state
		r.mu.Unlock()
		return engine.CheckResult{State: st.State, Output: st.LastOutput, At: r.opts.Now()}, true
	}
	res, cursor, unlock := r.checkEntry(ctx, e, spec)
	defer unlock()
	r.mu.Lock()
	if !r.owns(e) {
		// Another node of the cluster checks this pair and keeps its
		// state (and a log check's cursor): the gate reads the fresh
		// result, the state stays theirs.
		r.mu.Unlock()
		return res, true
	}
	var notes []engine.Notification
	var swept []owedSend
	removed := e.removed
	if !removed {
		if cursor != nil {
			e.cursor = cursor
		}
		notes, swept = r.observe(e, res)
	}
	notify, snapshot := e.monitor.Notify, e.state
	r.mu.Unlock()
	if cursor != nil && !removed && r.opts.Results != nil {
		// The lines this check read count once: the cursor moves with
		// the state (and the count metric) it led to.
		if err := r.opts.Results.RecordResult(ctx, Result{Monitor: monitor, Host: host, Result: res, State: snapshot, LogCursor: cursor}); err != nil {
			r.opts.Logger.Warn().Err(err).Str("monitor", monitor).Str("host", host).Msg("record check result")
		}
	} else if len(notes) > 0 {
		r.saveState(ctx, e.key, snapshot)
	}
	r.send(ctx, notify, notes)
	r.deliver(ctx, swept)
	return res, true
}
