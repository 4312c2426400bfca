// Package pgstore is ripple's PostgreSQL store, for several daemons sharing
// one database (DESIGN.md, "Several daemons"). It implements every store
// interface of engine, as engine/sqlstore does, and passes the same
// contract suite (engine/storetest). It uses github.com/jackc/pgx/v5
// (pgxpool) and needs PostgreSQL 12 or newer (tested with 15).
//
// # Schema and migrations
//
// The schema is SQLite's, table for table and column for column
// (TestSchemaMatchesSQLite), with PostgreSQL types: BIGINT identities for
// ids, BOOLEAN for flags, DOUBLE PRECISION for metric values, a sequence
// for the status outbox's order. Times are BIGINT Unix nanoseconds, 0 for
// unset, read back in UTC: exact to the nanosecond (TIMESTAMPTZ keeps
// microseconds, and the contract suite round-trips nanoseconds), and the
// same numbers as in SQLite; metric timestamps are milliseconds. What hosts
// send — step output and errors, check output, a sync attempt's error, a
// drift diff — may be any bytes, so it is BYTEA and kept byte for byte.
// Other text is TEXT, which PostgreSQL keeps to valid UTF-8 without NUL: a
// string that is not (a name or reason with a stray byte) is stored with
// U+FFFD in place of each bad byte rather than refused.
//
// migrations/NNNN_name.sql are numbered and named as sqlstore's
// (TestMigrationsMatchSQLite): one schema change is one migration on each
// store. Open applies the missing ones in order, each in its own
// transaction with its row in schema_version (version, name, applied), so
// a failure leaves a whole version. Each of those transactions first takes
// an advisory lock, so daemons starting at once migrate one at a time.
// Migrations are forward-only: a database at a version newer than the
// binary knows is refused untouched (ErrSchemaTooNew), naming both
// versions. The role needs CREATE on the database's schema (the database's
// owner has it).
//
// # Connecting
//
// Open takes a DSN without a password (a postgres:// URL or key=value
// string) and refuses one that holds a password, and PGPASSWORD: the
// password comes from Options.PasswordFile (--store-password-file) or,
// without it, from PGPASSFILE or ~/.pgpass, which pgx reads as libpq does
// (libpq's check that the file is not readable by others is not made).
// Errors name the server, database and user, never the password: an
// unreachable server (ErrUnreachable; retried for Options.ConnectWait), a
// refused user or password (and where the password came from), a missing
// database. Every session sets synchronous_commit=on. Statements are
// prepared and cached per connection, so the store cannot sit behind a
// transaction-mode pooler (PgBouncer in session mode is fine).
//
// # Durability and group commit
//
// Every method that writes returns only after its transaction committed;
// with synchronous_commit=on, PostgreSQL has flushed it to its WAL. The
// server's fsync must be on for that to survive a crash of the database
// machine (Open warns when it is off). A write that returns an error was
// not made, except when the error is the commit's own (the connection
// broke during COMMIT), after which the outcome is known only by reading.
// A write whose ctx ends while it is still queued returns ctx.Err() and is
// never made; once the writer has taken it, the call waits for its
// transaction, bounded by 30 seconds.
//
// All writes go through one writer goroutine that owns one connection. It
// takes the first pending write, then whatever else is waiting, waiting up
// to 500µs for more, up to 1024 writes, and sends them as one pipelined
// batch (pgx.Batch): BEGIN and every write's statements in one round trip,
// then COMMIT. So 10,000 hosts starting a step at once pay for tens of
// commits and round trips, not 10,000. A wave's plan and a batch of metric
// samples are each one statement (unnest of arrays). If a statement fails,
// nothing of the batch was committed: the write it belongs to runs again
// alone, for its own verdict, and the others are retried together, so one
// caller's error never undoes another's write. Reads use a pool of up to
// Options.MaxReaders connections and see every write that has returned.
// Compact runs in a transaction of its own, outside the writer, and is
// safe to run from several nodes at once.
//
// # Fencing (for the cluster)
//
// In a cluster, only the leader reconciles, rolls out, schedules and
// writes to GitHub, and a deposed leader must not write (DESIGN.md: every
// journal write carries the epoch and is refused once it moved). Writes are
// of two kinds, chosen in one place each (Store.write, Store.nodeWrite):
//
//   - the leader's writes, fenced: runs (CreateRun, UpdateRun), the journal
//     (PlanHostSteps, StartHostStep, FinishHostStep), events, commit
//     statuses and their outbox (SetStatus, MarkStatusDelivered), last
//     applied commits, sync state (RecordSync) and schedule firings;
//   - a node's own writes, not fenced: monitor state and metric samples
//     (each node runs its share of the checks), webhook deliveries (every
//     node receives webhooks).
//
// Options.Fence is the hook: when set, it runs inside the transaction of
// every batch that holds a fenced write, after the batch's statements and
// before COMMIT, with the transaction (pgx.Tx) to read or lock the leader
// row in. An error rolls the transaction back; each fenced write of the
// batch returns that error (wrapped, so errors.Is works) and the batch's
// unfenced writes are committed without it. Because the check and the
// writes commit together, a leader that lost its lease between taking a
// step and journaling it cannot write: its epoch is checked in the same
// transaction. A typical fence compares the epoch this node holds with
// `SELECT epoch FROM leader FOR SHARE` (the lock keeps a new leader from
// bumping the epoch until the batch commits).
//
// # Notifications
//
// Notify and Listen wrap NOTIFY/LISTEN for wake-ups between nodes (an
// operator's action received by one node, for the leader): Listen holds a
// connection of its own and reconnects; a notification is a wake-up, not a
// record. AnnounceControls and ListenControls use them on ControlsChannel:
// a silence or acknowledgement made on one node is read by every node at
// once.
//
// # Goroutines
//
// Open starts one goroutine, the writer (groupCommitter.run). Close stops
// it after its current batch, waits for it, then closes the connections.
// Writes after Close fail with ErrClosed (engine.ErrClosed). Listen and
// RunCompaction run on their caller's goroutine until its ctx ends.
package pgstore
