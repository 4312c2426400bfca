package facts

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/ripple-ops/ripple/definitions"
	"github.com/ripple-ops/ripple/engine"
)

func TestFlatAndDiffFacts(t *testing.T) {
	old := engine.HostFacts{OSVersion: "12", Kernel: "6.1", UptimeSeconds: 10, Disks: []engine.Disk{{Name: "vda", SizeBytes: 20 << 30}}}
	cur := engine.HostFacts{OSVersion: "13", Kernel: "6.1", UptimeSeconds: 99, Disks: []engine.Disk{{Name: "vda", SizeBytes: 20 << 30}, {Name: "vdb", SizeBytes: 1 << 40}}}
	if got := Flat(cur)["disks"]; got != "vda 20G, vdb 1T" {
		t.Errorf("disks = %q", got)
	}
	at := time.Date(2026, 7, 1, 0, 0, 0, 0, time.UTC)
	got := DiffFacts("web-01", at, old, cur)
	want := []engine.FactChange{ // FactNames order; uptime_seconds changes on every gathering and is left out
		{Host: "web-01", At: at, Fact: "os_version", Old: "12", New: "13"},
		{Host: "web-01", At: at, Fact: "disks", Old: "vda 20G", New: "vda 20G, vdb 1T"},
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("DiffFacts (-want +got):\n%s", d)
	}
}

func TestBuildPatchReportOrdersWorstFirst(t *testing.T) {
	n := func(i int) *int { return &i }
	yes := true
	now := time.Date(2026, 7, 1, 12, 0, 0, 0, time.UTC)
	defs := &definitions.Definitions{Hosts: map[string]*definitions.Host{
		"a-ok": {Name: "a-ok", Groups: []string{"web"}}, "b-sec": {Name: "b-sec", Groups: []string{"web"}},
		"c-reboot": {Name: "c-reboot"}, "d-none": {Name: "d-none", Groups: []string{"db"}},
	}}
	recs := []engine.FactsRecord{
		{Host: "a-ok", GatheredAt: now, Facts: engine.HostFacts{PendingUpdates: n(0), PendingSecurityUpdates: n(0)}},
		{Host: "b-sec", GatheredAt: now, SecuritySince: now.Add(-time.Hour), Facts: engine.HostFacts{PendingUpdates: n(3), PendingSecurityUpdates: n(1)}},
		{Host: "c-reboot", GatheredAt: now, Facts: engine.HostFacts{PendingUpdates: n(0), RebootRequired: &yes}},
	}
	rep := BuildPatchReport(defs, recs, nil, now, time.Hour)
	var order []string
	for _, h := range rep.Hosts {
		order = append(order, h.Host)
	}
	if d := cmp.Diff([]string{"b-sec", "c-reboot", "d-none", "a-ok"}, order); d != "" {
		t.Errorf("host order (-want +got):\n%s", d)
	}
	if rep.OldestSecurityHost != "b-sec" || len(rep.Groups) != 2 || rep.Groups[0].Group != "web" || rep.Groups[0].WithSecurity != 1 || rep.Groups[1].Unknown != 1 {
		t.Errorf("report = %+v", rep)
	}
}
