package monitor

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/ripple-ops/ripple/engine"
)

// TestStatesVersionTellsOfAChange: the version the index pages key their
// counts by changes with every change they count (a first result, a
// change of state, a hold) and not with a result that changes none of
// them, so that a steady fleet's pages reuse their counts.
func TestStatesVersionTellsOfAChange(t *testing.T) {
	chk := &scriptedChecker{states: map[string]engine.CheckState{}, calls: map[string]int{}}
	r := New(Options{Checker: chk})
	r.apply(loadMonitors(t, monitorRepo, time.Hour), nil)
	ctx := context.Background()
	step := func(what string, changes bool, do func()) {
		t.Helper()
		v := r.StatesVersion()
		do()
		if got := r.StatesVersion() != v; got != changes {
			t.Errorf("%s: version changed = %v, want %v", what, got, changes)
		}
	}
	check := func() { r.CheckNow(ctx, "web-http", "web-01") }
	step("a first result", true, check)
	step("the same OK result again", false, check)
	chk.set("web-01", engine.StateCritical)
	step("a CRITICAL result", true, check)
	step("a hold", true, func() { r.Hold([]string{"web-02"}) })
	step("its release", true, func() { r.Release(ctx, []string{"web-02"}) })
	step("a reload", true, func() { r.apply(loadMonitors(t, monitorRepo, time.Hour), nil) })
}

// TestHostStatesAreOneHostsStates: a host's page reads its host's states
// alone, the same as the whole list has for it.
func TestHostStatesAreOneHostsStates(t *testing.T) {
	chk := &scriptedChecker{states: map[string]engine.CheckState{"web-01": engine.StateCritical}, calls: map[string]int{}}
	r := New(Options{Checker: chk})
	r.apply(loadMonitors(t, monitorRepo, time.Hour), nil)
	r.CheckNow(context.Background(), "web-http", "web-01")
	for _, host := range []string{"web-01", "web-02", "db-01", "nowhere"} {
		var want []engine.MonitorHostState
		for _, s := range r.States() {
			if s.Host == host {
				want = append(want, s)
			}
		}
		if diff := cmp.Diff(want, r.HostStates(host), cmpopts.EquateEmpty()); diff != "" {
			t.Errorf("HostStates(%s) (-States +HostStates):\n%s", host, diff)
		}
	}
}
