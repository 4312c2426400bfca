package monitor

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/ripple-ops/ripple/definitions"
	"github.com/ripple-ops/ripple/engine"
)

// fleetBehindSwitch is n hosts behind one switch, each with an SSH
// connectivity monitor and an app check depending on it.
func fleetBehindSwitch(b *testing.B, n int) *definitions.Definitions {
	b.Helper()
	var src strings.Builder
	src.WriteString(depsRepo[:strings.Index(depsRepo, `host "app-01"`)])
	for i := range n {
		fmt.Fprintf(&src, "host \"h%05d\" {\n  address = \"10.1.%d.%d\"\n  groups  = [\"app\"]\n  parents = [\"sw-01\"]\n}\n", i, i/250, i%250+1)
	}
	src.WriteString(depsRepo[strings.Index(depsRepo, `notifier "webhook"`):])
	defs, diags := definitions.Load(fstest.MapFS{"main.hcl": {Data: []byte(src.String())}}, "", definitions.Limits{})
	if diags.HasErrors() {
		b.Fatal(diags.Error())
	}
	return defs
}

// BenchmarkChildResultBehindDownSwitch10k: one child's result, with its
// switch down and 10,000 hosts behind it, costs a few lookups (its
// host's and parents' connectivity, its depends_on), not a walk of the
// fleet.
func BenchmarkChildResultBehindDownSwitch10k(b *testing.B) {
	r := New(Options{Checker: newPairChecker(), Secrets: depsSecrets})
	r.apply(fleetBehindSwitch(b, 10000), nil)
	now := time.Now()
	r.mu.Lock()
	sw := r.entries[entryKey{"sw-snmp", "sw-01"}]
	r.observe(sw, engine.CheckResult{State: engine.StateCritical, At: now})
	e := r.entries[entryKey{"app", "h04242"}]
	r.mu.Unlock()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		r.mu.Lock()
		r.observe(e, engine.CheckResult{State: engine.StateCritical, At: now.Add(time.Duration(i) * time.Second), Unreachable: true})
		r.mu.Unlock()
	}
	if !strings.Contains(e.state.Suppressed, "parent sw-01 is down") {
		b.Fatalf("suppressed %q", e.state.Suppressed)
	}
}

// BenchmarkSwitchRecoveryReleases10k: the switch's result when 10,000
// children hold an alert behind it decides each of them once.
func BenchmarkSwitchRecoveryReleases10k(b *testing.B) {
	r := New(Options{Checker: newPairChecker(), Secrets: depsSecrets})
	r.apply(fleetBehindSwitch(b, 10000), nil)
	ctx := context.Background()
	now := time.Now()
	r.mu.Lock()
	sw := r.entries[entryKey{"sw-snmp", "sw-01"}]
	r.observe(sw, engine.CheckResult{State: engine.StateCritical, At: now})
	for k, e := range r.entries {
		if k.monitor == "host-ssh" {
			r.observe(e, engine.CheckResult{State: engine.StateUnknown, At: now.Add(time.Second), Unreachable: true})
		}
	}
	r.mu.Unlock()
	b.ResetTimer()
	for b.Loop() {
		r.mu.Lock()
		r.observe(sw, engine.CheckResult{State: engine.StateCritical, At: now.Add(2 * time.Second)})
		sends := r.sweepLocked(r.affectedHosts(sw), now.Add(2*time.Second))
		r.mu.Unlock()
		r.deliver(ctx, sends)
	}
}
