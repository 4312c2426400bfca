package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"os/user"
	"syscall"

	"github.com/mattn/go-isatty"
	"github.com/rs/zerolog"

	"github.com/ripple-ops/ripple/definitions"
	"github.com/ripple-ops/ripple/engine"
	"github.com/ripple-ops/ripple/engine/apply"
	"github.com/ripple-ops/ripple/engine/source"
	"github.com/ripple-ops/ripple/engine/sqlstore"
	"github.com/ripple-ops/ripple/jobs"
)

// Exit codes of `ripple apply`.
const (
	applyExitFailed  = 1 // a job failed, or the definitions do not load
	applyExitWaiting = 3 // a run waits for an operator (--approve, --abort) or a maintenance window
)

// runApply is `ripple apply`: the one-shot rollout without a daemon. The
// logic lives in engine.Apply; this wires the git repo, the SQLite store in
// --data, the SSH and local transports and the checker together.
func runApply(ctx context.Context, args []string, e env) error {
	fset := flag.NewFlagSet("apply", flag.ContinueOnError)
	fset.SetOutput(e.stderr)
	repoDir := fset.String("repo", ".", "ops repo `DIR` (work tree or bare)")
	to := fset.String("to", "HEAD", "`REV` to apply")
	dataDir := fset.String("data", "./ripple-data", "data `DIR` holding the state (SQLite)")
	approve := fset.Bool("approve", false, "approve the runs waiting for an operator, then carry on")
	abort := fset.Bool("abort", false, "abort the runs waiting for an operator or a maintenance window (their on_failure policy applies)")
	retry := fset.Bool("retry", false, "run the jobs that failed at REV once more")
	syncFlag := fset.Bool("sync", false, "re-run each job at the last applied commit on its out-of-sync and drifted hosts only")
	reason := fset.String("reason", "", "why, recorded with --approve, --abort or --retry")
	logLevel := fset.String("log-level", "error", "log level on stderr: debug, info, warn, error")
	secretsDir := defaultSecretsDir
	if v := e.getenv("RIPPLE_SECRETS_DIR"); v != "" {
		secretsDir = v
	}
	fset.StringVar(&secretsDir, "secrets-dir", secretsDir, "`DIR` whose regular files file() in definitions may read (env RIPPLE_SECRETS_DIR)")
	limits := limitFlags(fset)
	fset.Usage = func() {
		fmt.Fprintln(e.stderr, "usage: ripple apply [--repo DIR] [--to REV] [--data DIR] [--approve|--abort|--retry|--sync [--reason TEXT]]\n\n"+
			"Plans from the last commit applied from the data directory to REV, runs\n"+
			"each changed job with live progress, and records the result. A re-run\n"+
			"resumes an interrupted run; --retry runs the jobs that failed at REV\n"+
			"once more. Exit status: 0 all applied, 1 a job failed or\n"+
			"the definitions are invalid, 2 usage, 3 a run waits for an operator or\n"+
			"a maintenance window. The -max-* limits are also read from RIPPLE_MAX_*\n"+
			"(e.g. RIPPLE_MAX_HOSTS).")
		fset.PrintDefaults()
	}
	if err := fset.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return exitError{2}
	}
	if fset.NArg() > 0 || countTrue(*approve, *abort, *retry, *syncFlag) > 1 {
		fset.Usage()
		return exitError{2}
	}
	if err := fillFromEnv(fset, e, limitFlagNames); err != nil {
		fmt.Fprintf(e.stderr, "ripple apply: %v\n", err)
		return exitError{2}
	}
	level, err := zerolog.ParseLevel(*logLevel)
	if err != nil {
		return fmt.Errorf("--log-level: %w", err)
	}
	// Every secret the process loads, redacted from all it stores, shows
	// and logs.
	values := engine.NewSecretRegistry()
	log := zerolog.New(zerolog.ConsoleWriter{Out: values.Writer(e.stderr), NoColor: !applyIsTTY(e.stderr)}).Level(level).With().Timestamp().Logger()

	repo, err := source.Open(*repoDir)
	if err != nil {
		return fmt.Errorf("open repo %s: %w", *repoDir, err)
	}
	store, err := sqlstore.Open(ctx, *dataDir)
	if err != nil {
		return fmt.Errorf("open data directory %s: %w", *dataDir, err)
	}
	defer store.Close()

	sshOpts := jobs.SSHOptions{Logger: &log}
	ssh := jobs.NewSSH(sshOpts)
	transport := jobs.NewTransport(ssh, jobs.NewLocal(sshOpts))
	defer transport.Close()
	checker := jobs.NewChecker(jobs.CheckerOptions{Commander: transport})
	defer checker.Close()

	opts := apply.Options{
		Repo:     repo,
		Store:    store,
		Executor: transport,
		Checker:  checker,
		Secrets:  newDirSecrets(secretsDir, values),
		Redact:   values,
		Progress: NewTerminalProgress(e.stdout, applyIsTTY(e.stdout)),
		Logger:   log,
		Key:      repo.HeadBranch("apply"),
		To:       *to,
		Actor:    applyActor(e),
		Reason:   *reason,
		Retry:    *retry,
		Sync:     *syncFlag,
		Limits:   *limits,
	}
	switch {
	case *approve:
		opts.Decision = apply.DecisionApprove
	case *abort:
		opts.Decision = apply.DecisionAbort
	}
	// On the first interrupt no new step starts and running ones finish;
	// a second one quits at once (what is running is then resolved by the
	// next apply).
	done := make(chan struct{})
	drained := make(chan struct{})
	go func() {
		defer close(drained)
		select {
		case <-ctx.Done():
			fmt.Fprintln(e.stderr, "ripple apply: interrupted: waiting for running steps to finish (interrupt again to quit now)")
			signal.Reset(os.Interrupt, syscall.SIGTERM)
		case <-done:
		}
	}()
	res, err := apply.Run(ctx, opts)
	close(done)
	<-drained
	if err != nil {
		if ctx.Err() != nil && errors.Is(err, ctx.Err()) {
			return fmt.Errorf("apply interrupted; run `ripple apply` again to resume: %w", err)
		}
		return fmt.Errorf("apply: %w", err)
	}
	return reportApply(e.stdout, e.stderr, res)
}

// reportApply prints the outcome and picks the exit status.
func reportApply(stdout, stderr io.Writer, res *apply.Result) error {
	if len(res.Diagnostics) > 0 {
		if err := definitions.WriteDiagnostics(stderr, res.Files, res.Diagnostics, false); err != nil {
			return err
		}
	}
	if res.Diagnostics.HasErrors() {
		fmt.Fprintf(stderr, "ripple apply: the definitions at %s are not valid; nothing ran\n", applyShort(res.To))
		return exitError{applyExitFailed}
	}
	for _, n := range res.Notes {
		fmt.Fprintln(stdout, "note:", n)
	}
	for _, run := range res.Runs {
		fmt.Fprintf(stdout, "run %d %s at %s: %s: %s\n", run.ID, run.Job, applyShort(run.Commit), run.State, run.Summary)
	}
	switch {
	case res.Failed():
		fmt.Fprintf(stdout, "%s is not applied\n", applyShort(res.To))
		return exitError{applyExitFailed}
	case len(res.Waiting()) > 0:
		for _, run := range res.Waiting() {
			if run.State == engine.RunWaitingWindow {
				fmt.Fprintf(stdout, "run %d waits for its maintenance window: run `ripple apply` again once it is open, or `ripple apply --abort`\n", run.ID)
			} else {
				fmt.Fprintf(stdout, "run %d waits for an operator: check, then `ripple apply --approve` to carry on or `ripple apply --abort`\n", run.ID)
			}
		}
		return exitError{applyExitWaiting}
	case len(res.Runs) == 0 && res.From == res.To:
		fmt.Fprintf(stdout, "%s is already applied\n", applyShort(res.To))
	default:
		fmt.Fprintf(stdout, "%s applied\n", applyShort(res.To))
	}
	return nil
}

func applyActor(e env) string {
	if u := e.getenv("USER"); u != "" {
		return u
	}
	if u, err := user.Current(); err == nil {
		return u.Username
	}
	return "ripple"
}

func countTrue(bs ...bool) int {
	n := 0
	for _, b := range bs {
		if b {
			n++
		}
	}
	return n
}

func applyIsTTY(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && isatty.IsTerminal(f.Fd())
}

func applyShort(c string) string {
	if len(c) > 12 {
		return c[:12]
	}
	return c
}
