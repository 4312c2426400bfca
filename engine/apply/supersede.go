package apply

import (
	"context"
	"fmt"

	"github.com/ripple-ops/ripple/definitions"
	"github.com/ripple-ops/ripple/engine"
	"github.com/ripple-ops/ripple/engine/rollout"
)

// supersede ends the runs waiting for their maintenance window whose job
// the commit being applied (to, with definitions toDefs) changes or no
// longer defines: the plan to `to` rolls the job out again in their place,
// as a new Nomad job version replaces a deployment in progress. Their
// on_failure policy does not apply (the new run rolls every host of the job
// forward), and a run waiting for an operator is left to the operator.
// It returns the runs it ended, with their final records.
func supersede(ctx context.Context, ro *rollout.Runner, opts Options, load engine.DefinitionsLoader, to string, toDefs *definitions.Definitions) ([]*engine.Run, error) {
	waiting, err := opts.Store.ListRuns(ctx, engine.RunFilter{States: []engine.RunState{engine.RunWaitingWindow}})
	if err != nil {
		return nil, fmt.Errorf("list runs waiting for a window: %w", err)
	}
	var out []*engine.Run
	for _, run := range waiting {
		if run.Commit == to {
			continue
		}
		defs, err := load(ctx, run.Commit)
		if err != nil {
			continue // Recover ends it in error
		}
		why := ""
		switch {
		case toDefs.Jobs[run.Job] == nil:
			why = "the job is removed"
		case planRuns(planApply(defs, toDefs), run.Job):
			why = "the job changed"
		default:
			continue
		}
		msg := fmt.Sprintf("superseded by %s (%s)", engine.ShortCommit(to), why)
		if err := ro.EndSuperseded(ctx, run, opts.Actor, msg); err != nil {
			return nil, err
		}
		out = append(out, run)
	}
	return out, nil
}

// supersededCommit returns the commit of the superseded runs when they all
// belong to one commit c other than from whose other jobs have all
// succeeded at c: c can be recorded as applied, since the plan from c to
// the later commit runs the superseded jobs again. "" otherwise.
func supersededCommit(ctx context.Context, opts Options, load engine.DefinitionsLoader, superseded []*engine.Run, from string) (string, error) {
	c := ""
	jobs := map[string]bool{}
	for _, run := range superseded {
		if c != "" && run.Commit != c {
			return "", nil
		}
		c = run.Commit
		jobs[run.Job] = true
	}
	if c == "" || c == from {
		return "", nil
	}
	defs, err := load(ctx, c)
	if err != nil {
		return "", nil //nolint:nilerr // a commit that does not load is not applied
	}
	var old *definitions.Definitions
	if from != "" {
		if old, err = load(ctx, from); err != nil {
			old = nil
		}
	}
	for _, j := range planApply(old, defs) {
		if jobs[j.Name] {
			continue
		}
		runs, err := opts.Store.ListRuns(ctx, engine.RunFilter{Job: j.Name, Commit: c, Limit: 1})
		if err != nil {
			return "", fmt.Errorf("runs of %s at %s: %w", j.Name, engine.ShortCommit(c), err)
		}
		if len(runs) == 0 || runs[0].State != engine.RunSucceeded {
			return "", nil
		}
	}
	return c, nil
}

func planRuns(jobs []Job, name string) bool {
	for _, j := range jobs {
		if j.Name == name {
			return true
		}
	}
	return false
}
