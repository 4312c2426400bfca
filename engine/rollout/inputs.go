package rollout

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/ripple-ops/ripple/definitions"
	"github.com/ripple-ops/ripple/engine"
)

// What a run is given beyond its job: param values, and for an exec run
// its ad-hoc command. The store keeps them as they may be shown (sensitive
// params as definitions.Masked, everything redacted of loaded secrets);
// the runner that recorded the run keeps them as given, in memory only,
// until the run ends (inputs). A run whose real values are gone (the
// process restarted, another node took over) cannot go on with what the
// store kept, and ends in error touching nothing more (see lostInputs):
//
//   - a run with a sensitive param: its value was never stored;
//   - an exec run: an ad-hoc command is run where and when the operator
//     asked for it, never replayed by a later process.

// ExecStep is the name of an exec run's one step in its journal.
const ExecStep = "exec"

// runInputs are a run's inputs as given.
type runInputs struct {
	params  map[string]json.RawMessage // every value given, sensitive ones real
	command string                     // exec runs
}

// remember keeps run id's inputs as given, for its executions in this
// process.
func (r *Runner) remember(id int64, req engine.RunRequest) {
	in := &runInputs{params: maps.Clone(req.Params)}
	for k, v := range req.Sensitive {
		if in.params == nil {
			in.params = map[string]json.RawMessage{}
		}
		in.params[k] = v
	}
	if req.Exec != nil {
		in.command = req.Exec.Command
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.inputs[id] = in
}

// recall returns run id's inputs as given, nil when this process did not
// record the run (or has forgotten it).
func (r *Runner) recall(id int64) *runInputs {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.inputs[id]
}

// forget drops run id's inputs once it has ended.
func (r *Runner) forget(id int64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	delete(r.inputs, id)
}

// execJob is the job an exec run executes: one run step on every host of
// its one wave, spec.MaxParallel at once, no gate, nothing to roll back.
func execJob(spec *engine.ExecSpec) *definitions.Job {
	return &definitions.Job{
		Steps: []*definitions.Step{{Name: ExecStep, Kind: definitions.StepRun, Timeout: spec.Timeout}},
		Rollout: definitions.Rollout{
			Waves:       []definitions.WaveSize{{Percent: 100}},
			MaxParallel: spec.MaxParallel,
			OnFailure:   "halt",
		},
		Rollback: []*definitions.Step{},
	}
}

// slotKey is the queue a run waits in: its job's, so a job's runs go one
// after the other; an exec run has no job and waits for nothing.
func slotKey(run *engine.Run) string {
	if run.Exec != nil {
		return fmt.Sprintf("exec/%d", run.ID)
	}
	return run.Job
}

// lostInputs says why the run cannot go on with what the store kept ("" when
// it can): its real inputs are not in this process's memory and it needs
// them. It sets x.params for a job's run that can go on.
func (x *runExec) lostInputs() string {
	in := x.r.recall(x.run.ID)
	if x.run.Exec != nil {
		if in == nil {
			return "an exec run is never resumed by another process: the daemon restarted (or another node took over) before it ended"
		}
		x.command = in.command
		return ""
	}
	given := x.run.Params
	if in != nil {
		given = in.params
	} else {
		var lost []string
		for _, p := range x.job.Params {
			if _, ok := given[p.Name]; ok && p.Sensitive {
				lost = append(lost, p.Name)
			}
		}
		if len(lost) > 0 {
			return fmt.Sprintf("sensitive param %s was held in memory only and is gone: the daemon restarted (or another node took over) before the run ended; start a new run", strings.Join(lost, ", "))
		}
	}
	vals, err := x.job.ResolveParams(given)
	if err != nil {
		return "its params no longer check: " + strings.ReplaceAll(err.Error(), "\n", "; ")
	}
	x.params = vals
	return ""
}

// abandon ends a run that cannot go on (why): steps cut short by the
// restart are recorded as failed with their result unknown, nothing else
// runs (no forward step, no rollback), and the run ends in error saying
// which hosts it reached.
func (x *runExec) abandon(ctx context.Context, why string) (*engine.Run, error) {
	var cut []string
	for _, hs := range x.jr.interrupted() {
		res := engine.StepResult{Status: engine.StepFailed, ExitCode: -1, Started: x.r.opts.Clock.Now(),
			Error: "interrupted by " + x.interruptedBy() + "; the result is unknown and it is not run again: " + why}
		if err := x.jr.finish(ctx, keyOf(hs), res); err != nil {
			return nil, err
		}
		cut = append(cut, hs.Host)
	}
	var reached, never []string
	for w, hosts := range x.run.Waves {
		for _, h := range hosts {
			touched := false
			for _, st := range x.job.Steps {
				if hs, ok := x.jr.get(stepKey{wave: w, host: h, step: st.Name}); ok && hs.Phase != engine.PhasePlanned {
					touched = true
				}
			}
			if touched {
				reached = append(reached, h)
			} else {
				never = append(never, h)
			}
		}
	}
	short := "not resumed: " + why
	full := short
	if len(cut) > 0 {
		slices.Sort(cut)
		full += "; interrupted, result unknown on " + strings.Join(cut, ", ")
	}
	full += fmt.Sprintf("; reached %s, never started on %s", engine.Plural(len(reached), "host"), engine.Plural(len(never), "host"))
	x.log.Warn().Str("reason", why).Int("reached", len(reached)).Msg("run cannot resume; ending it in error")
	return x.finish(ctx, engine.RunError, short, full)
}

// finishExec ends an exec run whose hosts all ran: succeeded when the
// command succeeded everywhere, failed naming the hosts where it did not.
func (x *runExec) finishExec(ctx context.Context) (*engine.Run, error) {
	hosts := x.run.Waves[0]
	var failed []string
	for _, h := range hosts {
		if !x.hostDone(0, h) {
			failed = append(failed, h)
		}
	}
	if len(failed) == 0 {
		msg := engine.PluralOf(len(hosts), len(hosts), "host") + " ok"
		return x.finish(ctx, engine.RunSucceeded, msg, msg)
	}
	names := failed
	more := ""
	if len(names) > 5 {
		names, more = names[:5], fmt.Sprintf(" and %d more", len(failed)-5)
	}
	msg := fmt.Sprintf("%d of %s failed: %s%s", len(failed), engine.Plural(len(hosts), "host"), strings.Join(names, ", "), more)
	return x.finish(ctx, engine.RunFailed, msg, msg)
}

// submitText is what a run's submit event says: the reason, then what the
// run was given.
func submitText(run *engine.Run) string {
	var given string
	switch {
	case run.Exec != nil:
		given = "command: " + run.Exec.Command
	case len(run.Params) > 0:
		given = "params: " + engine.ParamsQuoted(run.Params)
	default:
		return run.Reason
	}
	if run.Reason == "" {
		return "(" + given + ")"
	}
	return run.Reason + " (" + given + ")"
}

// redactParams removes every loaded secret from the string values of
// params (list elements included), leaving other JSON values as they are.
func (r *Runner) redactParams(params map[string]json.RawMessage) {
	for name, raw := range params {
		var s string
		if json.Unmarshal(raw, &s) == nil {
			if red := r.redact(s); red != s {
				b, _ := json.Marshal(red)
				params[name] = b
			}
			continue
		}
		var list []string
		if json.Unmarshal(raw, &list) == nil {
			changed := false
			for i, e := range list {
				if red := r.redact(e); red != e {
					list[i], changed = red, true
				}
			}
			if changed {
				b, _ := json.Marshal(list)
				params[name] = b
			}
		}
	}
}
