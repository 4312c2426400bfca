package monitor

import (
	"context"
	"time"

	"github.com/ripple-ops/ripple/engine"
)

// What is owed but held: an entry whose alert or recovery has not gone
// out (Firing != Notified) because a suppression holds it is unsettled.
// When something that may end a suppression happens (a dependency's
// result, a silence made or expired, a deadline), the unsettled entries
// it concerns are decided again; the rest are left alone, so a result
// costs nothing for the fleet's other hosts.

// owedSend is what a sweep decided for one entry: saved, then sent.
type owedSend struct {
	key      entryKey
	notify   []string
	notes    []engine.Notification
	snapshot AlertState
}

// settle files e as unsettled or not after its state changed. Call it
// with r.mu held.
func (r *Runner) settle(e *monitorEntry) {
	owed := e.state.seen && e.state.Firing != e.state.Notified && !e.removed
	byKey := r.unsettled[e.key.host]
	switch {
	case owed && byKey == nil:
		r.unsettled[e.key.host] = map[entryKey]*monitorEntry{e.key: e}
	case owed:
		byKey[e.key] = e
	case byKey != nil:
		delete(byKey, e.key)
		if len(byKey) == 0 {
			delete(r.unsettled, e.key.host)
		}
	}
}

// sweepLocked decides again the unsettled entries of hosts at now, and
// returns what to save and send. Call it with r.mu held; hand the result
// to deliver once the lock is released.
func (r *Runner) sweepLocked(hosts []string, now time.Time) []owedSend {
	return r.sweepEntries(hosts, false, now)
}

// sweepAllLocked is sweepLocked for every host; it also sets the next
// wake-up afresh (a silence's end, a wait's deadline).
func (r *Runner) sweepAllLocked(now time.Time) []owedSend {
	return r.sweepEntries(nil, true, now)
}

func (r *Runner) sweepEntries(hosts []string, all bool, now time.Time) []owedSend {
	var out []owedSend
	visit := func(byKey map[entryKey]*monitorEntry) {
		for _, e := range byKey {
			if !r.owns(e) {
				continue
			}
			notes := e.state.Release(e.key.monitor, e.key.host, now, r.suppressionAt(e, now, true))
			if len(notes) > 0 {
				r.issue(e, notes)
				out = append(out, owedSend{e.key, e.monitor.Notify, notes, e.state})
			}
		}
	}
	if all {
		r.wakeAt = time.Time{}
		r.noteSilenceEnds(now)
		for _, byKey := range r.unsettled {
			visit(byKey)
		}
	} else {
		for _, h := range hosts {
			visit(r.unsettled[h])
		}
	}
	for _, o := range out {
		if e := r.entries[o.key]; e != nil {
			r.settle(e)
		}
	}
	if len(out) > 0 {
		r.changed()
	}
	return out
}

// deliver saves and sends what a sweep decided.
func (r *Runner) deliver(ctx context.Context, sends []owedSend) {
	for _, o := range sends {
		r.saveState(ctx, o.key, o.snapshot)
		r.send(ctx, o.notify, o.notes)
	}
}

// wakeBy makes Run sweep every unsettled entry at t at the latest. Call
// it with r.mu held.
func (r *Runner) wakeBy(t time.Time) {
	if r.wakeAt.IsZero() || t.Before(r.wakeAt) {
		r.wakeAt = t
		r.signal()
	}
}

// sweep decides again the unsettled entries of hosts (all when nil) now,
// and delivers what it owes.
func (r *Runner) sweep(ctx context.Context, hosts []string) {
	r.mu.Lock()
	var sends []owedSend
	if hosts == nil {
		sends = r.sweepAllLocked(r.opts.Now())
	} else {
		sends = r.sweepLocked(hosts, r.opts.Now())
	}
	r.mu.Unlock()
	r.deliver(ctx, sends)
}
