// Package rollout carries out runs: one job at one commit over planned
// waves of hosts, max_parallel hosts at once, with the failure budget and
// health gate after each wave, pause and approval between waves, and
// rollback or halt on failure.
//
// The journal in the store is the source of truth: every host-step is
// planned, then marked started (durably) before anything touches the host,
// then finished with its result. A run's progress is always derived from
// the journal and the run's events, never from memory, so Execute both
// starts a fresh run and resumes an interrupted one (see Recover). A write
// the store cannot make (a full disk) ends an execution like a shutdown
// does; the Runner remembers why, and the run's next Execute records it
// (an "interrupted" event) before carrying the run on by the same rules.
//
// Whether a wave fails is decided in one place (waveVerdict and
// gateVerdict); everything else only gathers facts. Timers go through an
// engine.Clock so tests run on virtual time. The monitor runner is reached
// only through engine interfaces: gate checks (engine.Checker) and the
// alert holds of a wave's hosts (engine.AlertHolder).
//
// A run may carry inputs: its job's param values, or (an exec run, which
// has no job) an operator's ad-hoc command, run as one wave of one step
// with no gate, no rollback, no commit status and no sync state. The
// store keeps them masked and redacted; the Runner that recorded the run
// keeps them as given, in memory only, and a run that needs them (a
// sensitive param, an exec command) ends in error in any other process
// instead of resuming (inputs.go).
//
// Goroutines: Execute runs in the caller's goroutine and, inside a wave,
// starts at most max_parallel host goroutines (errgroup) plus bounded health
// check goroutines during a gate; all are waited for before Execute returns.
// Approve and Abort only record an event and signal the executing goroutine.
// A Runner starts no goroutine of its own.
package rollout
