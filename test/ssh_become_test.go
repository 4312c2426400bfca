package test

import (
	"os/exec"
	"testing"

	"github.com/ripple-ops/ripple/definitions"
	"github.com/ripple-ops/ripple/engine"
	"github.com/ripple-ops/ripple/jobs"
	"github.com/ripple-ops/ripple/test/sshfleet"
)

// TestSSHBecomeSudo: become = "sudo" runs the command under `sudo -n`,
// which never prompts. Needs sudo on the test machine.
func TestSSHBecomeSudo(t *testing.T) {
	if _, err := exec.LookPath("sudo"); err != nil {
		t.Skip("sudo not installed")
	}
	f := sshfleet.Start(t, sshfleet.Options{Hosts: 1})
	s := newSSH(t, jobs.SSHOptions{})
	ep := f.Endpoint(0)
	ep.Credential.Become = "sudo"
	r := s.RunStep(testCtx(t), ep, runStep(definitions.StepRun, `echo "$SUDO_USER:$(id -u)"`))
	if f.User == "root" {
		// root may always sudo without a password: the command runs as root.
		wantStatus(t, "sudo", r, engine.StepOK)
		if r.Stdout != "root:0\n" {
			t.Fatalf("sudo stdout %q", r.Stdout)
		}
		return
	}
	// Without NOPASSWD rights, sudo -n fails instead of prompting.
	if r.Status == engine.StepOK {
		t.Skip("current user has passwordless sudo")
	}
	wantStatus(t, "sudo without rights", r, engine.StepFailed)
}
