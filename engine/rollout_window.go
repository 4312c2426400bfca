package engine

import (
	"context"
	"fmt"
	"time"
)

// awaitWindow holds wave w (0-based) until the job's maintenance window is
// open: waves only start inside it (one that started may run past its
// close). stop means the run stopped waiting (a Rollout that does not
// wait, or ctx ended); an abort ends the wait early without stopping, for
// the caller to apply.
func (x *runExec) awaitWindow(ctx context.Context, w int) (stop bool, err error) {
	name := x.job.Window
	if name == "" {
		return false, nil
	}
	win := x.defs.Windows[name]
	if win == nil {
		return false, nil // Load reports a dangling window
	}
	sched, err := ParseWindow(win.Cron, win.Duration, win.Location)
	if err != nil {
		x.log.Warn().Err(err).Str("window", name).Msg("window does not parse; not waiting for it")
		return false, nil
	}
	clock := x.r.opts.Clock
	for {
		now := clock.Now()
		if open, _ := sched.OpenAt(now); open {
			if x.run.State == RunWaitingWindow {
				x.run.State = RunRunning
				return false, x.save(ctx)
			}
			return false, nil
		}
		next := sched.NextOpen(now)
		if x.run.State != RunWaitingWindow {
			x.run.State = RunWaitingWindow
			x.run.Summary = fmt.Sprintf("wave %d/%d waits for window %s (opens %s)", w+1, len(x.run.Waves), name, next.UTC().Format(time.RFC3339))
			if err := x.r.setStatus(ctx, x.run, "pending", x.run.Summary); err != nil {
				return true, err
			}
			if err := x.save(ctx); err != nil {
				return true, err
			}
			x.log.Info().Str("window", name).Time("opens", next).Int("wave", w+1).Msg("waiting for the maintenance window")
			x.report(ProgressEvent{Kind: ProgressWaiting, Wave: w + 1, Message: x.run.Summary})
		}
		if !x.wait {
			return true, nil
		}
		select {
		case <-ctx.Done():
			return true, ctx.Err()
		case <-x.ctl.abort:
			return false, nil
		case <-clock.After(next.Sub(now)):
		}
	}
}
