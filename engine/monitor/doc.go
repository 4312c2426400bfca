// Package monitor runs the monitors of the applied commit: every check on
// each of its target hosts at its interval (spread so checks do not fire
// together), the alert state per (monitor, host) with alert_after,
// flapping, repeats, maintenance window mutes and rollout holds, the
// dependencies that suppress alerts (host parents, connectivity monitors,
// depends_on, the host unreachable over SSH: suppress.go), operators'
// silences and acknowledgements (controls.go), the notifications owed to
// notifiers until they are delivered (kept across restarts), the metrics
// history, capacity forecasts, and the health gate's checks through the
// same path (GateChecker).
//
// Goroutines: Runner.Run owns one scheduling goroutine, at most
// Concurrency check goroutines and one that reads silences,
// acknowledgements and other nodes' states every ControlRefresh; all stop
// when its context ends and Run waits for them.
package monitor
