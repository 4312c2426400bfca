package gitops

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/fstest"
	"time"

	"github.com/ripple-ops/ripple/definitions"
	"github.com/ripple-ops/ripple/engine"
	"github.com/ripple-ops/ripple/engine/enginetest"
)

// memFacts is a FactStore in memory with the contract's semantics: an
// update with an error writes only the attempt and the error.
type memFacts struct {
	mu      sync.Mutex
	recs    map[string]engine.FactsRecord
	history []engine.FactChange
}

func (m *memFacts) RecordFacts(_ context.Context, ups []engine.FactsUpdate) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, u := range ups {
		r := u.Record
		if r.Error != "" {
			old := m.recs[r.Host]
			old.Host, old.AttemptAt, old.Error = r.Host, r.AttemptAt, r.Error
			m.recs[r.Host] = old
			continue
		}
		m.recs[r.Host] = r
		m.history = append(m.history, u.Changes...)
	}
	return nil
}

func (m *memFacts) HostFacts(_ context.Context, host string) ([]engine.FactsRecord, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []engine.FactsRecord
	for _, n := range slices.Sorted(maps.Keys(m.recs)) {
		if host == "" || n == host {
			out = append(out, m.recs[n])
		}
	}
	return out, nil
}

func (m *memFacts) FactHistory(_ context.Context, host string, _ int) ([]engine.FactChange, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []engine.FactChange
	for _, c := range slices.Backward(m.history) {
		if c.Host == host {
			out = append(out, c)
		}
	}
	return out, nil
}

// fakeProbe answers each host's facts: pending updates from updates, an
// error for the hosts in fail; it records every request.
type fakeProbe struct {
	mu      sync.Mutex
	updates map[string]int
	fail    map[string]string
	reqs    []engine.FactsRequest
}

func (p *fakeProbe) GatherFacts(_ context.Context, req engine.FactsRequest) (engine.HostFacts, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.reqs = append(p.reqs, req)
	name := req.Endpoint.Host.Name
	if msg, ok := p.fail[name]; ok {
		return engine.HostFacts{}, errors.New(msg)
	}
	f := engine.HostFacts{UptimeSeconds: int64(len(p.reqs))}
	if req.SSH {
		n := p.updates[name]
		f.OSID, f.Kernel, f.PendingUpdates = "debian", "6.1.0", &n
	}
	if req.SNMP != nil {
		f.SysName = name
	}
	return f, nil
}

func (p *fakeProbe) calls(host string) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := 0
	for _, r := range p.reqs {
		if r.Endpoint.Host.Name == host {
			n++
		}
	}
	return n
}

func (p *fakeProbe) request(host string) engine.FactsRequest {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, r := range slices.Backward(p.reqs) {
		if r.Endpoint.Host.Name == host {
			return r
		}
	}
	return engine.FactsRequest{}
}

func (p *fakeProbe) set(f func()) {
	p.mu.Lock()
	defer p.mu.Unlock()
	f()
}

func recorded(store *memFacts, host string) engine.FactsRecord {
	recs, _ := store.HostFacts(context.Background(), host)
	if len(recs) != 1 {
		return engine.FactsRecord{}
	}
	return recs[0]
}

// TestFactsGatheredWhenHostsAppearAndOnDemand: the daemon gathers each
// host once when it appears (a host a later commit adds too, without
// gathering the others again), on demand with the changes recorded, and
// a failed gathering keeps the last facts and says why. A switch with an
// snmp profile and no credential of its own is asked over SNMP only.
func TestFactsGatheredWhenHostsAppearAndOnDemand(t *testing.T) {
	repo := enginetest.NewGitRepo(t)
	repo.Commit("inventory", map[string]string{"hosts.hcl": enginetest.Inventory})
	store := enginetest.NewMemStore()
	facts := &memFacts{recs: map[string]engine.FactsRecord{}}
	probe := &fakeProbe{updates: map[string]int{"web-01": 3}, fail: map[string]string{}}
	d := dmDaemon(t, repo, store, &dmRunner{store: store}, func(o *Options) {
		o.Facts, o.FactStore, o.FactsInterval = probe, facts, time.Hour
	})
	dmRun(t, d)
	dmWait(t, "facts of web-01 and web-02", func() bool {
		return !recorded(facts, "web-01").GatheredAt.IsZero() && !recorded(facts, "web-02").GatheredAt.IsZero()
	})
	if r := probe.request("web-01"); !r.SSH || r.Endpoint.Credential == nil || r.Endpoint.Credential.User != "deploy" || r.SNMP != nil {
		t.Errorf("web-01 asked with %+v; want SSH as deploy, no SNMP", r)
	}

	// A commit adds a switch: it is gathered, over SNMP only; the others
	// are not gathered again within the interval.
	repo.Commit("a switch", map[string]string{"switch.hcl": `snmp "v2" {
  version   = "2c"
  community = "public"
}
host "sw-01" {
  address = "10.0.0.1"
  snmp    = "v2"
}
`})
	d.Trigger("test")
	dmWait(t, "facts of sw-01", func() bool { return !recorded(facts, "sw-01").GatheredAt.IsZero() })
	if r := probe.request("sw-01"); r.SSH || r.SNMP == nil || r.SNMP.Community != "public" || r.SNMP.Address != "10.0.0.1" {
		t.Errorf("sw-01 asked with SSH %v, SNMP %+v; want SNMP only", r.SSH, r.SNMP)
	}
	if n := probe.calls("web-01"); n != 1 {
		t.Errorf("web-01 gathered %d times; want once", n)
	}

	// On demand: a changed fact is recorded as a change.
	probe.set(func() { probe.updates["web-01"] = 4 })
	recs, err := d.GatherFacts(context.Background(), "web-01")
	if err != nil || len(recs) != 1 || recs[0].Facts.PendingUpdates == nil || *recs[0].Facts.PendingUpdates != 4 {
		t.Fatalf("GatherFacts(web-01) = %+v, %v", recs, err)
	}
	hist, _ := facts.FactHistory(context.Background(), "web-01", 0)
	var changes []string
	for _, c := range hist {
		changes = append(changes, fmt.Sprintf("%s %s->%s", c.Fact, c.Old, c.New))
	}
	if strings.Join(changes, "; ") != "pending_updates 3->4" {
		t.Errorf("web-01 changes %q; want only pending_updates 3->4 (uptimes are no change)", changes)
	}

	// A failed gathering says why and keeps the last facts.
	probe.set(func() { probe.fail["web-02"] = "unreachable: ssh web-02: connection refused" })
	recs, err = d.GatherFacts(context.Background(), "web-02")
	if err != nil || len(recs) != 1 || !strings.Contains(recs[0].Error, "connection refused") || recs[0].Facts.Kernel != "6.1.0" || recs[0].GatheredAt.IsZero() {
		t.Errorf("GatherFacts(web-02) failing = %+v, %v; want the error with the last facts", recs, err)
	}
	if r := recorded(facts, "web-02"); r.Error == "" || r.Facts.Kernel != "6.1.0" {
		t.Errorf("web-02 recorded %+v", r)
	}

	if _, err := d.GatherFacts(context.Background(), "nope"); !errors.Is(err, engine.ErrNotFound) {
		t.Errorf("GatherFacts(nope) = %v; want ErrNotFound", err)
	}
}

// TestClusterGathersFactsOnTheLeaderOnly: of two nodes on one store only
// the leader gathers when hosts appear; facts asked of the follower are
// gathered by the leader and answered through the store.
func TestClusterGathersFactsOnTheLeaderOnly(t *testing.T) {
	ctx := context.Background()
	repo := enginetest.NewGitRepo(t)
	repo.Commit("inventory", map[string]string{"hosts.hcl": enginetest.Inventory})
	store := enginetest.NewMemStore()
	db := enginetest.NewCluster()
	runner := &dmRunner{store: store}
	facts := &memFacts{recs: map[string]engine.FactsRecord{}}
	probes := map[string]*fakeProbe{}
	node := func(name string) *clusterNode {
		p := &fakeProbe{updates: map[string]int{"web-01": 1}, fail: map[string]string{}}
		probes[name] = p
		return startClusterNode(t, name, repo, store, db, runner, func(o *Options) {
			o.Facts, o.FactStore, o.FactsInterval = p, facts, time.Hour
		})
	}
	a := node("a")
	dmWait(t, "a leads", a.leads)
	b := node("b")
	dmWait(t, "facts of both hosts", func() bool {
		return !recorded(facts, "web-01").GatheredAt.IsZero() && !recorded(facts, "web-02").GatheredAt.IsZero()
	})
	dmWait(t, "b follows the applied commit", func() bool { return b.follower.Definitions() != nil })

	probes["a"].set(func() { probes["a"].updates["web-01"] = 2 })
	recs, err := b.follower.GatherFacts(ctx, "web-01")
	if err != nil || len(recs) != 1 || recs[0].Facts.PendingUpdates == nil || *recs[0].Facts.PendingUpdates != 2 {
		t.Fatalf("GatherFacts through b = %+v, %v", recs, err)
	}
	if n := probes["b"].calls("web-01") + probes["b"].calls("web-02"); n != 0 {
		t.Errorf("the follower gathered %d times; only the leader gathers", n)
	}
	if n := probes["a"].calls("web-01"); n != 2 {
		t.Errorf("the leader gathered web-01 %d times; want twice (on appearance, on demand)", n)
	}
	if _, err := b.follower.GatherFacts(ctx, "nope"); !errors.Is(err, engine.ErrNotFound) {
		t.Errorf("an unknown host through b: %v; want ErrNotFound", err)
	}
}

// TestFactsDue: a host is due when never tried, an interval after its last
// gathering, and sooner (factsRetry) after a failed one.
func TestFactsDue(t *testing.T) {
	defs, diags := definitions.Load(fstest.MapFS{"hosts.hcl": {Data: []byte(enginetest.Inventory)}}, "c1", definitions.Limits{})
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	now := time.Now()
	facts := &memFacts{recs: map[string]engine.FactsRecord{
		"web-01": {Host: "web-01", GatheredAt: now.Add(-time.Hour), AttemptAt: now.Add(-factsRetry - time.Minute), Error: "unreachable"},
	}}
	d := &Daemon{opts: Options{FactStore: facts, FactsInterval: 6 * time.Hour}}
	check := func(want ...string) {
		t.Helper()
		due, err := d.factsDue(context.Background(), defs, now)
		if err != nil || strings.Join(due, ",") != strings.Join(want, ",") {
			t.Errorf("due = %v, %v; want %v", due, err, want)
		}
	}
	check("web-01", "web-02") // web-02 never tried; web-01 failed 16m ago
	facts.recs["web-01"] = engine.FactsRecord{Host: "web-01", GatheredAt: now.Add(-time.Hour), AttemptAt: now.Add(-time.Hour)}
	facts.recs["web-02"] = engine.FactsRecord{Host: "web-02", AttemptAt: now.Add(-time.Minute), Error: "unreachable"}
	check() // web-01 gathered an hour ago, web-02 failed a minute ago
	d.opts.FactsInterval = 30 * time.Minute
	check("web-01")
}
