package test

import (
	"errors"
	"testing"
	"time"

	"github.com/ripple-ops/ripple/definitions"
	"github.com/ripple-ops/ripple/engine"
	"github.com/ripple-ops/ripple/jobs"
	"github.com/ripple-ops/ripple/test/sshfleet"
)

// TestSSHKeepaliveEvictsHungConnection: a connection whose host stops
// answering is closed by the keepalive and replaced by a new one, instead of
// being handed to the next step.
func TestSSHKeepaliveEvictsHungConnection(t *testing.T) {
	f := sshfleet.Start(t, sshfleet.Options{Hosts: 1, LogLevel: "INFO"})
	s := newSSH(t, jobs.SSHOptions{KeepaliveInterval: 500 * time.Millisecond, KeepaliveTimeout: time.Second})
	ctx := testCtx(t)
	ep := f.Endpoint(0)
	wantStatus(t, "first", s.RunStep(ctx, ep, runStep(definitions.StepRun, "true")), engine.StepOK)

	f.FreezeHost(0)
	time.Sleep(3 * time.Second) // two keepalive rounds at least
	f.ThawHost(0)

	// Without eviction the old connection (alive again after the thaw)
	// would be reused; with it, this step logs in afresh.
	wantStatus(t, "after hang", s.RunStep(ctx, ep, runStep(definitions.StepRun, "true")), engine.StepOK)
	if n := f.AcceptedLogins(0); n != 2 {
		t.Fatalf("%d logins, want 2 (the hung connection evicted and replaced)", n)
	}

	// A host that hangs mid-handshake fails within the handshake deadline.
	f.FreezeHost(0)
	defer f.ThawHost(0)
	short := newSSH(t, jobs.SSHOptions{HandshakeTimeout: time.Second})
	start := time.Now()
	_, err := short.Exec(ctx, ep, "true", nil, time.Second)
	if !errors.Is(err, jobs.ErrUnreachable) || time.Since(start) > 4*time.Second {
		t.Fatalf("frozen host: %v after %v, want ErrUnreachable within the deadline", err, time.Since(start))
	}
}
