package test

import (
	"crypto/ed25519"
	"errors"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/agent"

	"github.com/ripple-ops/ripple/definitions"
	"github.com/ripple-ops/ripple/engine"
	"github.com/ripple-ops/ripple/jobs"
	"github.com/ripple-ops/ripple/test/sshfleet"
)

// TestSSHAgent: a credential with use_agent logs in with a key held only by
// an ssh-agent (here an in-memory keyring served on a unix socket).
func TestSSHAgent(t *testing.T) {
	f := sshfleet.Start(t, sshfleet.Options{Hosts: 1})
	pemBytes, err := os.ReadFile(f.KeyFile)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := ssh.ParseRawPrivateKey(pemBytes)
	if err != nil {
		t.Fatal(err)
	}
	keyring := agent.NewKeyring()
	if err := keyring.Add(agent.AddedKey{PrivateKey: raw.(*ed25519.PrivateKey)}); err != nil {
		t.Fatal(err)
	}
	sock := filepath.Join(f.Dir, "agent.sock")
	l, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { // ends when l is closed
		defer close(done)
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			agent.ServeAgent(keyring, c) // returns when the client hangs up
			c.Close()
		}
	}()
	t.Cleanup(func() { l.Close(); <-done })

	s := newSSH(t, jobs.SSHOptions{AgentSocket: sock})
	ep := f.Endpoint(0)
	ep.Credential.PrivateKeyFile, ep.Credential.UseAgent = "", true
	r := s.RunStep(testCtx(t), ep, runStep(definitions.StepRun, "echo via agent"))
	wantStatus(t, "agent login", r, engine.StepOK)

	// An agent without the key: authentication fails, classified as such.
	keyring.RemoveAll()
	_, err = newSSH(t, jobs.SSHOptions{AgentSocket: sock}).Exec(testCtx(t), ep, "true", nil, time.Second)
	if !errors.Is(err, jobs.ErrAuth) {
		t.Fatalf("empty agent: %v, want ErrAuth", err)
	}
}
