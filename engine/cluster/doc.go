// Package cluster lets several `ripple serve` daemons share one PostgreSQL
// store without a single point of failure. One of them leads, through a
// lease with an epoch kept in the database: only the leader reconciles,
// rolls out, schedules, runs drift checks and writes to GitHub. Every
// write the leader makes checks the epoch in the same transaction
// (fencing), so a leader that lost the lease to another node writes
// nothing more; and a leader that cannot renew its lease before it
// expires stops starting host steps at once (Member.Fence).
//
// Every node heartbeats; monitor checks are spread over the live nodes by
// rendezvous hashing of (monitor, host) (Member.Owns), so that a dead
// node's share moves to the others within a couple of heartbeats. Actions
// asked of a follower (approve, abort, runs, webhooks) go through the
// database to the leader (Forwarder, Executor).
//
// Goroutines: Member.Run owns the heartbeat and leadership loops and the
// goroutine that runs the leader's components (Options.Lead) for each
// term; it waits for all of them before it returns.
package cluster
