package pgstore

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/ripple-ops/ripple/engine"
	"github.com/ripple-ops/ripple/engine/cluster"
)

// writeHealth is whether the server takes the leader's writes: false from
// a write that failed because the server could not be reached (restarted,
// down, out of disk) until a write or a probe succeeds. The daemon stops
// runs on such a failure and resumes them once the store writes again.
type writeHealth struct {
	mu    sync.Mutex
	err   error
	since time.Time
}

// note records the outcome of one write and returns err, wrapping
// engine.ErrStoreUnwritable when the server could not take it.
func (s *Store) note(ctx context.Context, err error) error {
	h := &s.health
	if err == nil {
		h.mu.Lock()
		h.err = nil
		h.mu.Unlock()
		return nil
	}
	if !unreachable(ctx, err) {
		return err
	}
	h.mu.Lock()
	if h.err == nil {
		h.since = time.Now()
	}
	h.err = err
	h.mu.Unlock()
	return fmt.Errorf("%w: postgres: %w", engine.ErrStoreUnwritable, err)
}

// unreachable reports whether err says the server could not take a write
// (a connection lost or refused, the server shutting down or starting, a
// full disk), as opposed to a refusal of the write itself (a fence, a
// constraint) or the caller giving up.
func unreachable(ctx context.Context, err error) bool {
	if ctx.Err() != nil || errors.Is(err, cluster.ErrFenced) || errors.Is(err, context.Canceled) {
		return false
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		// 08: connection exception; 57P: operator intervention (admin
		// shutdown, cannot connect now); 53: insufficient resources.
		return strings.HasPrefix(pe.Code, "08") || strings.HasPrefix(pe.Code, "57P") || strings.HasPrefix(pe.Code, "53")
	}
	// No answer from the server at all: the connection failed.
	return true
}

// WriteHealth implements engine.StoreProbe.
func (s *Store) WriteHealth() engine.StoreHealth {
	h := &s.health
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.err == nil {
		return engine.StoreHealth{Writable: true}
	}
	return engine.StoreHealth{
		Error: fmt.Errorf("%w: postgres: %w", engine.ErrStoreUnwritable, h.err).Error(),
		Since: h.since.UTC(),
	}
}

// Probe implements engine.StoreProbe: it rewrites the one row of
// store_probe through the group committer, unfenced, and makes the store
// writable again when that succeeds.
func (s *Store) Probe(ctx context.Context) error {
	at := nanos(time.Now())
	err := s.nodeWrite(ctx, func(q *queue) {
		q.exec(`INSERT INTO store_probe (id, at) VALUES (1, $1) ON CONFLICT (id) DO UPDATE SET at = excluded.at`, at)
	})
	if err != nil {
		return fmt.Errorf("probe the store: %w", err)
	}
	return nil
}
