package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/ripple-ops/ripple/engine/httpapi"
)

const execUsage = `usage: ripple exec (--hosts a,b | --group G | --all) --reason TEXT [--max-parallel N] [--timeout D] [--json] -- COMMAND [ARG...]

Runs an ad-hoc command on hosts through the daemon: over SSH, as a job's run
step would (through the host's shell), at most --max-parallel hosts at once,
each within --timeout. The daemon records it as a run with trigger exec,
your token's name and the reason; ripple exec draws its progress live, then
prints every host's output and exit code. The exit status is 1 unless the
command succeeded on every host. Ctrl-C stops following, not the command.
Hosts with the local transport (the daemon's own machine) are refused when
named and left out of --group and --all. Needs an operator token.`

// runExec is `ripple exec`.
func runExec(ctx context.Context, args []string, e env) error {
	// Everything after the first "--" is the command, as given.
	var command []string
	if i := slices.Index(args, "--"); i >= 0 {
		args, command = args[:i], args[i+1:]
	}
	var hosts, group, reason string
	var all bool
	var parallel int
	var timeout time.Duration
	return apiCommand{
		name:   "exec",
		usage:  execUsage,
		minPos: 0, maxPos: 0,
		flags: func(fs *flag.FlagSet) {
			fs.StringVar(&hosts, "hosts", "", "comma-separated `HOSTS`")
			fs.StringVar(&group, "group", "", "every host of `GROUP`")
			fs.BoolVar(&all, "all", false, "every host")
			fs.StringVar(&reason, "reason", "", "why (required); recorded with your token's name")
			fs.IntVar(&parallel, "max-parallel", 0, "at most `N` hosts at once (default 10)")
			fs.DurationVar(&timeout, "timeout", 0, "per-host `DURATION` (default 5m)")
		},
		check: func([]string) error {
			usageErr := func(msg string) error {
				fmt.Fprintf(e.stderr, "ripple exec: %s\n", msg)
				return exitError{2}
			}
			n := 0
			for _, set := range []bool{hosts != "", group != "", all} {
				if set {
					n++
				}
			}
			switch {
			case n != 1:
				return usageErr("name the hosts with exactly one of --hosts, --group or --all")
			case strings.TrimSpace(reason) == "":
				return usageErr("--reason is required: nothing ad-hoc runs without one")
			case len(command) == 0 || strings.TrimSpace(strings.Join(command, " ")) == "":
				return usageErr("no command: put it after --, as in ripple exec --group web --reason why -- uptime")
			case parallel < 0:
				return usageErr("--max-parallel must be at least 1")
			case timeout < 0:
				return usageErr("--timeout must be positive")
			}
			return nil
		},
		act: func(c *apiClient, _ []string) error {
			req := httpapi.ExecRequest{Group: group, All: all, Command: strings.Join(command, " "), MaxParallel: parallel, Reason: reason}
			for _, h := range strings.Split(hosts, ",") {
				if h = strings.TrimSpace(h); h != "" {
					req.Hosts = append(req.Hosts, h)
				}
			}
			if timeout > 0 {
				req.Timeout = timeout.String()
			}
			var r httpapi.Run
			if _, err := c.do(ctx, "POST", "/api/v1/exec", req, &r); err != nil {
				return err // a daemon older than ripple exec: "does not know POST /api/v1/exec"
			}
			if !c.json {
				fmt.Fprintf(e.stdout, "run %d: %s on %s\n", r.ID, req.Command, plural(countHosts(r.Waves), "host"))
			}
			return followExec(ctx, c, e, r.ID)
		},
	}.run(args, e)
}

// followExec draws an exec run live until it ends, then prints each
// host's output: a header with its outcome, exit code and duration, then
// what it printed. Exit status 1 unless the run succeeded.
func followExec(ctx context.Context, c *apiClient, e env, id int64) error {
	last, err := drawLive(ctx, c, e, id)
	if err != nil {
		return err
	}
	return finishExec(c, e, last)
}

func finishExec(c *apiClient, e env, d *httpapi.RunDetail) error {
	if c.json {
		b, err := json.MarshalIndent(d, "", "  ")
		if err != nil {
			return fmt.Errorf("encode run: %w", err)
		}
		c.printJSON(b)
	} else {
		w := e.stdout
		for _, wave := range d.WaveDetails {
			for _, h := range wave.Hosts {
				printHostOutput(e, h)
			}
		}
		fmt.Fprintf(w, "run %d %s: %s\n", d.ID, d.State, d.Summary)
	}
	if d.State != "succeeded" {
		return exitError{1}
	}
	return nil
}

// printHostOutput is one host's part of an exec run: "== web-01: ok
// (exit 0, 12ms)", then its stdout, stderr and error.
func printHostOutput(e env, h httpapi.HostRun) {
	w := e.stdout
	if len(h.Steps) == 0 {
		fmt.Fprintf(w, "== %s: %s\n", h.Host, strings.ReplaceAll(h.State, "_", " "))
		return
	}
	s := h.Steps[len(h.Steps)-1]
	status := s.Status
	if status == "" {
		status = s.Phase
	}
	fmt.Fprintf(w, "== %s: %s (exit %d, %s)\n", h.Host, status, s.ExitCode, (time.Duration(s.DurationMS) * time.Millisecond).String())
	for _, out := range []string{s.Stdout, s.Stderr} {
		if out == "" {
			continue
		}
		fmt.Fprint(w, out)
		if !strings.HasSuffix(out, "\n") {
			fmt.Fprintln(w)
		}
	}
	if s.Error != "" && s.Status != "ok" && !saysStderr(s.Error, s.Stderr) {
		fmt.Fprintf(w, "   %s\n", s.Error)
	}
}

// saysStderr reports whether a step's error only repeats what its stderr,
// printed just above, says ("command: exit status 1: cat: x: No such
// file"): then the exit code says the rest.
func saysStderr(errText, stderr string) bool {
	line := strings.TrimSpace(stderr)
	if i := strings.IndexByte(line, '\n'); i >= 0 {
		line = strings.TrimSpace(line[:i])
	}
	return line != "" && strings.Contains(errText, line)
}
