// Package sqlstore is ripple's default durable store: one embedded SQLite
// database (modernc.org/sqlite, pure Go, so the binary stays static) in the
// data directory. It implements every store interface of engine (runs,
// journal, events, statuses and their outbox, last applied commits,
// webhook deliveries, schedule firings, monitor state and metrics), and
// passes the store contract suite (engine/storetest) that engine/pgstore
// passes too.
//
// # Files
//
// <dataDir>/ripple.db (with its -wal and -shm files) holds runs, the
// host-step journal, audit events, the last applied commit per branch, the
// commit status outbox, webhook delivery ids, metric series and monitor
// state. <dataDir>/lock is the directory lock.
//
// # Durability
//
// The database runs in WAL mode with synchronous=FULL: every commit is
// fsynced before it returns, so an acknowledged write survives a process
// crash and a power loss (NORMAL would survive only the former). Every
// method that writes returns only after its write is committed. A write
// that returns an error was not made, except when the error is the commit's
// own (an I/O error), after which the outcome is known only by reading. A write whose ctx ends while it is
// still queued returns ctx.Err() and is never made; once the writer has
// taken it, the call waits for the commit instead, which takes at most one
// batch.
//
// # Group commit
//
// All writes go through one writer goroutine that owns the only writer
// connection (BEGIN IMMEDIATE transactions, so there is never a lock upgrade
// to fail). It takes the first pending write, then whatever else is waiting,
// waiting up to 500µs for more, up to 1024 writes, runs them in one
// transaction and commits it: one fsync for the whole batch. Callers are
// woken after the commit. If one write in a batch fails, the batch is rolled
// back and each of its writes is run again alone, so one caller's error
// never undoes another's write. While a batch commits, new writes queue, so
// the batch size grows with the load: 10,000 hosts starting a step at once
// pay for tens of fsyncs, not 10,000.
//
// Reads use a separate pool of query_only connections; in WAL mode they do
// not block the writer and see every write that has returned.
//
// # When the store cannot write
//
// A write that fails because the store cannot write at all (SQLite's
// SQLITE_FULL, SQLITE_IOERR, SQLITE_READONLY or SQLITE_CANTOPEN: a full
// disk, an I/O error, a read-only file system) returns an error wrapping
// engine.ErrStoreUnwritable that names the database file; a write refused
// for what it asked (a missing run, a constraint) does not. The writer
// goroutine records every commit's outcome in order: the first such
// failure makes WriteHealth unwritable, with the error and since when, and
// the next commit that succeeds, a write or Probe (one small row rewritten
// in a commit of its own), makes it writable again. SQLite rolls a failed
// commit back and goes on once space is back; the store needs no reopening.
// Reads keep working throughout. NewCollector exports the state as
// ripple_store_writable and ripple_store_write_errors_total. The store
// does not retry by itself: the daemon probes it with backoff and resumes
// what the failure stopped.
//
// # The directory lock
//
// Open takes an exclusive flock on <dataDir>/lock and holds it until Close.
// A second Open of the same directory, from this or another process, fails
// at once with an error wrapping ErrLocked that names the holder's pid. The
// kernel releases the lock when the process dies, so a crash never leaves a
// stale lock. Open then migrates the schema: migrations/NNNN_*.sql are
// applied in order, each in its own transaction together with its
// PRAGMA user_version bump, and a database with a newer version than the
// binary knows is refused untouched.
//
// # Goroutines
//
// Open starts one goroutine, the writer (groupCommitter.run). Close stops
// it after its current batch, waits for it, then closes the connections and
// releases the lock. Writes after Close fail with ErrClosed. No other
// goroutine is started; Compact is called by its owner on a timer.
package sqlstore
