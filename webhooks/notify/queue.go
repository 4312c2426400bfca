package notify

import (
	"context"
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/ripple-ops/ripple/engine"
)

// deliveryKey is what a notification replaces an older one for.
type deliveryKey struct{ notifier, monitor, host string }

// groupKey is what notifications are gathered into one message by: a
// notifier's alerts (or recoveries) of one monitor.
type groupKey struct {
	notifier, monitor string
	kind              engine.NotificationKind
}

func (p *pendingDelivery) group() groupKey {
	return groupKey{p.key.notifier, p.key.monitor, p.n.Kind}
}

// pendingDelivery is the notification a notifier is owed for one (monitor,
// host), with its attempts so far.
type pendingDelivery struct {
	key      deliveryKey
	n        engine.Notification
	attempts int
	next     time.Time // when the next attempt is due
	inFlight bool
	// replacement arrived while n was being sent; it takes n's place once
	// the attempt is over.
	replacement *engine.Notification
}

// groupWait is how long notifier gathers notifications before sending
// the first of a group; 0 when it sends each at once.
func (s *Notifiers) groupWait(notifier string) time.Duration {
	if s.defs == nil || s.defs.Notifiers[notifier] == nil {
		return 0
	}
	return s.defs.Notifiers[notifier].GroupWait
}

// dueAt is when a notification for k that arrives now goes out: when the
// group it joins goes, or group_wait from now for the first of a group
// (Alertmanager's group_wait). Call it with s.mu held.
func (s *Notifiers) dueAt(k groupKey, now time.Time) time.Time {
	wait := s.groupWait(k.notifier)
	if wait <= 0 {
		return now
	}
	if due, ok := s.groups[k]; ok && due.After(now) {
		return due
	}
	due := now.Add(wait)
	s.groups[k] = due
	return due
}

// Notify queues n for each named notifier. It replaces a notification for
// the same (notifier, monitor, host) that has not gone out yet; a recovery
// whose alert has not gone out withdraws both: the notifier never heard of
// the problem. With the notifier's group_wait, n waits for the other
// hosts' notifications of its monitor and kind that start meanwhile, and
// goes out in one message with them.
func (s *Notifiers) Notify(_ context.Context, notifiers []string, n engine.Notification) {
	var withdrawn []DeliveryRecord
	now := time.Now()
	s.mu.Lock()
	for _, name := range notifiers {
		k := deliveryKey{name, n.Monitor, n.Host}
		gk := groupKey{name, n.Monitor, n.Kind}
		cur := s.pending[k]
		switch {
		case cur == nil:
			s.pending[k] = &pendingDelivery{key: k, n: n, next: s.dueAt(gk, now)}
		case cur.inFlight:
			r := n
			cur.replacement = &r
		case cur.n.Kind == engine.NotifyAlert && n.Kind == engine.NotifyRecovery:
			delete(s.pending, k)
			withdrawn = append(withdrawn, DeliveryRecord{Notifier: name, Notification: n, Withdrawn: true, Final: true, At: now})
		default:
			cur.n, cur.attempts, cur.next = n, 0, s.dueAt(gk, now)
		}
	}
	s.mu.Unlock()
	for _, rec := range withdrawn {
		s.record(rec)
	}
	s.signal()
}

// Run delivers queued notifications until ctx ends. Deliveries still
// waiting then are dropped here; the monitor runner keeps them as pending
// and hands them over again after a restart.
func (s *Notifiers) Run(ctx context.Context) error {
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for ctx.Err() == nil {
		batch, ns, wait := s.takeDue(time.Now())
		if len(batch) > 0 {
			s.attempt(ctx, batch, ns)
			continue
		}
		timer.Reset(wait)
		select {
		case <-ctx.Done():
			return nil
		case <-s.wake:
		case <-timer.C:
		}
	}
	return nil
}

// maxGroup bounds the notifications in one message.
const maxGroup = 500

// takeDue marks the delivery due first, and every other one due of its
// group, as in flight and returns them with their notifications, or
// returns how long to wait for the next one.
func (s *Notifiers) takeDue(now time.Time) ([]*pendingDelivery, []engine.Notification, time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for k, due := range s.groups {
		if !due.After(now) {
			delete(s.groups, k)
		}
	}
	var first *pendingDelivery
	for _, p := range s.pending {
		if !p.inFlight && (first == nil || p.next.Before(first.next)) {
			first = p
		}
	}
	if first == nil {
		return nil, nil, time.Hour
	}
	if wait := first.next.Sub(now); wait > 0 {
		return nil, nil, wait
	}
	batch := []*pendingDelivery{first}
	if s.groupWait(first.key.notifier) > 0 {
		g := first.group()
		for _, p := range s.pending {
			if p != first && !p.inFlight && !p.next.After(now) && p.group() == g && len(batch) < maxGroup {
				batch = append(batch, p)
			}
		}
	}
	ns := make([]engine.Notification, len(batch))
	for i, p := range batch {
		p.inFlight = true
		ns[i] = p.n
	}
	return batch, ns, 0
}

// attempt sends ns (the notifications of batch, one message) once and
// decides what follows for each.
func (s *Notifiers) attempt(ctx context.Context, batch []*pendingDelivery, ns []engine.Notification) {
	notifier := batch[0].key.notifier
	s.mu.Lock()
	defs := s.defs
	s.mu.Unlock()
	t, err := resolveNotifier(defs, s.opts.Secrets, notifier)
	gone := errors.Is(err, errNoNotifier)
	if err == nil {
		sent := make([]engine.Notification, len(ns))
		for i, n := range ns {
			sent[i] = n
			sent[i].Message = s.opts.Redact.Redact(n.Message)
		}
		// a group lists its hosts in order, as its summary names them;
		// the batch is in the pending map's (random) order
		slices.SortStableFunc(sent, func(a, b engine.Notification) int { return strings.Compare(a.Host, b.Host) })
		err = s.send(ctx, t, sent)
	}
	now := time.Now()
	var recs []DeliveryRecord
	s.mu.Lock()
	if err != nil && ctx.Err() != nil {
		// Shutting down: not an outcome; the runner still owes them.
		for _, p := range batch {
			p.inFlight = false
		}
		s.mu.Unlock()
		return
	}
	var failure string
	if err != nil {
		failure = s.opts.Redact.Redact(redact(err.Error(), t.url, t.password))
	}
	// The members of a failed message are retried together.
	retry := now.Add(s.retry.Delay(batch[0].attempts + 1))
	for i, p := range batch {
		n := ns[i]
		p.inFlight = false
		p.attempts++
		recs = append(recs, DeliveryRecord{Notifier: notifier, Notification: n, Attempts: p.attempts, Error: failure, At: now})
		rep := p.replacement
		p.replacement = nil
		switch {
		case err == nil || gone:
			recs[len(recs)-1].Final = true
			if rep != nil {
				p.n, p.attempts, p.next = *rep, 0, s.dueAt(groupKey{notifier, rep.Monitor, rep.Kind}, now)
			} else {
				delete(s.pending, p.key)
			}
		case rep != nil && n.Kind == engine.NotifyAlert && rep.Kind == engine.NotifyRecovery:
			// The alert never went out: its recovery has nothing to resolve.
			delete(s.pending, p.key)
			recs = append(recs, DeliveryRecord{Notifier: notifier, Notification: *rep, Withdrawn: true, Final: true, At: now})
		case rep != nil:
			p.n, p.attempts, p.next = *rep, 0, s.dueAt(groupKey{notifier, rep.Monitor, rep.Kind}, now)
		case s.defs != nil && !owed(s.defs, p.key):
			// A commit applied during the attempt removed the monitor, or
			// its notify of this notifier.
			delete(s.pending, p.key)
			recs = append(recs, DeliveryRecord{Notifier: notifier, Notification: n, Withdrawn: true, Final: true, At: now})
		default:
			p.next = retry
		}
	}
	s.mu.Unlock()
	for _, rec := range recs {
		s.record(rec)
	}
}

func (s *Notifiers) signal() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}
