package rollout

import (
	"context"
	"fmt"

	"github.com/ripple-ops/ripple/engine"
)

// EndSuperseded ends a run that waits for its window, touching no host:
// the event first, then the final status, then the final state. A crash in
// between leaves the run waiting, to be superseded by the next apply.
func (r *Runner) EndSuperseded(ctx context.Context, run *engine.Run, actor, msg string) error {
	now := r.opts.Clock.Now()
	if _, err := r.addEvent(ctx, engine.Event{RunID: run.ID, At: now, Actor: engine.ActorOr(actor), Action: engine.EventSupersede, Reason: msg}); err != nil {
		return fmt.Errorf("record supersede of run %d: %w", run.ID, err)
	}
	if err := r.setStatus(ctx, run, "failure", msg); err != nil {
		return err
	}
	if _, err := r.addEvent(ctx, engine.Event{RunID: run.ID, At: now, Actor: engine.ActorRipple, Action: engine.EventFinish, Reason: string(engine.RunAborted) + ": " + msg}); err != nil {
		return fmt.Errorf("record finish of run %d: %w", run.ID, err)
	}
	run.State, run.Summary, run.Error, run.Finished, run.Updated = engine.RunAborted, msg, msg, now, now
	if err := r.updateRun(ctx, run); err != nil {
		return fmt.Errorf("update run %d: %w", run.ID, err)
	}
	r.opts.Metrics.runEnded(engine.RunAborted)
	r.log.Info().Int64("run", run.ID).Str("job", run.Job).Str("reason", run.Summary).Msg("run superseded")
	return nil
}
