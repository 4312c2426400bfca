package jobs

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/ripple-ops/ripple/definitions"
	"github.com/ripple-ops/ripple/engine"
)

// checkCommand runs a Nagios plugin through the Commander.
//
// States follow the Nagios plugin API: exit 0/1/2/3 are OK, WARNING,
// CRITICAL, UNKNOWN; any other exit status (or none, e.g. killed by a
// signal) is UNKNOWN. A command that times out is CRITICAL, as Nagios Core
// does by default (service_check_timeout_state=c). A command that could not
// be started at all (transport failure: host unreachable, authentication
// refused) is UNKNOWN: the check did not run, so it says nothing about the
// service (Nagios practice, e.g. check_by_ssh). Output is the first line of
// stdout without its perfdata (stderr when stdout is empty); perfdata,
// including the multi-line form, becomes Metrics. Malformed perfdata is
// dropped and never changes the state.
func (c *Checker) checkCommand(ctx context.Context, ep engine.Endpoint, check *definitions.HostCheck, timeout time.Duration) engine.CheckResult {
	if c.cmd == nil {
		return unknownf("no command transport configured")
	}
	if strings.TrimSpace(check.Command) == "" {
		return unknownf("command check has no command")
	}
	res, err := c.cmd.Exec(ctx, ep, check.Command, nil, timeout)
	switch {
	case ctx.Err() != nil && !errors.Is(ctx.Err(), context.DeadlineExceeded):
		return unknownf("check canceled")
	case res.TimedOut || errors.Is(err, context.DeadlineExceeded) || ctx.Err() != nil:
		return criticalf("command timed out after %s", roundDuration(timeout))
	case err != nil:
		res := unknownf("could not run command: %v", err)
		// A host that cannot be reached, or whose connection broke (a
		// read-only check has nothing left undone): a refused login or a
		// changed host key is a problem of its own, to be seen.
		res.Unreachable = errors.Is(err, ErrUnreachable) || errors.Is(err, ErrConnLost)
		return res
	}
	return pluginResult(res)
}

// pluginResult maps a finished plugin run to a CheckResult.
func pluginResult(res ExecResult) engine.CheckResult {
	po := SplitPluginOutput(string(res.Stdout))
	metrics, _ := ParsePerfdata(po.Perfdata) // odd perfdata never fails a check
	out := po.Text
	if out == "" {
		stderr, _, _ := strings.Cut(strings.TrimSpace(string(res.Stderr)), "\n")
		out = stderr
	}
	var state engine.CheckState
	switch res.ExitCode {
	case 0:
		state = engine.StateOK
	case 1:
		state = engine.StateWarning
	case 2:
		state = engine.StateCritical
	case 3:
		state = engine.StateUnknown
	default:
		state = engine.StateUnknown
		if out == "" {
			out = "(no output)"
		}
		if res.ExitCode < 0 {
			out = "plugin ended without an exit status: " + out
		} else {
			out = "plugin exited with status " + strconv.Itoa(res.ExitCode) + ": " + out
		}
	}
	if out == "" {
		out = "(no output)"
	}
	return engine.CheckResult{State: state, Output: out, Metrics: metrics}
}
