package jobs

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ripple-ops/ripple/definitions"
	"github.com/ripple-ops/ripple/engine"
)

// checkTestShell is a local Commander for tests: sh -c on this machine.
type checkTestShell struct{}

func (checkTestShell) Exec(ctx context.Context, _ engine.Endpoint, cmd string, stdin io.Reader, timeout time.Duration) (ExecResult, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	c := exec.CommandContext(ctx, "/bin/sh", "-c", cmd)
	c.Stdin = stdin
	var stdout, stderr bytes.Buffer
	c.Stdout, c.Stderr = &stdout, &stderr
	c.WaitDelay = time.Second
	err := c.Run()
	res := ExecResult{ExitCode: -1, Stdout: stdout.Bytes(), Stderr: stderr.Bytes()}
	if ctx.Err() != nil {
		res.TimedOut = true
		return res, nil
	}
	var ee *exec.ExitError
	switch {
	case err == nil:
		res.ExitCode = 0
	case errors.As(err, &ee):
		res.ExitCode = ee.ExitCode()
	default:
		return res, err
	}
	return res, nil
}

// failingCommander simulates a transport failure.
type failingCommander struct{ err error }

func (f failingCommander) Exec(context.Context, engine.Endpoint, string, io.Reader, time.Duration) (ExecResult, error) {
	return ExecResult{ExitCode: -1}, f.err
}

type panickingCommander struct{}

func (panickingCommander) Exec(context.Context, engine.Endpoint, string, io.Reader, time.Duration) (ExecResult, error) {
	panic("boom")
}

// needPlugins returns the Nagios plugin directory, failing in CI and
// skipping elsewhere when monitoring-plugins-basic is not installed.
func needPlugins(t *testing.T) string {
	t.Helper()
	dir := "/usr/lib/nagios/plugins"
	if _, err := os.Stat(filepath.Join(dir, "check_dummy")); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("monitoring-plugins-basic not installed: %v", err)
		}
		t.Skipf("monitoring-plugins-basic not installed: %v", err)
	}
	return dir
}

func localEndpoint() engine.Endpoint {
	return engine.Endpoint{Host: &definitions.Host{Name: "local", Address: "127.0.0.1", Transport: "local"}}
}

func TestCheckCommandShell(t *testing.T) {
	c := NewChecker(CheckerOptions{Commander: checkTestShell{}})
	defer c.Close()
	tests := []struct {
		name        string
		cmd         string
		timeout     time.Duration
		state       engine.CheckState
		output      string
		metricNames []string
	}{
		{name: "ok with perfdata", cmd: `echo 'FOO OK - fine | a=1s;2;3;0;10 b=5%'`, state: engine.StateOK, output: "FOO OK - fine", metricNames: []string{"a", "b"}},
		{name: "warning", cmd: `echo 'FOO WARNING'; exit 1`, state: engine.StateWarning, output: "FOO WARNING"},
		{name: "critical", cmd: `echo 'FOO CRITICAL'; exit 2`, state: engine.StateCritical, output: "FOO CRITICAL"},
		{name: "unknown", cmd: `echo 'FOO UNKNOWN'; exit 3`, state: engine.StateUnknown, output: "FOO UNKNOWN"},
		{name: "out of range exit", cmd: `echo 'odd'; exit 4`, state: engine.StateUnknown, output: "plugin exited with status 4: odd"},
		{name: "not found", cmd: `/nonexistent/check_x`, state: engine.StateUnknown},
		{name: "stderr when no stdout", cmd: `echo 'only stderr' >&2; exit 2`, state: engine.StateCritical, output: "only stderr"},
		{name: "no output", cmd: `exit 0`, state: engine.StateOK, output: "(no output)"},
		{
			name:  "multi-line perfdata",
			cmd:   `printf 'DISK OK | /=1MB;;;0;10\nlong 1\nlong 2 | /boot=2MB;;;0;10\n/home=3MB\n'`,
			state: engine.StateOK, output: "DISK OK", metricNames: []string{"/", "/boot", "/home"},
		},
		{name: "malformed perfdata keeps state", cmd: `echo 'OK | junk =x a=1'`, state: engine.StateOK, output: "OK", metricNames: []string{"a"}},
		{name: "timeout is critical", cmd: `sleep 5`, timeout: 200 * time.Millisecond, state: engine.StateCritical, output: "command timed out after 200ms"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			start := time.Now()
			res := c.Check(context.Background(), localEndpoint(), &definitions.HostCheck{
				Monitor: "m", Kind: definitions.CheckCommand, Command: tt.cmd, Timeout: tt.timeout,
			})
			if res.State != tt.state {
				t.Errorf("state = %v, want %v (output %q)", res.State, tt.state, res.Output)
			}
			if tt.output != "" && res.Output != tt.output {
				t.Errorf("output = %q, want %q", res.Output, tt.output)
			}
			var names []string
			for _, m := range res.Metrics {
				names = append(names, m.Name)
			}
			if strings.Join(names, ",") != strings.Join(tt.metricNames, ",") {
				t.Errorf("metrics = %v, want %v", names, tt.metricNames)
			}
			if res.At.Before(start.Add(-time.Second)) || res.Duration <= 0 {
				t.Errorf("At %v / Duration %v not set", res.At, res.Duration)
			}
			if tt.timeout > 0 && time.Since(start) > 3*time.Second {
				t.Errorf("timeout not enforced: took %v", time.Since(start))
			}
		})
	}
}

func TestCheckCommandNagiosPlugins(t *testing.T) {
	dir := needPlugins(t)
	c := NewChecker(CheckerOptions{Commander: checkTestShell{}})
	defer c.Close()
	tests := []struct {
		name   string
		cmd    string
		state  engine.CheckState
		prefix string
		metric string
	}{
		{name: "check_dummy ok", cmd: "check_dummy 0 fine", state: engine.StateOK, prefix: "OK: fine"},
		{name: "check_dummy warning", cmd: "check_dummy 1 meh", state: engine.StateWarning, prefix: "WARNING: meh"},
		{name: "check_dummy critical", cmd: "check_dummy 2 bad", state: engine.StateCritical, prefix: "CRITICAL: bad"},
		{name: "check_dummy unknown", cmd: "check_dummy 3 what", state: engine.StateUnknown, prefix: "UNKNOWN: what"},
		{name: "check_disk ok", cmd: "check_disk -w 1% -c 1% -p /", state: engine.StateOK, prefix: "DISK OK", metric: "/"},
		{name: "check_disk critical", cmd: "check_disk -w 100% -c 99.9999% -p /", state: engine.StateCritical, prefix: "DISK CRITICAL", metric: "/"},
		{name: "check_procs ok", cmd: "check_procs -w 100000 -c 200000", state: engine.StateOK, prefix: "PROCS OK", metric: "procs"},
		{name: "check_procs warning", cmd: "check_procs -w 0 -c 200000", state: engine.StateWarning, prefix: "PROCS WARNING", metric: "procs"},
		{name: "check_load", cmd: "check_load -w 1000,1000,1000 -c 2000,2000,2000", state: engine.StateOK, prefix: "LOAD OK", metric: "load1"},
		{name: "bad usage is unknown", cmd: "check_disk --no-such-flag", state: engine.StateUnknown},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := c.Check(context.Background(), localEndpoint(), &definitions.HostCheck{
				Kind: definitions.CheckCommand, Command: dir + "/" + tt.cmd,
			})
			if res.State != tt.state {
				t.Fatalf("state = %v, want %v (output %q)", res.State, tt.state, res.Output)
			}
			if !strings.HasPrefix(res.Output, tt.prefix) {
				t.Errorf("output = %q, want prefix %q", res.Output, tt.prefix)
			}
			if strings.Contains(res.Output, "|") {
				t.Errorf("output keeps perfdata: %q", res.Output)
			}
			if tt.metric == "" {
				return
			}
			for _, m := range res.Metrics {
				if m.Name == tt.metric {
					return
				}
			}
			t.Errorf("metric %q missing from %+v", tt.metric, res.Metrics)
		})
	}
}

func TestCheckCommandTransportAndSafety(t *testing.T) {
	ep := localEndpoint()
	hc := &definitions.HostCheck{Kind: definitions.CheckCommand, Command: "true"}

	res := NewChecker(CheckerOptions{Commander: failingCommander{errors.New("dial 10.0.0.1:22: connection refused")}}).Check(context.Background(), ep, hc)
	if res.State != engine.StateUnknown || !strings.Contains(res.Output, "connection refused") {
		t.Errorf("transport failure: %v %q, want UNKNOWN naming the cause", res.State, res.Output)
	}
	if res.Unreachable {
		t.Errorf("a failure of unknown kind is marked unreachable: %+v", res)
	}
	// A host that cannot be reached at all is marked so (the monitor
	// runner suppresses SSH checks behind the host's connectivity); a
	// refused login is not: it is a problem to be seen on its own.
	down := &TransportError{Host: "web-01", Addr: "10.0.0.1:22", Kind: ErrUnreachable, Err: errors.New("dial: connection refused")}
	res = NewChecker(CheckerOptions{Commander: failingCommander{down}}).Check(context.Background(), ep, hc)
	if res.State != engine.StateUnknown || !res.Unreachable {
		t.Errorf("host down: %+v, want UNKNOWN and unreachable", res)
	}
	lost := &TransportError{Host: "web-01", Addr: "10.0.0.1:22", Kind: ErrConnLost, Err: errors.New("EOF")}
	res = NewChecker(CheckerOptions{Commander: failingCommander{lost}}).Check(context.Background(), ep, hc)
	if res.State != engine.StateUnknown || !res.Unreachable {
		t.Errorf("connection lost: %+v, want UNKNOWN and unreachable", res)
	}
	auth := &TransportError{Host: "web-01", Addr: "10.0.0.1:22", Kind: ErrAuth}
	res = NewChecker(CheckerOptions{Commander: failingCommander{auth}}).Check(context.Background(), ep, hc)
	if res.State != engine.StateUnknown || res.Unreachable {
		t.Errorf("login refused: %+v, want UNKNOWN and not unreachable", res)
	}
	res = NewChecker(CheckerOptions{}).Check(context.Background(), ep, hc)
	if res.State != engine.StateUnknown {
		t.Errorf("no commander: %v, want UNKNOWN", res.State)
	}
	res = NewChecker(CheckerOptions{Commander: panickingCommander{}}).Check(context.Background(), ep, hc)
	if res.State != engine.StateUnknown || !strings.Contains(res.Output, "panicked") || res.At.IsZero() {
		t.Errorf("panic: %+v, want UNKNOWN with At set", res)
	}
	res = NewChecker(CheckerOptions{}).Check(context.Background(), ep, nil)
	if res.State != engine.StateUnknown || res.At.IsZero() {
		t.Errorf("nil check: %+v", res)
	}
	res = NewChecker(CheckerOptions{}).Check(context.Background(), ep, &definitions.HostCheck{Kind: "smtp"})
	if res.State != engine.StateUnknown || !strings.Contains(res.Output, "smtp") {
		t.Errorf("unknown kind: %+v", res)
	}

	secret := "s3cr3t-t0ken"
	res = NewChecker(CheckerOptions{Commander: checkTestShell{}}).Check(context.Background(), ep, &definitions.HostCheck{
		Kind: definitions.CheckCommand, Command: "echo 'CRITICAL token " + secret + " rejected'; exit 2", Secrets: []string{secret},
	})
	if strings.Contains(res.Output, secret) || !strings.Contains(res.Output, "[redacted]") {
		t.Errorf("secret not redacted: %q", res.Output)
	}

	long := strings.Repeat("é", 2000)
	res = NewChecker(CheckerOptions{Commander: checkTestShell{}}).Check(context.Background(), ep, &definitions.HostCheck{
		Kind: definitions.CheckCommand, Command: "echo " + long,
	})
	if len(res.Output) > maxCheckOutput+3 || !strings.HasSuffix(res.Output, "...") {
		t.Errorf("output not capped: %d bytes", len(res.Output))
	}
}

func TestCheckFakeClock(t *testing.T) {
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	calls := 0
	now := func() time.Time { calls++; return t0.Add(time.Duration(calls) * time.Second) }
	res := NewChecker(CheckerOptions{Commander: checkTestShell{}, Now: now}).Check(context.Background(), localEndpoint(),
		&definitions.HostCheck{Kind: definitions.CheckCommand, Command: "true"})
	if !res.At.Equal(t0.Add(time.Second)) || res.Duration != time.Second {
		t.Errorf("At %v Duration %v, want from the injected clock", res.At, res.Duration)
	}
}
