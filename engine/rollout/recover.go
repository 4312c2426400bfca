package rollout

import (
	"context"
	"errors"
	"fmt"
	"sort"

	"golang.org/x/sync/errgroup"

	"github.com/ripple-ops/ripple/engine"
)

// Recover resolves, at start-up, every run an earlier process left
// unfinished, so that none stays running or pending forever:
//
//   - host-steps that finished are kept; planned ones run;
//   - a host-step started but not finished runs again only if its step is
//     idempotent; otherwise the run stops in needs_operator with a message
//     naming the host and the step (an operator's approval counts the step
//     as done, an abort ends the run under its on_failure policy);
//   - a run whose commit can no longer be loaded ends in error;
//   - a run waiting for approval keeps waiting unless it was approved or
//     aborted meanwhile;
//   - a run whose job has an earlier run stopped for an operator stays
//     queued (see Execute and engine.ErrJobHeld).
//   - when the store cannot write (engine.ErrStoreUnwritable) while a run
//     is recovered, that run and the later runs of its job are returned as
//     they were recorded (a queued or running one is left for the caller
//     to carry on with Execute once the store writes again); the other
//     jobs' runs go on.
//
// Runs of one job are carried on one after the other, oldest first; runs
// of different jobs concurrently. Recover never blocks on an operator: a
// run that reaches its approval point stops there (as with ReturnOnWait),
// to be carried on by Execute after Approve. It returns when every run it
// executed has ended or stopped, with their latest records.
func (r *Runner) Recover(ctx context.Context, load engine.DefinitionsLoader) ([]*engine.Run, error) {
	runs, err := r.opts.Store.ListRuns(ctx, engine.RunFilter{States: engine.UnfinishedStates})
	if err != nil {
		return nil, fmt.Errorf("list unfinished runs: %w", err)
	}
	byJob := map[string][]*engine.Run{}
	var jobs []string
	for _, run := range runs {
		if _, ok := byJob[run.Job]; !ok {
			jobs = append(jobs, run.Job)
		}
		byJob[run.Job] = append(byJob[run.Job], run)
	}
	sort.Strings(jobs)

	out := make([][]*engine.Run, len(jobs))
	g, gctx := errgroup.WithContext(ctx)
	for i, job := range jobs {
		list := byJob[job]
		sort.Slice(list, func(a, b int) bool { return list[a].ID < list[b].ID })
		g.Go(func() error {
			for k, run := range list {
				got, err := r.recoverOne(gctx, load, run)
				if errors.Is(err, engine.ErrJobHeld) {
					err = nil // stays queued behind a run that waits for an operator
				}
				if errors.Is(err, engine.ErrStoreUnwritable) && gctx.Err() == nil {
					r.log.Warn().Err(err).Int64("run", run.ID).Str("job", job).Int("left", len(list)-k).
						Msg("the store cannot write; the job's unfinished runs wait until it can")
					out[i] = append(out[i], list[k:]...)
					return nil
				}
				if err != nil {
					return err
				}
				out[i] = append(out[i], got)
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	var all []*engine.Run
	for _, l := range out {
		all = append(all, l...)
	}
	return all, nil
}

func (r *Runner) recoverOne(ctx context.Context, load engine.DefinitionsLoader, run *engine.Run) (*engine.Run, error) {
	log := r.log.With().Int64("run", run.ID).Str("job", run.Job).Str("state", string(run.State)).Logger()
	if run.State == engine.RunWaitingApproval {
		ev, err := r.opts.Store.Events(ctx, run.ID)
		if err != nil {
			return nil, fmt.Errorf("read events of run %d: %w", run.ID, err)
		}
		l := eventLog(ev)
		_, approved := l.approvedSince(engine.EventWaitApproval)
		_, aborted := l.find(engine.EventAbort)
		if !approved && !aborted {
			log.Info().Msg("run still waits for approval")
			return run, nil
		}
	}
	defs, err := load(ctx, run.Commit)
	if err != nil {
		log.Error().Err(err).Msg("cannot load the run's commit; ending the run in error")
		return r.closeRun(ctx, run, engine.RunError, fmt.Sprintf("cannot load commit %s to resume: %v", engine.ShortCommit(run.Commit), err))
	}
	log.Info().Msg("recovering run")
	return r.execute(ctx, defs, run.ID, true)
}

// closeRun ends a run that cannot be executed, touching no host.
func (r *Runner) closeRun(ctx context.Context, run *engine.Run, state engine.RunState, msg string) (*engine.Run, error) {
	now := r.opts.Clock.Now()
	if err := r.setStatus(ctx, run, "error", msg); err != nil {
		return nil, err
	}
	if _, err := r.addEvent(ctx, engine.Event{RunID: run.ID, At: now, Actor: engine.ActorRipple, Action: engine.EventFinish, Reason: string(state) + ": " + msg}); err != nil {
		return nil, fmt.Errorf("record finish of run %d: %w", run.ID, err)
	}
	run.State, run.Summary, run.Error, run.Finished, run.Updated = state, msg, msg, now, now
	if err := r.updateRun(ctx, run); err != nil {
		return nil, fmt.Errorf("update run %d: %w", run.ID, err)
	}
	r.opts.Metrics.runEnded(state)
	r.forget(run.ID)
	return run, nil
}
