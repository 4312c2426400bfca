package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/ripple-ops/ripple/engine"
)

var _ engine.StoreProbe = (*Store)(nil)

// health is whether the store's commits succeed. The writer goroutine
// updates it after every commit, in commit order, so a late report of an
// old failure never hides a later success; readers take the lock.
type health struct {
	failing atomic.Bool  // read without the lock by the collector
	errors  atomic.Int64 // writes refused with engine.ErrStoreUnwritable

	mu    sync.Mutex
	err   error // the latest failure while failing
	since time.Time
}

// observe records the outcome of one commit: nil makes the store writable
// again, an error that means the store cannot write makes it unwritable,
// and any other error (a write refused for what it asked) changes
// nothing.
func (h *health) observe(err error) {
	switch {
	case err == nil:
		if !h.failing.Load() {
			return
		}
		h.mu.Lock()
		h.failing.Store(false)
		h.err, h.since = nil, time.Time{}
		h.mu.Unlock()
	case cannotWrite(err):
		h.mu.Lock()
		if !h.failing.Load() {
			h.since = time.Now()
		}
		h.err = err
		h.failing.Store(true)
		h.mu.Unlock()
	}
}

// cannotWrite reports whether err means the store cannot write at all, not
// that one write was refused: SQLite's full database or disk, an I/O
// error, a read-only database or file system, a journal it cannot open, or
// those errors from the file system itself.
func cannotWrite(err error) bool {
	var se *sqlite.Error
	if errors.As(err, &se) {
		switch se.Code() & 0xff { // the primary code of an extended one
		case sqlite3.SQLITE_FULL, sqlite3.SQLITE_IOERR, sqlite3.SQLITE_READONLY, sqlite3.SQLITE_CANTOPEN:
			return true
		}
		return false
	}
	for _, errno := range []syscall.Errno{syscall.ENOSPC, syscall.EDQUOT, syscall.EIO, syscall.EROFS} {
		if errors.Is(err, errno) {
			return true
		}
	}
	return false
}

// unwritable wraps a write error that means the store cannot write in
// engine.ErrStoreUnwritable, naming the database file, so that callers can
// tell it from a refused write and operators know which file system is
// full. Other errors are returned as they are.
func (s *Store) unwritable(err error) error {
	if err == nil || !cannotWrite(err) {
		return err
	}
	s.health.errors.Add(1)
	return fmt.Errorf("%w: %s: %w", engine.ErrStoreUnwritable, s.path, err)
}

// WriteHealth implements engine.StoreProbe: writable until a commit fails
// because the store cannot write (see cannotWrite), then unwritable, with
// that error and since when, until a commit (a write or Probe) succeeds.
func (s *Store) WriteHealth() engine.StoreHealth {
	h := &s.health
	h.mu.Lock()
	defer h.mu.Unlock()
	if !h.failing.Load() {
		return engine.StoreHealth{Writable: true}
	}
	return engine.StoreHealth{
		Error: fmt.Errorf("%w: %s: %w", engine.ErrStoreUnwritable, s.path, h.err).Error(),
		Since: h.since.UTC(),
	}
}

// WriteErrors counts the writes refused with engine.ErrStoreUnwritable
// since Open.
func (s *Store) WriteErrors() int64 { return s.health.errors.Load() }

// Probe implements engine.StoreProbe: it rewrites the one row of
// store_probe in a commit of its own (fsynced like any other), so it fails
// while the data directory takes no write, and makes the store writable
// again when it succeeds. It costs one small commit.
func (s *Store) Probe(ctx context.Context) error {
	at := nanos(time.Now())
	err := s.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO store_probe (id, at) VALUES (1, ?)
			ON CONFLICT (id) DO UPDATE SET at = excluded.at`, at)
		return err
	})
	if err != nil {
		return fmt.Errorf("probe the store: %w", err)
	}
	return nil
}
