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
	Muted    bool // a maintenance window the monitor names is open
	Held     bool // the host is in an active rollout wave
	Silenced bool // an operator's silence covers the pair
	// Acked: an operator acknowledged the current state; no alert of it
	// goes out (neither the first nor a repeat) until the state changes.
	// A recovery still does.
	Acked bool
	// Cause says which dependency keeps the pair from alerting (a parent
	// down, a depends_on monitor not OK, the host unreachable over SSH);
	// "" when none does.
	Cause string
}

// blocks reports whether nothing may go out now.
func (s Suppression) blocks() bool {
	return s.Muted || s.Held || s.Silenced || s.Cause != ""
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
	// NotifiedAt is when the last alert of the current problem was
	// issued (the first, a repeat or a change of state), for
	// repeat_interval; NotifiedState is the state it named.
	NotifiedAt    time.Time
	NotifiedState engine.CheckState
	// Unreachable: the latest result could not reach the host over SSH.
	Unreachable bool
	// Suppressed is the dependency that kept the latest result from
	// alerting (Suppression.Cause), saved with the state.
	Suppressed string
	// StreakSince is when the current run of non-OK results began; zero
	// while OK. A dependency checked before it says nothing about it.
	StreakSince time.Time
	lastValue   *float64
	history     []engine.CheckState
	seen        bool
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
		LastDuration: a.LastDuration, Pending: a.Pending, Suppressed: sup.Cause,
	}
}

// alertMarks are what of a state the fleet's counts read
// (httpapi.FleetHealth): a change of them changes Runner.StatesVersion.
type alertMarks struct {
	result                 bool // has a result: not PENDING
	state                  engine.CheckState
	firing, flapping, owed bool
	suppressed             string
}

func (a *AlertState) marks() alertMarks {
	return alertMarks{result: !a.LastAt.IsZero(), state: a.State, firing: a.Firing, flapping: a.Flapping, owed: a.Pending != nil, suppressed: a.Suppressed}
}

// Observe feeds one check result into the state and returns the
// notifications to send now: at most one alert once alertAfter consecutive
// non-OK results are seen, and one recovery when the state is OK again;
// while the alert is open, another alert when its non-OK state changes
// (CRITICAL to WARNING) and, unless acknowledged, every repeat interval (0:
// never). Nothing is sent while suppressed or flapping.
func (a *AlertState) Observe(monitor, host string, r engine.CheckResult, alertAfter int, repeat time.Duration, sup Suppression) []engine.Notification {
	prev := a.record(r, alertAfter)
	return a.decide(monitor, host, prev, r.At, repeat, sup)
}

// record feeds one check result into the state, deciding nothing about
// notifications yet, and returns the state before it. The runner reads
// the new state to work out its suppression, then calls decide.
func (a *AlertState) record(r engine.CheckResult, alertAfter int) (prev engine.CheckState) {
	if alertAfter < 1 {
		alertAfter = 1
	}
	prev = a.State
	wasSeen := a.seen
	if !a.seen || r.State != a.State {
		a.Since = r.At
	}
	a.seen = true
	a.State = r.State
	a.LastOutput = r.Output
	a.LastAt = r.At
	a.LastDuration = r.Duration
	a.Unreachable = r.Unreachable
	a.lastValue = nil
	if len(r.Metrics) > 0 {
		v := r.Metrics[0].Value
		a.lastValue = &v
	}
	if r.State == engine.StateOK {
		a.Consecutive = 0
		a.StreakSince = time.Time{}
	} else {
		if a.Consecutive == 0 {
			a.beforeStreak = prev
			if !wasSeen {
				a.beforeStreak = engine.StateOK
			}
			a.StreakSince = r.At
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
	return prev
}

// decide returns what the result just recorded makes owed now, given its
// suppression.
func (a *AlertState) decide(monitor, host string, prev engine.CheckState, at time.Time, repeat time.Duration, sup Suppression) []engine.Notification {
	a.Suppressed = sup.Cause
	return a.reconcile(monitor, host, prev, at, repeat, sup)
}

// Release re-evaluates after a suppression ended (a wave finished, a window
// closed, a parent came back, a silence expired) and returns what must be
// sent now.
func (a *AlertState) Release(monitor, host string, now time.Time, sup Suppression) []engine.Notification {
	if !a.seen {
		return nil
	}
	a.Suppressed = sup.Cause
	return a.reconcile(monitor, host, a.State, now, 0, sup)
}

// reconcile sends whatever brings Notified in line with Firing, unless
// notifications are suppressed; with an alert open, it repeats it (see
// Observe).
func (a *AlertState) reconcile(monitor, host string, prev engine.CheckState, at time.Time, repeat time.Duration, sup Suppression) []engine.Notification {
	if a.Flapping || sup.blocks() {
		return nil
	}
	if a.Firing == a.Notified {
		return a.again(monitor, host, at, repeat, sup)
	}
	if a.Firing && sup.Acked {
		// Acknowledged before its alert went out: nobody needs it now.
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
		a.NotifiedAt, a.NotifiedState = at, a.State
	} else {
		n.Kind = engine.NotifyRecovery
		a.NotifiedAt = time.Time{}
	}
	a.Notified = a.Firing
	return []engine.Notification{n}
}

// again is the alert of an open problem sent once more: when its non-OK
// state changed since the last alert (naming the state it changed from),
// or when repeat has passed since then; never while acknowledged.
func (a *AlertState) again(monitor, host string, at time.Time, repeat time.Duration, sup Suppression) []engine.Notification {
	if !a.Firing || !a.Notified || sup.Acked {
		return nil
	}
	changed := a.State != a.NotifiedState
	due := repeat > 0 && !a.NotifiedAt.IsZero() && !at.Before(a.NotifiedAt.Add(repeat))
	if !changed && !due {
		return nil
	}
	n := engine.Notification{
		Kind: engine.NotifyAlert, Monitor: monitor, Host: host, State: a.State, Previous: a.NotifiedState,
		Value: a.lastValue, Message: a.LastOutput, Since: a.Since, At: at, Repeat: true,
	}
	a.NotifiedAt, a.NotifiedState = at, a.State
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
