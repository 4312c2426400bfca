package definitions

import (
	"fmt"
	"strings"
	"testing"
	"testing/fstest"
	"time"
)

// Sizes of the generated fleet repo (issue 2: plan 10,000 hosts, 500
// jobs and 1,000 monitors in under a second).
const (
	benchHosts    = 10000
	benchJobs     = 500
	benchMonitors = 1000
	benchGroups   = 50
	benchFiles    = 50 // templates shared by jobs
)

// genFleet writes an ops repo with benchHosts hosts in benchGroups groups,
// benchJobs jobs and benchMonitors monitors, spread over files. v2 is the
// same repo a commit later: ten new hosts, one template and one group var
// changed, one job renamed and one job's step changed, one monitor changed
// and one removed.
func genFleet(v2 bool) fstest.MapFS {
	fsys := fstest.MapFS{}
	put := func(name string, b *strings.Builder) {
		fsys[name] = &fstest.MapFile{Data: []byte(b.String()), Mode: 0o644}
	}

	var b strings.Builder
	b.WriteString("credential \"default\" {\n  user = \"deploy\"\n  private_key_file = \"/etc/ripple/keys/deploy\"\n}\n")
	for g := range benchGroups {
		version := "1.24.0-1"
		if v2 && g == 7 {
			version = "1.26.0-1"
		}
		fmt.Fprintf(&b, "group \"g%02d\" {\n  vars = { app_version = %q, workers = %d }\n}\n", g, version, 2+g%8)
	}
	put("inventory/groups.hcl", &b)

	hosts := benchHosts
	if v2 {
		hosts += 10
	}
	const perFile = 100
	for f := 0; f*perFile < hosts; f++ {
		b.Reset()
		for i := f * perFile; i < min((f+1)*perFile, hosts); i++ {
			fmt.Fprintf(&b, "host \"h%05d\" {\n  address = \"10.%d.%d.%d\"\n  groups  = [\"g%02d\", \"dc%d\"]\n  labels  = { os = \"debian12\", rack = \"r%d\" }\n",
				i, i/62500, (i/250)%250, i%250+1, i%benchGroups, i%3, i%40)
			if i%97 == 0 {
				fmt.Fprintf(&b, "  vars    = { workers = %d }\n", 16)
			}
			b.WriteString("}\n")
		}
		put(fmt.Sprintf("inventory/hosts-%03d.hcl", f), &b)
	}

	for t := range benchFiles {
		b.Reset()
		fmt.Fprintf(&b, "# service %d for ${host.name}\nworkers = ${host.vars.workers}\nlisten  = ${host.address}:%d\n", t, 8000+t)
		if v2 && t == 3 {
			b.WriteString("keepalive = 65\n")
		}
		put(fmt.Sprintf("files/svc-%02d.conf.tmpl", t), &b)
	}

	const jobsPerFile = 50
	for f := 0; f < benchJobs/jobsPerFile; f++ {
		b.Reset()
		for j := f * jobsPerFile; j < (f+1)*jobsPerFile; j++ {
			name := fmt.Sprintf("job-%03d", j)
			if v2 && j == 42 {
				name = "job-042-renamed"
			}
			restart := "systemctl restart svc"
			if v2 && j == 99 {
				restart = "systemctl reload svc"
			}
			fmt.Fprintf(&b, `job %q {
  targets { groups = ["g%02d"] }
  step "config" {
    file {
      source      = "../files/svc-%02d.conf.tmpl"
      destination = "/etc/svc/%d.conf"
    }
  }
  step "install" { run = "apt-get install -y app=${host.vars.app_version}" }
  step "restart" { run = %q }
  rollout {
    waves        = [1, "10%%", "50%%"]
    max_failures = "5%%"
  }
}
`, name, j%benchGroups, j%benchFiles, j, restart)
		}
		put(fmt.Sprintf("jobs/jobs-%02d.hcl", f), &b)
	}

	const monsPerFile = 100
	for f := 0; f < benchMonitors/monsPerFile; f++ {
		b.Reset()
		for m := f * monsPerFile; m < (f+1)*monsPerFile; m++ {
			if v2 && m == 500 {
				continue
			}
			warn := 20
			if v2 && m == 503 {
				warn = 15
			}
			switch m % 3 {
			case 0:
				fmt.Fprintf(&b, "monitor \"m%04d\" {\n  targets { groups = [\"g%02d\"] }\n  check \"http\" { url = \"http://${host.address}:%d/healthz\" }\n}\n", m, m%benchGroups, 8000+m%benchFiles)
			case 1:
				fmt.Fprintf(&b, "monitor \"m%04d\" {\n  targets { groups = [\"g%02d\"] }\n  check \"tcp\" { port = %d }\n}\n", m, m%benchGroups, 8000+m%benchFiles)
			default:
				fmt.Fprintf(&b, "monitor \"m%04d\" {\n  targets {\n    groups = [\"g%02d\"]\n    labels = { os = \"debian12\" }\n  }\n  interval = \"5m\"\n  check \"command\" { run = \"check_disk -w %d%%%% -c 10%%%% -p /\" }\n}\n", m, m%benchGroups, warn)
			}
		}
		put(fmt.Sprintf("monitors/monitors-%02d.hcl", f), &b)
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
		old, diags := cache.Load(v1, "v1")
		if diags.HasErrors() {
			b.Fatal(diags.Error())
		}
		new, diags := cache.Load(v2, "v2")
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
	old, diags := Load(genFleet(false), "v1")
	if diags.HasErrors() {
		b.Fatal(diags.Error())
	}
	new, diags := Load(genFleet(true), "v2")
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
	old, diags := Load(genFleet(false), "v1")
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	new, diags := Load(genFleet(true), "v2")
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
		"job job-050\n  new hosts match targets: h10000\n  wave 1/1 (1 host): h10000",
		"  - m0500",
		"  ~ m0503: monitor block changed",
	} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("plan lacks %q", want)
		}
	}
}
