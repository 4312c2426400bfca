package test

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ripple-ops/ripple/engine/httpapi"
)

// The log check end to end (issue 16): `ripple serve` watches a log file
// on each host of a real sshd fleet over SSH, and the test writes to the
// files as an application and logrotate would. What a user checks: the
// alerts and their lines, and that the matches over all checks add up to
// the lines written: none lost, none counted twice, whatever happens to
// the file or the daemon in between.

const logMonitors = `
monitor "app-errors" {
  targets { groups = ["fleet"] }
  interval = "1s"
  notify   = ["pager"]
  check "log" {
    path       = "${host.vars.dir}/app/error.log"
    rotated    = "${host.vars.dir}/app/error.log.1"
    pattern    = "ERROR|FATAL"
    exclude    = "healthcheck"
    warn_count = 1
    crit_count = 3
    max_lines  = 5
  }
}
`

// logFile is one host's log file, written as an application would.
type logFile struct {
	t    *testing.T
	dir  string
	errs int // matching lines written since the monitor started watching
}

func (f *logFile) path(name string) string { return filepath.Join(f.dir, "app", name) }

func (f *logFile) write(name string, lines ...string) {
	f.t.Helper()
	fh, err := os.OpenFile(f.path(name), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		f.t.Fatal(err)
	}
	w := bufio.NewWriter(fh)
	for _, l := range lines {
		if (strings.Contains(l, "ERROR") || strings.Contains(l, "FATAL")) && !strings.Contains(l, "healthcheck") {
			f.errs++
		}
		fmt.Fprintln(w, l)
	}
	if err := w.Flush(); err != nil {
		f.t.Fatal(err)
	}
	if err := fh.Close(); err != nil {
		f.t.Fatal(err)
	}
}

// seriesSum adds up the values of metric of monitor on host.
func (e *monEnv) seriesSum(monitor, host, metric string) (sum float64, points int) {
	e.t.Helper()
	var m httpapi.Monitor
	e.get("/api/v1/monitors/"+monitor, &m)
	for _, s := range m.Series {
		if s.Host == host && s.Metric == metric {
			for _, p := range s.Points {
				sum += p.Value
			}
			return sum, len(s.Points)
		}
	}
	return 0, 0
}

// settle waits until host's matches add up to want, then for three more
// checks, and fails if they ever go past it.
func (e *monEnv) settle(what, monitor, host string, want int) {
	e.t.Helper()
	var after int
	monWait(e.t, fmt.Sprintf("%s: %d matches on %s", what, want, host), 40*time.Second, func() bool {
		sum, n := e.seriesSum(monitor, host, "matches")
		if int(sum) > want {
			e.t.Fatalf("%s: %v matches on %s, more than the %d lines written: a line was read twice", what, sum, host, want)
		}
		after = n
		return int(sum) == want
	})
	monWait(e.t, "three more checks of "+host, 30*time.Second, func() bool {
		_, n := e.seriesSum(monitor, host, "matches")
		return n >= after+3
	})
	if sum, _ := e.seriesSum(monitor, host, "matches"); int(sum) != want {
		e.t.Fatalf("%s: %v matches on %s, want %d", what, sum, host, want)
	}
}

func TestLogCheckE2E(t *testing.T) {
	if testing.Short() {
		t.Skip("log check end-to-end test takes about a minute")
	}
	e := newMonEnv(t, 3)
	files := make([]*logFile, len(e.fleet.Hosts))
	for i, h := range e.fleet.Hosts {
		files[i] = &logFile{t: t, dir: h.Dir}
		if err := os.MkdirAll(filepath.Join(h.Dir, "app"), 0o755); err != nil {
			t.Fatal(err)
		}
		files[i].write("error.log", "ERROR from before ripple watched this file", "INFO started")
		files[i].errs = 0
	}
	e.commit("fleet, notifier and the log monitor", map[string]string{"hosts.hcl": e.hostsHCL(), "logs.hcl": logMonitors})
	e.start()
	for _, h := range e.fleet.Hosts {
		monWait(t, "app-errors watching on "+h.Name, 20*time.Second, func() bool {
			m, ok := e.monitor("app-errors", h.Name)
			return ok && m.State == "OK" && strings.Contains(m.LastOutput, "from its end")
		})
	}
	h0, h1, h2 := e.fleet.Hosts[0].Name, e.fleet.Hosts[1].Name, e.fleet.Hosts[2].Name

	// 1. One error line: WARNING, the line in the alert; the next check
	// has none and recovers.
	files[0].write("error.log", "INFO request served", "ERROR payment gateway timeout order=17", "ERROR healthcheck probe failed")
	alert := e.waitDelivery("app-errors", h0, "alert")
	if alert.State != "WARNING" || !strings.Contains(alert.Message, "1 matching line in") ||
		!strings.Contains(alert.Message, "\nERROR payment gateway timeout order=17") || strings.Contains(alert.Message, "healthcheck") {
		t.Errorf("alert on %s = %s", h0, alert)
	}
	if rec := e.waitDelivery("app-errors", h0, "recovery"); rec.State != "OK" {
		t.Errorf("recovery on %s = %s", h0, rec)
	}
	if len(e.hook.of("app-errors", h0)) != 2 || len(e.hook.of("app-errors", h1)) != 0 {
		t.Errorf("deliveries: %v", e.hook.all())
	}

	// 2. Four: CRITICAL, showing the lines.
	files[1].write("error.log", "ERROR db connection lost", "INFO retry", "ERROR db connection lost", "FATAL giving up", "ERROR shutting down")
	alert = e.waitDelivery("app-errors", h1, "alert")
	if alert.State != "CRITICAL" || !strings.Contains(alert.Message, "4 matching lines in") ||
		!strings.Contains(alert.Message, "\nERROR db connection lost\nERROR db connection lost\nFATAL giving up\nERROR shutting down") {
		t.Errorf("alert on %s = %s", h1, alert)
	}
	e.settle("after the alerts", "app-errors", h0, files[0].errs)
	e.settle("after the alerts", "app-errors", h1, files[1].errs)

	// 3. logrotate (create): rename, the writer still appends to the old
	// file until it reopens, then writes the new one.
	f := files[2]
	f.write("error.log", "ERROR r1 before rotation", "INFO r2")
	if err := os.Rename(f.path("error.log"), f.path("error.log.1")); err != nil {
		t.Fatal(err)
	}
	f.write("error.log.1", "ERROR r3 written to the old file after the rename")
	f.write("error.log", "ERROR r4 in the new file", "ERROR r5 in the new file")
	f.write("error.log.1", "FATAL r6 the old file again, before the reopen")
	e.settle("rotation", "app-errors", h2, f.errs)

	// 4. Truncation (copytruncate's second half): the file starts over.
	if err := os.Truncate(f.path("error.log"), 0); err != nil {
		t.Fatal(err)
	}
	f.write("error.log", "ERROR t1 after truncation")
	e.settle("truncation", "app-errors", h2, f.errs)

	// 5. The daemon is killed between checks; lines written while it is
	// down are read once it is back, and nothing before them again.
	e.kill()
	f.write("error.log", "ERROR d1 while the daemon was down", "ERROR d2 while the daemon was down")
	files[0].write("error.log", "INFO nothing to see")
	e.start()
	monWait(t, "the monitors after the restart", 20*time.Second, func() bool {
		_, ok := e.monitor("app-errors", h2)
		return ok
	})
	e.settle("restart", "app-errors", h2, f.errs)
	e.settle("restart", "app-errors", h0, files[0].errs)
}

// waitDelivery waits for the first delivery of kind for (monitor, host).
func (e *monEnv) waitDelivery(monitor, host, kind string) monDelivery {
	e.t.Helper()
	var got monDelivery
	monWait(e.t, kind+" of "+monitor+" on "+host, 30*time.Second, func() bool {
		for _, d := range e.hook.of(monitor, host) {
			if d.Kind == kind {
				got = d
				return true
			}
		}
		return false
	})
	return got
}

// TestLogCheckLargeAppendE2E: 50 MB appended at once is read in max_bytes
// slices, one per check, with every matching line counted once and the
// daemon's memory bounded by the slice, not the append.
func TestLogCheckLargeAppendE2E(t *testing.T) {
	if testing.Short() {
		t.Skip("reads 50 MB over SSH")
	}
	e := newMonEnv(t, 1)
	h := e.fleet.Hosts[0]
	f := &logFile{t: t, dir: h.Dir}
	if err := os.MkdirAll(filepath.Join(h.Dir, "app"), 0o755); err != nil {
		t.Fatal(err)
	}
	f.write("error.log", "INFO started")
	e.commit("the big log", map[string]string{"hosts.hcl": e.hostsHCL(), "logs.hcl": `
monitor "big-log" {
  targets { groups = ["fleet"] }
  interval = "1s"
  check "log" {
    path      = "${host.vars.dir}/app/error.log"
    pattern   = "ERROR"
    max_bytes = 4194304
  }
}
`})
	e.start()
	monWait(t, "big-log watching", 20*time.Second, func() bool {
		m, ok := e.monitor("big-log", h.Name)
		return ok && strings.Contains(m.LastOutput, "from its end")
	})
	before := peakRSS(t, e.cmd.Process.Pid)

	// 50 MB: 500,000 lines of 100 bytes, one in 500 an error.
	f.errs = 0
	fh, err := os.OpenFile(f.path("error.log"), os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	w := bufio.NewWriterSize(fh, 1<<20)
	const lines = 500_000
	for i := range lines {
		level := "INFO "
		if i%500 == 0 {
			level = "ERROR"
			f.errs++
		}
		fmt.Fprintf(w, "2026-11-29T10:00:00Z %s request %09d served in 12ms by worker 7 %s\n", level, i, strings.Repeat("x", 30))
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	st, _ := fh.Stat()
	fh.Close()
	t.Logf("appended %d bytes, %d error lines", st.Size(), f.errs)

	e.settle("50 MB", "big-log", h.Name, f.errs)
	var m httpapi.Monitor
	e.get("/api/v1/monitors/big-log", &m)
	var read float64
	var slices int
	for _, s := range m.Series {
		if s.Metric != "bytes" {
			continue
		}
		for _, p := range s.Points {
			if p.Value > 4194304 {
				t.Errorf("one check read %v bytes, over max_bytes", p.Value)
			}
			if p.Value > 0 {
				slices++
			}
			read += p.Value
		}
	}
	// Each slice but the last ends inside a line, which the next check
	// reads again from its start: at most one line (100 bytes) a slice.
	appended := float64(st.Size()) - float64(len("INFO started\n"))
	t.Logf("read %.0f bytes in %d slices for %.0f appended", read, slices, appended)
	if read < appended || read > appended+float64(100*slices) || slices < 13 {
		t.Errorf("read %.0f bytes in %d slices, want the %.0f appended in at least 13 slices of 4 MiB", read, slices, appended)
	}
	after := peakRSS(t, e.cmd.Process.Pid)
	t.Logf("daemon peak RSS %d KiB before, %d KiB after reading 50 MB", before, after)
	if after-before > 40<<10 {
		t.Errorf("daemon peak RSS grew by %d KiB reading 50 MB in 4 MiB slices", after-before)
	}
}

// peakRSS is VmHWM of pid in KiB.
func peakRSS(t *testing.T, pid int) int {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Skipf("no /proc: %v", err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			n, err := strconv.Atoi(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")))
			if err != nil {
				t.Fatal(err)
			}
			return n
		}
	}
	t.Fatal("no VmHWM in /proc status")
	return 0
}

// kill sends SIGKILL to the daemon and reaps it.
func (e *monEnv) kill() {
	e.t.Helper()
	if e.cmd == nil {
		return
	}
	_ = e.cmd.Process.Kill()
	<-e.done
	e.cmd = nil
}
