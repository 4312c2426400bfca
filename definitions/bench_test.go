//go:build unix

package definitions

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// writeLargeRepo writes an ops repo of hosts hosts, jobs jobs and monitors
// monitors under dir, spread over files as a real repo would be.
func writeLargeRepo(tb testing.TB, dir string, hosts, jobs, monitors int) {
	tb.Helper()
	const groups = 100
	write := func(name, content string) {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			tb.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			tb.Fatal(err)
		}
	}
	var b strings.Builder
	b.WriteString("credential \"default\" {\n  user = \"deploy\"\n  private_key_file = \"/etc/ripple/key\"\n}\n")
	for g := range groups {
		fmt.Fprintf(&b, "group \"g%d\" {\n  vars = { tier = \"t%d\", workers = %d }\n}\n", g, g%7, g%16+1)
	}
	write("inventory/groups.hcl", b.String())
	for f := 0; f < hosts; f += 500 {
		b.Reset()
		for i := f; i < min(f+500, hosts); i++ {
			fmt.Fprintf(&b, "host \"h%05d\" {\n  address = \"10.%d.%d.%d\"\n  groups  = [\"g%d\", \"g%d\"]\n  labels  = { os = \"os%d\", rack = \"r%d\" }\n  vars    = { idx = %d }\n}\n\n",
				i, i>>16&255, i>>8&255, i&255, i%groups, (i/groups)%groups, i%3, i%40, i)
		}
		write(fmt.Sprintf("inventory/hosts-%02d.hcl", f/500), b.String())
	}
	write("files/app.conf.tmpl", "# ${host.name}\nworkers = ${host.vars.workers}\n%{ for g in host.groups }group ${g}\n%{ endfor }")
	for f := 0; f < monitors; f += 100 {
		b.Reset()
		for i := f; i < min(f+100, monitors); i++ {
			switch i % 3 {
			case 0:
				fmt.Fprintf(&b, "monitor \"m%04d\" {\n  targets { groups = [\"g%d\"] }\n  interval = \"30s\"\n  check \"http\" {\n    url = \"http://${host.address}:%d/healthz\"\n  }\n}\n\n", i, i%groups, 8000+i%100)
			case 1:
				fmt.Fprintf(&b, "monitor \"m%04d\" {\n  targets { labels = { os = \"os%d\", rack = \"r%d\" } }\n  check \"command\" { run = \"/usr/lib/nagios/plugins/check_disk -w 20%% -c 10%% -p /\" }\n}\n\n", i, i%3, i%40)
			default:
				fmt.Fprintf(&b, "monitor \"m%04d\" {\n  targets { hosts = [\"h%05d\", \"h%05d\"] }\n  check \"tcp\" { port = 22 }\n}\n\n", i, i%hosts, (i*7)%hosts)
			}
		}
		write(fmt.Sprintf("monitors/m-%02d.hcl", f/100), b.String())
	}
	for f := 0; f < jobs; f += 50 {
		b.Reset()
		for i := f; i < min(f+50, jobs); i++ {
			fmt.Fprintf(&b, `job "j%03d" {
  targets {
    groups  = ["g%d"]
    exclude = ["h%05d"]
  }
  step "config" {
    file {
      source      = "../files/app.conf.tmpl"
      destination = "/etc/app/%d.conf"
    }
  }
  step "reload" {
    run     = "systemctl reload app@${host.vars.idx}"
    timeout = "30s"
  }
  rollout {
    waves        = [1, "10%%", "50%%"]
    max_failures = "5%%"
    health_gate {
      monitors = ["m%04d"]
    }
  }
}

`, i, i%groups, i%hosts, i, (i*3)%monitors)
		}
		write(fmt.Sprintf("jobs/j-%02d.hcl", f/50), b.String())
	}
}

// BenchmarkLoad10k loads and validates a repo of 10,000 hosts, 500 jobs and
// 1,000 monitors from disk.
func BenchmarkLoad10k(b *testing.B) {
	dir := b.TempDir()
	writeLargeRepo(b, dir, 10000, 500, 1000)
	fsys := os.DirFS(dir)
	var total, cpu time.Duration
	n := 0
	for b.Loop() {
		start, startCPU := time.Now(), processCPU()
		d, diags := Load(fsys, "", Limits{})
		total += time.Since(start)
		cpu += processCPU() - startCPU
		n++
		if diags.HasErrors() || len(d.Hosts) != 10000 || len(d.Jobs) != 500 || len(d.Monitors) != 1000 {
			b.Fatalf("hosts %d jobs %d monitors %d\n%s", len(d.Hosts), len(d.Jobs), len(d.Monitors), allDiags(diags))
		}
	}
	b.ReportMetric(float64(total.Milliseconds())/float64(n), "ms/load")
	// CPU time (all threads, GC included) stays meaningful on a busy machine.
	b.ReportMetric(float64(cpu.Milliseconds())/float64(n), "cpu-ms/load")
}

// processCPU is the user and system CPU time of this process so far.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
