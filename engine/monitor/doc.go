// Package monitor runs the monitors of the applied commit: every check on
// each of its target hosts at its interval (spread so checks do not fire
// together), the alert state per (monitor, host) with alert_after,
// flapping, maintenance window mutes and rollout holds, the notifications
// owed to notifiers until they are delivered (kept across restarts), the
// metrics history, capacity forecasts, and the health gate's checks through
// the same path (GateChecker).
//
// Goroutines: Runner.Run owns one scheduling goroutine and at most
// Concurrency check goroutines; all stop when its context ends and Run
// waits for them.
package monitor
