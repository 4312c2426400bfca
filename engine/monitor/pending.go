package monitor

import (
	"sort"

	"github.com/ripple-ops/ripple/engine"
)

// A notification owed: the latest alert or recovery of a (monitor, host)
// and the notifiers that have not received it yet (engine.PendingNotification,
// which the stores keep), and how each delivery outcome changes it.

// newPending is n owed to every one of notifiers, or nil when there are
// none.
func newPending(n engine.Notification, notifiers []string) *engine.PendingNotification {
	if len(notifiers) == 0 {
		return nil
	}
	p := &engine.PendingNotification{Notification: n, Undelivered: make(map[string]string, len(notifiers))}
	for _, name := range notifiers {
		p.Undelivered[name] = ""
	}
	return p
}

// samePending reports whether n is the notification p is about.
func samePending(p *engine.PendingNotification, n engine.Notification) bool {
	return p != nil && p.Kind == n.Kind && p.Monitor == n.Monitor && p.Host == n.Host && p.At.Equal(n.At)
}

// withOutcome returns p after one delivery attempt to notifier: without
// the notifier when failure is empty (delivered, or nothing left to
// deliver), else with failure as its reason; nil once no notifier is owed
// anything. changed is false when notifier was not owed n.
func withOutcome(p *engine.PendingNotification, notifier string, n engine.Notification, failure string) (next *engine.PendingNotification, changed bool) {
	if !samePending(p, n) {
		return p, false
	}
	old, ok := p.Undelivered[notifier]
	if !ok || (failure != "" && old == failure) {
		return p, false
	}
	q := &engine.PendingNotification{Notification: p.Notification, Undelivered: make(map[string]string, len(p.Undelivered))}
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

// pendingNotifiers lists the notifiers p is still owed to, sorted.
func pendingNotifiers(p *engine.PendingNotification) []string {
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
