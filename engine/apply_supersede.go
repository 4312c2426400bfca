package engine

import (
	"context"
	"fmt"

	"github.com/ripple-ops/ripple/definitions"
)

// EventSupersede is recorded when a later commit replaces a run waiting for
// its maintenance window (reason: "superseded by ...").
const EventSupersede = "supersede"

// supersede ends the runs waiting for their maintenance window whose job
// the commit being applied (to, with definitions toDefs) changes or no
// longer defines: the plan to `to` rolls the job out again in their place,
// as a new Nomad job version replaces a deployment in progress. Their
// on_failure policy does not apply (the new run rolls every host of the job
// forward), and a run waiting for an operator is left to the operator.
// It returns the runs it ended, with their final records.
func supersede(ctx context.Context, ro *Rollout, opts ApplyOptions, load DefinitionsLoader, to string, toDefs *definitions.Definitions) ([]*Run, error) {
	waiting, err := opts.Store.ListRuns(ctx, RunFilter{States: []RunState{RunWaitingWindow}})
	if err != nil {
		return nil, fmt.Errorf("list runs waiting for a window: %w", err)
	}
	var out []*Run
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
		msg := fmt.Sprintf("superseded by %s (%s)", shortCommit(to), why)
		if err := ro.endSuperseded(ctx, run, opts.Actor, msg); err != nil {
			return nil, err
		}
		out = append(out, run)
	}
	return out, nil
}

// endSuperseded ends a run that waits for its window, touching no host:
// the event first, then the final status, then the final state. A crash in
// between leaves the run waiting, to be superseded by the next apply.
func (r *Rollout) endSuperseded(ctx context.Context, run *Run, actor, msg string) error {
	now := r.opts.Clock.Now()
	if err := r.opts.Store.AddEvent(ctx, Event{RunID: run.ID, At: now, Actor: actorOr(actor), Action: EventSupersede, Reason: msg}); err != nil {
		return fmt.Errorf("record supersede of run %d: %w", run.ID, err)
	}
	if err := r.setStatus(ctx, run, "failure", msg); err != nil {
		return err
	}
	if err := r.opts.Store.AddEvent(ctx, Event{RunID: run.ID, At: now, Actor: ActorRipple, Action: EventFinish, Reason: string(RunAborted) + ": " + msg}); err != nil {
		return fmt.Errorf("record finish of run %d: %w", run.ID, err)
	}
	run.State, run.Summary, run.Error, run.Finished, run.Updated = RunAborted, msg, msg, now, now
	if err := r.opts.Store.UpdateRun(ctx, run); err != nil {
		return fmt.Errorf("update run %d: %w", run.ID, err)
	}
	r.log.Info().Int64("run", run.ID).Str("job", run.Job).Str("reason", msg).Msg("run superseded")
	return nil
}

// supersededCommit returns the commit of the superseded runs when they all
// belong to one commit c other than from whose other jobs have all
// succeeded at c: c can be recorded as applied, since the plan from c to
// the later commit runs the superseded jobs again. "" otherwise.
func supersededCommit(ctx context.Context, opts ApplyOptions, load DefinitionsLoader, superseded []*Run, from string) (string, error) {
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
		runs, err := opts.Store.ListRuns(ctx, RunFilter{Job: j.Name, Commit: c, Limit: 1})
		if err != nil {
			return "", fmt.Errorf("runs of %s at %s: %w", j.Name, shortCommit(c), err)
		}
		if len(runs) == 0 || runs[0].State != RunSucceeded {
			return "", nil
		}
	}
	return c, nil
}

func planRuns(jobs []ApplyJob, name string) bool {
	for _, j := range jobs {
		if j.Name == name {
			return true
		}
	}
	return false
}
