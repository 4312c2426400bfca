package gitops

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/ripple-ops/ripple/definitions"
	"github.com/ripple-ops/ripple/engine"
)

// Exec runs an operator's ad-hoc command on hosts of the applied commit:
// recorded as a run with trigger exec (no job), its actor and reason, the
// command, and per host its output, exit code and duration. The command
// goes to each host as a run step's command does, over SSH, at most
// MaxParallel hosts at once, each within Timeout; nothing runs in a shell
// on the daemon's machine, so a host with the local transport is refused
// when named and left out of a group or all. The call returns once the
// run is recorded; it executes like any run, from its own worker.
func (d *Daemon) Exec(ctx context.Context, req engine.ExecRequest) (*engine.Run, error) {
	if err := req.Check(); err != nil {
		return nil, err
	}
	return d.submit(ctx, manualRequest{exec: &req, actor: req.Actor, reason: req.Reason, trigger: engine.TriggerExec})
}

// startExec records and queues the exec run of req, in the loop.
func (d *Daemon) startExec(ctx, runCtx context.Context, defs *definitions.Definitions, base string, req manualRequest) (*engine.Run, error) {
	x := req.exec
	hosts, err := execHosts(defs, x)
	if err != nil {
		return nil, err
	}
	run, err := d.opts.Runner.Submit(ctx, engine.RunRequest{
		Commit: base, Branch: d.opts.Mirror.Branch, Trigger: engine.TriggerExec,
		Actor: x.Actor, Reason: strings.TrimSpace(x.Reason), Waves: [][]string{hosts},
		Exec: &engine.ExecSpec{Command: x.Command, Timeout: x.Timeout, MaxParallel: x.MaxParallel},
	})
	if err != nil {
		return nil, fmt.Errorf("submit exec run: %w", err)
	}
	d.log.Info().Int64("run", run.ID).Str("trigger", engine.TriggerExec).Str("actor", x.Actor).Str("reason", run.Reason).
		Str("command", run.Exec.Command).Int("hosts", len(hosts)).Msg("exec run queued")
	d.queue.enqueue(runCtx, &queuedRun{run: run, defs: defs})
	return run, nil
}

// execHosts resolves the hosts an exec request names, sorted: each named
// host must exist and reach over SSH; a group's or all hosts leave out
// those with the local transport; an empty selection is refused.
func execHosts(defs *definitions.Definitions, x *engine.ExecRequest) ([]string, error) {
	var hosts []string
	switch {
	case len(x.Hosts) > 0:
		for _, name := range x.Hosts {
			h := defs.Hosts[name]
			if h == nil {
				return nil, fmt.Errorf("no host %q at the applied commit: %w", name, engine.ErrInvalidRequest)
			}
			if h.Transport == "local" {
				return nil, fmt.Errorf("host %q uses the local transport: ripple exec runs commands on hosts over SSH, never in a shell on the daemon's machine: %w", name, engine.ErrInvalidRequest)
			}
			if !slices.Contains(hosts, name) {
				hosts = append(hosts, name)
			}
		}
	case x.Group != "":
		for _, h := range defs.Select(definitions.Targets{Groups: []string{x.Group}}) {
			if h.Transport != "local" {
				hosts = append(hosts, h.Name)
			}
		}
		if len(hosts) == 0 {
			return nil, fmt.Errorf("no host in group %q to run on over SSH: %w", x.Group, engine.ErrInvalidRequest)
		}
	default:
		for _, h := range defs.Hosts {
			if h.Transport != "local" {
				hosts = append(hosts, h.Name)
			}
		}
		if len(hosts) == 0 {
			return nil, fmt.Errorf("no host to run on over SSH: %w", engine.ErrInvalidRequest)
		}
	}
	slices.Sort(hosts)
	return hosts, nil
}
