package main

import (
	"context"
	"testing"
	"testing/fstest"
	"time"

	"github.com/rs/zerolog"

	"github.com/ripple-ops/ripple/definitions"
	"github.com/ripple-ops/ripple/engine"
	"github.com/ripple-ops/ripple/engine/enginetest"
	"github.com/ripple-ops/ripple/engine/monitor"
)

// A cluster node shows, for a pair another node checks, why that node
// holds its alert back (suppressed) and an acknowledgement made here, for
// as long as it covers the state the checking node saved.
func TestClusterMonitorsShowSuppressedAndAckOfOtherNodesPairs(t *testing.T) {
	const src = `
credential "default" {
  user             = "ops"
  private_key_file = "/keys/ops"
}
host "web-01" { address = "10.0.0.1" }
monitor "app" {
  targets { hosts = ["web-01"] }
  check "command" { run = "true" }
}
`
	defs, diags := definitions.Load(fstest.MapFS{"main.hcl": {Data: []byte(src)}}, "", definitions.Limits{})
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	ctx := context.Background()
	store := enginetest.NewMemStore()
	notMine := func(string, string) bool { return false }
	r := monitor.New(monitor.Options{States: store, Silences: store, Acks: store, Owns: notMine, Logger: zerolog.Nop()})
	if err := r.ApplyConfig(ctx, defs); err != nil {
		t.Fatal(err)
	}
	since := time.Now().Add(-time.Minute).Truncate(time.Second)
	save := func(state engine.CheckState, since time.Time, suppressed string) {
		t.Helper()
		if err := store.SaveMonitorState(ctx, engine.MonitorRecord{Monitor: "app", Host: "web-01", State: state, Since: since,
			Consecutive: 3, Firing: true, LastAt: time.Now(), LastOutput: "APP CRITICAL", Suppressed: suppressed}); err != nil {
			t.Fatal(err)
		}
	}
	// The node that checks web-01 saved it CRITICAL, held behind its host.
	save(engine.StateCritical, since, "host web-01 is down: host-ssh CRITICAL")
	if _, err := r.Acknowledge(ctx, "app", "web-01", "alice", "on it"); err != nil {
		t.Fatal(err)
	}
	c := clusterMonitors{runner: r, store: store, owns: notMine, log: zerolog.Nop()}
	one := func() engine.MonitorHostState {
		t.Helper()
		states := c.States()
		if len(states) != 1 {
			t.Fatalf("%d states, want app@web-01 alone", len(states))
		}
		return states[0]
	}
	s := one()
	if s.State != engine.StateCritical || s.Suppressed != "host web-01 is down: host-ssh CRITICAL" {
		t.Errorf("app@web-01: %s suppressed %q, want CRITICAL behind its host", s.State, s.Suppressed)
	}
	if s.Ack == nil || s.Ack.Actor != "alice" {
		t.Errorf("app@web-01 ack %+v, want alice's", s.Ack)
	}

	// The checking node saw it change to WARNING, no longer suppressed:
	// the ack was of CRITICAL and is over.
	save(engine.StateWarning, since.Add(30*time.Second), "")
	s = one()
	if s.State != engine.StateWarning || s.Suppressed != "" || s.Ack != nil {
		t.Errorf("after the change: %s suppressed %q ack %+v, want WARNING, neither suppressed nor acknowledged", s.State, s.Suppressed, s.Ack)
	}
}
