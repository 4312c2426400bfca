package rollout

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/ripple-ops/ripple/definitions"
	"github.com/ripple-ops/ripple/engine"
	"github.com/ripple-ops/ripple/engine/schedule"
)

// awaitWaveStart holds wave w (0-based) until it may start: the job's pause
// after the previous wave is served and its maintenance window is open
// (waves only start inside it; one that started may run past its close).
//
// The window is checked first, so a run resumed outside its window stops
// there at once. The pause starts when the previous wave ended (or was
// approved) and is recorded as an event before it is served: a resumed run
// serves only what is left of it, and a pause that elapsed while the run
// waited for its window is not served again.
//
// stop means the run stopped waiting (a Runner that does not wait for a
// window, or ctx ended); an abort ends the wait early without stopping,
// for the caller to apply.
func (x *runExec) awaitWaveStart(ctx context.Context, w int) (stop bool, err error) {
	pauseEnd, err := x.pauseEnd(ctx, w)
	if err != nil {
		return true, err
	}
	clock := x.r.opts.Clock
	pauseShown := false
	var waitingFor time.Time // the opening the run waits for, as recorded
	for {
		if err := ctx.Err(); err != nil {
			return true, err
		}
		if x.ctl.aborted() {
			return false, nil
		}
		// Asked on every turn: once applied (ApplyConfig), a later commit may have
		// moved or removed the window while the run waited.
		name, sched := x.window()
		now := clock.Now()
		var wait time.Duration
		switch {
		case sched != nil && !sched.Open(now):
			next := sched.NextOpen(now)
			if x.run.State != engine.RunWaitingWindow || !next.Equal(waitingFor) {
				if err := x.waitForWindow(ctx, w, name, next); err != nil {
					return true, err
				}
				waitingFor = next
			}
			if !x.wait {
				return true, nil
			}
			wait = next.Sub(now)
			if x.r.windowDefs() != nil {
				wait = min(wait, WindowRecheck)
			}
		case now.Before(pauseEnd):
			if x.run.State == engine.RunWaitingWindow {
				if err := x.windowOpened(ctx); err != nil {
					return true, err
				}
			}
			if !pauseShown {
				pauseShown = true
				msg := fmt.Sprintf("pause %s before wave %d/%d, until %s", x.job.Rollout.Pause, w+1, len(x.run.Waves), pauseEnd.UTC().Format(time.RFC3339))
				x.log.Info().Stringer("pause", x.job.Rollout.Pause).Time("until", pauseEnd).Int("next_wave", w+1).Msg("pause between waves")
				x.report(engine.ProgressEvent{Kind: engine.ProgressWaiting, Wave: w + 1, Message: msg})
			}
			wait = pauseEnd.Sub(now)
		default:
			if x.run.State == engine.RunWaitingWindow {
				return false, x.windowOpened(ctx)
			}
			return false, nil
		}
		select {
		case <-ctx.Done():
			return true, ctx.Err()
		case <-x.ctl.abort:
			return false, nil
		case <-clock.After(wait):
		}
	}
}

// pauseEnd returns when the pause before wave w (0-based) ends: zero for
// the first wave or a job without pause. The pause's start is the event
// recorded the first time the run got here.
func (x *runExec) pauseEnd(ctx context.Context, w int) (time.Time, error) {
	p := x.job.Rollout.Pause
	if w == 0 || p <= 0 {
		return time.Time{}, nil
	}
	tag := pauseTag(w, len(x.run.Waves))
	for i := len(x.ev) - 1; i >= 0; i-- {
		if e := x.ev[i]; e.Action == engine.EventPause && strings.HasPrefix(e.Reason, tag) {
			return e.At.Add(p), nil
		}
	}
	start := x.r.opts.Clock.Now()
	if err := x.event(ctx, engine.EventPause, engine.ActorRipple, fmt.Sprintf("%s %s, until %s", tag, p, start.Add(p).UTC().Format(time.RFC3339))); err != nil {
		return time.Time{}, err
	}
	return start.Add(p), nil
}

// WindowRecheck bounds how long a run waiting for its window sleeps before
// it looks again at the window of the applied commit (ApplyConfig).
const WindowRecheck = time.Minute

// pauseTag starts the reason of the pause event before wave w (0-based).
func pauseTag(w, waves int) string {
	return fmt.Sprintf("before wave %d/%d:", w+1, waves)
}

// window returns the job's maintenance window, nil when it has none (or it
// does not parse, which Load reports). Once a commit is applied
// (ApplyConfig), the job's window there wins over the one at the run's
// commit.
func (x *runExec) window() (string, *schedule.Window) {
	defs, job := x.defs, x.job
	if p := x.r.windowDefs(); p != nil && p.Jobs[x.run.Job] != nil {
		defs, job = p, p.Jobs[x.run.Job]
	}
	name := job.Window
	if name == "" {
		return "", nil
	}
	win := defs.Windows[name]
	if win == nil {
		return "", nil // Load reports a dangling window
	}
	sched := schedule.NewWindow(win)
	if sched == nil {
		x.log.Warn().Str("window", name).Msg("window does not parse; not waiting for it")
		return "", nil
	}
	if defs != x.defs && !sameWindow(win, x.defs.Windows[x.job.Window]) && x.followed != defs.Commit {
		x.followed = defs.Commit
		x.log.Info().Str("window", name).Str("at", engine.ShortCommit(defs.Commit)).Msg("the run follows the window of the applied commit")
	}
	return name, sched
}

func sameWindow(a, b *definitions.Window) bool {
	return b != nil && a.Name == b.Name && a.Cron == b.Cron && a.Duration == b.Duration && a.Timezone == b.Timezone
}

// waitForWindow records that wave w waits for window name, which opens
// next. The commit status says so too; see waitingStatus.
func (x *runExec) waitForWindow(ctx context.Context, w int, name string, next time.Time) error {
	opens := next.UTC().Format(time.RFC3339)
	x.run.State = engine.RunWaitingWindow
	x.run.Summary = fmt.Sprintf("wave %d/%d waits for window %s (opens %s)", w+1, len(x.run.Waves), name, opens)
	state, desc := "pending", x.run.Summary
	if !rollsOutItsCommit(x.run) {
		state, desc = "success", fmt.Sprintf("waiting for window %s (opens %s), then wave %d/%d", name, opens, w+1, len(x.run.Waves))
	}
	if err := x.r.setStatus(ctx, x.run, state, desc); err != nil {
		return err
	}
	if err := x.save(ctx); err != nil {
		return err
	}
	x.log.Info().Str("window", name).Time("opens", next).Int("wave", w+1).Msg("waiting for the maintenance window")
	x.report(engine.ProgressEvent{Kind: engine.ProgressWaiting, Wave: w + 1, Message: x.run.Summary})
	return nil
}

func (x *runExec) windowOpened(ctx context.Context) error {
	x.run.State = engine.RunRunning
	return x.save(ctx)
}

// rollsOutItsCommit reports whether run is the rollout of its commit (a
// merge's run, `ripple apply`), rather than a run again at a commit already
// applied (scheduled, manual, sync, self-heal).
//
// While a run waits for its maintenance window, possibly for hours, its
// commit status is pending only if it rolls out its commit: that commit is
// not applied until it has run, and whatever waits on its status should
// wait. Any other run would hold an applied commit's status pending (and
// branch protection with it) for nothing, and GitHub has no state for "not
// started yet", so it posts success with a description that says what it
// waits for ("scheduled run: waiting for window night (opens T), then wave
// 1/2"), and pending again once a wave starts. Posting no status instead
// would leave what the run posted last, pending too: "queued", or the
// previous wave's status when the window closed between waves. See
// docs/daemon.md.
func rollsOutItsCommit(run *engine.Run) bool {
	return run.Trigger == engine.TriggerCommit || run.Trigger == engine.TriggerApply
}
