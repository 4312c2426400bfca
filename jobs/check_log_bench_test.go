package jobs

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ripple-ops/ripple/definitions"
	"github.com/ripple-ops/ripple/engine"
)

// BenchmarkLogCheck: one check after an append of 1,000 lines (50 of them
// matching), through the local transport (the same script a host runs
// over SSH). It reports the bytes read per byte appended (goal: 1) and the
// controller's CPU per check (this process, without the shell and tail the
// host would run), for a file that held 1 MiB and 64 MiB before: the cost
// follows the new bytes, not the file.
func BenchmarkLogCheck(b *testing.B) {
	var lines strings.Builder
	for i := range 1000 {
		if i%20 == 0 {
			fmt.Fprintf(&lines, "2026-12-04T20:00:00Z app[42]: ERROR request %d failed: upstream timeout after 30s\n", i)
		} else {
			fmt.Fprintf(&lines, "2026-12-04T20:00:00Z app[42]: INFO request %d served in 12ms status=200 bytes=5120\n", i)
		}
	}
	appendText := lines.String()
	for _, before := range []int{1 << 20, 64 << 20} {
		b.Run(fmt.Sprintf("file-%dMiB", before>>20), func(b *testing.B) {
			path := filepath.Join(b.TempDir(), "app.log")
			if err := os.WriteFile(path, []byte(strings.Repeat("x", 99)+"\n"), 0o644); err != nil {
				b.Fatal(err)
			}
			fh, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
			if err != nil {
				b.Fatal(err)
			}
			defer fh.Close()
			if _, err := fh.Write([]byte(strings.Repeat(strings.Repeat("y", 99)+"\n", before/100))); err != nil {
				b.Fatal(err)
			}
			check := &definitions.HostCheck{Monitor: "app", Kind: definitions.CheckLog, Timeout: 30 * time.Second,
				Log: &definitions.HostLogCheck{Path: path, Pattern: "ERROR|FATAL", WarnCount: 1, CritCount: 100, MaxLines: 10, MaxBytes: definitions.DefaultLogMaxBytes}}
			c := NewChecker(CheckerOptions{Commander: NewLocal(SSHOptions{})})
			defer c.Close()
			ep := engine.Endpoint{Host: &definitions.Host{Name: "local", Transport: "local"}}
			_, cursor := c.CheckLog(context.Background(), ep, check, nil) // starts at the end
			var read, matches float64
			cpu0 := selfCPU()
			b.ResetTimer()
			for b.Loop() {
				if _, err := fh.WriteString(appendText); err != nil {
					b.Fatal(err)
				}
				var res engine.CheckResult
				res, cursor = c.CheckLog(context.Background(), ep, check, cursor)
				if res.State != engine.StateWarning {
					b.Fatalf("%s: %s", res.State, res.Output)
				}
				read += metric(res, "bytes")
				matches += metric(res, "matches")
			}
			b.StopTimer()
			b.ReportMetric(read/float64(b.N)/float64(len(appendText)), "read/appended")
			b.ReportMetric(matches/float64(b.N), "matches/op")
			b.ReportMetric(float64((selfCPU()-cpu0).Microseconds())/float64(b.N), "ctrl-cpu-us/op")
		})
	}
}

// selfCPU is the CPU time (user and system) of this process, without its
// children.
func selfCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
