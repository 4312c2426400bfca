package convergence

import (
	"fmt"
	"runtime"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/ripple-ops/ripple/definitions"
	"github.com/ripple-ops/ripple/engine"
)

// TestAnnotatePlan checks what the fleet's state adds to a plan: gate
// checks failing now on planned hosts, and out-of-sync pairs the plan
// does not run.
func TestAnnotatePlan(t *testing.T) {
	defs := &definitions.Definitions{Jobs: map[string]*definitions.Job{
		"web": {Name: "web", Rollout: definitions.Rollout{HealthGate: &definitions.HealthGate{Monitors: []string{"http", "http", "ssh"}}}},
		"db":  {Name: "db"},
	}}
	p := &definitions.PlanResult{Jobs: []definitions.PlannedJob{
		{Name: "db", Waves: [][]string{{"d1"}}},
		{Name: "web", Waves: [][]string{{"w1"}, {"w2", "w3"}}},
	}}
	now := time.Now()
	monitors := []engine.MonitorHostState{
		{Monitor: "http", Host: "w3", State: engine.StateCritical, LastAt: now},
		{Monitor: "http", Host: "w9", State: engine.StateCritical, LastAt: now}, // not planned
		{Monitor: "ssh", Host: "w1", State: engine.StateWarning, LastAt: now},
		{Monitor: "ssh", Host: "w2", State: engine.StateOK, LastAt: now},
		{Monitor: "ssh", Host: "d1", State: engine.StateCritical, LastAt: now}, // not in db's gate
		{Monitor: "http", Host: "w2", State: engine.StateCritical},             // never checked
	}
	syncs := []JobSync{
		{Job: "web", Hosts: []HostSyncState{{Host: "w1", State: engine.SyncOutOfSync, Reason: engine.ReasonFailed}, {Host: "w4", State: engine.SyncOutOfSync, Reason: engine.ReasonFailed, ReasonCommit: "abc"}, {Host: "w5", State: engine.SyncSynced}}},
		{Job: "db", Hosts: []HostSyncState{{Host: "d2", State: engine.SyncDrifted}}},
	}
	AnnotatePlan(p, defs, syncs, monitors)
	if diff := cmp.Diff([]string(nil), p.Jobs[0].GateFailing); diff != "" {
		t.Errorf("db gate failing (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"http@w3", "ssh@w1"}, p.Jobs[1].GateFailing); diff != "" {
		t.Errorf("web gate failing (-want +got):\n%s", diff)
	}
	var got []string
	for _, o := range p.OutOfSync {
		got = append(got, o.Job+" "+o.Host+" "+o.State)
	}
	if diff := cmp.Diff([]string{"web w4 out_of_sync", "db d2 drifted"}, got); diff != "" {
		t.Errorf("out of sync (-want +got):\n%s", diff)
	}
}

// TestAnnotatePlanLargePlan checks that annotating a plan costs what the
// fleet's failing and out-of-sync pairs cost, not one map entry per
// planned pair: a pull request plans up to the targets limit.
func TestAnnotatePlanLargePlan(t *testing.T) {
	hosts := make([]string, 200000)
	for i := range hosts {
		hosts[i] = fmt.Sprintf("h%06d", i)
	}
	defs := &definitions.Definitions{Jobs: map[string]*definitions.Job{}}
	p := &definitions.PlanResult{}
	for j := range 10 {
		name := fmt.Sprintf("j%d", j)
		defs.Jobs[name] = &definitions.Job{Name: name, Rollout: definitions.Rollout{HealthGate: &definitions.HealthGate{Monitors: []string{"ssh"}}}}
		p.Jobs = append(p.Jobs, definitions.PlannedJob{Name: name, Waves: [][]string{hosts}})
	}
	monitors := []engine.MonitorHostState{{Monitor: "ssh", Host: "h000007", State: engine.StateCritical, LastAt: time.Now()}}
	syncs := []JobSync{{Job: "j3", Hosts: []HostSyncState{{Host: "x", State: engine.SyncOutOfSync}}}}
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	AnnotatePlan(p, defs, syncs, monitors)
	runtime.ReadMemStats(&after)
	if len(p.Jobs[0].GateFailing) != 1 || len(p.OutOfSync) != 1 {
		t.Fatalf("gate failing %v, out of sync %v", p.Jobs[0].GateFailing, p.OutOfSync)
	}
	if n := after.TotalAlloc - before.TotalAlloc; n > 32<<20 {
		t.Errorf("annotating allocated %d MiB", n>>20)
	}
}
