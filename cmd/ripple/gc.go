package main

import "runtime/debug"

// oneShotGCPercent is the garbage collector target for commands that load
// a whole repo once and exit (validate, plan). Parsing a 10,000-host repo
// allocates hundreds of megabytes of short-lived syntax; with the default
// of 100 a fresh process spends a third of its time collecting while its
// heap grows. The Go compiler makes the same trade for the same reason.
const oneShotGCPercent = 400

// oneShotGC raises the GC target for the rest of a one-shot command, unless
// the operator set GOGC, and returns the function that restores it.
func oneShotGC(e env) (restore func()) {
	if e.getenv("GOGC") != "" {
		return func() {}
	}
	old := debug.SetGCPercent(oneShotGCPercent)
	return func() { debug.SetGCPercent(old) }
}
