package httpapi

import (
	"context"
	"testing"
	"time"

	"github.com/ripple-ops/ripple/engine"
	"github.com/ripple-ops/ripple/engine/facts"
)

// TestHostsCarryFacts: the filtered, paged host listing carries each
// listed host's facts, and GET /api/v1/hosts/{host} has the host's
// monitors, their worst state and its facts history.
func TestHostsCarryFacts(t *testing.T) {
	f := newMonitorFixture(t) // web-01 CRITICAL on web-http, web-02 OK, db-01 no monitor
	f.h.opts.Facts = FactsOptions{Reader: f.store, Interval: time.Hour}
	ctx := context.Background()
	now := time.Now()
	old := engine.FactsRecord{Host: "web-01", GatheredAt: now.Add(-time.Hour), AttemptAt: now.Add(-time.Hour),
		Facts: engine.HostFacts{OSID: "debian", Kernel: "6.1.0-17-amd64"}}
	cur := old
	cur.GatheredAt, cur.AttemptAt = now, now
	cur.Facts.Kernel = "6.1.0-18-amd64"
	if err := f.store.RecordFacts(ctx, []engine.FactsUpdate{{Record: old}}); err != nil {
		t.Fatal(err)
	}
	if err := f.store.RecordFacts(ctx, []engine.FactsUpdate{{Record: cur, Changes: facts.DiffFacts("web-01", now, old.Facts, cur.Facts)}}); err != nil {
		t.Fatal(err)
	}

	var hosts []Host
	h := f.get(t, "/api/v1/hosts?group=web", &hosts)
	if len(hosts) != 2 || h.Get("X-Total-Count") != "2" {
		t.Fatalf("web hosts = %+v (total %s)", hosts, h.Get("X-Total-Count"))
	}
	if hosts[0].Name != "web-01" || hosts[0].Facts == nil || hosts[0].Facts.Kernel != "6.1.0-18-amd64" || hosts[0].Health != "CRITICAL" {
		t.Errorf("web-01 = %+v; want its facts and CRITICAL", hosts[0])
	}
	if hosts[1].Name != "web-02" || hosts[1].Facts != nil || hosts[1].FactsState == nil || hosts[1].FactsState.GatheredAt != nil {
		t.Errorf("web-02 = %+v; want no facts and a facts_state without gathered_at", hosts[1])
	}

	var d HostDetail
	f.get(t, "/api/v1/hosts/web-01", &d)
	if d.Name != "web-01" || d.Health != "CRITICAL" || d.Monitors["web-http"] != "CRITICAL" || d.Facts == nil || d.Facts.Kernel != "6.1.0-18-amd64" {
		t.Errorf("web-01 detail = %+v", d)
	}
	if len(d.History) != 1 || d.History[0].Fact != "kernel" || d.History[0].Old != "6.1.0-17-amd64" || d.History[0].New != "6.1.0-18-amd64" {
		t.Errorf("web-01 facts history = %+v", d.History)
	}
	if code, body := f.do(t, "GET", "/api/v1/hosts/nope", viewerToken, ""); code != 404 {
		t.Errorf("unknown host: %d %s", code, body)
	}
}
