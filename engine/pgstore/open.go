package pgstore

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/rs/zerolog"

	"github.com/ripple-ops/ripple/engine"
)

// Store is the PostgreSQL implementation of every engine store interface.
// It is safe for concurrent use, and several processes may share one
// database. See the package documentation for the durability model and
// fencing.
type Store struct {
	pool   *pgxpool.Pool // reads, Compact, LISTEN/NOTIFY
	gc     *groupCommitter
	now    func() time.Time
	closed atomic.Bool
	health writeHealth
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
	_ engine.SyncStore         = (*Store)(nil)
	_ engine.StoreProbe        = (*Store)(nil)
	_ engine.Compactor         = (*Store)(nil)
)

// Group commit tuning (the same as SQLite's) and the limits of one write
// transaction and of the read pool.
const (
	groupWindow       = 500 * time.Microsecond
	groupLimit        = 1024
	writeTimeout      = 30 * time.Second
	defaultMaxReaders = 8
)

// Options configure Open. The zero value is ready: the password from
// PGPASSFILE (or ~/.pgpass), no fence, no logging, no waiting.
type Options struct {
	// PasswordFile holds the password, alone on its first line. Empty:
	// PGPASSFILE or ~/.pgpass, as libpq does (through pgx). A password in
	// the DSN or in PGPASSWORD is refused: it would show in process
	// listings, environments and logs.
	PasswordFile string
	// ConnectWait is how long Open retries a server it cannot reach
	// (connection refused, a timeout) before it fails; 0 fails at once.
	// Other errors (a wrong password, a missing database, a schema newer
	// than this binary) fail at once.
	ConnectWait time.Duration
	// Fence, when set, runs inside the transaction of every batch that
	// holds a leader's write (runs, journal, events, statuses, last
	// applied commits, sync state, schedule firings), after their
	// statements and before COMMIT. An error rolls the transaction back
	// and is returned, wrapped, by each of those writes; the other writes
	// of the batch are committed without it. See the package
	// documentation.
	Fence func(ctx context.Context, tx pgx.Tx) error
	// Logger gets the store's warnings (fsync off on the server, retries
	// at start-up). The zero value logs nothing.
	Logger zerolog.Logger
	// MaxReaders caps the connections used for reads; 0 is 8. The writer
	// has one more of its own.
	MaxReaders int32

	// Tests and benchmarks only.
	window time.Duration // 0: groupWindow; negative: none
	limit  int           // 0: groupLimit
	now    func() time.Time
}

// Open connects to the PostgreSQL database dsn (a postgres:// URL or
// key=value string, without a password), checks the server, and migrates
// the database to the current schema. It fails, naming the server, the
// database and the user but never the password, when the server cannot be
// reached within opts.ConnectWait, refuses the user, lacks the database, or
// holds a schema newer than this binary. Close releases everything.
func Open(ctx context.Context, dsn string, opts Options) (_ *Store, err error) {
	cfg, where, err := poolConfig(dsn, opts)
	if err != nil {
		return nil, err
	}
	log := opts.Logger.With().Str("component", "store").Str("store", where).Logger()
	s := &Store{now: time.Now}
	if opts.now != nil {
		s.now = opts.now
	}
	if s.pool, err = pgxpool.NewWithConfig(ctx, cfg); err != nil {
		return nil, fmt.Errorf("postgres %s: %w", where, err)
	}
	defer func() {
		if err != nil {
			s.pool.Close()
		}
	}()
	if err := connect(ctx, s.pool, cfg, opts, log); err != nil {
		return nil, err
	}
	if err := checkServer(ctx, s.pool, where, log); err != nil {
		return nil, err
	}
	if err := migrate(ctx, s.pool, where); err != nil {
		return nil, err
	}
	wcfg := cfg.Copy()
	wcfg.MaxConns, wcfg.MinConns = 1, 0
	writer, err := pgxpool.NewWithConfig(ctx, wcfg)
	if err != nil {
		return nil, fmt.Errorf("postgres %s: %w", where, err)
	}
	window, limit := groupWindow, groupLimit
	if opts.window != 0 {
		window = max(opts.window, 0)
	}
	if opts.limit != 0 {
		limit = opts.limit
	}
	s.gc = newGroupCommitter(writer, opts.Fence, window, limit)
	go s.gc.run()
	return s, nil
}

// checkServer refuses servers older than PostgreSQL 12 and warns when
// fsync is off, which makes a commit survive a crash of PostgreSQL but not
// one of its machine.
func checkServer(ctx context.Context, pool *pgxpool.Pool, where string, log zerolog.Logger) error {
	var version, fsync string
	err := pool.QueryRow(ctx, "SELECT current_setting('server_version_num'), current_setting('fsync')").Scan(&version, &fsync)
	if err != nil {
		return fmt.Errorf("postgres %s: read settings: %w", where, err)
	}
	if v, _ := strconv.Atoi(version); v < 120000 {
		return fmt.Errorf("postgres %s: server version %s, ripple needs PostgreSQL 12 or newer", where, version)
	}
	if fsync != "on" {
		log.Warn().Msg("PostgreSQL runs with fsync=off: a crash of its machine can lose acknowledged writes")
	}
	return nil
}

// Close stops the writer goroutine after its current batch and closes the
// connections. Writes after Close fail with ErrClosed; closing again is a
// no-op.
func (s *Store) Close() error {
	if !s.closed.CompareAndSwap(false, true) {
		return nil
	}
	s.gc.stop()
	s.gc.pool.Close()
	s.pool.Close()
	return nil
}

// write runs fn through the group committer as a leader's write: fenced.
// A write the server could not take wraps engine.ErrStoreUnwritable.
func (s *Store) write(ctx context.Context, fn writeFunc) error {
	return s.note(ctx, s.gc.do(ctx, fn, true))
}

// nodeWrite runs fn through the group committer unfenced: a write that
// every node of a cluster makes for itself (monitor state and metrics,
// webhook deliveries).
func (s *Store) nodeWrite(ctx context.Context, fn writeFunc) error {
	return s.note(ctx, s.gc.do(ctx, fn, false))
}

// errNoRows reports whether err is pgx's "no rows".
func errNoRows(err error) bool { return errors.Is(err, pgx.ErrNoRows) }
