package webhooks

import (
	"fmt"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
)

// BenchmarkWebhookBurst is the outside review's load against the daemon's
// HTTP stack (see newBurstStack): 2,000 distinct signed deliveries, 32 at
// a time, over 100 branches and 100 pull requests, beside 200 slowloris
// clients. It prints how many were answered 2xx, latency percentiles and
// the heap in use before, at its peak during and after the burst, beside
// the goal. Run it with
//
//	go test -run '^$' -bench WebhookBurst -benchtime 1x ./webhooks
//
// The slow clients and the senders run in the same process, so the heap
// figures include them.
func BenchmarkWebhookBurst(b *testing.B) {
	load := burst{Deliveries: 2000, Concurrency: 32, Refs: 100, PRs: 100, Slow: 200}
	st := newBurstStack(b)
	stopSlow, started := slowClients(st.srv.Listener.Addr().String(), load.Slow, 200*time.Millisecond)
	defer stopSlow()
	select {
	case <-started:
	case <-time.After(30 * time.Second):
		b.Fatal("slow clients did not connect")
	}
	time.Sleep(200 * time.Millisecond)
	p := newBurstPayloads(b)
	before := heapInUse()

	peak, stopPeak := watchHeap()
	var res burstResult
	b.ResetTimer()
	for i := range b.N {
		res = sendBurst(b, st.srv.URL, load, p, fmt.Sprintf("bench-%d-", i))
	}
	b.StopTimer()
	settle(b, st.hook)
	stopPeak()
	after := heapInUse()
	if miss := st.daemon.missing(res.want); len(miss) > 0 {
		b.Errorf("%d refs and pull requests without their latest head, e.g. %v", len(miss), miss[:min(len(miss), 3)])
	}
	shed := 0.0
	for _, ev := range []string{eventPush, eventPullRequest, eventPing, eventOther} {
		for _, reason := range []string{shedQueueFull, shedBodyBuffer} {
			shed += testutil.ToFloat64(st.hook.metrics.shed.WithLabelValues(ev, reason))
		}
	}

	const mib = 1 << 20
	b.Logf("%d deliveries, %d at a time, beside %d slow clients: %d answered 2xx (answers %v), %v shed",
		load.Deliveries, load.Concurrency, load.Slow, res.accepted(), res.codes, shed)
	b.Logf("latency p50 %v, p99 %v, max %v; goal: all 2xx with p99 < 1s",
		res.percentile(0.50).Round(time.Millisecond), res.percentile(0.99).Round(time.Millisecond),
		res.percentile(1).Round(time.Millisecond))
	b.Logf("heap in use: before %.1f MiB, peak %.1f MiB, after %.1f MiB; %d sink calls for %d refs and pull requests",
		float64(before)/mib, float64(*peak)/mib, float64(after)/mib, st.daemon.sinkCalls(), len(res.want))
	b.ReportMetric(float64(res.accepted()), "2xx")
	b.ReportMetric(float64(res.percentile(0.99).Milliseconds()), "p99-ms")
	b.ReportMetric(float64(after)/mib, "heap-after-MiB")
}

// heapInUse is HeapInuse after a collection.
func heapInUse() uint64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapInuse
}

// watchHeap samples HeapInuse every 50 ms until stop is called; *peak is
// the largest sample, valid after stop.
func watchHeap() (peak *uint64, stop func()) {
	peak = new(uint64)
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		t := time.NewTicker(50 * time.Millisecond)
		defer t.Stop()
		var m runtime.MemStats
		for {
			runtime.ReadMemStats(&m)
			*peak = max(*peak, m.HeapInuse)
			select {
			case <-done:
				return
			case <-t.C:
			}
		}
	})
	return peak, func() { close(done); wg.Wait() }
}
