package main

import (
	"context"
	"time"

	"github.com/rs/zerolog"

	"github.com/ripple-ops/ripple/definitions"
	"github.com/ripple-ops/ripple/engine"
)

// compactEvery is how often serve applies the store's retention.
const compactEvery = 5 * time.Minute

// compactor is the part of the store that retention needs.
type compactor interface {
	Compact(ctx context.Context, now time.Time) error
}

// runCompaction applies the store's retention once at start, then every
// interval until ctx ends. A failed compaction is logged and tried again at
// the next tick; it never stops serve.
func runCompaction(ctx context.Context, store compactor, interval time.Duration, clock engine.Clock, log zerolog.Logger) error {
	log = log.With().Str("component", "compaction").Logger()
	for {
		start := clock.Now()
		if err := store.Compact(ctx, start); err != nil {
			if ctx.Err() != nil {
				return nil
			}
			log.Error().Err(err).Msg("store compaction")
		} else {
			log.Debug().Dur("took", clock.Now().Sub(start)).Msg("store compacted")
		}
		select {
		case <-ctx.Done():
			return nil
		case <-clock.After(interval):
		}
	}
}

// scheduleWiring connects the Scheduler to the daemon: apply is called
// from the daemon's OnDefinitions hook with each applied commit's
// definitions; run waits for the first of them, catches up on missed
// firings once, then fires schedules until ctx ends.
type scheduleWiring struct {
	sched *engine.Scheduler
	log   zerolog.Logger
	first chan struct{} // closed after the first successful apply
}

func newScheduleWiring(starter engine.ScheduledRunStarter, firings engine.FiringStore, log zerolog.Logger) *scheduleWiring {
	log = log.With().Str("component", "scheduler").Logger()
	sched := engine.NewScheduler(engine.SchedulerOptions{Starter: starter, Firings: firings, Logger: log})
	return &scheduleWiring{sched: sched, log: log, first: make(chan struct{})}
}

// apply loads the schedules of an applied commit. On error the previous
// schedules stay in force. It runs in the daemon's goroutine, so it must
// not start runs itself: CatchUp, which does, runs in run's goroutine.
func (w *scheduleWiring) apply(defs *definitions.Definitions) {
	if err := w.sched.ApplyConfig(defs); err != nil {
		w.log.Error().Err(err).Msg("schedules not updated; the previous ones stay in force")
		return
	}
	select {
	case <-w.first:
	default:
		close(w.first)
	}
}

func (w *scheduleWiring) run(ctx context.Context) error {
	select {
	case <-ctx.Done():
		return nil
	case <-w.first:
	}
	if err := w.sched.CatchUp(ctx); err != nil && ctx.Err() == nil {
		w.log.Error().Err(err).Msg("catch up on missed schedule firings")
	}
	return w.sched.Run(ctx)
}
