package httpapi

import (
	"cmp"
	"context"
	"slices"
	"time"

	"github.com/ripple-ops/ripple/engine"
)

// HealthStates are the states of a (monitor, host), best first: a host's
// or a monitor's worst state is the last of these it has.
var HealthStates = []string{"OK", StatePending, "UNKNOWN", "WARNING", "CRITICAL"}

// healthRank is s's index in HealthStates; unknown names rank as UNKNOWN.
func healthRank(s string) int {
	switch s {
	case "OK":
		return 0
	case StatePending:
		return 1
	case "WARNING":
		return 3
	case "CRITICAL":
		return 4
	}
	return 2
}

// StateCounts counts (monitor, host) pairs by state, indexed like
// HealthStates.
type StateCounts [5]int

// Total is the number of pairs counted.
func (c StateCounts) Total() int {
	n := 0
	for _, v := range c {
		n += v
	}
	return n
}

// Worst is the worst state counted, "" when none is.
func (c StateCounts) Worst() string {
	for i := len(c) - 1; i >= 0; i-- {
		if c[i] > 0 {
			return HealthStates[i]
		}
	}
	return ""
}

// Of is the count of state s.
func (c StateCounts) Of(s string) int { return c[healthRank(s)] }

// Map is the counts by state name, without the zero ones.
func (c StateCounts) Map() map[string]int {
	out := map[string]int{}
	for i, n := range c {
		if n > 0 {
			out[HealthStates[i]] = n
		}
	}
	return out
}

// Health is the fleet's monitor state counted per monitor and per host in
// one pass over the (monitor, host) states, without building a row per
// pair: what index pages and the overview need at 10,000 hosts.
type Health struct {
	Monitors map[string]*StateCounts
	Hosts    map[string]*StateCounts
	Total    StateCounts
	// Firing counts the pairs alerting, per monitor.
	Firing                map[string]int
	Flapping, Muted, Held int
	Alerting, Undelivered int
	// Problems are the pairs with a result that is not OK, worst first
	// (then by monitor and host).
	Problems []MonitorHost
}

// FleetHealth counts the states of inv's (monitor, host) pairs: pairs
// without a result are PENDING; a state left from a monitor or a host the
// commit no longer has counts for the monitor alone.
func FleetHealth(ctx context.Context, inv *Inventory, src MonitorSource, store any) (*Health, error) {
	h := &Health{Monitors: map[string]*StateCounts{}, Hosts: map[string]*StateCounts{}, Firing: map[string]int{}}
	seenMonitor, seenHost := map[string]int{}, map[string]int{}
	count := func(mh MonitorHost) {
		m := h.Monitors[mh.Monitor]
		if m == nil {
			m = &StateCounts{}
			h.Monitors[mh.Monitor] = m
		}
		r := healthRank(mh.State)
		m[r]++
		h.Total[r]++
		if inv.isTarget(mh.Monitor, mh.Host) {
			seenMonitor[mh.Monitor]++
			seenHost[mh.Host]++
			hc := h.Hosts[mh.Host]
			if hc == nil {
				hc = &StateCounts{}
				h.Hosts[mh.Host] = hc
			}
			hc[r]++
		}
		if mh.Firing {
			h.Firing[mh.Monitor]++
			h.Alerting++
		}
		if mh.Flapping {
			h.Flapping++
		}
		if mh.Muted {
			h.Muted++
		}
		if mh.Held {
			h.Held++
		}
		if mh.Undelivered != nil {
			h.Undelivered++
		}
		if r > 1 {
			if inv.Defs != nil && inv.Defs.Monitors[mh.Monitor] != nil {
				// What the alert rows offer: the runbook, the severity.
				d := inv.Defs.Monitors[mh.Monitor]
				mh.Severity, mh.Runbook = d.Severity, d.Runbook
			}
			h.Problems = append(h.Problems, mh)
		}
	}
	if src != nil {
		for _, s := range src.States() {
			st := StatePending
			if !s.LastAt.IsZero() {
				st = s.State.String()
			}
			if st == "OK" && !s.Firing && !s.Flapping && !s.Muted && !s.Held && s.Pending == nil {
				// The common case, without the copy of a whole row.
				count(MonitorHost{Monitor: s.Monitor, Host: s.Host, State: st})
				continue
			}
			count(liveHost(s, st))
		}
	} else if ms, ok := store.(engine.MonitorStateStore); ok {
		recs, err := ms.MonitorStates(ctx)
		if err != nil {
			return nil, err
		}
		for _, r := range recs {
			count(recordHost(r))
		}
	}
	for _, m := range inv.Monitors {
		if n := len(inv.MonitorHosts[m]) - seenMonitor[m]; n > 0 {
			c := h.Monitors[m]
			if c == nil {
				c = &StateCounts{}
				h.Monitors[m] = c
			}
			c[1] += n
			h.Total[1] += n
		}
	}
	for host, ms := range inv.HostMonitors {
		if n := len(ms) - seenHost[host]; n > 0 {
			c := h.Hosts[host]
			if c == nil {
				c = &StateCounts{}
				h.Hosts[host] = c
			}
			c[1] += n
		}
	}
	slices.SortFunc(h.Problems, func(a, b MonitorHost) int {
		return cmp.Or(healthRank(b.State)-healthRank(a.State), engine.ComparePairs(a.Monitor, a.Host, b.Monitor, b.Host))
	})
	return h, nil
}

// liveHost is a live state as the API shows it, in state st.
func liveHost(s engine.MonitorHostState, st string) MonitorHost {
	mh := MonitorHost{
		Monitor: s.Monitor, Host: s.Host, State: st, Since: s.Since,
		Consecutive: s.Consecutive, Firing: s.Firing, Flapping: s.Flapping, FlapPercent: s.FlapPercent,
		Muted: s.Muted, Held: s.Held, LastOutput: s.LastOutput, LastAt: s.LastAt,
		Undelivered: undelivered(s.Pending), Suppressed: s.Suppressed,
	}
	if s.Silence != nil {
		sl := SilenceJSON(*s.Silence, time.Now())
		mh.Silence = &sl
	}
	if s.Ack != nil {
		a := ackJSON(*s.Ack)
		mh.Ack = &a
	}
	return mh
}

// recordHost is a persisted state as the API shows it.
func recordHost(r engine.MonitorRecord) MonitorHost {
	return MonitorHost{
		Monitor: r.Monitor, Host: r.Host, State: r.State.String(), Since: r.Since,
		Consecutive: r.Consecutive, Firing: r.Firing, LastOutput: r.LastOutput, LastAt: r.LastAt,
		Undelivered: undelivered(r.Pending), Suppressed: r.Suppressed,
	}
}
