package storetest

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/ripple-ops/ripple/engine"
)

// BenchHosts is how many hosts BenchJournal10kHosts journals at once.
const BenchHosts = 10000

// BenchJournal10kHosts starts and finishes one step on each of 10,000 hosts
// concurrently (20,000 durable journal writes per iteration) on s. commits
// reports how many transactions and writes s has committed so far, for
// writes/commit; serverCPU, when not nil, the CPU time a database server
// has used so far. It reports ns/write (wall time per write, all hosts
// together), writes/s, writes/commit, cpu-ns/write (CPU of this process,
// which includes an embedded database, plus serverCPU's) and the p50/p99
// latency of one write as its caller sees it, queueing included.
func BenchJournal10kHosts(b *testing.B, s Store, commits func() (txs, writes int64), serverCPU func() time.Duration) {
	if serverCPU == nil {
		serverCPU = func() time.Duration { return 0 }
	}
	ctx := context.Background()
	hostNames := make([]string, BenchHosts)
	for i := range hostNames {
		hostNames[i] = fmt.Sprintf("host%05d", i)
	}
	txs0, writes0 := commits()
	lat := make([]time.Duration, 0, 2*BenchHosts*b.N)
	var mu sync.Mutex
	cpu0 := cpuTime(b) + serverCPU()
	b.ResetTimer()
	for range b.N {
		id := newRun(b, s)
		var wg sync.WaitGroup
		for _, h := range hostNames {
			wg.Add(1)
			go func() {
				defer wg.Done()
				var mine [2]time.Duration
				hs := engine.HostStep{RunID: id, Host: h, Step: "deploy"}
				t0 := time.Now()
				if err := s.StartHostStep(ctx, hs); err != nil {
					b.Error(err)
					return
				}
				mine[0] = time.Since(t0)
				hs.Result = engine.StepResult{Status: engine.StepOK, Stdout: "done", Duration: time.Millisecond}
				t0 = time.Now()
				if err := s.FinishHostStep(ctx, hs); err != nil {
					b.Error(err)
					return
				}
				mine[1] = time.Since(t0)
				mu.Lock()
				lat = append(lat, mine[:]...)
				mu.Unlock()
			}()
		}
		wg.Wait()
	}
	b.StopTimer()
	cpu := cpuTime(b) + serverCPU() - cpu0
	txs1, writes1 := commits()
	writes, txs := float64(writes1-writes0), float64(txs1-txs0)
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/writes, "ns/write")
	b.ReportMetric(writes/b.Elapsed().Seconds(), "writes/s")
	b.ReportMetric(writes/txs, "writes/commit")
	// CPU (user+system) per write, of this process and the server's:
	// unlike wall time it does not depend on how busy the machine is.
	b.ReportMetric(float64(cpu.Nanoseconds())/writes, "cpu-ns/write")
	if len(lat) > 0 {
		slices.Sort(lat)
		b.ReportMetric(float64(lat[len(lat)/2].Microseconds()), "p50-µs")
		b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds()), "p99-µs")
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
