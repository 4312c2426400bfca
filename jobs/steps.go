package jobs

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/ripple-ops/ripple/definitions"
	"github.com/ripple-ops/ripple/engine"
)

// execer is what the step kinds need from a transport: run one command,
// redacting its output with red.
type execer interface {
	exec(ctx context.Context, ep engine.Endpoint, cmd string, stdin io.Reader, timeout time.Duration, red *Redactor) (ExecResult, error)
}

// housekeepingTimeout bounds the small commands around a step (checksum,
// upload, cleanup) that are not the step's own command.
const housekeepingTimeout = 60 * time.Second

// RunStep runs one rendered step on ep's host.
func (s *SSH) RunStep(ctx context.Context, ep engine.Endpoint, step *definitions.HostStep) engine.StepResult {
	return runStep(ctx, s, ep, step, s.opts.DefaultTimeout)
}

// Restore puts a file step's backup back in place on ep's host.
func (s *SSH) Restore(ctx context.Context, ep engine.Endpoint, b *engine.Backup) engine.StepResult {
	return restore(ctx, s, ep, b)
}

func runStep(ctx context.Context, x execer, ep engine.Endpoint, step *definitions.HostStep, defTimeout time.Duration) engine.StepResult {
	red := NewRedactor(append([]string{ep.Passphrase}, step.Secrets...)...)
	timeout := step.Timeout
	if timeout <= 0 {
		timeout = defTimeout
	}
	sr := &stepRun{x: x, ep: ep, red: red, timeout: timeout,
		res: engine.StepResult{Started: time.Now(), ExitCode: -1}}
	switch step.Kind {
	case definitions.StepRun:
		sr.command(ctx, step.Command, nil)
	case definitions.StepScript:
		sr.script(ctx, step.Script, step.Env)
	case definitions.StepFile:
		sr.file(ctx, step)
	default:
		sr.fail(fmt.Errorf("unknown step kind %q", step.Kind))
	}
	sr.res.Duration = time.Since(sr.res.Started)
	return sr.res
}

// stepRun accumulates the result of one step on one host. Its methods
// take the step's ctx.
type stepRun struct {
	x       execer
	ep      engine.Endpoint
	red     *Redactor
	timeout time.Duration
	res     engine.StepResult
}

// fail ends the step with err, classified: transport failures are
// "unreachable", an expired ctx deadline is "timeout", the rest "failed".
func (sr *stepRun) fail(err error) {
	switch {
	case IsTransport(err):
		sr.res.Status = engine.StepUnreachable
	case errors.Is(err, context.DeadlineExceeded):
		sr.res.Status = engine.StepTimeout
	default:
		sr.res.Status = engine.StepFailed
	}
	sr.res.Error = sr.red.String(err.Error())
}

// run executes a helper command, recording its output. It reports whether
// the command ran and exited 0; otherwise the step is already marked failed.
func (sr *stepRun) run(ctx context.Context, what, cmd string, stdin io.Reader, timeout time.Duration) (ExecResult, bool) {
	r, err := sr.x.exec(ctx, sr.ep, cmd, stdin, timeout, sr.red)
	if err != nil {
		sr.fail(err)
		return r, false
	}
	sr.res.ExitCode = r.ExitCode
	sr.res.Stdout = string(r.Stdout)
	sr.res.Stderr = string(r.Stderr)
	switch {
	case r.TimedOut:
		sr.res.Status = engine.StepTimeout
		sr.res.Error = fmt.Sprintf("%s: timed out after %v; killed", what, timeout)
		return r, false
	case r.ExitCode != 0:
		sr.res.Status = engine.StepFailed
		sr.res.Error = sr.red.String(fmt.Sprintf("%s: exit status %d%s", what, r.ExitCode, firstLine(r.Stderr)))
		return r, false
	}
	return r, true
}

func firstLine(b []byte) string {
	s := strings.TrimSpace(string(b))
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	if s == "" {
		return ""
	}
	if len(s) > 200 {
		s = s[:200] + "..."
	}
	return ": " + s
}

// command is a run step: the command through the remote shell.
func (sr *stepRun) command(ctx context.Context, cmd string, stdin io.Reader) {
	if _, ok := sr.run(ctx, "command", cmd, stdin, sr.timeout); ok {
		sr.res.Status = engine.StepOK
	}
}

// script uploads the script into a private temp file, runs it (directly
// when it starts with #!, else with sh) with env (NAME=value assignments:
// the run's params) in its environment, and removes it.
func (sr *stepRun) script(ctx context.Context, body []byte, env []string) {
	up, ok := sr.run(ctx, "upload script", `umask 077 && t=$(mktemp "${TMPDIR:-/tmp}/ripple-script.XXXXXXXX") && cat > "$t" && chmod 700 "$t" && printf '%s' "$t"`,
		bytes.NewReader(body), housekeepingTimeout)
	if !ok {
		return
	}
	path := strings.TrimSpace(string(up.Stdout))
	if !strings.HasPrefix(path, "/") || strings.ContainsAny(path, "'\n") {
		sr.fail(fmt.Errorf("upload script: unexpected temp path %q", path))
		return
	}
	run := "sh " + shellQuote(path)
	if bytes.HasPrefix(body, []byte("#!")) {
		run = shellQuote(path)
	}
	var assign strings.Builder
	for _, kv := range env {
		name, value, _ := strings.Cut(kv, "=")
		assign.WriteString(name + "=" + shellQuote(value) + " ")
	}
	sr.command(ctx, assign.String()+run, nil)
	// Removal runs even when the script failed or timed out, as a separate
	// command with its own deadline (the step's ctx may be the one that ended).
	saved := sr.res
	rmCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), housekeepingTimeout)
	defer cancel()
	r, err := sr.x.exec(rmCtx, sr.ep, "rm -f "+shellQuote(path), nil, housekeepingTimeout, sr.red)
	sr.res = saved
	if err == nil && r.ExitCode != 0 && sr.res.Status == engine.StepOK {
		sr.res.Status = engine.StepFailed
		sr.res.Error = sr.red.String("remove script: " + strings.TrimSpace(string(r.Stderr)))
	}
}
