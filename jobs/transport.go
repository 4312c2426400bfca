package jobs

import (
	"context"
	"errors"
	"io"
	"time"

	"github.com/ripple-ops/ripple/definitions"
	"github.com/ripple-ops/ripple/engine"
)

// Transport picks the SSH or the local transport by Host.Transport. It is
// the engine.Executor cmd wires in, and what checks call Exec on.
type Transport struct {
	ssh   *SSH
	local *Local
}

var _ engine.Executor = (*Transport)(nil)

// NewTransport dispatches to ssh for hosts with Transport "" or "ssh" and to
// local for Transport "local". Either may be nil if no host uses it.
func NewTransport(ssh *SSH, local *Local) *Transport {
	return &Transport{ssh: ssh, local: local}
}

type executor interface {
	engine.Executor
	execer
	Exec(ctx context.Context, ep engine.Endpoint, cmd string, stdin io.Reader, timeout time.Duration) (ExecResult, error)
	ExecStream(ctx context.Context, ep engine.Endpoint, cmd string, stdout io.Writer, timeout time.Duration) (ExecResult, error)
}

var errNoTransport = errors.New("no transport configured for this host")

func (t *Transport) pick(ep engine.Endpoint) executor {
	if ep.Host != nil && ep.Host.Transport == "local" {
		if t.local != nil {
			return t.local
		}
		return nil
	}
	if t.ssh != nil {
		return t.ssh
	}
	return nil
}

// Exec runs cmd on ep's host; see SSH.Exec.
func (t *Transport) Exec(ctx context.Context, ep engine.Endpoint, cmd string, stdin io.Reader, timeout time.Duration) (ExecResult, error) {
	x := t.pick(ep)
	if x == nil {
		return ExecResult{ExitCode: -1}, errNoTransport
	}
	return x.Exec(ctx, ep, cmd, stdin, timeout)
}

// ExecStream runs cmd on ep's host, its standard output written to stdout;
// see SSH.ExecStream.
func (t *Transport) ExecStream(ctx context.Context, ep engine.Endpoint, cmd string, stdout io.Writer, timeout time.Duration) (ExecResult, error) {
	x := t.pick(ep)
	if x == nil {
		return ExecResult{ExitCode: -1}, errNoTransport
	}
	return x.ExecStream(ctx, ep, cmd, stdout, timeout)
}

// RunStep runs a rendered step on ep's host.
func (t *Transport) RunStep(ctx context.Context, ep engine.Endpoint, step *definitions.HostStep) engine.StepResult {
	x := t.pick(ep)
	if x == nil {
		return engine.StepResult{Status: engine.StepFailed, ExitCode: -1, Error: errNoTransport.Error(), Started: time.Now()}
	}
	return x.RunStep(ctx, ep, step)
}

// Restore puts a file step's backup back on ep's host.
func (t *Transport) Restore(ctx context.Context, ep engine.Endpoint, b *engine.Backup) engine.StepResult {
	x := t.pick(ep)
	if x == nil {
		return engine.StepResult{Status: engine.StepFailed, ExitCode: -1, Error: errNoTransport.Error(), Started: time.Now()}
	}
	return x.Restore(ctx, ep, b)
}

// Close closes the SSH transport's connections.
func (t *Transport) Close() error {
	if t.ssh != nil {
		return t.ssh.Close()
	}
	return nil
}

// The check executors run command checks through any transport.
var (
	_ Commander = (*SSH)(nil)
	_ Commander = (*Local)(nil)
	_ Commander = (*Transport)(nil)
	_ Streamer  = (*SSH)(nil)
	_ Streamer  = (*Local)(nil)
	_ Streamer  = (*Transport)(nil)
)
