package pgtest

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// CPUTime is the user+system CPU time the server's processes (the
// postmaster and the backends alive now) have used, from /proc; 0 where
// there is no /proc. Benchmarks add it to their own to count a write's
// whole cost.
func (c *Cluster) CPUTime() time.Duration {
	if c.proc == nil {
		return 0
	}
	root := c.proc.Process.Pid
	var total time.Duration
	stats, _ := filepath.Glob("/proc/[0-9]*/stat")
	for _, p := range stats {
		pid, ppid, cpu, ok := procStat(p)
		if ok && (pid == root || ppid == root) {
			total += cpu
		}
	}
	return total
}

// procStat reads pid, ppid and utime+stime from a /proc/PID/stat file.
func procStat(path string) (pid, ppid int, cpu time.Duration, ok bool) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, 0, 0, false
	}
	s := string(b)
	// The command name (field 2) is in parentheses and may hold spaces.
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0, 0, 0, false
	}
	pid, err = strconv.Atoi(strings.TrimSpace(s[:strings.IndexByte(s, '(')]))
	if err != nil {
		return 0, 0, 0, false
	}
	f := strings.Fields(s[i+1:]) // f[0] is field 3 (state)
	if len(f) < 13 {
		return 0, 0, 0, false
	}
	ppid, _ = strconv.Atoi(f[1])
	utime, _ := strconv.ParseInt(f[11], 10, 64)
	stime, _ := strconv.ParseInt(f[12], 10, 64)
	const ticksPerSecond = 100 // USER_HZ on Linux
	return pid, ppid, time.Duration(utime+stime) * time.Second / ticksPerSecond, true
}
