package test

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ripple-ops/ripple/definitions"
	"github.com/ripple-ops/ripple/engine"
	"github.com/ripple-ops/ripple/jobs"
	"github.com/ripple-ops/ripple/test/sshfleet"
)

// newSSH is an SSH transport with short deadlines, closed at cleanup.
func newSSH(t *testing.T, o jobs.SSHOptions) *jobs.SSH {
	t.Helper()
	if o.HandshakeTimeout == 0 {
		o.HandshakeTimeout = 5 * time.Second
	}
	if o.DialTimeout == 0 {
		o.DialTimeout = 3 * time.Second
	}
	if o.KillGrace == 0 {
		o.KillGrace = time.Second
	}
	s := jobs.NewSSH(o)
	t.Cleanup(func() { s.Close() })
	return s
}

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func runStep(kind definitions.StepKind, cmd string) *definitions.HostStep {
	return &definitions.HostStep{Job: "test", Name: "s", Kind: kind, Command: cmd, Timeout: 10 * time.Second}
}

func fileStep(dest, content string, mode uint32) *definitions.HostStep {
	return &definitions.HostStep{Job: "test", Name: "f", Kind: definitions.StepFile, Destination: dest,
		Content: []byte(content), Mode: mode, Timeout: 10 * time.Second}
}

func wantStatus(t *testing.T, what string, r engine.StepResult, want engine.StepStatus) {
	t.Helper()
	if r.Status != want {
		t.Fatalf("%s: status %q, want %q (exit %d, error %q, stdout %q, stderr %q)",
			what, r.Status, want, r.ExitCode, r.Error, r.Stdout, r.Stderr)
	}
}

// pgrep lists processes on this machine (the fleet hosts are local sshd
// processes) whose command line contains pattern.
func pgrep(t *testing.T, pattern string) string {
	t.Helper()
	out, err := exec.Command("pgrep", "-af", pattern).Output()
	if err != nil {
		if ee := (*exec.ExitError)(nil); errors.As(err, &ee) && ee.ExitCode() == 1 {
			return "" // no match
		}
		t.Fatalf("pgrep: %v", err)
	}
	return strings.TrimSpace(string(out))
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

// knownHostsWithout writes a known_hosts file listing every fleet host but
// the one at index skip.
func knownHostsWithout(t *testing.T, f *sshfleet.Fleet, skip int) string {
	t.Helper()
	b, err := os.ReadFile(f.KnownHostsFile)
	if err != nil {
		t.Fatal(err)
	}
	var keep []string
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		if !strings.HasPrefix(line, "["+f.Hosts[skip].Address+"]:") {
			keep = append(keep, line)
		}
	}
	p := filepath.Join(t.TempDir(), "known_hosts")
	if err := os.WriteFile(p, []byte(strings.Join(keep, "\n")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}
