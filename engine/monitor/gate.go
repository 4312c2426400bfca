package monitor

import (
	"context"

	"github.com/ripple-ops/ripple/definitions"
	"github.com/ripple-ops/ripple/engine"
)

// The monitor runner's part in rollouts: the alert holds of a wave's
// hosts (engine.AlertHolder) and the health gate's checks.

// Hold implements engine.AlertHolder: it holds the alerts of hosts in an
// active rollout wave; checks still run and their results still count.
func (r *Runner) Hold(hosts []string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, h := range hosts {
		r.held[h]++
	}
	r.changed()
}

// Release implements engine.AlertHolder: it ends a Hold and sends the held alerts that still fire.
func (r *Runner) Release(ctx context.Context, hosts []string) {
	r.mu.Lock()
	var released []string
	for _, h := range hosts {
		if r.held[h]--; r.held[h] <= 0 {
			delete(r.held, h)
			released = append(released, h)
		}
	}
	// Only what a hold kept back is owed: the unsettled entries.
	out := r.sweepLocked(released, r.opts.Now())
	r.changed()
	r.mu.Unlock()
	r.deliver(ctx, out)
}

// GateChecker runs health-gate checks through the monitor runner, so a gate
// reads the same fresh results as monitoring and feeds the same state (a
// wave's failing host shows as CRITICAL in the monitor too). A (monitor,
// host) pair the runner does not run, such as a monitor added by the commit
// being rolled out, falls back to Fallback.
type GateChecker struct {
	Runner   *Runner
	Fallback engine.Checker
}

var (
	_ engine.Checker          = GateChecker{}
	_ engine.AlertHolder      = (*Runner)(nil)
	_ engine.ConfigApplier    = (*Runner)(nil)
	_ engine.DeliveryOutcomes = (*Runner)(nil)
)

// Check implements Checker.
func (g GateChecker) Check(ctx context.Context, ep engine.Endpoint, hc *definitions.HostCheck) engine.CheckResult {
	if g.Runner != nil && ep.Host != nil {
		if res, ok := g.Runner.CheckNow(ctx, hc.Monitor, ep.Host.Name); ok {
			return res
		}
	}
	return g.Fallback.Check(ctx, ep, hc)
}
