package test

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ripple-ops/ripple/definitions"
	"github.com/ripple-ops/ripple/engine"
	"github.com/ripple-ops/ripple/jobs"
	"github.com/ripple-ops/ripple/test/sshfleet"
)

const chkPlugins = "/usr/lib/nagios/plugins"

// chkNeedPlugins fails in CI and skips elsewhere without monitoring-plugins-basic.
func chkNeedPlugins(t *testing.T) {
	t.Helper()
	if _, err := os.Stat(chkPlugins + "/check_disk"); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("monitoring-plugins-basic not installed: %v", err)
		}
		t.Skipf("monitoring-plugins-basic not installed: %v", err)
	}
}

func chkCommand(cmd string, timeout time.Duration) *definitions.HostCheck {
	return &definitions.HostCheck{Monitor: "e2e", Kind: definitions.CheckCommand, Command: cmd, Timeout: timeout}
}

func chkMetric(res engine.CheckResult, name string) (engine.Metric, bool) {
	for _, m := range res.Metrics {
		if m.Name == name {
			return m, true
		}
	}
	return engine.Metric{}, false
}

// TestChecksNagiosPluginsOverSSH runs the real Debian plugins on a real sshd
// host through the SSH transport and the Checker.
func TestChecksNagiosPluginsOverSSH(t *testing.T) {
	chkNeedPlugins(t)
	fleet := sshfleet.Start(t, sshfleet.Options{Hosts: 1})
	ssh := jobs.NewSSH(jobs.SSHOptions{DialTimeout: 3 * time.Second, HandshakeTimeout: 5 * time.Second, KillGrace: time.Second})
	defer ssh.Close()
	c := jobs.NewChecker(jobs.CheckerOptions{Commander: jobs.NewTransport(ssh, nil)})
	defer c.Close()
	ep := fleet.Endpoint(0)
	ctx := context.Background()

	res := c.Check(ctx, ep, chkCommand(chkPlugins+"/check_disk -w 1% -c 1% -p /", 10*time.Second))
	if res.State != engine.StateOK || !strings.HasPrefix(res.Output, "DISK OK") {
		t.Fatalf("check_disk: %v %q", res.State, res.Output)
	}
	if m, ok := chkMetric(res, "/"); !ok || m.Value <= 0 || m.Max == nil || *m.Max < m.Value || m.Warn == nil || m.Crit == nil {
		t.Errorf("check_disk perfdata: %+v", res.Metrics)
	}
	if res.At.IsZero() || res.Duration <= 0 {
		t.Errorf("At/Duration not set: %+v", res)
	}

	res = c.Check(ctx, ep, chkCommand(chkPlugins+"/check_disk -w 100% -c 99.9999% -p /", 10*time.Second))
	if res.State != engine.StateCritical || !strings.HasPrefix(res.Output, "DISK CRITICAL") {
		t.Errorf("check_disk critical: %v %q", res.State, res.Output)
	}

	res = c.Check(ctx, ep, chkCommand(chkPlugins+"/check_procs -w 0 -c 100000", 10*time.Second))
	if res.State != engine.StateWarning || !strings.HasPrefix(res.Output, "PROCS WARNING") {
		t.Errorf("check_procs warning: %v %q", res.State, res.Output)
	}
	if m, ok := chkMetric(res, "procs"); !ok || m.Value < 1 {
		t.Errorf("check_procs perfdata: %+v", res.Metrics)
	}

	for code, want := range []engine.CheckState{engine.StateOK, engine.StateWarning, engine.StateCritical, engine.StateUnknown} {
		res = c.Check(ctx, ep, chkCommand(fmt.Sprintf("%s/check_dummy %d 'code %d'", chkPlugins, code, code), 10*time.Second))
		if res.State != want || !strings.Contains(res.Output, "code "+strconv.Itoa(code)) {
			t.Errorf("check_dummy %d: %v %q, want %v", code, res.State, res.Output, want)
		}
	}

	start := time.Now()
	res = c.Check(ctx, ep, chkCommand("sleep 30", time.Second))
	if res.State != engine.StateCritical || !strings.Contains(res.Output, "timed out") {
		t.Errorf("slow plugin: %v %q, want CRITICAL timed out", res.State, res.Output)
	}
	if time.Since(start) > 10*time.Second {
		t.Errorf("slow plugin took %v", time.Since(start))
	}

	// The host goes away: the check could not run, UNKNOWN naming the cause.
	fleet.StopHost(0)
	ssh.Close()
	ssh2 := jobs.NewSSH(jobs.SSHOptions{DialTimeout: 2 * time.Second, HandshakeTimeout: 2 * time.Second})
	defer ssh2.Close()
	c2 := jobs.NewChecker(jobs.CheckerOptions{Commander: jobs.NewTransport(ssh2, nil)})
	res = c2.Check(ctx, ep, chkCommand(chkPlugins+"/check_dummy 0 ok", 5*time.Second))
	if res.State != engine.StateUnknown || !strings.Contains(res.Output, "could not run") {
		t.Errorf("stopped host: %v %q, want UNKNOWN could not run", res.State, res.Output)
	}
}

// TestChecksLocalTransport runs a plugin on the controller itself.
func TestChecksLocalTransport(t *testing.T) {
	chkNeedPlugins(t)
	local := jobs.NewLocal(jobs.SSHOptions{})
	c := jobs.NewChecker(jobs.CheckerOptions{Commander: jobs.NewTransport(nil, local)})
	defer c.Close()
	ep := engine.Endpoint{Host: &definitions.Host{Name: "controller", Address: "127.0.0.1", Transport: "local"}}
	res := c.Check(context.Background(), ep, chkCommand(chkPlugins+"/check_load -w 1000,1000,1000 -c 2000,2000,2000", 10*time.Second))
	if res.State != engine.StateOK || !strings.HasPrefix(res.Output, "LOAD OK") {
		t.Fatalf("check_load: %v %q", res.State, res.Output)
	}
	if _, ok := chkMetric(res, "load15"); !ok {
		t.Errorf("check_load perfdata: %+v", res.Metrics)
	}
}

// TestChecksHTTPAndTCPServiceGoesDown starts a service, breaks it, and
// restores it on the same port: OK, CRITICAL, OK.
func TestChecksHTTPAndTCPServiceGoesDown(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	_, portStr, _ := net.SplitHostPort(addr)
	port, _ := strconv.Atoi(portStr)
	serve := func(ln net.Listener) *http.Server {
		srv := &http.Server{ReadHeaderTimeout: time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			fmt.Fprint(w, "ok: all systems nominal")
		})}
		go func() { _ = srv.Serve(ln) }()
		return srv
	}
	srv := serve(ln)

	c := jobs.NewChecker(jobs.CheckerOptions{})
	defer c.Close()
	ep := engine.Endpoint{Host: &definitions.Host{Name: "web-01", Address: "127.0.0.1"}}
	httpCheck := &definitions.HostCheck{Monitor: "web", Kind: definitions.CheckHTTP, URL: "http://" + addr + "/healthz", BodyMatch: "ok|healthy", Timeout: 2 * time.Second}
	tcpCheck := &definitions.HostCheck{Monitor: "port", Kind: definitions.CheckTCP, Port: port, Timeout: 2 * time.Second}
	want := func(phase string, state engine.CheckState) {
		t.Helper()
		for _, hc := range []*definitions.HostCheck{httpCheck, tcpCheck} {
			res := c.Check(context.Background(), ep, hc)
			if res.State != state {
				t.Errorf("%s: %s check %v %q, want %v", phase, hc.Kind, res.State, res.Output, state)
			}
			if state == engine.StateOK {
				if m, ok := chkMetric(res, "time"); !ok || m.Unit != "s" || m.Value <= 0 {
					t.Errorf("%s: %s check metrics %+v", phase, hc.Kind, res.Metrics)
				}
			}
		}
	}
	want("up", engine.StateOK)

	_ = srv.Close()
	want("down", engine.StateCritical)

	var ln2 net.Listener
	for range 50 {
		if ln2, err = net.Listen("tcp", addr); err == nil {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if err != nil {
		t.Fatalf("listen again on %s: %v", addr, err)
	}
	srv2 := serve(ln2)
	defer srv2.Close()
	want("back up", engine.StateOK)
}
