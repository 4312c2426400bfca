package engine

import (
	"context"
	"fmt"
	"strings"
	"time"
)

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
