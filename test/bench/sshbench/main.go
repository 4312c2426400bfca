// Command sshbench is the Go half of test/bench/ssh-bench.sh.
//
//	sshbench fleet -n N -dir DIR   start N sshd hosts, write DIR/{hosts.hcl,
//	                               pssh_hosts,inventory.ini,key,known_hosts},
//	                               create DIR/ready, run until SIGTERM/SIGINT
//	sshbench run -dir DIR -c C     run `true` as a ripple run step on every
//	                               host with ripple's SSH executor, C hosts at
//	                               once; print hosts/s and peak RSS
//	sshbench facts -n N -c C       start N sshd hosts (sshd at DEBUG1, to
//	                               count sessions) and gather every host's
//	                               facts with ripple's facts probe, C at once,
//	                               twice (new connections, then pooled);
//	                               print hosts/s, controller CPU per host and
//	                               the most SSH sessions a host saw per
//	                               gathering
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/ripple-ops/ripple/definitions"
	"github.com/ripple-ops/ripple/engine"
	"github.com/ripple-ops/ripple/jobs"
	"github.com/ripple-ops/ripple/test/sshfleet"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: sshbench fleet|run [flags]")
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	var err error
	switch os.Args[1] {
	case "fleet":
		err = runFleet(ctx, os.Args[2:])
	case "run":
		err = runBench(ctx, os.Args[2:])
	case "facts":
		err = runFacts(ctx, os.Args[2:])
	default:
		err = fmt.Errorf("unknown mode %q", os.Args[1])
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "sshbench:", err)
		os.Exit(1)
	}
}

// tb lets a program start an sshfleet: failures panic, cleanups run at the
// end of runFleet.
type tb struct {
	mu       sync.Mutex
	cleanups []func()
}

func (*tb) Helper()                        {}
func (*tb) Fatalf(format string, a ...any) { panic(fmt.Sprintf(format, a...)) }
func (*tb) Skipf(format string, a ...any)  { panic(fmt.Sprintf(format, a...)) }
func (t *tb) Cleanup(f func())             { t.mu.Lock(); t.cleanups = append(t.cleanups, f); t.mu.Unlock() }
func (t *tb) cleanup() {
	for i := len(t.cleanups) - 1; i >= 0; i-- {
		t.cleanups[i]()
	}
}

// fleetFile is what `fleet` writes for `run`.
type fleetFile struct {
	User           string
	KeyFile        string
	KnownHostsFile string
	Hosts          []sshfleet.Host
}

func runFleet(ctx context.Context, args []string) (err error) {
	fs := flag.NewFlagSet("fleet", flag.ContinueOnError)
	n := fs.Int("n", 200, "hosts")
	dir := fs.String("dir", "", "output directory")
	if err := fs.Parse(args); err != nil {
		return err
	}
	t := &tb{}
	defer t.cleanup()
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%v", r)
		}
	}()
	start := time.Now()
	f := sshfleet.Start(t, sshfleet.Options{Hosts: *n, MaxStartups: "1000:30:2000"})
	fmt.Fprintf(os.Stderr, "sshbench: %d sshd hosts up in %v\n", *n, time.Since(start).Round(time.Millisecond))

	var pssh, inv strings.Builder
	inv.WriteString("[fleet]\n")
	for _, h := range f.Hosts {
		fmt.Fprintf(&pssh, "%s@%s:%d\n", f.User, h.Address, h.Port)
		fmt.Fprintf(&inv, "%s ansible_host=%s ansible_port=%d\n", h.Name, h.Address, h.Port)
	}
	ff, _ := json.Marshal(fleetFile{User: f.User, KeyFile: f.KeyFile, KnownHostsFile: f.KnownHostsFile, Hosts: f.Hosts})
	for name, data := range map[string]string{
		"fleet.json":    string(ff),
		"hosts.hcl":     f.HCL(),
		"pssh_hosts":    pssh.String(),
		"inventory.ini": inv.String(),
		"key":           f.KeyFile + "\n",
		"known_hosts":   f.KnownHostsFile + "\n",
		"user":          f.User + "\n",
	} {
		if err := os.WriteFile(filepath.Join(*dir, name), []byte(data), 0o600); err != nil {
			return err
		}
	}
	if err := os.WriteFile(filepath.Join(*dir, "ready"), nil, 0o600); err != nil {
		return err
	}
	<-ctx.Done()
	return nil
}

func runBench(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	dir := fs.String("dir", "", "directory written by `sshbench fleet`")
	conc := fs.Int("c", 50, "hosts at once")
	if err := fs.Parse(args); err != nil {
		return err
	}
	b, err := os.ReadFile(filepath.Join(*dir, "fleet.json"))
	if err != nil {
		return err
	}
	var ff fleetFile
	if err := json.Unmarshal(b, &ff); err != nil {
		return err
	}
	cred := &definitions.Credential{Name: "default", User: ff.User, PrivateKeyFile: ff.KeyFile, KnownHostsFile: ff.KnownHostsFile}
	s := jobs.NewSSH(jobs.SSHOptions{})
	defer s.Close()
	// As a job's run step: default 5m timeout, so the remote command runs
	// under timeout(1) like every real step.
	step := &definitions.HostStep{Job: "bench", Name: "true", Kind: definitions.StepRun, Command: "true", Timeout: 5 * time.Minute}

	var mu sync.Mutex
	counts := map[engine.StepStatus]int{}
	var firstErr string
	start := time.Now()
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(*conc)
	for _, h := range ff.Hosts {
		ep := engine.Endpoint{Credential: cred, Host: &definitions.Host{Name: h.Name, Address: h.Address, Port: h.Port}}
		g.Go(func() error {
			r := s.RunStep(gctx, ep, step)
			mu.Lock()
			counts[r.Status]++
			if r.Status != engine.StepOK && firstErr == "" {
				firstErr = r.Error
			}
			mu.Unlock()
			return nil
		})
	}
	g.Wait()
	elapsed := time.Since(start)
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	cpu := time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	fmt.Printf("ripple_ok=%d ripple_total=%d ripple_seconds=%.3f ripple_hosts_per_sec=%.1f ripple_peak_rss_mib=%.1f ripple_cpu_ms_per_host=%.2f\n",
		counts[engine.StepOK], len(ff.Hosts), elapsed.Seconds(), float64(len(ff.Hosts))/elapsed.Seconds(),
		float64(ru.Maxrss)/1024, float64(cpu.Microseconds())/1000/float64(len(ff.Hosts)))
	if firstErr != "" {
		fmt.Fprintln(os.Stderr, "sshbench: first failure:", firstErr)
	}
	return nil
}

func runFacts(ctx context.Context, args []string) (err error) {
	fs := flag.NewFlagSet("facts", flag.ContinueOnError)
	n := fs.Int("n", 200, "hosts")
	conc := fs.Int("c", 32, "hosts at once (the daemon gathers 32 at once)")
	updates := fs.String("updates-file", "", "`FILE` on the hosts read instead of `apt list --upgradable` "+
		"(the lab hosts share one machine, where 200 apt runs at once measure apt, not ripple)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	t := &tb{}
	defer t.cleanup()
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%v", r)
		}
	}()
	f := sshfleet.Start(t, sshfleet.Options{Hosts: *n, MaxStartups: "1000:30:2000", LogLevel: "DEBUG1"})
	cred := &definitions.Credential{Name: "default", User: f.User, PrivateKeyFile: f.KeyFile, KnownHostsFile: f.KnownHostsFile}
	s := jobs.NewSSH(jobs.SSHOptions{})
	defer s.Close()
	probe := jobs.NewFactsProbe(jobs.NewTransport(s, nil), nil)
	sessions := func() []int {
		out := make([]int, len(f.Hosts))
		for i := range f.Hosts {
			out[i] = strings.Count(f.Log(i), "ctype session")
		}
		return out
	}
	for round, name := range []string{"new connections", "pooled connections"} {
		before := sessions()
		var ru0 syscall.Rusage
		syscall.Getrusage(syscall.RUSAGE_SELF, &ru0)
		var mu sync.Mutex
		failed, firstErr := 0, ""
		start := time.Now()
		g, gctx := errgroup.WithContext(ctx)
		g.SetLimit(*conc)
		for _, h := range f.Hosts {
			ep := engine.Endpoint{Credential: cred, Host: &definitions.Host{Name: h.Name, Address: h.Address, Port: h.Port}}
			g.Go(func() error {
				facts, err := probe.GatherFacts(gctx, engine.FactsRequest{Endpoint: ep, SSH: true, UpdatesFile: *updates})
				mu.Lock()
				defer mu.Unlock()
				if err == nil && facts.Kernel == "" {
					err = fmt.Errorf("%s: no kernel in the facts", h.Name)
				}
				if err != nil {
					failed++
					if firstErr == "" {
						firstErr = err.Error()
					}
				}
				return nil
			})
		}
		_ = g.Wait()
		elapsed := time.Since(start)
		var ru syscall.Rusage
		syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
		cpu := time.Duration(ru.Utime.Nano() + ru.Stime.Nano() - ru0.Utime.Nano() - ru0.Stime.Nano())
		after := sessions()
		most := 0
		for i := range after {
			most = max(most, after[i]-before[i])
		}
		fmt.Printf("round=%d (%s) hosts=%d failed=%d seconds=%.3f hosts_per_sec=%.1f cpu_ms_per_host=%.2f max_sessions_per_host=%d\n",
			round+1, name, len(f.Hosts), failed, elapsed.Seconds(), float64(len(f.Hosts))/elapsed.Seconds(),
			float64(cpu.Microseconds())/1000/float64(len(f.Hosts)), most)
		if firstErr != "" {
			fmt.Fprintln(os.Stderr, "sshbench: first failure:", firstErr)
		}
	}
	return nil
}
