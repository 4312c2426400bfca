package monitor

import (
	"time"

	"github.com/ripple-ops/ripple/engine"
)

// Flap detection follows Nagios: the last flapHistory results, a state change
// between two neighbours weighs from 0.8 (oldest) to 1.2 (newest), and the
// weighted share of changes starts flapping above flapHigh percent and stops
// below flapLow.
const (
	flapHistory = 21
	flapHigh    = 20.0
	flapLow     = 5.0
)

// Suppression tells Observe why notifications must not go out now. The
// state machine keeps evaluating; what is suppressed is sent (or dropped, if
// it no longer applies) once the suppression ends.
type Suppression struct {
	Muted bool // a maintenance window the monitor names is open
	Held  bool // the host is in an active rollout wave
}

// AlertState is the alerting state of one (monitor, host). The zero value
// is a fresh state with no history; a result must be observed before
// anything is reported. It is not safe for concurrent use.
type AlertState struct {
	State       engine.CheckState
	Since       time.Time
	Consecutive int // consecutive non-OK results
	Firing      bool
	Notified    bool // an alert was issued and no recovery yet
	// Pending is the latest alert or recovery while a notifier has not
	// received it (its secret is missing, its endpoint fails); nil when
	// every notifier has it. It survives a restart.
	Pending      *engine.PendingNotification
	Flapping     bool
	FlapPercent  float64
	LastOutput   string
	LastAt       time.Time
	LastDuration time.Duration
	lastValue    *float64
	history      []engine.CheckState
	seen         bool
	// beforeStreak is the state before the current run of non-OK results
	// began: what an alert reports as its previous state.
	beforeStreak engine.CheckState
}

// hostState is a as the surfaces show it for (monitor, host).
func (a *AlertState) hostState(monitor, host string, sup Suppression) engine.MonitorHostState {
	return engine.MonitorHostState{
		Monitor: monitor, Host: host, State: a.State, Since: a.Since, Consecutive: a.Consecutive,
		Firing: a.Firing, Notified: a.Notified, Flapping: a.Flapping, FlapPercent: a.FlapPercent,
		Muted: sup.Muted, Held: sup.Held, LastOutput: a.LastOutput, LastAt: a.LastAt,
		LastDuration: a.LastDuration, Pending: a.Pending,
	}
}

// Observe feeds one check result into the state and returns the
// notifications to send now: at most one alert once alertAfter consecutive
// non-OK results are seen, and one recovery when the state is OK again.
// Nothing is sent while suppressed or flapping.
func (a *AlertState) Observe(monitor, host string, r engine.CheckResult, alertAfter int, sup Suppression) []engine.Notification {
	if alertAfter < 1 {
		alertAfter = 1
	}
	prev := a.State
	wasSeen := a.seen
	if !a.seen || r.State != a.State {
		a.Since = r.At
	}
	a.seen = true
	a.State = r.State
	a.LastOutput = r.Output
	a.LastAt = r.At
	a.LastDuration = r.Duration
	a.lastValue = nil
	if len(r.Metrics) > 0 {
		v := r.Metrics[0].Value
		a.lastValue = &v
	}
	if r.State == engine.StateOK {
		a.Consecutive = 0
	} else {
		if a.Consecutive == 0 {
			a.beforeStreak = prev
			if !wasSeen {
				a.beforeStreak = engine.StateOK
			}
		}
		a.Consecutive++
	}
	a.history = append(a.history, r.State)
	if len(a.history) > flapHistory {
		a.history = a.history[len(a.history)-flapHistory:]
	}
	a.FlapPercent = flapPercent(a.history)
	switch {
	case !a.Flapping && a.FlapPercent > flapHigh:
		a.Flapping = true
	case a.Flapping && a.FlapPercent < flapLow:
		a.Flapping = false
	}

	if a.Consecutive >= alertAfter {
		a.Firing = true
	} else if r.State == engine.StateOK {
		a.Firing = false
	}
	return a.reconcile(monitor, host, prev, r.At, sup)
}

// Release re-evaluates after a suppression ended (a wave finished, a window
// closed) and returns what must be sent now.
func (a *AlertState) Release(monitor, host string, now time.Time, sup Suppression) []engine.Notification {
	if !a.seen {
		return nil
	}
	return a.reconcile(monitor, host, a.State, now, sup)
}

// reconcile sends whatever brings Notified in line with Firing, unless
// notifications are suppressed.
func (a *AlertState) reconcile(monitor, host string, prev engine.CheckState, at time.Time, sup Suppression) []engine.Notification {
	if sup.Muted || sup.Held || a.Flapping || a.Firing == a.Notified {
		return nil
	}
	n := engine.Notification{
		Kind:     engine.NotifyAlert,
		Monitor:  monitor,
		Host:     host,
		State:    a.State,
		Previous: prev,
		Value:    a.lastValue,
		Message:  a.LastOutput,
		Since:    a.Since,
		At:       at,
	}
	if a.Firing {
		// An alert names the state before the problem began, not the
		// previous (already failing) result.
		n.Previous = a.beforeStreak
	} else {
		n.Kind = engine.NotifyRecovery
	}
	a.Notified = a.Firing
	return []engine.Notification{n}
}

// flapPercent is Nagios' weighted percent state change over history.
func flapPercent(h []engine.CheckState) float64 {
	if len(h) < 2 {
		return 0
	}
	var total float64
	changes := flapHistory - 1
	// The newest change weighs 1.2 and each older one 0.4/19 less, as if the
	// history were full; missing older entries count as no change.
	offset := flapHistory - len(h)
	for i := 1; i < len(h); i++ {
		if h[i] != h[i-1] {
			pos := offset + i - 1 // 0 = oldest possible change
			total += 0.8 + 0.4*float64(pos)/float64(changes-1)
		}
	}
	return total / float64(changes) * 100
}
