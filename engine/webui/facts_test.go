package webui

import (
	"context"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ripple-ops/ripple/engine"
	"github.com/ripple-ops/ripple/engine/facts"
	"github.com/ripple-ops/ripple/engine/httpapi"
	"github.com/ripple-ops/ripple/engine/sqlstore"
)

// fakeGatherer gathers on demand the way the daemon does: it records new
// facts in the store (web-01 gets one more pending update).
type fakeGatherer struct {
	mu    sync.Mutex
	store *sqlstore.Store
	calls []string
}

func (g *fakeGatherer) GatherFacts(ctx context.Context, hosts ...string) ([]engine.FactsRecord, error) {
	g.mu.Lock()
	g.calls = append(g.calls, strings.Join(hosts, ","))
	g.mu.Unlock()
	recs, err := g.store.HostFacts(ctx, hosts[0])
	if err != nil || len(recs) != 1 {
		return nil, err
	}
	old := recs[0]
	rec := old
	rec.Facts.PendingUpdates = ptr(*old.Facts.PendingUpdates + 1)
	rec.GatheredAt, rec.AttemptAt = time.Now(), time.Now()
	err = g.store.RecordFacts(ctx, []engine.FactsUpdate{{Record: rec, Changes: facts.DiffFacts(rec.Host, rec.GatheredAt, old.Facts, rec.Facts)}})
	return []engine.FactsRecord{rec}, err
}

func ptr[T any](v T) *T { return &v }

// factsFixture is the fixture with facts recorded for three hosts: web-01
// with 2 security updates of 5 and a reboot pending (its pending updates
// went from 3 to 5 in its history), web-02 with 1 update gathered three
// intervals ago (stale), web-03 whose last gathering failed after one
// that worked. The other nine hosts have none.
func factsFixture(t *testing.T) (*fixture, *fakeGatherer) {
	t.Helper()
	g := &fakeGatherer{}
	f := newFixture(t, func(o *Options) {
		st := o.Store.(*sqlstore.Store)
		g.store = st
		o.Facts = httpapi.FactsOptions{Reader: st, Gatherer: g, Syncs: st, Interval: time.Hour}
		ctx := context.Background()
		now := time.Now()
		base := engine.HostFacts{OSID: "debian", OSVersion: "12", Kernel: "6.1.0-18-amd64", Arch: "x86_64", CPUs: 4, MemoryBytes: 8 << 30,
			SysDescr: "Linux <b>web</b>", PackageManager: "apt", PendingUpdates: ptr(3), PendingSecurityUpdates: ptr(0), RebootRequired: ptr(false)}
		web01 := base
		web01.PendingUpdates, web01.PendingSecurityUpdates, web01.RebootRequired = ptr(5), ptr(2), ptr(true)
		web02 := base
		web02.PendingUpdates = ptr(1)
		first := now.Add(-2 * time.Hour)
		ups := []engine.FactsUpdate{
			{Record: engine.FactsRecord{Host: "web-01", Facts: base, GatheredAt: first, AttemptAt: first, UpdatesSince: first}},
			{Record: engine.FactsRecord{Host: "web-03", Facts: base, GatheredAt: first, AttemptAt: first, UpdatesSince: first}},
			{Record: engine.FactsRecord{Host: "web-02", Facts: web02, GatheredAt: now.Add(-3 * time.Hour), AttemptAt: now.Add(-3 * time.Hour), UpdatesSince: now.Add(-3 * time.Hour)}},
		}
		if err := st.RecordFacts(ctx, ups); err != nil {
			t.Fatal(err)
		}
		at := now.Add(-time.Hour)
		ups = []engine.FactsUpdate{
			{Record: engine.FactsRecord{Host: "web-01", Facts: web01, GatheredAt: at, AttemptAt: at, UpdatesSince: first, SecuritySince: at}, Changes: facts.DiffFacts("web-01", at, base, web01)},
			{Record: engine.FactsRecord{Host: "web-03", AttemptAt: at, Error: "unreachable: ssh web-03 (10.0.0.3:22): connection refused"}},
		}
		if err := st.RecordFacts(ctx, ups); err != nil {
			t.Fatal(err)
		}
	})
	return f, g
}

// TestHostPageShowsFactsAndTheirHistory: a host's page lists its facts,
// when they were gathered and the history of their changes; a stale host
// and a failed gathering say so and keep the last facts; an operator can
// gather now, a viewer cannot.
func TestHostPageShowsFactsAndTheirHistory(t *testing.T) {
	f, g := factsFixture(t)
	_, page, _ := f.get(t, "/hosts/web-01", viewerToken)
	for _, want := range []string{`<h2 id="facts">Facts</h2>`, `<dt>kernel</dt><dd class="mono">6.1.0-18-amd64</dd>`,
		`<dt>memory_bytes</dt><dd class="mono">8589934592 (8G)</dd>`, `<dt>pending_security_updates</dt><dd class="mono">2</dd>`,
		`<td>pending_updates</td><td class="mono">3</td><td class="mono">5</td>`, `<td>reboot_required</td><td class="mono">false</td><td class="mono">true</td>`,
		`Linux &lt;b&gt;web&lt;/b&gt;`} {
		if !strings.Contains(page, want) {
			t.Errorf("web-01's page lacks %q", want)
		}
	}
	if strings.Contains(page, "<b>web</b>") || strings.Contains(page, `id="gather-facts"`) || strings.Contains(page, "stale") {
		t.Error("web-01's page: a fact unescaped, a gather button for a viewer, or fresh facts called stale")
	}
	if _, page, _ = f.get(t, "/hosts/web-02", viewerToken); !strings.Contains(page, `class="badge warning" title="older than two facts intervals">stale`) ||
		!strings.Contains(page, "no fact has changed since the first gathering") {
		t.Error("web-02's page does not call its 3-hour-old facts stale (interval 1h), or shows a history it has not")
	}
	_, page, _ = f.get(t, "/hosts/web-03", viewerToken)
	if !strings.Contains(page, "last gathering failed") || !strings.Contains(page, "connection refused") || !strings.Contains(page, `<dt>kernel</dt><dd class="mono">6.1.0-18-amd64</dd>`) {
		t.Error("web-03's page does not say why the last gathering failed, or lost the last facts")
	}
	if _, page, _ = f.get(t, "/hosts/web-09", viewerToken); !strings.Contains(page, "never gathered") || strings.Contains(page, "<dt>kernel</dt>") {
		t.Error("web-09 has no facts, and its page does not say so")
	}

	if code, _, _ := f.postForm(t, "/hosts/web-01/facts", viewerToken, url.Values{}, nil); code != 403 || len(g.calls) != 0 {
		t.Errorf("a viewer gathering facts: %d, calls %v", code, g.calls)
	}
	if _, page, _ = f.get(t, "/hosts/web-01", operatorToken); !strings.Contains(page, `<form class="inline" method="post" action="/hosts/web-01/facts"><button id="gather-facts"`) {
		t.Fatal("an operator sees no Gather now button")
	}
	code, _, hdr := f.postForm(t, "/hosts/web-01/facts", operatorToken, url.Values{}, nil)
	if code != 303 || hdr.Get("Location") != "/hosts/web-01#facts" || strings.Join(g.calls, ";") != "web-01" {
		t.Fatalf("gather now: %d %v, calls %v", code, hdr, g.calls)
	}
	if _, page, _ = f.get(t, "/hosts/web-01", viewerToken); !strings.Contains(page, `<td>pending_updates</td><td class="mono">5</td><td class="mono">6</td>`) ||
		!strings.Contains(page, `<dt>pending_updates</dt><dd class="mono">6</dd>`) {
		t.Error("after gathering, web-01's page lacks the new value and its change")
	}
}

// TestPatchesPage: hosts worst first as their facts say, counts by group,
// the oldest pending security update, hosts without facts as unknown.
func TestPatchesPage(t *testing.T) {
	f, _ := factsFixture(t)
	code, page, _ := f.get(t, "/patches", viewerToken)
	if code != 200 {
		t.Fatalf("GET /patches: %d", code)
	}
	rows := regexp.MustCompile(`<tr class="patch-row"><td><a href="/hosts/([^"]+)">`).FindAllStringSubmatch(page, -1)
	if len(rows) != 12 || rows[0][1] != "web-01" || rows[1][1] != "web-03" || rows[2][1] != "web-02" {
		t.Errorf("patch rows %v; want 12, web-01 (2 security updates), web-03 (3 updates in its last facts), web-02 (1 update)", rows)
	}
	for _, want := range []string{`<span class="badge critical">2</span>`, `<span class="badge warning">yes</span>`,
		`<tr><td>web</td><td>12</td><td><span class="badge critical">1</span></td><td>3</td><td>1</td><td>9</td></tr>`,
		`on <a href="/hosts/web-01">web-01</a>`, `<span class="badge error" title="unreachable: ssh web-03 (10.0.0.3:22): connection refused">failed</span>`,
		`<a href="/patches" aria-current="page">Patches</a>`} {
		if !strings.Contains(page, want) {
			t.Errorf("/patches lacks %q", want)
		}
	}
	if code, _, _ := f.get(t, "/patches", ""); code == 200 {
		t.Error("/patches answers without signing in")
	}
	// Without facts (a daemon that keeps none) the page says so.
	g := newFixture(t)
	if code, page, _ := g.get(t, "/patches", viewerToken); code != 501 || !strings.Contains(page, "keeps no facts") {
		t.Errorf("/patches without facts: %d", code)
	}
	if _, page, _ := g.get(t, "/hosts/web-01", viewerToken); strings.Contains(page, `id="facts"`) {
		t.Error("a host page without facts shows a facts section")
	}
}
