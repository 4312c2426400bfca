package gitops

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/ripple-ops/ripple/engine"
	"github.com/ripple-ops/ripple/engine/backoff"
)

// storeCheck is how often watchStore looks at the store's health when
// nothing woke it: a write elsewhere (a monitor's result, a status) may
// have found the store unable to write.
const storeCheck = time.Second

// storeFailed wakes watchStore: a run just stopped on a write the store
// could not make.
func (d *Daemon) storeFailed() {
	select {
	case d.storeKick <- struct{}{}:
	default:
	}
}

// watchStore runs while the daemon runs (Options.Health set). Whenever the
// store reports it cannot write, or a run waits for it, it probes the
// store with a real write, with backoff, until a probe succeeds; then it
// tells the loop, which resumes the runs the failure stopped. Without it,
// a store that came back would stay reported unwritable until some other
// write happened to succeed, and the stopped runs would wait for a restart.
func (d *Daemon) watchStore(ctx context.Context) {
	t := time.NewTicker(storeCheck)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-d.storeKick:
		}
		if d.opts.Health.WriteHealth().Writable && len(d.queue.heldRuns()) == 0 {
			continue
		}
		if !d.probeUntilWritable(ctx) {
			return
		}
		select {
		case d.storeBack <- struct{}{}:
		default:
		}
	}
}

// probeUntilWritable probes the store until a probe succeeds (true) or ctx
// ends (false). The waits grow from StoreRetry to StoreRetryMax with
// jitter: a full disk is not fixed by probing it faster, and an operator
// freeing space sees ripple resume within StoreRetryMax.
func (d *Daemon) probeUntilWritable(ctx context.Context) bool {
	retry := backoff.Policy{Base: d.opts.StoreRetry, Max: d.opts.StoreRetryMax}
	var since time.Time
	for attempt := 1; ; attempt++ {
		err := d.opts.Health.Probe(ctx)
		if err == nil {
			if !since.IsZero() {
				d.log.Info().Stringer("after", time.Since(since).Round(time.Millisecond)).Int("probes", attempt).Msg("the store writes again")
			}
			return true
		}
		if ctx.Err() != nil {
			return false
		}
		wait := retry.Delay(attempt)
		if since.IsZero() {
			since = time.Now()
			d.log.Error().Err(err).Ints64("stopped_runs", d.queue.heldRuns()).
				Msg("the store cannot write; runs that need it wait, and it is probed until it can (free space in the data directory)")
		} else {
			d.log.Debug().Err(err).Stringer("retry_in", wait).Int("attempt", attempt).Msg("store probe")
		}
		select {
		case <-ctx.Done():
			return false
		case <-time.After(wait):
		}
	}
}

// storeStatus adds the store's health to st: whether it writes and the
// runs waiting for it; while it cannot write, LastError says so, ahead of
// any fetch or reconcile error.
func (d *Daemon) storeStatus(st *engine.DaemonStatus) {
	if d.opts.Health == nil {
		return
	}
	h := d.opts.Health.WriteHealth()
	h.StoppedRuns = d.queue.heldRuns()
	st.Store = &h
	if h.Writable {
		return
	}
	msg := fmt.Sprintf("%s (since %s", h.Error, h.Since.UTC().Format(time.RFC3339))
	ids := make([]string, len(h.StoppedRuns))
	for i, id := range h.StoppedRuns {
		ids[i] = fmt.Sprint(id)
	}
	switch len(ids) {
	case 0:
	case 1:
		msg += "; run " + ids[0] + " stopped and resumes once it writes again"
	default:
		msg += "; runs " + strings.Join(ids, ", ") + " stopped and resume once it writes again"
	}
	st.LastError = msg + ")"
}
