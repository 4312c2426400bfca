package storetest

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/ripple-ops/ripple/engine"
)

// A gathering's facts and changes survive a restart; a failed gathering
// keeps the last facts and says why; the history lists changes newest
// first.
func testFactsAcrossReopen(t *testing.T, open Open) {
	ctx := context.Background()
	s, _, reopen := fresh(t, open)
	at := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	three, one := 3, 1
	yes := true
	web := engine.HostFacts{OSID: "debian", OSVersion: "12", Kernel: "6.1.0-28-amd64", Arch: "x86_64", CPUs: 4, MemoryBytes: 8 << 30,
		Disks: []engine.Disk{{Name: "vda", SizeBytes: 20 << 30}}, PackageManager: "apt",
		PendingUpdates: &three, PendingSecurityUpdates: &one, RebootRequired: &yes}
	sw := engine.HostFacts{SysDescr: "Juniper Networks, Inc. ex4300-48t Ethernet Switch", SysObjectID: "1.3.6.1.4.1.2636.1.1.1.2.63", SysName: "sw-01", SysUptime: 86400, IfCount: &three}
	err := s.RecordFacts(ctx, []engine.FactsUpdate{
		{Record: engine.FactsRecord{Host: "web-01", Facts: web, GatheredAt: at, AttemptAt: at, UpdatesSince: at, SecuritySince: at}},
		{Record: engine.FactsRecord{Host: "sw-01", Facts: sw, GatheredAt: at, AttemptAt: at}},
		{Record: engine.FactsRecord{Host: "db-01", AttemptAt: at, Error: "dial tcp 10.0.0.9:22: connection refused"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	later := at.Add(time.Hour)
	web2 := web
	web2.OSVersion = "12.8"
	err = s.RecordFacts(ctx, []engine.FactsUpdate{
		{Record: engine.FactsRecord{Host: "web-01", Facts: web2, GatheredAt: later, AttemptAt: later, UpdatesSince: at, SecuritySince: at},
			Changes: []engine.FactChange{{Host: "web-01", At: later, Fact: "os_version", Old: "12", New: "12.8"}}},
		{Record: engine.FactsRecord{Host: "sw-01", AttemptAt: later, Error: strings.Repeat("e", 10_000)}},
	})
	if err != nil {
		t.Fatal(err)
	}
	s = reopen()
	got, err := s.HostFacts(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	want := []engine.FactsRecord{
		{Host: "db-01", AttemptAt: at, Error: "dial tcp 10.0.0.9:22: connection refused"},
		{Host: "sw-01", Facts: sw, GatheredAt: at, AttemptAt: later, Error: engine.ClipText(strings.Repeat("e", 10_000), engine.MaxFactsError)},
		{Host: "web-01", Facts: web2, GatheredAt: later, AttemptAt: later, UpdatesSince: at, SecuritySince: at},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("facts (-want +got):\n%s", diff)
	}
	one1, err := s.HostFacts(ctx, "web-01")
	if err != nil || len(one1) != 1 || one1[0].Facts.OSVersion != "12.8" {
		t.Fatalf("HostFacts(web-01) = %+v, %v", one1, err)
	}
	// A success after a failure clears the error.
	if err := s.RecordFacts(ctx, []engine.FactsUpdate{{Record: engine.FactsRecord{Host: "db-01", Facts: web, GatheredAt: later, AttemptAt: later}}}); err != nil {
		t.Fatal(err)
	}
	db, err := s.HostFacts(ctx, "db-01")
	if err != nil || len(db) != 1 || db[0].Error != "" || db[0].Facts.Kernel != web.Kernel {
		t.Fatalf("db-01 after success = %+v, %v", db, err)
	}
	if err := s.RecordFacts(ctx, []engine.FactsUpdate{{Record: engine.FactsRecord{Host: "web-01", Facts: web, GatheredAt: later.Add(time.Hour), AttemptAt: later.Add(time.Hour)},
		Changes: []engine.FactChange{{Host: "web-01", At: later.Add(time.Hour), Fact: "os_version", Old: "12.8", New: "12"}}}}); err != nil {
		t.Fatal(err)
	}
	hist, err := s.FactHistory(ctx, "web-01", 0)
	if err != nil {
		t.Fatal(err)
	}
	wantHist := []engine.FactChange{
		{Host: "web-01", At: later.Add(time.Hour), Fact: "os_version", Old: "12.8", New: "12"},
		{Host: "web-01", At: later, Fact: "os_version", Old: "12", New: "12.8"},
	}
	if diff := cmp.Diff(wantHist, hist); diff != "" {
		t.Fatalf("history (-want +got):\n%s", diff)
	}
	if h, _ := s.FactHistory(ctx, "web-01", 1); len(h) != 1 || h[0].New != "12" {
		t.Fatalf("history limit 1 = %+v", h)
	}
	if h, _ := s.FactHistory(ctx, "sw-01", 0); len(h) != 0 {
		t.Fatalf("sw-01 history = %+v", h)
	}
}
