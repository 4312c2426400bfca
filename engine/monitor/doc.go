// Package monitor runs the monitors of the applied commit: every check on
// each of its target hosts at its interval (spread so checks do not fire
// together), the alert state per (monitor, host) with alert_after,
// flapping, repeats, maintenance window mutes and rollout holds, the
// dependencies that suppress alerts (host parents, connectivity monitors,
// depends_on, the host unreachable over SSH: suppress.go), operators'
// silences and acknowledgements (controls.go), the notifications owed to
// notifiers until they are delivered (kept across restarts), the metrics
// history, capacity forecasts, and the health gate's checks through the
// same path (GateChecker). Log checks read on from a cursor per
// (monitor, host) kept with the state. Trap blocks are entries whose
// results come from the SNMP trap receiver (ReceiveTrap): matched to hosts
// by source address and to blocks by OID, rate limited per source; traps
// that match nothing are counted and listed (TrapReport).
//
// Goroutines: Runner.Run owns one scheduling goroutine, at most
// Concurrency check goroutines, one trap goroutine (saving trap states,
// sending their notifications, applying rate-limited traps later) and one
// that reads silences, acknowledgements and other nodes' states every
// ControlRefresh (and the first two again when RefreshControls asks,
// several asks making one read); all stop when its context ends and Run waits for them.
package monitor
