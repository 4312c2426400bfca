// Package apply is the one-shot `ripple apply`: plan from the last commit
// applied from a data directory to a revision, resume whatever an earlier
// apply left unfinished, run each changed job through engine/rollout, and
// record the result. It starts no goroutines of its own.
package apply
