package monitor

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/ripple-ops/ripple/engine"
)

// Silences and acknowledgements: operators' say on alerts. They are kept
// in the store (Options.Silences, Options.Acks), where every node of a
// cluster reads them: this node at once after its own change, the others
// at once when it announces the change (Options.Announcer, heard through
// RefreshControls), and every ControlRefresh in case an announcement was
// missed.

// MaxSilence is the longest silence: one forgotten for longer would hide
// real alerts (a silence always ends by itself).
const MaxSilence = 90 * 24 * time.Hour

// suppressionAt is everything that keeps e from notifying at `at`. Call
// it with r.mu held; trigger as for dependencyCause.
func (r *Runner) suppressionAt(e *monitorEntry, at time.Time, trigger bool) Suppression {
	var s Suppression
	if e.window != nil {
		s.Muted, _ = e.window.OpenAt(at)
	}
	s.Held = r.held[e.key.host] > 0
	s.Silenced = r.silenceOf(e.key, at) != nil
	if a, ok := r.acks[e.key]; ok && e.state.seen && a.Covers(e.state.State, e.state.Since) {
		s.Acked = true
	}
	s.Cause = r.dependencyCause(e, at, trigger)
	return s
}

// silenceOf is the active silence of k at `at` that ends last, nil when
// none.
func (r *Runner) silenceOf(k entryKey, at time.Time) *engine.Silence {
	var out *engine.Silence
	for i, s := range r.silences[k.monitor] {
		if s.Matches(k.monitor, k.host) && s.Active(at) && !at.Before(s.Created) && (out == nil || s.Ends.After(out.Ends)) {
			out = &r.silences[k.monitor][i]
		}
	}
	return out
}

// ackOf is the acknowledgement of e's current state, nil when none.
func (r *Runner) ackOf(e *monitorEntry) *engine.Ack {
	if a, ok := r.acks[e.key]; ok && e.state.seen && a.Covers(e.state.State, e.state.Since) {
		return &a
	}
	return nil
}

// noteSilenceEnds makes Run wake when the next active silence ends. Call
// it with r.mu held.
func (r *Runner) noteSilenceEnds(now time.Time) {
	for _, list := range r.silences {
		for _, s := range list {
			if s.Active(now) {
				r.wakeBy(s.Ends)
			}
		}
	}
}

// setControls swaps in the silences and acknowledgements read from the
// store and reports whether anything changed. Call it with r.mu held.
func (r *Runner) setControls(now time.Time, silences []engine.Silence, acks []engine.Ack) bool {
	next := map[string][]engine.Silence{}
	for _, s := range silences {
		if s.Active(now) {
			next[s.Monitor] = append(next[s.Monitor], s)
		}
	}
	nextAcks := make(map[entryKey]engine.Ack, len(acks))
	for _, a := range acks {
		nextAcks[entryKey{a.Monitor, a.Host}] = a
	}
	changed := !sameSilences(r.silences, next) || len(nextAcks) != len(r.acks)
	if !changed {
		for k, a := range nextAcks {
			if r.acks[k] != a {
				changed = true
				break
			}
		}
	}
	r.silences, r.acks = next, nextAcks
	r.noteSilenceEnds(now)
	if changed {
		r.changed()
	}
	return changed
}

func sameSilences(a, b map[string][]engine.Silence) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if !slices.Equal(v, b[k]) {
			return false
		}
	}
	return true
}

// loadControls reads silences and acknowledgements from the store; with
// nothing to read from it does nothing. It returns whether they changed.
func (r *Runner) loadControls(ctx context.Context) (bool, error) {
	if r.opts.Silences == nil && r.opts.Acks == nil {
		return false, nil
	}
	now := r.opts.Now()
	var silences []engine.Silence
	var acks []engine.Ack
	var err error
	if r.opts.Silences != nil {
		if silences, err = r.opts.Silences.Silences(ctx, now, 0); err != nil {
			return false, err
		}
	}
	if r.opts.Acks != nil {
		if acks, err = r.opts.Acks.Acks(ctx); err != nil {
			return false, err
		}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.setControls(now, silences, acks), nil
}

// refresh reads what other nodes may have changed: silences,
// acknowledgements and, in a cluster, the states of the pairs others
// depend on that another node checks; then decides again what they may
// release.
func (r *Runner) refresh(ctx context.Context) {
	changed, err := r.loadControls(ctx)
	if err != nil {
		r.opts.Logger.Warn().Err(err).Msg("read silences and acknowledgements")
	}
	hosts, err := r.refreshRemote(ctx)
	if err != nil {
		r.opts.Logger.Warn().Err(err).Msg("read the states of dependencies other nodes check")
	}
	switch {
	case changed:
		r.sweep(ctx, nil)
	case len(hosts) > 0:
		r.sweep(ctx, hosts)
	}
}

// refreshRemote reads from the store the states of the entries others
// depend on that another node checks (or, for trap blocks, may have
// received), and returns the hosts whose suppression may have changed.
// Nothing is read outside a cluster.
func (r *Runner) refreshRemote(ctx context.Context) ([]string, error) {
	if r.opts.Owns == nil || r.opts.States == nil {
		return nil, nil
	}
	r.mu.Lock()
	want := map[entryKey]*monitorEntry{}
	for k, e := range r.entries {
		if r.isGuard(e) && (!r.owns(e) || e.passive) {
			want[k] = e
		}
	}
	r.mu.Unlock()
	if len(want) == 0 {
		return nil, nil
	}
	recs, err := r.opts.States.MonitorStates(ctx)
	if err != nil {
		return nil, err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	var hosts []string
	next := make(map[entryKey]guardView, len(want))
	for _, rec := range recs {
		k := entryKey{rec.Monitor, rec.Host}
		e, ok := want[k]
		if !ok {
			continue
		}
		v := guardView{state: rec.State, lastAt: rec.LastAt, seen: !rec.LastAt.IsZero()}
		next[k] = v
		if old := r.remote[k]; old.state != v.state || !old.lastAt.Equal(v.lastAt) || old.seen != v.seen {
			hosts = append(hosts, r.affectedHosts(e)...)
		}
	}
	r.remote = next
	return hosts, nil
}

// SilenceRequest is an operator's silence: Monitor, optionally on Host
// alone, for For, with a Reason.
type SilenceRequest struct {
	Monitor, Host string
	For           time.Duration
	Actor, Reason string
}

// AddSilence silences a monitor (on one host, or all of its hosts) for a
// while, records it and its audit event in the store, and applies it at
// once. The monitor and host must be in the applied commit, the duration
// positive and at most MaxSilence, and a reason given: anything else is
// an engine.ErrInvalidRequest or ErrNotFound error that changes nothing.
func (r *Runner) AddSilence(ctx context.Context, req SilenceRequest) (engine.Silence, error) {
	if r.opts.Silences == nil {
		return engine.Silence{}, fmt.Errorf("this daemon keeps no silences: %w", engine.ErrNotRunning)
	}
	reason := strings.TrimSpace(req.Reason)
	switch {
	case reason == "":
		return engine.Silence{}, fmt.Errorf("a silence needs a reason: say why the alerts may stop: %w", engine.ErrInvalidRequest)
	case req.For <= 0:
		return engine.Silence{}, fmt.Errorf("a silence needs a positive duration, such as 2h: %w", engine.ErrInvalidRequest)
	case req.For > MaxSilence:
		return engine.Silence{}, fmt.Errorf("a silence lasts at most %s (90 days), not %s: %w", MaxSilence, req.For, engine.ErrInvalidRequest)
	}
	if err := r.checkTarget(req.Monitor, req.Host); err != nil {
		return engine.Silence{}, err
	}
	now := r.opts.Now()
	s := engine.Silence{Monitor: req.Monitor, Host: req.Host, Actor: req.Actor, Reason: reason, Created: now, Ends: now.Add(req.For)}
	if err := r.opts.Silences.AddSilence(ctx, &s); err != nil {
		return engine.Silence{}, err
	}
	r.mu.Lock()
	r.silences[s.Monitor] = append(r.silences[s.Monitor], s)
	r.wakeBy(s.Ends)
	r.changed()
	r.mu.Unlock()
	r.opts.Logger.Info().Str("monitor", s.Monitor).Str("host", s.Host).Str("actor", s.Actor).Time("until", s.Ends).Int64("silence", s.ID).Msg("silenced")
	r.announce(ctx, "silence")
	return s, nil
}

// ExpireSilence ends silence id now; an alert it held that still fires is
// sent at once.
func (r *Runner) ExpireSilence(ctx context.Context, id int64, actor, reason string) (engine.Silence, error) {
	if r.opts.Silences == nil {
		return engine.Silence{}, fmt.Errorf("this daemon keeps no silences: %w", engine.ErrNotRunning)
	}
	reason = strings.TrimSpace(reason)
	if reason == "" {
		return engine.Silence{}, fmt.Errorf("expiring a silence needs a reason: %w", engine.ErrInvalidRequest)
	}
	s, err := r.opts.Silences.ExpireSilence(ctx, id, r.opts.Now(), actor, reason)
	if err != nil {
		return engine.Silence{}, err
	}
	r.mu.Lock()
	list := r.silences[s.Monitor]
	r.silences[s.Monitor] = slices.DeleteFunc(slices.Clone(list), func(x engine.Silence) bool { return x.ID == id })
	r.changed()
	r.mu.Unlock()
	r.opts.Logger.Info().Str("monitor", s.Monitor).Str("host", s.Host).Str("actor", actor).Int64("silence", id).Msg("silence expired")
	r.announce(ctx, "expire silence")
	r.sweep(ctx, nil)
	return s, nil
}

// Silences lists the silences that run at now (all, with expired ones
// too, when all is set), newest first, from the store.
func (r *Runner) Silences(ctx context.Context, all bool) ([]engine.Silence, error) {
	if r.opts.Silences == nil {
		return nil, nil
	}
	after := r.opts.Now()
	if all {
		after = time.Time{}
	}
	return r.opts.Silences.Silences(ctx, after, 500)
}

// Acknowledge acknowledges the current state of monitor on host: no
// further notification of it until it changes. The pair must exist and
// not be OK (engine.ErrConflict otherwise), and a reason be given.
func (r *Runner) Acknowledge(ctx context.Context, monitor, host, actor, reason string) (engine.Ack, error) {
	if r.opts.Acks == nil {
		return engine.Ack{}, fmt.Errorf("this daemon keeps no acknowledgements: %w", engine.ErrNotRunning)
	}
	reason = strings.TrimSpace(reason)
	if reason == "" {
		return engine.Ack{}, fmt.Errorf("an acknowledgement needs a reason: say who is on it or why: %w", engine.ErrInvalidRequest)
	}
	if host == "" {
		return engine.Ack{}, fmt.Errorf("acknowledge a monitor on one host, MONITOR@HOST: %w", engine.ErrInvalidRequest)
	}
	if err := r.checkTarget(monitor, host); err != nil {
		return engine.Ack{}, err
	}
	st, err := r.currentState(ctx, entryKey{monitor, host})
	if err != nil {
		return engine.Ack{}, err
	}
	switch {
	case !st.seen:
		return engine.Ack{}, fmt.Errorf("%s on %s has no result yet: nothing to acknowledge: %w", monitor, host, engine.ErrConflict)
	case st.State == engine.StateOK:
		return engine.Ack{}, fmt.Errorf("%s on %s is OK: nothing to acknowledge: %w", monitor, host, engine.ErrConflict)
	}
	a := engine.Ack{Monitor: monitor, Host: host, State: st.State, StateSince: st.Since, Actor: actor, Reason: reason, At: r.opts.Now()}
	if err := r.opts.Acks.AddAck(ctx, a); err != nil {
		return engine.Ack{}, err
	}
	r.mu.Lock()
	r.acks[entryKey{monitor, host}] = a
	r.changed()
	r.mu.Unlock()
	r.opts.Logger.Info().Str("monitor", monitor).Str("host", host).Str("actor", actor).Str("state", a.State.String()).Msg("acknowledged")
	r.announce(ctx, "acknowledgement")
	return a, nil
}

// checkTarget checks that monitor is in the applied commit and, when
// host is set, runs on it.
func (r *Runner) checkTarget(monitor, host string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.defs == nil || r.defs.Monitors[monitor] == nil {
		return fmt.Errorf("no monitor %q at the applied commit: %w", monitor, engine.ErrNotFound)
	}
	if host != "" && r.entries[entryKey{monitor, host}] == nil {
		return fmt.Errorf("monitor %q does not run on host %q: %w", monitor, host, engine.ErrNotFound)
	}
	return nil
}

// currentState is the state of k: this node's when it checks the pair,
// else the one its owner saved in the store.
func (r *Runner) currentState(ctx context.Context, k entryKey) (AlertState, error) {
	r.mu.Lock()
	e := r.entries[k]
	if e != nil && r.owns(e) {
		st := e.state
		r.mu.Unlock()
		return st, nil
	}
	r.mu.Unlock()
	if r.opts.States == nil {
		return AlertState{}, nil
	}
	recs, err := r.opts.States.MonitorStates(ctx)
	if err != nil {
		return AlertState{}, fmt.Errorf("read the state of %s on %s: %w", k.monitor, k.host, err)
	}
	for _, rec := range recs {
		if rec.Monitor == k.monitor && rec.Host == k.host {
			return AlertState{State: rec.State, Since: rec.Since, seen: !rec.LastAt.IsZero()}, nil
		}
	}
	return AlertState{}, nil
}

// AckOf is the latest acknowledgement of monitor on host, of whatever
// state it was given for (see engine.Ack.Covers); ok is false when none.
// A cluster node shows it for the pairs other nodes check.
func (r *Runner) AckOf(monitor, host string) (a engine.Ack, ok bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	a, ok = r.acks[entryKey{monitor, host}]
	return a, ok
}

// RefreshControls makes Run read silences and acknowledgements again at
// once: another node announced a change. It never blocks; calls made
// while a read is pending make one read.
func (r *Runner) RefreshControls() {
	select {
	case r.reread <- struct{}{}:
	default:
	}
}

// refreshControls reads silences and acknowledgements and, when they
// changed, decides again what they may release.
func (r *Runner) refreshControls(ctx context.Context) {
	changed, err := r.loadControls(ctx)
	if err != nil {
		r.opts.Logger.Warn().Err(err).Msg("read silences and acknowledgements")
	}
	if changed {
		r.sweep(ctx, nil)
	}
}

// announce tells the other nodes, when there are any, that this node
// changed silences or acknowledgements. A failure is logged: the change
// is recorded, and the other nodes read it at their next refresh.
func (r *Runner) announce(ctx context.Context, what string) {
	if r.opts.Announcer == nil {
		return
	}
	// The change is recorded: announce it even when the caller has gone.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if err := r.opts.Announcer.AnnounceControls(ctx); err != nil {
		r.opts.Logger.Warn().Err(err).Str("change", what).Dur("refresh", r.opts.ControlRefresh).
			Msg("announce the change to the other nodes; they read it at their next refresh")
	}
}
