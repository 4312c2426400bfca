// Command ripple is GitOps for fleets of servers and network devices.
//
// main only parses flags and wires packages together; see docs/cli.md.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"slices"
	"syscall"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

// exitError carries a process exit code through run. Commands return it to
// exit non-zero without an extra message (the message is already printed).
type exitError struct{ code int }

func (e exitError) Error() string { return fmt.Sprintf("exit %d", e.code) }

// env is the process environment and standard streams, passed explicitly so
// commands are testable without touching globals.
type env struct {
	stdin  io.Reader
	stdout io.Writer
	stderr io.Writer
	getenv func(string) string
}

func main() {
	os.Exit(mainExit())
}

func mainExit() int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	e := env{stdin: os.Stdin, stdout: os.Stdout, stderr: os.Stderr, getenv: os.Getenv}
	err := run(ctx, os.Args[1:], e)
	if err == nil {
		return 0
	}
	var ee exitError
	if errors.As(err, &ee) {
		return ee.code
	}
	fmt.Fprintf(e.stderr, "ripple: %v\n", err)
	return 1
}

// command is one subcommand.
type command struct {
	name    string
	summary string
	run     func(ctx context.Context, args []string, e env) error
}

// commands lists every subcommand, in the order help shows them. Each lives
// in its own file.
func commands() []command {
	return []command{
		{"version", "print version and build information", runVersion},
		{"serve", "run the GitOps daemon: watch, roll out, plan pull requests, serve the API", runServe},
		{"runs", "list a daemon's recent runs", runRuns},
		{"show", "show a run: waves, hosts, failures", runShow},
		{"run", "start a run of a job on the daemon, with values for its params", runRun},
		{"approve", "let a run waiting for an operator go on", runApprove},
		{"abort", "stop a run; its on_failure policy applies", runAbort},
		{"status", "the daemon's state, or what ripple did for a commit", runStatus},
		{"cluster", "the daemons sharing a PostgreSQL store: nodes, leader, check shares", runCluster},
		{"hosts", "list the daemon's hosts; hosts trust NAME...: record SSH host keys in known_hosts", runHostsCommand},
		{"monitors", "monitor states per host: since, alerting, suppressed, silenced, acknowledged", runMonitors},
		{"traps", "the SNMP trap receiver: packets by result, traps no trap block matched", runTraps},
		{"capacity", "metrics forecast to reach their limits within a horizon", runCapacity},
		{"silence", "stop a monitor's notifications for a while; --list, --expire ID", runSilence},
		{"ack", "acknowledge a monitor's state on a host: no repeat until it changes", runAck},
		{"sync", "re-run jobs on their out-of-sync and drifted hosts; --status: sync state per host", runSync},
		{"drift", "check now, read-only, whether hosts still match what was deployed", runDrift},
		{"facts", "the hosts' last gathered facts; --gather: gather them now", runFacts},
		{"patches", "patch compliance: pending (security) updates and reboots per host, worst first", runPatches},
		{"revert", "propose undoing a commit: a revert branch of the ops repo and its pull request", runRevert},
		{"exec", "run an ad-hoc command on hosts through the daemon, recorded with a reason", runExec},
		{"apply", "plan from the last applied commit to REV and roll it out", runApply},
		{"validate", "check the definitions in a directory", runValidate},
		{"fmt", "rewrite HCL files in canonical format", runFmt},
		{"plan", "show what a merge would do: jobs, hosts per wave, monitors", runPlan},
		{"demo", "watch ripple roll out, halt and roll back on an in-process lab fleet", runDemo},
		{"lab", "lab up: a fleet of SSH servers on loopback for trying jobs", runLab},
	}
}

func run(ctx context.Context, args []string, e env) error {
	if len(args) == 0 || (isHelpArg(args[0]) && (len(args) == 1 || isHelpArg(args[1]))) {
		usage(e.stdout)
		if len(args) == 0 {
			return exitError{2}
		}
		return nil
	}
	if isHelpArg(args[0]) {
		// `ripple help CMD [SUB]` is `ripple CMD [SUB] -h`.
		args = append(slices.Clone(args[1:]), "-h")
	}
	for _, c := range commands() {
		if c.name == args[0] {
			return c.run(ctx, args[1:], e)
		}
	}
	usage(e.stderr)
	fmt.Fprintf(e.stderr, "\nripple: unknown command %q\n", args[0])
	return exitError{2}
}

// isHelpArg reports whether arg asks for help rather than naming a command
// or argument. The flag package takes -h and --help (and -help) itself;
// commands without flags of their own check with this.
func isHelpArg(arg string) bool {
	return arg == "-h" || arg == "--help" || arg == "-help" || arg == "help"
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "usage: ripple COMMAND [flags]\n\ncommands:")
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-10s %s\n", c.name, c.summary)
	}
}
