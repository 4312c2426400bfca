package monitor

import (
	"container/heap"
	"fmt"
	"time"

	"github.com/ripple-ops/ripple/definitions"
	"github.com/ripple-ops/ripple/engine"
)

// Dependencies: which failing (monitor, host) pairs do not alert because
// something they depend on fails, in terms of entries and their states
// only (any kind of check and trap states alike: a trap block can be a
// connectivity monitor or a depends_on target).
//
//   - A host is down while one of its connectivity monitors' latest result
//     is CRITICAL or UNKNOWN (a Nagios host check; WARNING is up), without
//     waiting for alert_after.
//   - A host is unreachable while a parent (host parents) is down or
//     unreachable. Every monitor of an unreachable host is suppressed,
//     connectivity monitors included: the parent alerts for it.
//   - The other monitors of a down host are suppressed: its connectivity
//     monitor alerts for it.
//   - An SSH check that could not reach its host (the connection failed)
//     is suppressed when the host has a connectivity monitor, even before
//     that monitor's next result says the host is down: one unreachable
//     host raises one alert, its connectivity monitor's.
//   - A monitor is suppressed while one of its depends_on monitors is not
//     OK on the same host.
//   - An alert about to go out waits for the dependencies checked before
//     its failure began (the host's and its parents' connectivity
//     monitors, its depends_on monitors) to be checked again, at most
//     their interval and timeout (plus ControlRefresh when another node
//     checks them); a dependency this node checks is checked at once. So
//     a child of a switch that died does not alert in the seconds before
//     the switch's own check finds it down.
//
// Evaluating a pair looks at its host's connectivity monitors, its
// parents' (up the chain) and its own depends_on: a few map lookups,
// independent of the size of the fleet.

// indexDependencies builds what suppression looks up, from the entries
// of defs. Call it with r.mu held, after r.entries is swapped.
func (r *Runner) indexDependencies(defs *definitions.Definitions) {
	r.conn = map[string][]*monitorEntry{}
	r.dependedOn = map[string]bool{}
	r.children = map[string][]string{}
	for k, e := range r.entries {
		if e.monitor.Connectivity {
			r.conn[k.host] = append(r.conn[k.host], e)
		}
	}
	for _, m := range defs.Monitors {
		for _, d := range m.DependsOn {
			r.dependedOn[d] = true
		}
	}
	for name, h := range defs.Hosts {
		for _, p := range h.Parents {
			r.children[p] = append(r.children[p], name)
		}
	}
}

// isGuard reports whether other pairs' suppression reads e's state.
func (r *Runner) isGuard(e *monitorEntry) bool {
	return e.monitor.Connectivity || r.dependedOn[e.key.monitor]
}

// guardView is the state of an entry others depend on: this node's own
// when it checks the pair, else the one its owner saved in the store
// (refreshed every ControlRefresh). A trap block has no owner: every node
// acts on the traps it receives, so its state is the latest trap, this
// node's or the one another node saved.
type guardView struct {
	state  engine.CheckState
	lastAt time.Time
	seen   bool
	remote bool
}

func (r *Runner) view(g *monitorEntry) guardView {
	local := guardView{state: g.state.State, lastAt: g.state.LastAt, seen: g.state.seen}
	if g.passive {
		if v, ok := r.remote[g.key]; ok && v.seen && (!local.seen || v.lastAt.After(local.lastAt)) {
			return v // nothing to wait for or trigger: a trap is never polled
		}
		return local
	}
	if r.owns(g) {
		return local
	}
	v := r.remote[g.key]
	v.remote = true
	return v
}

// isDown: a connectivity result that says the host is down.
func isDown(s engine.CheckState) bool {
	return s == engine.StateCritical || s == engine.StateUnknown
}

// downCause says why host is down ("host-ssh CRITICAL"), "" when it is
// not.
func (r *Runner) downCause(host string) string {
	for _, c := range r.conn[host] {
		if v := r.view(c); v.seen && isDown(v.state) {
			return c.key.monitor + " " + v.state.String()
		}
	}
	return ""
}

// unreachableCause says which parent of host is down, through the chain
// of parents; "" when none is. Cycles are refused at load; depth bounds a
// chain anyway.
func (r *Runner) unreachableCause(host string, depth int) string {
	h := r.defs.Hosts[host]
	if h == nil || depth > 16 {
		return ""
	}
	for _, p := range h.Parents {
		if c := r.downCause(p); c != "" {
			return fmt.Sprintf("parent %s is down: %s", p, c)
		}
		if c := r.unreachableCause(p, depth+1); c != "" {
			return fmt.Sprintf("parent %s is unreachable (%s)", p, c)
		}
	}
	return ""
}

// dependencyCause says what keeps e (not OK) from alerting at `at`, ""
// when nothing does. With trigger, a dependency it waits for and this
// node checks is checked at once (call it with trigger only on a
// transition, never from a read such as States). Call it with r.mu held.
func (r *Runner) dependencyCause(e *monitorEntry, at time.Time, trigger bool) string {
	if r.defs == nil || !e.state.seen || e.state.State == engine.StateOK {
		return ""
	}
	host := e.key.host
	if c := r.unreachableCause(host, 0); c != "" {
		return c
	}
	if !e.monitor.Connectivity {
		if c := r.downCause(host); c != "" {
			return fmt.Sprintf("host %s is down: %s", host, c)
		}
		if e.state.Unreachable && len(r.conn[host]) > 0 {
			return fmt.Sprintf("%s cannot be reached over SSH; its connectivity monitor %s alerts for it", host, r.conn[host][0].key.monitor)
		}
	}
	for _, d := range e.monitor.DependsOn {
		if g := r.entries[entryKey{d, host}]; g != nil {
			if v := r.view(g); v.seen && v.state != engine.StateOK {
				return fmt.Sprintf("depends on %s, which is %s on %s", d, v.state, host)
			}
		}
	}
	if e.state.Firing && !e.state.Notified {
		return r.waitCause(e, at, trigger)
	}
	return ""
}

// waitCause holds an alert about to go out while a dependency has not
// been checked since its failure began (see the package rules above).
func (r *Runner) waitCause(e *monitorEntry, at time.Time, trigger bool) string {
	began := e.state.StreakSince
	if began.IsZero() {
		return ""
	}
	host := e.key.host
	var guards []*monitorEntry
	if !e.monitor.Connectivity {
		guards = append(guards, r.conn[host]...)
	}
	if h := r.defs.Hosts[host]; h != nil {
		for _, p := range h.Parents {
			guards = append(guards, r.conn[p]...)
		}
	}
	for _, d := range e.monitor.DependsOn {
		if g := r.entries[entryKey{d, host}]; g != nil {
			guards = append(guards, g)
		}
	}
	for _, g := range guards {
		if g == e || g.passive {
			continue // a trap is never polled: its latest trap is its answer
		}
		v := r.view(g)
		if v.seen && !v.lastAt.Before(began) {
			continue
		}
		deadline := began.Add(g.monitor.Interval + g.monitor.Timeout)
		if v.remote {
			deadline = deadline.Add(r.opts.ControlRefresh)
		}
		if !at.Before(deadline) {
			continue // it did not answer in time: decide without it
		}
		r.wakeBy(deadline)
		if trigger && !v.remote && !g.running && !g.removed && g.index >= 0 && g.due.After(at) {
			g.due = at
			heap.Fix(&r.queue, g.index)
			r.signal()
		}
		return fmt.Sprintf("waiting for %s on %s, last checked before this failure began", g.key.monitor, g.key.host)
	}
	return ""
}

// affectedHosts are the hosts whose suppression a result of g can
// change: its own, and for a connectivity monitor every host behind it.
func (r *Runner) affectedHosts(g *monitorEntry) []string {
	out := []string{g.key.host}
	if !g.monitor.Connectivity {
		return out
	}
	seen := map[string]bool{g.key.host: true}
	for i := 0; i < len(out); i++ {
		for _, c := range r.children[out[i]] {
			if !seen[c] {
				seen[c] = true
				out = append(out, c)
			}
		}
	}
	return out
}
