// Package gitops is the reconcile loop: it mirrors the ops repo
// (engine/source), reconciles from the last applied commit to the branch
// head when a push, a poll or an operator triggers it (validate, refuse
// rewritten history or an empty commit, diff, plan, submit one run per
// changed job), plans pull requests without running anything, and hands
// runs to a Runner (engine/rollout) one job at a time. Every component that
// follows the applied commit subscribes with engine.ConfigApplier. Revert
// proposes undoing a commit as a branch of the ops repo and, with GitHub,
// a pull request (engine.RevertPullRequestOpener): Git stays the truth,
// and hosts change only when that is merged.
//
// Goroutines: Run's goroutine is the loop (fetches, validation, plans, run
// submission); the mirror serializes all git access. One worker goroutine
// per job with queued runs executes them in order. Run waits for all of
// them before it returns.
package gitops
