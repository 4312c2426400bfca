package definitions

import (
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/ripple-ops/ripple/definitions/fleetgen"
)

// Sizes of the generated fleet repo, see fleetgen.
const (
	benchHosts    = fleetgen.Hosts
	benchJobs     = fleetgen.Jobs
	benchMonitors = fleetgen.Monitors
)

// genFleet is fleetgen.Repo as a file system.
func genFleet(v2 bool) fstest.MapFS {
	fsys := fstest.MapFS{}
	for name, data := range fleetgen.Repo(v2) {
		fsys[name] = &fstest.MapFile{Data: data, Mode: 0o644}
	}
	return fsys
}

// BenchmarkPlan10k loads two commits of a 10,000-host repo, diffs them
// and plans the result: what `ripple plan` and the daemon do per commit.
func BenchmarkPlan10k(b *testing.B) {
	v1, v2 := genFleet(false), genFleet(true)
	var wall, cpu time.Duration
	n := 0
	for b.Loop() {
		start, startCPU := time.Now(), processCPU() // see bench_test.go
		// A cache per plan, as `ripple plan` does: the second commit
		// parses only the files that changed.
		cache := NewCache()
		old, diags := cache.Load(v1, "v1", Limits{})
		if diags.HasErrors() {
			b.Fatal(diags.Error())
		}
		new, diags := cache.Load(v2, "v2", Limits{})
		if diags.HasErrors() {
			b.Fatal(diags.Error())
		}
		p := Plan(Diff(old, new), new)
		wall += time.Since(start)
		cpu += processCPU() - startCPU
		n++
		if len(p.Jobs) == 0 {
			b.Fatal("empty plan")
		}
	}
	b.ReportMetric(float64(wall.Milliseconds())/float64(n), "ms/plan")
	// CPU time (all threads, GC included) stays meaningful on a busy
	// machine, where ns/op is mostly waiting.
	b.ReportMetric(float64(cpu.Milliseconds())/float64(n), "cpu-ms/op")
}

// BenchmarkDiff10k measures Diff and Plan alone on the same repo.
func BenchmarkDiff10k(b *testing.B) {
	old, diags := Load(genFleet(false), "v1", Limits{})
	if diags.HasErrors() {
		b.Fatal(diags.Error())
	}
	new, diags := Load(genFleet(true), "v2", Limits{})
	if diags.HasErrors() {
		b.Fatal(diags.Error())
	}
	var cpu time.Duration
	n := 0
	for b.Loop() {
		startCPU := processCPU()
		Plan(Diff(old, new), new)
		cpu += processCPU() - startCPU
		n++
	}
	b.ReportMetric(float64(cpu.Milliseconds())/float64(n), "cpu-ms/op")
}

// TestPlan10kShape checks that the benchmark plans what its generator
// changed, so the benchmark measures a real plan.
func TestPlan10kShape(t *testing.T) {
	if testing.Short() {
		t.Skip("large fixture")
	}
	old, diags := Load(genFleet(false), "v1", Limits{})
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	new, diags := Load(genFleet(true), "v2", Limits{})
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	if len(new.Hosts) != benchHosts+10 || len(new.Jobs) != benchJobs || len(new.Monitors) != benchMonitors-1 {
		t.Fatalf("generated %d hosts, %d jobs, %d monitors", len(new.Hosts), len(new.Jobs), len(new.Monitors))
	}
	p := Plan(Diff(old, new), new)
	var b strings.Builder
	if err := p.WriteText(&b); err != nil {
		t.Fatal(err)
	}
	t.Log(p.Summary())
	for _, want := range []string{
		"job job-003\n  template files/svc-03.conf.tmpl changed",
		"job job-007\n  new hosts match targets: h10007\n  group g07 vars changed",
		"job job-042-renamed\n  new job",
		"job job-042 removed",
		"job job-099\n  step restart changed",
		"job job-050\n  new hosts match targets: h10000\n  a wave fails if more than 5% of its hosts fail (max_failures = \"5%\"); then rollback\n  wave 1/1 (1 host): h10000",
		"  - m0500",
		"  ~ m0503: monitor block changed",
	} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("plan lacks %q", want)
		}
	}
}
