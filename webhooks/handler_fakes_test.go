package webhooks

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/ripple-ops/ripple/engine"
)

// fakeSink records events; failNext makes the next calls fail.
type fakeSink struct {
	mu       sync.Mutex
	pushes   []engine.PushEvent
	prs      []engine.PullRequestEvent
	failNext int
	block    chan struct{} // when set, Push waits on it
}

func (s *fakeSink) Push(ctx context.Context, ev engine.PushEvent) error {
	if s.block != nil {
		select {
		case <-s.block:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.failNext > 0 {
		s.failNext--
		return errors.New("queue full")
	}
	s.pushes = append(s.pushes, ev)
	return nil
}

func (s *fakeSink) PullRequest(_ context.Context, ev engine.PullRequestEvent) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.failNext > 0 {
		s.failNext--
		return errors.New("queue full")
	}
	s.prs = append(s.prs, ev)
	return nil
}

func (s *fakeSink) counts() (int, int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.pushes), len(s.prs)
}

// fakeDeliveries is an in-memory engine.DeliveryStore.
type fakeDeliveries struct {
	mu    sync.Mutex
	seen  map[string]string
	delay time.Duration // DeliverySeen takes this long
}

func (d *fakeDeliveries) DeliverySeen(_ context.Context, id string) (bool, error) {
	time.Sleep(d.delay)
	d.mu.Lock()
	defer d.mu.Unlock()
	_, ok := d.seen[id]
	return ok, nil
}

func (d *fakeDeliveries) RecordDelivery(_ context.Context, id, event string) (bool, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.seen == nil {
		d.seen = map[string]string{}
	}
	if _, ok := d.seen[id]; ok {
		return false, nil
	}
	d.seen[id] = event
	return true, nil
}

func (d *fakeDeliveries) len() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return len(d.seen)
}
