package engine

import (
	"context"
	"sort"
	"time"
)

// NotificationKind says whether a notification opens or closes an alert.
type NotificationKind string

// Notification kinds.
const (
	NotifyAlert    NotificationKind = "alert"
	NotifyRecovery NotificationKind = "recovery"
)

// Notification is one message to a monitor's notifiers.
type Notification struct {
	Kind     NotificationKind
	Monitor  string
	Host     string
	State    CheckState
	Previous CheckState
	Value    *float64 // first metric of the result, when there is one
	Message  string
	Since    time.Time // when the current state began
	At       time.Time
}

// NotificationSink delivers notifications to the named notifiers. It must
// not block on delivery: implementations queue and retry on their own, and
// report each outcome back to the monitor runner. A notification replaces
// an older one for the same (notifier, monitor, host) that has not gone
// out yet.
type NotificationSink interface {
	Notify(ctx context.Context, notifiers []string, n Notification)
}

// PendingNotification is the latest notification of a (monitor, host)
// while some of its notifiers have not received it. It is never modified
// once made: a delivery outcome replaces it, so a copy can be read while
// the monitor runner goes on.
type PendingNotification struct {
	Notification
	// Undelivered maps each notifier still owed the notification to why
	// its last attempt failed; "" before the first attempt.
	Undelivered map[string]string
}

// NewPending is n owed to every one of notifiers, or nil when there are
// none.
func NewPending(n Notification, notifiers []string) *PendingNotification {
	if len(notifiers) == 0 {
		return nil
	}
	p := &PendingNotification{Notification: n, Undelivered: make(map[string]string, len(notifiers))}
	for _, name := range notifiers {
		p.Undelivered[name] = ""
	}
	return p
}

// Same reports whether n is the notification p is about.
func (p *PendingNotification) Same(n Notification) bool {
	return p != nil && p.Kind == n.Kind && p.Monitor == n.Monitor && p.Host == n.Host && p.At.Equal(n.At)
}

// WithOutcome returns p after one delivery attempt to notifier: without
// the notifier when failure is empty (delivered, or nothing left to
// deliver), else with failure as its reason; nil once no notifier is owed
// anything. changed is false when notifier was not owed n.
func (p *PendingNotification) WithOutcome(notifier string, n Notification, failure string) (next *PendingNotification, changed bool) {
	if !p.Same(n) {
		return p, false
	}
	old, ok := p.Undelivered[notifier]
	if !ok || (failure != "" && old == failure) {
		return p, false
	}
	q := &PendingNotification{Notification: p.Notification, Undelivered: make(map[string]string, len(p.Undelivered))}
	for k, v := range p.Undelivered {
		q.Undelivered[k] = v
	}
	if failure == "" {
		delete(q.Undelivered, notifier)
	} else {
		q.Undelivered[notifier] = failure
	}
	if len(q.Undelivered) == 0 {
		return nil, true
	}
	return q, true
}

// Notifiers lists the notifiers p is still owed to, sorted.
func (p *PendingNotification) Notifiers() []string {
	if p == nil {
		return nil
	}
	out := make([]string, 0, len(p.Undelivered))
	for k := range p.Undelivered {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// MonitorHostState is the current alert state of one (monitor, host), as
// the surfaces show it.
type MonitorHostState struct {
	Monitor      string
	Host         string
	State        CheckState
	Since        time.Time // when State began
	Consecutive  int       // consecutive non-OK results
	Firing       bool
	Notified     bool // an alert was issued and no recovery yet
	Flapping     bool
	FlapPercent  float64
	Muted        bool // a maintenance window the monitor names is open
	Held         bool // the host is in an active rollout wave
	LastOutput   string
	LastAt       time.Time // zero before the first result
	LastDuration time.Duration
	// Pending is the latest alert or recovery while a notifier has not
	// received it; nil when every notifier has it.
	Pending *PendingNotification
}

// AlertHolder holds the alerts of hosts while a rollout wave changes them,
// so that a rollout does not page anyone for the restarts it causes; checks
// still run and their results still count. Release sends the held alerts
// that still fire. The monitor runner implements it; the rollout calls it
// around each wave.
type AlertHolder interface {
	Hold(hosts []string)
	Release(ctx context.Context, hosts []string)
}

// DeliveryOutcomes hears how each delivery attempt of a notification went:
// failure says why it failed (without secrets), "" that it was delivered or
// that nothing is left to deliver. The monitor runner implements it and
// keeps a notification owed, across restarts, until every notifier has it.
type DeliveryOutcomes interface {
	NotificationOutcome(ctx context.Context, notifier string, n Notification, failure string)
}

// NotificationClaims makes each alert and recovery of a (monitor, host) go
// out once across the nodes of a cluster: a node claims the transition n
// stands for before it notifies. Alerts and recoveries of a pair
// alternate, so the transition is the pair and n's kind: won is true when
// the last kind claimed for the pair is the other one (or none), when this
// node claimed this one (a resend of its own), or when the node that did is
// no longer alive (its share of the checks moved here with the
// notification still owed: delivered at least once); false when another
// live node claimed it and sends it (two nodes checked the pair during a
// handover).
type NotificationClaims interface {
	ClaimNotification(ctx context.Context, n Notification) (won bool, err error)
}
