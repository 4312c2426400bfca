package test

import (
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/ripple-ops/ripple/test/sshfleet"
)

// serveEnv is what the `ripple serve` e2e envs share: a temp dir holding
// the ops repo (a git work tree on main) and the data directory, an sshd
// fleet, an API client and the running daemon. Each env adds its own
// files, flags and fakes and decides how to log on failure.
type serveEnv struct {
	t      *testing.T
	dir    string
	repo   string // the ops repo's work tree (the daemon's --repo)
	data   string
	addr   string
	fleet  *sshfleet.Fleet
	client *http.Client
	cmd    *exec.Cmd
	done   chan error
}

// newServeEnv skips without a git binary, starts a fleet of hosts and
// inits the ops repo.
func newServeEnv(t *testing.T, hosts int) serveEnv {
	t.Helper()
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git binary not found")
	}
	e := serveEnv{t: t, dir: t.TempDir(), client: &http.Client{Timeout: 10 * time.Second}}
	e.repo = filepath.Join(e.dir, "ops")
	e.data = filepath.Join(e.dir, "data")
	e.fleet = sshfleet.Start(t, sshfleet.Options{Hosts: hosts})
	if err := os.MkdirAll(e.repo, 0o755); err != nil {
		t.Fatal(err)
	}
	e.git("init", "-q", "-b", "main")
	return e
}

func (e *serveEnv) git(args ...string) string {
	e.t.Helper()
	return gitIn(e.t, e.repo, args...)
}

// commit writes files into the ops repo ("" deletes one) and commits them
// on main (the merge); it returns the sha.
func (e *serveEnv) commit(msg string, files map[string]string) string {
	e.t.Helper()
	return commitFiles(e.t, e.repo, msg, files)
}

// pickAddr sets addr to a free loopback port.
func (e *serveEnv) pickAddr() {
	e.t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		e.t.Fatal(err)
	}
	e.addr = l.Addr().String()
	l.Close()
}

// launch starts cmd, whose output goes to logf (closed when it exits).
func (e *serveEnv) launch(cmd *exec.Cmd, logf *os.File) {
	e.t.Helper()
	e.cmd = cmd
	e.cmd.Stdout, e.cmd.Stderr = logf, logf
	if err := e.cmd.Start(); err != nil {
		e.t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- e.cmd.Wait(); logf.Close() }() // received by terminate (or a kill)
	e.done = done
}

// ready reports whether the daemon's /readyz answers 200.
func (e *serveEnv) ready() bool {
	resp, err := e.client.Get("http://" + e.addr + "/readyz")
	if err != nil {
		return false
	}
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}

// terminate ends the daemon, if running, with SIGTERM (SIGKILL after 15s).
func (e *serveEnv) terminate() {
	if e.cmd == nil {
		return
	}
	_ = e.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-e.done:
	case <-time.After(15 * time.Second):
		_ = e.cmd.Process.Kill()
		<-e.done
	}
	e.cmd = nil
}

// metrics is the daemon's /metrics page.
func (e *serveEnv) metrics() string {
	e.t.Helper()
	resp, err := e.client.Get("http://" + e.addr + "/metrics")
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}
