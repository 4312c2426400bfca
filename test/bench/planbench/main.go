// Command planbench measures `ripple validate` and `ripple plan` as a user
// runs them, on a real git repository of 10,000 hosts, 500 jobs and 1,000
// monitors with two commits (definitions/fleetgen). It prints the median
// wall time, CPU time (user+system, all threads) and peak memory of each
// command over -runs runs, next to the one-second goal of issue 2.
//
//	go run ./test/bench/planbench [-runs 5] [-ripple PATH]
//
// It is a benchmark, not a test: it prints figures and never fails on them.
// Wall time depends on what else the machine runs; CPU time much less.
package main

import (
	"cmp"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"syscall"
	"time"

	"github.com/ripple-ops/ripple/definitions/fleetgen"
)

func main() {
	runs := flag.Int("runs", 5, "runs of each command")
	ripple := flag.String("ripple", "", "ripple binary (default: build ./cmd/ripple)")
	flag.Parse()
	if err := run(*runs, *ripple); err != nil {
		fmt.Fprintln(os.Stderr, "planbench:", err)
		os.Exit(1)
	}
}

func run(runs int, ripple string) error {
	work, err := os.MkdirTemp("", "planbench")
	if err != nil {
		return err
	}
	defer os.RemoveAll(work)
	if ripple == "" {
		ripple = filepath.Join(work, "ripple")
		if out, err := exec.Command("go", "build", "-o", ripple, "./cmd/ripple").CombinedOutput(); err != nil {
			return fmt.Errorf("build: %w\n%s", err, out)
		}
	}

	repo := filepath.Join(work, "repo")
	if err := git(work, "init", "-q", "-b", "main", repo); err != nil {
		return err
	}
	for i, next := range []bool{false, true} {
		if err := os.RemoveAll(filepath.Join(repo, "inventory")); err != nil {
			return err
		}
		for name, data := range fleetgen.Repo(next) {
			p := filepath.Join(repo, name)
			if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
				return err
			}
			if err := os.WriteFile(p, data, 0o644); err != nil {
				return err
			}
		}
		if err := git(repo, "add", "-A"); err != nil {
			return err
		}
		if err := git(repo, "-c", "user.name=bench", "-c", "user.email=bench@example.invalid", "commit", "-q", "-m", fmt.Sprintf("commit %d", i+1)); err != nil {
			return err
		}
	}

	fmt.Printf("repo: %d hosts, %d jobs, %d monitors; two commits; %d runs each; goal: under 1 s\n\n",
		fleetgen.Hosts, fleetgen.Jobs, fleetgen.Monitors, runs)
	fmt.Printf("%-34s %10s %10s %10s\n", "command", "wall", "cpu", "max rss")
	for _, args := range [][]string{
		{"validate", repo},
		{"plan", "--repo", repo},
		{"plan", "--repo", repo, "--json"},
	} {
		var results []sample
		for range runs {
			s, err := measure(ripple, args)
			if err != nil {
				return err
			}
			results = append(results, s)
		}
		slices.SortFunc(results, func(a, b sample) int { return cmp.Compare(a.wall, b.wall) })
		m := results[len(results)/2]
		fmt.Printf("%-34s %8dms %8dms %7dMiB\n", "ripple "+args[0]+flagsOf(args), m.wall.Milliseconds(), m.cpu.Milliseconds(), m.rssKiB/1024)
	}
	return nil
}

type sample struct {
	wall, cpu time.Duration
	rssKiB    int64
}

// measure runs ripple once and reads its resource usage.
func measure(ripple string, args []string) (sample, error) {
	cmd := exec.Command(ripple, args...)
	start := time.Now()
	out, err := cmd.Output()
	wall := time.Since(start)
	if err != nil {
		return sample{}, fmt.Errorf("ripple %v: %w\n%s", args, err, out)
	}
	ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	if !ok {
		return sample{wall: wall}, nil
	}
	return sample{
		wall:   wall,
		cpu:    time.Duration(ru.Utime.Nano() + ru.Stime.Nano()),
		rssKiB: ru.Maxrss,
	}, nil
}

func flagsOf(args []string) string {
	if slices.Contains(args, "--json") {
		return " --json"
	}
	return ""
}

func git(dir string, args ...string) error {
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("git %v: %w\n%s", args, err, out)
	}
	return nil
}
