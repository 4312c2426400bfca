// Package storetest is the contract test suite of ripple's durable stores:
// one suite that every store (engine/sqlstore, engine/pgstore) runs from
// its own tests, so that what the engine relies on — every write kept
// under concurrency, orders, time round-trips, byte-exact host output,
// retention, durability across a reopen — is checked once, the same way,
// on each of them. What only one store has (SQLite's directory lock and
// crash files, PostgreSQL's connection errors and fencing) stays in that
// store's own tests.
//
// Run takes an Open that makes a fresh, empty store per test. The few
// helpers that are exported (JournalHosts, IsolatedFailure,
// BenchJournal10kHosts) are contract checks a store also runs on stores
// tuned in ways only it can (a long group commit window, one transaction
// per write).
//
// It starts no goroutine that outlives a test.
package storetest
