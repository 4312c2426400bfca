package webui

import (
	"context"
	"database/sql"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/rs/zerolog"

	"github.com/ripple-ops/ripple/definitions"
	"github.com/ripple-ops/ripple/engine"
	"github.com/ripple-ops/ripple/engine/convergence"
	"github.com/ripple-ops/ripple/engine/httpapi"
	"github.com/ripple-ops/ripple/engine/sqlstore"
)

// The big estate of issue 18: 10,000 hosts in 100 groups, 50 jobs of 200
// hosts each, 1,000 monitors of 100 hosts each (100,000 (monitor, host)
// pairs, 2% of them not OK), 2% of the hosts out of sync and 100,000 runs
// in the SQLite store.
const (
	bigHosts    = 10_000
	bigGroups   = 100
	bigJobs     = 50
	bigMonitors = 1_000
	bigRuns     = 100_000
)

func bigFleetHCL() string {
	var b strings.Builder
	b.WriteString("credential \"default\" {\n  user = \"deploy\"\n  private_key_file = \"/etc/ripple/key\"\n  known_hosts_file = \"/etc/ripple/known_hosts\"\n}\n")
	for i := range bigHosts {
		fmt.Fprintf(&b, "host \"h%05d\" {\n  address = \"10.%d.%d.%d\"\n  groups = [\"g%03d\"]\n  labels = { rack = \"r%02d\" }\n}\n", i, i/65536, i/256%256, i%256, i%bigGroups, i%40)
	}
	for j := range bigJobs {
		fmt.Fprintf(&b, "job \"job-%02d\" {\n  targets { groups = [\"g%03d\", \"g%03d\"] }\n  step \"s\" { run = \"true\" }\n}\n", j, 2*j, 2*j+1)
	}
	for m := range bigMonitors {
		fmt.Fprintf(&b, "monitor \"mon-%04d\" {\n  targets { groups = [\"g%03d\"] }\n  check \"command\" { run = \"true\" }\n}\n", m, m%bigGroups)
	}
	return b.String()
}

// bigSync is the sync state of the big estate: every 50th host of a job
// out of sync.
type bigSync struct{ states []convergence.JobSync }

func (s *bigSync) SyncStates(_ context.Context, jobs ...string) ([]convergence.JobSync, error) {
	if len(jobs) == 0 {
		return s.states, nil
	}
	var out []convergence.JobSync
	for _, js := range s.states {
		for _, j := range jobs {
			if js.Job == j {
				out = append(out, js)
			}
		}
	}
	return out, nil
}
func (s *bigSync) StartSync(context.Context, string, []string, string, string) (*engine.Run, error) {
	return nil, fmt.Errorf("not in a benchmark")
}
func (s *bigSync) CheckDrift(context.Context, ...string) ([]engine.JobDrift, error) { return nil, nil }

// seedRuns writes n runs into the store at dir in one transaction, as the
// store would have written them over months.
func seedRuns(b *testing.B, dir string, n int) {
	b.Helper()
	db, err := sql.Open("sqlite", filepath.Join(dir, "ripple.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	tx, err := db.Begin()
	if err != nil {
		b.Fatal(err)
	}
	stmt, err := tx.Prepare(`INSERT INTO runs (job, commit_sha, branch, trigger, actor, reason, state, waves, current_wave, summary, error, created, started, finished, updated)
		VALUES (?, ?, 'main', ?, ?, '', ?, ?, 1, ?, '', ?, ?, ?, ?)`)
	if err != nil {
		b.Fatal(err)
	}
	start := time.Now().Add(-100 * 24 * time.Hour)
	triggers, actors := []string{"commit", "manual", "schedule", "sync"}, []string{"ripple", "alice", "bob", "carol"}
	for i := range n {
		state, summary := "succeeded", "200/200 hosts ok in 4 waves"
		if i%37 == 0 {
			state, summary = "failed", "wave 2: 3 hosts failed"
		}
		at := start.Add(time.Duration(i) * 86 * time.Second).UnixNano()
		waves := fmt.Sprintf(`[["h%05d"],["h%05d","h%05d"]]`, i%bigHosts, (i+1)%bigHosts, (i+2)%bigHosts)
		if _, err := stmt.Exec(fmt.Sprintf("job-%02d", i%bigJobs), fmt.Sprintf("%040x", i/20), triggers[i%4], actors[i%4], state, waves, summary, at, at, at+int64(time.Minute), at); err != nil {
			b.Fatal(err)
		}
	}
	if err := tx.Commit(); err != nil {
		b.Fatal(err)
	}
}

// BenchmarkIndexPages renders each index page and the overview of the big
// estate through the UI's handler (server time: no network, no browser):
//
//	go test -run '^$' -bench IndexPages -benchtime 20x ./engine/webui
//
// cpu-ms/op is the process's CPU time per render (GC included), which on
// a machine shared with other work says more than the wall time; heap-MB
// is the live heap after the pages were rendered b.N times, to see
// that it stays flat as N grows.
func BenchmarkIndexPages(b *testing.B) {
	ctx := context.Background()
	dir := b.TempDir()
	store, err := sqlstore.Open(ctx, dir)
	if err != nil {
		b.Fatal(err)
	}
	store.Close()
	seedRuns(b, dir, bigRuns)
	store, err = sqlstore.Open(ctx, dir)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { store.Close() })
	defs, diags := definitions.Load(fstest.MapFS{"ops/main.hcl": {Data: []byte(bigFleetHCL())}}, commitA, definitions.Limits{})
	if diags.HasErrors() {
		b.Fatal(diags)
	}
	now := time.Now()
	var mons fakeMonitors
	for m := range bigMonitors {
		for i := m % bigGroups; i < bigHosts; i += bigGroups {
			st := engine.MonitorHostState{Monitor: fmt.Sprintf("mon-%04d", m), Host: fmt.Sprintf("h%05d", i), State: engine.StateOK, Since: now.Add(-time.Hour), LastAt: now, LastOutput: "OK"}
			if (m+i)%50 == 0 {
				st.State, st.LastOutput = engine.StateCritical, "CRITICAL: disk 97%"
			}
			mons = append(mons, st)
		}
	}
	sync := &bigSync{}
	for j := range bigJobs {
		js := convergence.JobSync{Job: fmt.Sprintf("job-%02d", j)}
		for _, g := range []int{2 * j, 2*j + 1} {
			for i := g; i < bigHosts; i += bigGroups {
				h := convergence.HostSyncState{Host: fmt.Sprintf("h%05d", i), State: engine.SyncSynced, Desired: commitA, Deployed: commitA}
				if i%50 == 0 {
					h.State, h.Reason = engine.SyncOutOfSync, engine.ReasonFailed
				}
				js.Hosts = append(js.Hosts, h)
			}
		}
		sync.states = append(sync.states, js)
	}
	tokens, err := httpapi.ParseTokens(strings.NewReader(tokensFile))
	if err != nil {
		b.Fatal(err)
	}
	backend := &fakeBackend{defs: defs, store: store}
	// The daemon's runner says when its states change (StatesVersion);
	// here they do not, as between two changes of a steady fleet.
	ui, err := New(Options{Backend: backend, Store: store, Tokens: tokens, Monitors: &versionedMonitors{states: mons}, Metrics: store, Sync: sync, Logger: zerolog.Nop()})
	if err != nil {
		b.Fatal(err)
	}
	pages := []string{
		"/", "/hosts", "/hosts?q=h09&sort=health", "/hosts?group=g042&sync=out_of_sync", "/hosts?page=40",
		"/jobs", "/jobs?sync=needs_sync", "/monitors", "/monitors?state=problem", "/monitors?page=15",
		"/runs", "/runs?job=job-07", "/runs?state=failed", "/runs?actor=alice&trigger=manual", "/runs?before=50000",
		"/hosts/h04242",
	}
	for _, p := range pages {
		// The first render fills the caches the daemon keeps warm.
		if code, body := render(ui, p); code != http.StatusOK {
			b.Fatalf("%s: %d\n%.2000s", p, code, body)
		}
	}
	for _, p := range pages {
		b.Run(strings.NewReplacer("/", "_", "?", "_", "&", "_", "=", "-").Replace(p), func(b *testing.B) {
			b.ReportAllocs()
			cpu0 := cpuTime()
			for b.Loop() {
				if code, _ := render(ui, p); code != http.StatusOK {
					b.Fatalf("%s: %d", p, code)
				}
			}
			if cpu0 >= 0 {
				b.ReportMetric(float64(cpuTime()-cpu0)/float64(time.Millisecond)/float64(b.N), "cpu-ms/op")
			}
			runtime.GC()
			var ms runtime.MemStats
			runtime.ReadMemStats(&ms)
			b.ReportMetric(float64(ms.HeapAlloc)/(1<<20), "heap-MB")
		})
	}
}

func render(h http.Handler, path string) (int, string) {
	req := httptest.NewRequest("GET", path, nil)
	req.AddCookie(&http.Cookie{Name: CookieName, Value: viewerToken})
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec.Code, rec.Body.String()
}
