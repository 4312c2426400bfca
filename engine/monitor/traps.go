package monitor

import (
	"container/heap"
	"context"
	"fmt"
	"net/netip"
	"slices"
	"sync/atomic"
	"time"

	"github.com/ripple-ops/ripple/definitions"
	"github.com/ripple-ops/ripple/engine"
)

// Trap blocks are entries of the runner like monitors (severity, holds,
// windows, flapping, notifications, claims, the surfaces all apply), but
// their results come from the trap receiver (ReceiveTrap) instead of a
// poll: they are never scheduled, except to clear after clear_after. In a
// cluster every node acts on the traps it receives, for every host; each
// alert and recovery is claimed once (Options.Claims), so a trap sent to
// two nodes alerts once.
//
// ReceiveTrap only updates states in memory; saving them and sending
// notifications is left to Run's trap goroutine, which coalesces the
// saves of each entry, so a burst of traps costs one write per entry.

var _ engine.TrapSink = (*Runner)(nil)

// trapRuntime is the runner's trap machinery. The maps and the queue are
// guarded by Runner.mu; the rest is safe for concurrent use.
type trapRuntime struct {
	limiter *trapLimiter
	unknown unknownTraps
	counts  trapCounters
	listen  atomic.Pointer[string]
	wake    chan struct{}

	byAddr map[netip.Addr][]*monitorEntry     // trap entries by host address
	hosts  map[netip.Addr][]*definitions.Host // hosts by address
	dirty  map[entryKey]*monitorEntry         // states to save
	sends  []trapSend                         // notifications to send, in order
}

type trapSend struct {
	notify []string
	notes  []engine.Notification
}

// maxTrapSends bounds notifications waiting for the trap goroutine; the
// latest of each entry also stays owed in its state (Pending).
const maxTrapSends = 10000

func newTrapRuntime(rate float64, burst int) *trapRuntime {
	return &trapRuntime{
		limiter: newTrapLimiter(rate, burst),
		wake:    make(chan struct{}, 1),
		dirty:   map[entryKey]*monitorEntry{},
	}
}

// indexTraps rebuilds the address indexes from the entries of defs. Call
// it with r.mu held.
func (r *Runner) indexTraps(defs *definitions.Definitions) {
	hosts := map[netip.Addr][]*definitions.Host{}
	for _, h := range defs.Hosts {
		if a, err := netip.ParseAddr(h.Address); err == nil {
			hosts[a.Unmap()] = append(hosts[a.Unmap()], h)
		}
	}
	byAddr := map[netip.Addr][]*monitorEntry{}
	for _, e := range r.entries {
		if !e.passive || e.endpoint.Host == nil {
			continue
		}
		if a, err := netip.ParseAddr(e.endpoint.Host.Address); err == nil {
			byAddr[a.Unmap()] = append(byAddr[a.Unmap()], e)
		}
	}
	r.traps.hosts, r.traps.byAddr = hosts, byAddr
}

// ReceiveTrap implements engine.TrapSink: it matches t to the hosts with
// its source address whose snmp profile authenticated it (any, for a host
// without a profile) and to their trap blocks by OID: a block's oid sets
// its state with the rendered message, its clear OID clears it. A trap
// from no known host, or for which no block has the OID, is counted and
// kept for the traps list, never alerted on. Traps over their source's
// rate are counted and only the latest of each OID is acted on, later.
func (r *Runner) ReceiveTrap(_ context.Context, t engine.Trap) {
	now := r.opts.Now()
	if t.At.IsZero() {
		t.At = now
	}
	t.Source = t.Source.Unmap()
	if !r.traps.limiter.allow(t, now) {
		r.traps.counts.rateLimited.Add(1)
		return
	}
	r.handleTrap(t)
}

// TrapDropped implements engine.TrapSink.
func (r *Runner) TrapDropped(why engine.TrapDrop, _ netip.Addr) {
	switch why {
	case engine.TrapMalformed:
		r.traps.counts.malformed.Add(1)
	default:
		r.traps.counts.rejected.Add(1)
	}
}

// ListeningForTraps implements engine.TrapSink.
func (r *Runner) ListeningForTraps(addr string) {
	r.traps.listen.Store(&addr)
}

// TrapReport is the receiver's counts and the traps that matched nothing.
func (r *Runner) TrapReport() engine.TrapReport {
	var listen string
	if p := r.traps.listen.Load(); p != nil {
		listen = *p
	}
	return engine.TrapReport{Listen: listen, Counts: r.traps.counts.snapshot(), Unknown: r.traps.unknown.list()}
}

type trapHit struct {
	e        *monitorEntry
	set      bool // the block's oid; false: its clear OID
	spec     *definitions.HostTrap
	renderer *definitions.TrapRenderer
}

func (r *Runner) handleTrap(t engine.Trap) {
	r.mu.Lock()
	hosts := r.traps.hosts[t.Source]
	if len(hosts) == 0 {
		r.mu.Unlock()
		r.traps.counts.unknownSource.Add(1)
		r.traps.unknown.add(t, "", "unknown source")
		return
	}
	var allowed []string
	for _, h := range hosts {
		if h.SNMP == "" || slices.Contains(t.Profiles, h.SNMP) {
			allowed = append(allowed, h.Name)
		}
	}
	if len(allowed) == 0 {
		r.mu.Unlock()
		r.traps.counts.wrongProfile.Add(1)
		r.opts.Logger.Debug().Str("source", t.Source.String()).Strs("profiles", t.Profiles).Msg("trap authenticated by a profile that is not its host's; dropped")
		return
	}
	slices.Sort(allowed)
	var hits []trapHit
	for _, e := range r.traps.byAddr[t.Source] {
		spec := e.check.Trap
		if spec == nil || !slices.Contains(allowed, e.key.host) {
			continue
		}
		set, clear := spec.OID == t.OID, spec.ClearOID != "" && spec.ClearOID == t.OID
		if set || clear {
			hits = append(hits, trapHit{e, set, spec, e.renderer})
		}
	}
	r.mu.Unlock()
	if len(hits) == 0 {
		r.traps.counts.unmatched.Add(1)
		r.traps.unknown.add(t, allowed[0], "no trap block")
		return
	}
	r.traps.counts.matched.Add(1)

	// Messages are rendered outside the lock.
	vals := definitions.TrapValues{OID: t.OID, Source: t.Source.String(), Varbinds: t.Varbinds}
	results := make([]engine.CheckResult, len(hits))
	for i, h := range hits {
		if !h.set {
			results[i] = engine.CheckResult{State: engine.StateOK, At: t.At,
				Output: fmt.Sprintf("cleared by trap %s from %s", t.OID, t.Source)}
			continue
		}
		msg, err := h.renderer.Render(vals)
		if err != nil {
			msg += " (" + err.Error() + ")"
		}
		results[i] = engine.CheckResult{State: trapState(h.spec.State), Output: msg, At: t.At}
	}
	r.mu.Lock()
	for i, h := range hits {
		if !h.e.removed {
			r.observeTrap(h.e, results[i], h.set)
		}
	}
	r.mu.Unlock()
	r.wakeTraps()
}

// observeTrap feeds one result into a trap entry's state, arms or disarms
// its clear_after timer and queues the save and the notifications. Call
// it with r.mu held.
func (r *Runner) observeTrap(e *monitorEntry, res engine.CheckResult, set bool) {
	res.Output = r.opts.Redact.Redact(res.Output)
	notes, swept := r.observe(e, res)
	switch spec := e.check.Trap; {
	case set && spec.ClearAfter > 0:
		e.due = res.At.Add(spec.ClearAfter)
		if e.index >= 0 {
			heap.Fix(&r.queue, e.index)
		} else {
			heap.Push(&r.queue, e)
		}
		r.signal()
	case !set && e.index >= 0:
		heap.Remove(&r.queue, e.index)
	}
	r.traps.dirty[e.key] = e
	r.queueTrapSend(e.monitor.Notify, notes)
	// What a trap guard released (or still holds) is saved and sent
	// after the trap's own notifications, by the same goroutine.
	for _, o := range swept {
		if d := r.entries[o.key]; d != nil {
			r.traps.dirty[o.key] = d
		}
		r.queueTrapSend(o.notify, o.notes)
	}
}

// queueTrapSend queues notes for the trap goroutine. Call it with r.mu
// held.
func (r *Runner) queueTrapSend(notify []string, notes []engine.Notification) {
	if len(notes) == 0 {
		return
	}
	if len(r.traps.sends) >= maxTrapSends {
		r.traps.sends = r.traps.sends[1:]
	}
	r.traps.sends = append(r.traps.sends, trapSend{notify, notes})
}

// expireTrap clears a trap entry whose clear_after passed without a new
// trap. Call it with r.mu held, the entry popped from the queue.
func (r *Runner) expireTrap(e *monitorEntry, now time.Time) {
	spec := e.check.Trap
	if spec == nil || e.removed || e.state.State == engine.StateOK {
		return
	}
	r.observeTrap(e, engine.CheckResult{State: engine.StateOK, At: now,
		Output: fmt.Sprintf("cleared: no trap %s for %s", spec.OID, spec.ClearAfter)}, false)
	r.wakeTraps()
}

func (r *Runner) wakeTraps() {
	select {
	case r.traps.wake <- struct{}{}:
	default:
	}
}

// runTraps saves trap states and sends their notifications as they come,
// and acts on rate-limited traps once their source is under its limit.
// It returns when ctx ends, after a last save.
func (r *Runner) runTraps(ctx context.Context) {
	tick := time.NewTicker(250 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
			r.flushTraps(fctx, false)
			cancel()
			return
		case <-r.traps.wake:
		case <-tick.C:
			if r.traps.limiter.pending() {
				for _, t := range r.traps.limiter.release(r.opts.Now()) {
					r.handleTrap(t)
				}
			}
		}
		r.flushTraps(ctx, true)
	}
}

// flushTraps saves the states changed since the last flush and, when
// send is set, sends their notifications (a notification not sent stays
// owed in the saved state and goes out after a restart).
func (r *Runner) flushTraps(ctx context.Context, send bool) {
	r.mu.Lock()
	if len(r.traps.dirty) == 0 && len(r.traps.sends) == 0 {
		r.mu.Unlock()
		return
	}
	type snap struct {
		key entryKey
		st  AlertState
	}
	snaps := make([]snap, 0, len(r.traps.dirty))
	for k, e := range r.traps.dirty {
		if !e.removed {
			snaps = append(snaps, snap{k, e.state})
		}
	}
	clear(r.traps.dirty)
	sends := r.traps.sends
	r.traps.sends = nil
	r.mu.Unlock()
	for _, s := range snaps {
		r.saveState(ctx, s.key, s.st)
	}
	if send {
		for _, s := range sends {
			r.send(ctx, s.notify, s.notes)
		}
	}
}

// trapState is a trap block's state as a check state.
func trapState(s string) engine.CheckState {
	switch s {
	case "WARNING":
		return engine.StateWarning
	case "UNKNOWN":
		return engine.StateUnknown
	default:
		return engine.StateCritical
	}
}
