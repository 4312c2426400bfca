package engine

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

// Alerts: the notifications the monitor runner sends and owes (kept by
// the stores until every notifier has them), the alert state the surfaces
// show, and what operators do about alerts.

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

// ComparePairs orders (monitor, host) pairs by monitor, then host: the
// order of the lists of monitor states, acknowledgements and problems.
func ComparePairs(monitorA, hostA, monitorB, hostB string) int {
	return cmp.Or(strings.Compare(monitorA, monitorB), strings.Compare(hostA, hostB))
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

// pendingJSON is how a store keeps a PendingNotification, the same on
// every store; the monitor and host are the row's.
type pendingJSON struct {
	Kind        string            `json:"kind"`
	State       int               `json:"state"`
	Previous    int               `json:"previous"`
	Value       *float64          `json:"value,omitempty"`
	Message     string            `json:"message"`
	Since       time.Time         `json:"since"`
	At          time.Time         `json:"at"`
	Undelivered map[string]string `json:"undelivered"`
	Severity    string            `json:"severity,omitempty"`
	Labels      map[string]string `json:"labels,omitempty"`
	Runbook     string            `json:"runbook,omitempty"`
	Repeat      bool              `json:"repeat,omitempty"`
}

// EncodePending is p as a store keeps it beside its monitor and host: JSON,
// "" for nil.
func EncodePending(p *PendingNotification) (string, error) {
	if p == nil {
		return "", nil
	}
	b, err := json.Marshal(pendingJSON{
		Kind: string(p.Kind), State: int(p.State), Previous: int(p.Previous), Value: p.Value,
		Message: p.Message, Since: p.Since, At: p.At, Undelivered: p.Undelivered,
		Severity: p.Severity, Labels: p.Labels, Runbook: p.Runbook, Repeat: p.Repeat,
	})
	if err != nil {
		return "", fmt.Errorf("encode pending notification: %w", err)
	}
	return string(b), nil
}

// DecodePending reverses EncodePending for the row of (monitor, host); ""
// and a notification owed to nobody are nil.
func DecodePending(monitor, host, s string) (*PendingNotification, error) {
	if s == "" {
		return nil, nil
	}
	var j pendingJSON
	if err := json.Unmarshal([]byte(s), &j); err != nil {
		return nil, fmt.Errorf("decode pending notification: %w", err)
	}
	if len(j.Undelivered) == 0 {
		return nil, nil
	}
	return &PendingNotification{
		Notification: Notification{
			Kind: NotificationKind(j.Kind), Monitor: monitor, Host: host,
			State: CheckState(j.State), Previous: CheckState(j.Previous), Value: j.Value,
			Message: j.Message, Since: j.Since, At: j.At,
			Severity: j.Severity, Labels: j.Labels, Runbook: j.Runbook, Repeat: j.Repeat,
		},
		Undelivered: j.Undelivered,
	}, nil
}

// Silences, acknowledgements and their audit: what operators do about
// alerts. Both are kept in the store, so every node of a cluster sees
// them, and each change is an AlertEvent.

// Silence stops the notifications of a monitor, on one host or on all of
// its hosts, until Ends. Checks go on and states still change; when the
// silence ends, an alert that still fires is sent (Alertmanager's
// silences, one matcher: the monitor, and optionally the host).
type Silence struct {
	ID      int64
	Monitor string
	Host    string // "" silences every host of the monitor
	Actor   string
	Reason  string
	Created time.Time
	// Ends is when the silence expires by itself, or when an operator
	// expired it (ExpiredBy is then set).
	Ends time.Time
	// ExpiredBy and ExpireReason say who ended the silence early, and
	// why; "" while it runs its course.
	ExpiredBy    string
	ExpireReason string
}

// Active reports whether s silences anything at now.
func (s Silence) Active(now time.Time) bool { return now.Before(s.Ends) }

// Matches reports whether s is about (monitor, host).
func (s Silence) Matches(monitor, host string) bool {
	return s.Monitor == monitor && (s.Host == "" || s.Host == host)
}

// Ack acknowledges the current state of a monitor on a host: no further
// notification of that state (no repeat, and no first alert if it has not
// gone out yet) until the state changes. It names the state it
// acknowledges and when that state began, so it ends by itself with a
// change (Nagios' non-sticky acknowledgement).
type Ack struct {
	Monitor string
	Host    string
	State   CheckState
	// StateSince is when the acknowledged state began (the alert state's
	// Since): a later state, even the same one again, is not acknowledged.
	StateSince time.Time
	Actor      string
	Reason     string
	At         time.Time
}

// Covers reports whether a is the acknowledgement of state, begun at
// since.
func (a Ack) Covers(state CheckState, since time.Time) bool {
	return a.State == state && a.StateSince.Equal(since)
}

// Alert audit actions.
const (
	AlertEventSilence = "silence" // a silence was made (Until: when it ends)
	AlertEventExpire  = "expire"  // an operator ended a silence early
	AlertEventAck     = "ack"     // an operator acknowledged a state (State)
)

// AlertEvent is one record of the alert audit: who silenced, expired or
// acknowledged what, when and why.
type AlertEvent struct {
	ID        int64
	At        time.Time
	Action    string // one of the AlertEvent actions
	Monitor   string
	Host      string // "" for a silence of every host
	Actor     string
	Reason    string
	SilenceID int64      // silence and expire
	Until     time.Time  // silence: when it ends
	State     CheckState // ack: the state acknowledged
}

// AlertEventFilter selects alert audit events; zero fields select all.
type AlertEventFilter struct {
	Monitor string
	Host    string // with Monitor: events of that host and silences of every host
	Limit   int    // newest first; <= 0 means 100
}

// SilenceStore keeps silences. Each write records its AlertEvent in the
// same commit.
type SilenceStore interface {
	// AddSilence records s and sets s.ID.
	AddSilence(ctx context.Context, s *Silence) error
	// ExpireSilence ends silence id at `at`, by actor for reason, and
	// returns it. ErrNotFound when there is none; ErrConflict when it has
	// ended by then.
	ExpireSilence(ctx context.Context, id int64, at time.Time, actor, reason string) (Silence, error)
	// Silences lists the silences that end after endsAfter (zero: all),
	// newest first, at most limit (<= 0: all).
	Silences(ctx context.Context, endsAfter time.Time, limit int) ([]Silence, error)
}

// AckStore keeps the latest acknowledgement of each (monitor, host).
// AddAck records its AlertEvent in the same commit.
type AckStore interface {
	// AddAck replaces the acknowledgement of (a.Monitor, a.Host).
	AddAck(ctx context.Context, a Ack) error
	// Acks lists every acknowledgement, by monitor then host.
	Acks(ctx context.Context) ([]Ack, error)
}

// ControlAnnouncer tells the other nodes of a cluster that silences or
// acknowledgements changed, so that they read them again at once rather
// than at their next refresh. An announcement is a wake-up, not a record:
// what it announces is already in the store, and a node that misses it
// reads it at its next refresh.
type ControlAnnouncer interface {
	AnnounceControls(ctx context.Context) error
}

// AlertAuditReader reads the alert audit.
type AlertAuditReader interface {
	AlertEvents(ctx context.Context, f AlertEventFilter) ([]AlertEvent, error)
}

// Text is the audit event as a line for people, the same in `ripple
// silence --list`, the API and the UI: "silenced web-http@web-01 until
// 2026-07-01 12:00 UTC by alice: replacing a disk", "expired silence 3 of
// disk-root by bob: done", "acknowledged CRITICAL app@web-01 by carol: on
// it".
func (e AlertEvent) Text() string {
	target := e.Monitor
	if e.Host != "" {
		target += "@" + e.Host
	}
	reason := FirstLine(strings.TrimSpace(e.Reason), maxEventText)
	var s string
	switch e.Action {
	case AlertEventSilence:
		s = fmt.Sprintf("silenced %s until %s", target, e.Until.UTC().Format("2006-01-02 15:04 MST"))
	case AlertEventExpire:
		s = fmt.Sprintf("expired silence %d of %s", e.SilenceID, target)
	case AlertEventAck:
		s = fmt.Sprintf("acknowledged %s %s", e.State, target)
	default:
		s = e.Action + " " + target
	}
	if e.Actor != "" {
		s += " by " + e.Actor
	}
	if reason != "" {
		s += ": " + reason
	}
	return s
}
