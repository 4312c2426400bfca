package notify

import (
	"context"
	"errors"
	"time"

	"github.com/ripple-ops/ripple/engine"
)

// deliveryKey is what a notification replaces an older one for.
type deliveryKey struct{ notifier, monitor, host string }

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

// Notify queues n for each named notifier. It replaces a notification for
// the same (notifier, monitor, host) that has not gone out yet; a recovery
// whose alert has not gone out withdraws both: the notifier never heard of
// the problem.
func (s *Notifiers) Notify(_ context.Context, notifiers []string, n engine.Notification) {
	var withdrawn []DeliveryRecord
	now := time.Now()
	s.mu.Lock()
	for _, name := range notifiers {
		k := deliveryKey{name, n.Monitor, n.Host}
		cur := s.pending[k]
		switch {
		case cur == nil:
			s.pending[k] = &pendingDelivery{key: k, n: n, next: now}
		case cur.inFlight:
			r := n
			cur.replacement = &r
		case cur.n.Kind == engine.NotifyAlert && n.Kind == engine.NotifyRecovery:
			delete(s.pending, k)
			withdrawn = append(withdrawn, DeliveryRecord{Notifier: name, Notification: n, Withdrawn: true, Final: true, At: now})
		default:
			cur.n, cur.attempts, cur.next = n, 0, now
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
		p, n, wait := s.takeDue(time.Now())
		if p != nil {
			s.attempt(ctx, p, n)
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

// takeDue marks the delivery due first as in flight and returns it with
// its notification, or returns how long to wait for the next one.
func (s *Notifiers) takeDue(now time.Time) (*pendingDelivery, engine.Notification, time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var first *pendingDelivery
	for _, p := range s.pending {
		if !p.inFlight && (first == nil || p.next.Before(first.next)) {
			first = p
		}
	}
	if first == nil {
		return nil, engine.Notification{}, time.Hour
	}
	if wait := first.next.Sub(now); wait > 0 {
		return nil, engine.Notification{}, wait
	}
	first.inFlight = true
	return first, first.n, 0
}

// attempt sends n (p's notification) once and decides what follows.
func (s *Notifiers) attempt(ctx context.Context, p *pendingDelivery, n engine.Notification) {
	s.mu.Lock()
	defs := s.defs
	s.mu.Unlock()
	t, err := resolveNotifier(defs, s.opts.Secrets, p.key.notifier)
	gone := errors.Is(err, errNoNotifier)
	if err == nil {
		sent := n
		sent.Message = s.opts.Redact.Redact(n.Message)
		err = s.send(ctx, t, sent)
	}
	now := time.Now()
	s.mu.Lock()
	p.inFlight = false
	if err != nil && ctx.Err() != nil {
		// Shutting down: not an outcome; the runner still owes it.
		s.mu.Unlock()
		return
	}
	p.attempts++
	rec := DeliveryRecord{Notifier: p.key.notifier, Notification: n, Attempts: p.attempts, At: now}
	var withdrawn *DeliveryRecord
	if err != nil {
		rec.Error = s.opts.Redact.Redact(redact(err.Error(), t.url, t.password))
	}
	rep := p.replacement
	p.replacement = nil
	switch {
	case err == nil || gone:
		rec.Final = true
		if rep != nil {
			p.n, p.attempts, p.next = *rep, 0, now
		} else {
			delete(s.pending, p.key)
		}
	case rep != nil && n.Kind == engine.NotifyAlert && rep.Kind == engine.NotifyRecovery:
		// The alert never went out: its recovery has nothing to resolve.
		delete(s.pending, p.key)
		withdrawn = &DeliveryRecord{Notifier: p.key.notifier, Notification: *rep, Withdrawn: true, Final: true, At: now}
	case rep != nil:
		p.n, p.attempts, p.next = *rep, 0, now
	case s.defs != nil && !owed(s.defs, p.key):
		// A commit applied during the attempt removed the monitor, or
		// its notify of this notifier.
		delete(s.pending, p.key)
		withdrawn = &DeliveryRecord{Notifier: p.key.notifier, Notification: n, Withdrawn: true, Final: true, At: now}
	default:
		p.next = now.Add(s.retry.Delay(p.attempts))
	}
	s.mu.Unlock()
	s.record(rec)
	if withdrawn != nil {
		s.record(*withdrawn)
	}
}

func (s *Notifiers) signal() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}
