package rollout

import (
	"context"
	"encoding/json"

	"github.com/ripple-ops/ripple/engine"
)

// Everything a rollout stores or reports passes through here first, so
// that no secret the process has loaded (Options.Redact) reaches the
// journal, a run record, an event, a commit status or a progress report,
// whichever job or check loaded it. The executor has already redacted a
// step's own secrets from its output; this adds every other one.

// redact removes every loaded secret from s.
func (r *Runner) redact(s string) string { return r.opts.Redact.Redact(s) }

// redactResult removes every loaded secret from a step's output, error
// and diff.
func (r *Runner) redactResult(res engine.StepResult) engine.StepResult {
	res.Stdout, res.Stderr, res.Error = r.redact(res.Stdout), r.redact(res.Stderr), r.redact(res.Error)
	res.Diff = r.redact(res.Diff)
	return res
}

// redactRun removes every loaded secret from run's texts, in place: the
// caller's copy then says what the store keeps.
func (r *Runner) redactRun(run *engine.Run) {
	run.Reason, run.Summary, run.Error = r.redact(run.Reason), r.redact(run.Summary), r.redact(run.Error)
	r.redactParams(run.Params)
	if run.Exec != nil {
		run.Exec.Command = r.redact(run.Exec.Command)
	}
}

// sensitiveTexts are the forms of a sensitive param's JSON value that
// output may show: a string, each element of a list, any other value as
// written.
func sensitiveTexts(v json.RawMessage) []string {
	var s string
	if json.Unmarshal(v, &s) == nil {
		return []string{s}
	}
	var list []string
	if json.Unmarshal(v, &list) == nil {
		return list
	}
	return []string{string(v)}
}

// createRun records a new run, redacted.
func (r *Runner) createRun(ctx context.Context, run *engine.Run) error {
	r.redactRun(run)
	return r.opts.Store.CreateRun(ctx, run)
}

// updateRun writes run, redacted.
func (r *Runner) updateRun(ctx context.Context, run *engine.Run) error {
	r.redactRun(run)
	return r.opts.Store.UpdateRun(ctx, run)
}

// addEvent records e with its reason redacted, and returns what it
// recorded.
func (r *Runner) addEvent(ctx context.Context, e engine.Event) (engine.Event, error) {
	e.Reason = r.redact(e.Reason)
	return e, r.opts.Store.AddEvent(ctx, e)
}
