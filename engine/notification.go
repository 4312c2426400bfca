package engine

import (
	"context"
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
	// Severity, Labels and Runbook are the monitor's, when the
	// notification was made.
	Severity string
	Labels   map[string]string
	Runbook  string // a job name; "" for none
	// Repeat marks an alert sent again because it still fires
	// (repeat_interval), or because its non-OK state changed.
	Repeat bool
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
	// Suppressed says why the state is not alerting ("parent sw-01 is
	// down: sw-ping CRITICAL"); "" when nothing it depends on fails.
	// Only a state that is not OK is suppressed.
	Suppressed string
	// Silence is the active silence of the pair, nil when none.
	Silence *Silence
	// Ack is the acknowledgement of the current state, nil when none.
	Ack *Ack
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
// handover). A transition whose state began before the last claim of the
// other kind was made (a node that lagged behind) is refused as stale.
type NotificationClaims interface {
	ClaimNotification(ctx context.Context, n Notification) (won bool, err error)
}
