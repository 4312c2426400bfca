// Package engine is ripple's core: the GitOps loop, the rollout executor, the
// monitor runner and the contracts (Store, Executor, Checker) that other
// packages implement. It imports only definitions; cmd wires concrete
// implementations in.
//
// # Rollouts
//
// A Rollout carries out runs: one job at one commit over planned waves of
// hosts. The journal in the Store is the source of truth: every host-step is
// planned, then marked started (durably) before anything touches the host,
// then finished with its result. A run's progress is always derived from the
// journal and the run's events, never from memory, so Execute both starts a
// fresh run and resumes an interrupted one (see Recover).
//
// Goroutines: Execute runs in the caller's goroutine and, inside a wave,
// starts at most max_parallel host goroutines (errgroup) plus bounded health
// check goroutines during a gate; all are waited for before Execute returns.
// Approve and Abort only record an event and signal the executing goroutine.
// A Rollout starts no goroutine of its own.
//
// # Decisions
//
// Whether a wave fails is decided in one place (waveVerdict and gateVerdict
// in rollout_decide.go and gate.go); everything else only gathers facts.
// Timers go through a Clock so tests run on virtual time.
//
// # Apply
//
// Apply is the one-shot `ripple apply`: plan from the last applied commit of
// a data directory to a revision, resume whatever an earlier apply left
// unfinished, run each changed job, and record the result.
package engine
