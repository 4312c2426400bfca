package jobs

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"syscall"
	"time"

	"github.com/ripple-ops/ripple/definitions"
	"github.com/ripple-ops/ripple/engine"
)

// Local runs steps on the controller host itself (Host.Transport "local")
// with `sh -c`, each command in its own process group so that a timeout
// kills everything it started. Safe for concurrent use.
type Local struct {
	outputLimit    int
	killGrace      time.Duration
	defaultTimeout time.Duration
}

var _ engine.Executor = (*Local)(nil)

// NewLocal returns a local transport; it uses opts' OutputLimit, KillGrace
// and DefaultTimeout.
func NewLocal(opts SSHOptions) *Local {
	opts.defaults()
	return &Local{outputLimit: opts.OutputLimit, killGrace: opts.KillGrace, defaultTimeout: opts.DefaultTimeout}
}

// Exec runs cmd with `sh -c` locally; see SSH.Exec for the contract. The
// error is non-nil only when sh could not be started or ctx ended.
func (l *Local) Exec(ctx context.Context, ep engine.Endpoint, cmd string, stdin io.Reader, timeout time.Duration) (ExecResult, error) {
	return l.exec(ctx, ep, cmd, stdin, timeout, NewRedactor(ep.Passphrase))
}

// ExecStream is Exec with standard output written to stdout as it
// arrives; see SSH.ExecStream.
func (l *Local) ExecStream(ctx context.Context, ep engine.Endpoint, cmd string, stdout io.Writer, timeout time.Duration) (ExecResult, error) {
	return l.run(ctx, cmd, nil, stdout, timeout, NewRedactor(ep.Passphrase))
}

func (l *Local) exec(ctx context.Context, _ engine.Endpoint, cmd string, stdin io.Reader, timeout time.Duration, red *Redactor) (ExecResult, error) {
	return l.run(ctx, cmd, stdin, nil, timeout, red)
}

// run runs cmd; stdout nil captures the standard output into the result.
func (l *Local) run(ctx context.Context, cmd string, stdin io.Reader, stdoutW io.Writer, timeout time.Duration, red *Redactor) (ExecResult, error) {
	res := ExecResult{ExitCode: -1}
	c := exec.Command("sh", "-c", cmd)
	stdout, stderr := newCapture(l.outputLimit), newCapture(l.outputLimit)
	c.Stdout, c.Stderr, c.Stdin = stdout, stderr, stdin
	if stdoutW != nil {
		c.Stdout = stdoutW
	}
	c.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	// Background processes that keep the output pipes open must not hold
	// Wait forever once sh itself has exited.
	c.WaitDelay = l.killGrace
	if err := c.Start(); err != nil {
		return res, fmt.Errorf("local exec: %w", err)
	}
	waited := make(chan error, 1)
	go func() { waited <- c.Wait() }() // ends when the process group is gone or WaitDelay passes

	var timer <-chan time.Time
	if timeout > 0 {
		t := time.NewTimer(timeout)
		defer t.Stop()
		timer = t.C
	}
	var err error
	select {
	case err = <-waited:
	case <-timer:
		res.TimedOut = true
		err = l.stop(c.Process.Pid, waited)
	case <-ctx.Done():
		l.stop(c.Process.Pid, waited)
		return res, ctx.Err()
	}
	if stdoutW == nil {
		res.Stdout = stdout.result(red)
	}
	res.Stderr = stderr.result(red)
	var ee *exec.ExitError
	switch {
	case err == nil:
		res.ExitCode = 0
	case errors.As(err, &ee):
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			res.ExitCode = 128 + int(ws.Signal())
		} else {
			res.ExitCode = ee.ExitCode()
		}
	case errors.Is(err, exec.ErrWaitDelay):
		res.ExitCode = c.ProcessState.ExitCode()
	case !res.TimedOut:
		return res, fmt.Errorf("local exec: %w", err)
	}
	return res, nil
}

// stop kills the command's process group: SIGTERM, then SIGKILL after the
// grace period.
func (l *Local) stop(pgid int, waited <-chan error) error {
	syscall.Kill(-pgid, syscall.SIGTERM)
	t := time.NewTimer(l.killGrace)
	defer t.Stop()
	select {
	case err := <-waited:
		syscall.Kill(-pgid, syscall.SIGKILL) // stragglers that ignored TERM
		return err
	case <-t.C:
	}
	syscall.Kill(-pgid, syscall.SIGKILL)
	return <-waited
}

// RunStep runs one rendered step on the controller host.
func (l *Local) RunStep(ctx context.Context, ep engine.Endpoint, step *definitions.HostStep) engine.StepResult {
	return runStep(ctx, l, ep, step, l.defaultTimeout)
}

// Restore puts a file step's backup back in place on the controller host.
func (l *Local) Restore(ctx context.Context, ep engine.Endpoint, b *engine.Backup) engine.StepResult {
	return restore(ctx, l, ep, b)
}
