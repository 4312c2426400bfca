package sqlstore

import (
	"context"
	"fmt"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/ripple-ops/ripple/engine"
)

// BenchmarkJournal10kHosts starts and finishes one step on each of 10,000
// hosts concurrently (20,000 durable journal writes per iteration), once with
// group commit and once with one transaction (one fsync) per write.
//
//	go test -run '^$' -bench Journal10kHosts -benchtime 1x ./engine/sqlstore
func BenchmarkJournal10kHosts(b *testing.B) {
	modes := []struct {
		name   string
		window time.Duration
		limit  int
	}{
		{"group", groupWindow, groupLimit},
		{"tx-per-write", 0, 1},
	}
	const hosts = 10000
	for _, m := range modes {
		b.Run(m.name, func(b *testing.B) {
			ctx := context.Background()
			s := openTuned(b, m.window, m.limit)
			hostNames := make([]string, hosts)
			for i := range hostNames {
				hostNames[i] = fmt.Sprintf("host%05d", i)
			}
			batches0, writes0 := s.gc.batches.Load(), s.gc.writes.Load()
			cpu0 := cpuTime(b)
			b.ResetTimer()
			for range b.N {
				id := newRun(b, s)
				var wg sync.WaitGroup
				for _, h := range hostNames {
					wg.Add(1)
					go func() {
						defer wg.Done()
						hs := engine.HostStep{RunID: id, Host: h, Step: "deploy"}
						if err := s.StartHostStep(ctx, hs); err != nil {
							b.Error(err)
							return
						}
						hs.Result = engine.StepResult{Status: engine.StepOK, Stdout: "done", Duration: time.Millisecond}
						if err := s.FinishHostStep(ctx, hs); err != nil {
							b.Error(err)
						}
					}()
				}
				wg.Wait()
			}
			b.StopTimer()
			cpu := cpuTime(b) - cpu0
			writes := float64(s.gc.writes.Load() - writes0)
			commits := float64(s.gc.batches.Load() - batches0)
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/writes, "ns/write")
			b.ReportMetric(writes/b.Elapsed().Seconds(), "writes/s")
			b.ReportMetric(writes/commits, "writes/commit")
			// CPU of the whole process (user+system) per write: unlike wall
			// time it does not depend on how busy the machine is.
			b.ReportMetric(float64(cpu.Nanoseconds())/writes, "cpu-ns/write")
		})
	}
}

// cpuTime is the user+system CPU time this process has used.
func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
