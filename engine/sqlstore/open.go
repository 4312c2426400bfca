package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"time"

	_ "modernc.org/sqlite" // registers the pure-Go "sqlite" driver

	"github.com/ripple-ops/ripple/engine"
)

// Store is the SQLite implementation of every engine store interface. It is safe for concurrent use. See the package
// documentation for the durability model.
type Store struct {
	dir     string
	path    string
	lock    *dirLock
	writer  *sql.DB // one connection, used only by gc's goroutine and migrate
	reader  *sql.DB // query_only pool
	gc      *groupCommitter
	journal journalStmts // prepared on writer
	now     func() time.Time
	closed  atomic.Bool
	health  health // whether commits succeed; updated by gc's goroutine
}

var (
	_ engine.RunStore          = (*Store)(nil)
	_ engine.JournalStore      = (*Store)(nil)
	_ engine.EventStore        = (*Store)(nil)
	_ engine.StatusWriter      = (*Store)(nil)
	_ engine.StatusReader      = (*Store)(nil)
	_ engine.AppliedStore      = (*Store)(nil)
	_ engine.FiringStore       = (*Store)(nil)
	_ engine.DeliveryStore     = (*Store)(nil)
	_ engine.MetricStore       = (*Store)(nil)
	_ engine.MonitorStateStore = (*Store)(nil)
)

// Default group commit tuning: wait up to groupWindow after the first
// pending write for others to join, and commit at most groupLimit writes in
// one transaction.
const (
	groupWindow = 500 * time.Microsecond
	groupLimit  = 1024
	readerConns = 4
	busyTimeout = 10 * time.Second
)

// options tune a Store; only tests and benchmarks change them.
type options struct {
	window time.Duration
	limit  int
}

// Open opens (creating if needed) the store in dataDir: it takes the
// directory lock, opens <dataDir>/ripple.db and migrates it to the current
// schema. It fails if another process holds the directory or the database
// was written by a newer ripple. Close releases everything.
func Open(ctx context.Context, dataDir string) (*Store, error) {
	return open(ctx, dataDir, options{window: groupWindow, limit: groupLimit})
}

func open(ctx context.Context, dataDir string, o options) (_ *Store, err error) {
	if dataDir == "" {
		return nil, errors.New("open store: empty data directory")
	}
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return nil, fmt.Errorf("create data directory: %w", err)
	}
	lock, err := lockDir(dataDir)
	if err != nil {
		return nil, err
	}
	s := &Store{dir: dataDir, path: filepath.Join(dataDir, "ripple.db"), lock: lock, now: time.Now}
	defer func() {
		if err != nil {
			s.closeDBs()
			lock.unlock() //nolint:errcheck // reporting the open error
		}
	}()
	if strings.ContainsAny(s.path, "?#") {
		return nil, fmt.Errorf("open store: data directory %q must not contain '?' or '#'", dataDir)
	}
	if s.writer, err = openDB(ctx, s.path, false); err != nil {
		return nil, err
	}
	s.writer.SetMaxOpenConns(1)
	s.writer.SetMaxIdleConns(1)
	s.writer.SetConnMaxLifetime(0)
	s.writer.SetConnMaxIdleTime(0)
	if err := checkPragmas(ctx, s.writer); err != nil {
		return nil, fmt.Errorf("open %s: %w", s.path, err)
	}
	if err := migrate(ctx, s.writer, s.path); err != nil {
		return nil, err
	}
	if s.journal, err = prepareJournal(ctx, s.writer); err != nil {
		return nil, err
	}
	if s.reader, err = openDB(ctx, s.path, true); err != nil {
		return nil, err
	}
	s.reader.SetMaxOpenConns(readerConns)
	s.reader.SetMaxIdleConns(readerConns)
	s.gc = newGroupCommitter(s.writer, o.window, o.limit)
	s.gc.observe = s.health.observe
	go s.gc.run()
	return s, nil
}

// openDB opens one handle on path. Every connection gets WAL,
// synchronous=FULL (a commit is fsynced before it returns; NORMAL could lose
// the last commits on power loss), a busy timeout and foreign keys; write
// transactions begin IMMEDIATE so they take the write lock up front.
func openDB(ctx context.Context, path string, readOnly bool) (*sql.DB, error) {
	q := []string{
		fmt.Sprintf("_pragma=busy_timeout(%d)", busyTimeout.Milliseconds()),
		"_pragma=journal_mode(WAL)",
		"_pragma=synchronous(FULL)",
		"_pragma=foreign_keys(1)",
		"_txlock=immediate",
	}
	if readOnly {
		q = append(q, "_pragma=query_only(1)")
	}
	db, err := sql.Open("sqlite", path+"?"+strings.Join(q, "&"))
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	return db, nil
}

// checkPragmas verifies that the settings the durability model rests on
// took effect (journal_mode silently stays as it was on some filesystems).
func checkPragmas(ctx context.Context, db *sql.DB) error {
	var mode string
	if err := db.QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&mode); err != nil {
		return fmt.Errorf("read journal_mode: %w", err)
	}
	if !strings.EqualFold(mode, "wal") {
		return fmt.Errorf("journal_mode is %q, want wal", mode)
	}
	var sync int
	if err := db.QueryRowContext(ctx, "PRAGMA synchronous").Scan(&sync); err != nil {
		return fmt.Errorf("read synchronous: %w", err)
	}
	if sync != 2 {
		return fmt.Errorf("synchronous is %d, want 2 (FULL)", sync)
	}
	return nil
}

// Close stops the writer goroutine after its current batch, closes the
// database and releases the directory lock. Writes after Close fail with
// ErrClosed.
func (s *Store) Close() error {
	if !s.closed.CompareAndSwap(false, true) {
		return nil
	}
	s.gc.stop()
	err := s.closeDBs()
	if uerr := s.lock.unlock(); uerr != nil && err == nil {
		err = fmt.Errorf("release lock: %w", uerr)
	}
	return err
}

func (s *Store) closeDBs() error {
	var errs []error
	s.journal.close()
	if s.reader != nil {
		errs = append(errs, s.reader.Close())
	}
	if s.writer != nil {
		errs = append(errs, s.writer.Close())
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("close %s: %w", s.path, err)
	}
	return nil
}

// IntegrityCheck runs PRAGMA integrity_check and returns an error listing
// the problems unless SQLite answers "ok".
func (s *Store) IntegrityCheck(ctx context.Context) error {
	rows, err := s.reader.QueryContext(ctx, "PRAGMA integrity_check")
	if err != nil {
		return fmt.Errorf("integrity check: %w", err)
	}
	defer rows.Close()
	var msgs []string
	for rows.Next() {
		var m string
		if err := rows.Scan(&m); err != nil {
			return fmt.Errorf("integrity check: %w", err)
		}
		msgs = append(msgs, m)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("integrity check: %w", err)
	}
	if len(msgs) == 1 && msgs[0] == "ok" {
		return nil
	}
	return fmt.Errorf("integrity check of %s: %s", s.path, strings.Join(msgs, "; "))
}

// write runs fn through the group committer. An error that means the
// store cannot write wraps engine.ErrStoreUnwritable.
func (s *Store) write(ctx context.Context, fn writeFunc) error {
	return s.unwritable(s.gc.do(ctx, fn))
}
