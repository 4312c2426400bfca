// Command monitorbench measures ripple's monitor runner: N checks per
// minute (half tcp, half http) against servers it starts on loopback, for a
// bounded time, printing checks per minute, CPU (cores used) and peak memory.
//
//	go run ./test/bench/monitorbench -checks 10000 -duration 60s
//
// It is a benchmark, not a test: it prints figures and never fails on them.
package main

import (
	"context"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"runtime"
	"strings"
	"sync/atomic"
	"syscall"
	"testing/fstest"
	"time"

	"github.com/ripple-ops/ripple/definitions"
	"github.com/ripple-ops/ripple/engine"
	"github.com/ripple-ops/ripple/engine/monitor"
	"github.com/ripple-ops/ripple/jobs"
)

func main() {
	checks := flag.Int("checks", 10000, "checks per interval (half tcp, half http)")
	interval := flag.Duration("interval", time.Minute, "monitor interval")
	duration := flag.Duration("duration", 70*time.Second, "how long to run (bounded to 5m)")
	servers := flag.Int("servers", 20, "loopback servers of each kind")
	flag.Parse()
	if *duration > 5*time.Minute {
		*duration = 5 * time.Minute
	}
	if err := run(*checks, *servers, *interval, *duration); err != nil {
		fmt.Fprintln(os.Stderr, "monitorbench:", err)
		os.Exit(1)
	}
}

// countingChecker counts results by state.
type countingChecker struct {
	inner      engine.Checker
	ok, notOK  atomic.Int64
	sinceReset atomic.Int64
}

func (c *countingChecker) Check(ctx context.Context, ep engine.Endpoint, hc *definitions.HostCheck) engine.CheckResult {
	r := c.inner.Check(ctx, ep, hc)
	if r.State == engine.StateOK {
		c.ok.Add(1)
	} else if c.notOK.Add(1) <= 3 {
		fmt.Printf("not OK: %s %s: %s %s\n", hc.Monitor, ep.Host.Name, r.State, r.Output)
	}
	c.sinceReset.Add(1)
	return r
}

func run(checks, servers int, interval, duration time.Duration) error {
	var tcpPorts, httpPorts []int
	for i := 0; i < servers; i++ {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return err
		}
		defer ln.Close()
		go func() {
			for {
				c, err := ln.Accept()
				if err != nil {
					return
				}
				c.Close()
			}
		}()
		tcpPorts = append(tcpPorts, ln.Addr().(*net.TCPAddr).Port)

		hl, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return err
		}
		srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("ok")) }), ReadHeaderTimeout: 5 * time.Second}
		go func() { _ = srv.Serve(hl) }()
		defer srv.Close()
		httpPorts = append(httpPorts, hl.Addr().(*net.TCPAddr).Port)
	}

	// One host per check pair; each host gets one tcp and one http monitor
	// (selected by group), against a server chosen round-robin.
	hosts := checks / 2
	var b strings.Builder
	b.WriteString("credential \"default\" {\n  user = \"bench\"\n  private_key_file = \"/dev/null\"\n  known_hosts_file = \"/dev/null\"\n}\n")
	for i := 0; i < hosts; i++ {
		fmt.Fprintf(&b, "host \"h%05d\" {\n  address = \"127.0.0.1\"\n  groups = [\"all\"]\n  vars = { tcp = %d, http = %d }\n}\n",
			i, tcpPorts[i%len(tcpPorts)], httpPorts[i%len(httpPorts)])
	}
	// Ports come from host vars so one monitor block covers every host.
	fmt.Fprintf(&b, "monitor \"web\" {\n  targets { groups = [\"all\"] }\n  interval = %q\n  check \"http\" { url = \"http://127.0.0.1:${host.vars.http}/\" }\n}\n", interval)
	fmt.Fprintf(&b, "monitor \"svc\" {\n  targets { groups = [\"all\"] }\n  interval = %q\n  check \"tcp\" {\n    address = \"127.0.0.1\"\n    port = 1\n  }\n}\n", interval)
	defs, diags := definitions.Load(fstest.MapFS{"bench.hcl": {Data: []byte(b.String())}}, "", definitions.Limits{})
	if diags.HasErrors() {
		return fmt.Errorf("load: %s", diags.Error())
	}
	// The tcp monitor's port differs per host: render with the host's var.
	for _, m := range defs.Monitors {
		if m.Check.Kind == definitions.CheckTCP {
			m.Check.Port = 0
		}
	}

	inner := jobs.NewChecker(jobs.CheckerOptions{})
	defer inner.Close()
	chk := &tcpPortChecker{inner: inner, ports: map[string]int{}}
	for i := 0; i < hosts; i++ {
		chk.ports[fmt.Sprintf("h%05d", i)] = tcpPorts[i%len(tcpPorts)]
	}
	counter := &countingChecker{inner: chk}
	r := monitor.New(monitor.Options{Checker: counter, Concurrency: 256})
	if err := r.ApplyConfig(context.Background(), defs); err != nil {
		return err
	}

	ctx, cancel := context.WithTimeout(context.Background(), duration)
	defer cancel()
	var peakRSS atomic.Int64
	go func() {
		t := time.NewTicker(500 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				if rss := currentRSS(); rss > peakRSS.Load() {
					peakRSS.Store(rss)
				}
			}
		}
	}()
	startCPU := cpuTime()
	start := time.Now()
	fmt.Printf("monitorbench: %d checks every %s (%d hosts x tcp+http) against %d+%d loopback servers, for %s\n",
		checks, interval, hosts, servers, servers, duration)
	_ = r.Run(ctx)
	elapsed := time.Since(start)
	cpu := cpuTime() - startCPU
	total := counter.ok.Load() + counter.notOK.Load()
	fmt.Printf("checks run:      %d (%d OK, %d not OK)\n", total, counter.ok.Load(), counter.notOK.Load())
	fmt.Printf("checks/minute:   %.0f\n", float64(total)/elapsed.Minutes())
	fmt.Printf("cpu:             %.2f cores (%.1fs cpu in %.1fs)\n", cpu.Seconds()/elapsed.Seconds(), cpu.Seconds(), elapsed.Seconds())
	fmt.Printf("peak rss:        %.1f MiB\n", float64(peakRSS.Load())/(1<<20))
	fmt.Printf("goroutines now:  %d\n", runtime.NumGoroutine())
	return nil
}

// tcpPortChecker sets each host's tcp port before the real check runs.
type tcpPortChecker struct {
	inner engine.Checker
	ports map[string]int
}

func (c *tcpPortChecker) Check(ctx context.Context, ep engine.Endpoint, hc *definitions.HostCheck) engine.CheckResult {
	if hc.Kind == definitions.CheckTCP {
		cp := *hc
		cp.Port = c.ports[ep.Host.Name]
		hc = &cp
	}
	return c.inner.Check(ctx, ep, hc)
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func currentRSS() int64 {
	b, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		return 0
	}
	var size, rss int64
	fmt.Sscan(string(b), &size, &rss)
	return rss * int64(os.Getpagesize())
}
