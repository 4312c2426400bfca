package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"

	"github.com/hashicorp/hcl/v2"

	"github.com/ripple-ops/ripple/definitions"
	"github.com/ripple-ops/ripple/engine"
	"github.com/ripple-ops/ripple/engine/convergence"
	"github.com/ripple-ops/ripple/engine/source"
	"github.com/ripple-ops/ripple/engine/sqlstore"
)

// runPlan is `ripple plan`: what merging --to would do, compared with
// --from, read straight from the git object store. Exit status: 0 planned,
// 1 the --to commit does not load (or git fails), 2 usage.
func runPlan(ctx context.Context, args []string, e env) error {
	fset := flag.NewFlagSet("plan", flag.ContinueOnError)
	fset.SetOutput(e.stderr)
	repoDir := fset.String("repo", ".", "ops repo `DIR` (work tree, a directory in it, or a bare repo)")
	fromRev := fset.String("from", "", "`REV` to compare with (default: the first parent of --to; none for a root commit)")
	toRev := fset.String("to", "HEAD", "`REV` to plan")
	asJSON := fset.Bool("json", false, "print the plan as JSON on stdout")
	dataDir := fset.String("data", "", "data `DIR` of `ripple apply`: name the hosts still out of sync and the health gate checks failing now")
	noColor := fset.Bool("no-color", false, "never color diagnostics (default: color only on a terminal)")
	limits := limitFlags(fset)
	allowEmpty := fset.Bool("allow-empty", false, "plan a commit that removes every host or every job without failing (the daemon refuses one unless started with --allow-empty)")
	fset.Usage = func() {
		fmt.Fprintln(e.stderr, "usage: ripple plan [--repo DIR] [--from REV] [--to REV] [--data DIR] [--json] [--allow-empty]\n\n"+
			"Shows what a merge of REV would do: the jobs that run, with their hosts\n"+
			"per wave and why, each job's rollout policy before -> after with what\n"+
			"weakens it, the env()/file() reads REV adds, and the monitors added,\n"+
			"changed or removed. Both commits are read from git; nothing is checked\n"+
			"out, no host is contacted and no secret is read. Exit status: 0\n"+
			"planned, 1 REV does not load or removes every host or every job\n"+
			"(without --allow-empty), 2 usage. The -max-* limits are also read from\n"+
			"RIPPLE_MAX_* (e.g. RIPPLE_MAX_HOSTS).")
		fset.PrintDefaults()
	}
	if err := fset.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return exitError{2}
	}
	if fset.NArg() > 0 {
		fset.Usage()
		return exitError{2}
	}
	if err := fillFromEnv(fset, e, limitFlagNames); err != nil {
		fmt.Fprintf(e.stderr, "ripple plan: %v\n", err)
		return exitError{2}
	}

	repo, err := source.Open(*repoDir)
	if err != nil {
		return fmt.Errorf("plan: %w", err)
	}
	to, err := repo.Resolve(*toRev)
	if err != nil {
		return fmt.Errorf("plan: --to: %w", err)
	}
	var from string
	if *fromRev != "" {
		if from, err = repo.Resolve(*fromRev); err != nil {
			return fmt.Errorf("plan: --from: %w", err)
		}
	} else if from, err = repo.Parent(to); err != nil {
		return fmt.Errorf("plan: %w", err)
	}

	newFS, err := repo.FS(to)
	if err != nil {
		return fmt.Errorf("plan: %w", err)
	}
	// Both commits share most files: parse each distinct file once.
	cache := definitions.NewCache()
	newDefs, diags := cache.Load(newFS, to, *limits)
	var oldDefs *definitions.Definitions
	if from != "" {
		oldFS, err := repo.FS(from)
		if err != nil {
			return fmt.Errorf("plan: %w", err)
		}
		var oldDiags hcl.Diagnostics
		oldDefs, oldDiags = cache.Load(oldFS, from, *limits)
		if oldDiags.HasErrors() {
			// The old side only decides what counts as changed: compare
			// with what did load, and say so.
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagWarning,
				Summary:  "Old commit does not load",
				Detail: fmt.Sprintf("Commit %s (--from) does not load (%s); the plan compares with the blocks that loaded, so it may list more than changed.",
					shortCommit(from), definitions.ShortDiagnostics(oldDiags)),
			})
		}
	}

	var p *definitions.PlanResult
	if diags.HasErrors() {
		// Nothing is planned from a commit that does not load.
		p = definitions.Plan(&definitions.ChangeSet{From: from, To: to}, newDefs)
	} else {
		p = definitions.Plan(definitions.Diff(oldDefs, newDefs), newDefs)
	}
	p.Diagnostics = definitions.DiagnosticList(diags)
	if *dataDir != "" && !diags.HasErrors() {
		if err := annotateFromData(ctx, p, newDefs, cache, repo, *dataDir, *limits); err != nil {
			return fmt.Errorf("plan: --data: %w", err)
		}
	}

	if *asJSON {
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(p); err != nil {
			return fmt.Errorf("plan: %w", err)
		}
	} else {
		color := !*noColor && isTerminal(e.stderr) && e.getenv("NO_COLOR") == ""
		if err := definitions.WriteDiagnostics(e.stderr, newDefs.Files, diags, color); err != nil {
			return err
		}
		if diags.HasErrors() {
			nerr, nwarn := countDiagnostics(diags)
			fmt.Fprintf(e.stderr, "%s, %s: commit %s does not load; nothing planned.\n", plural(nerr, "error"), plural(nwarn, "warning"), shortCommit(to))
		} else if err := p.WriteText(e.stdout); err != nil {
			return err
		}
	}
	if diags.HasErrors() {
		return exitError{1}
	}
	if len(p.RemovesEvery) > 0 && !*allowEmpty {
		fmt.Fprintf(e.stderr, "ripple plan: commit %s removes %s; the daemon refuses it (use --allow-empty to plan it anyway)\n", shortCommit(to), p.RemovesWhat())
		return exitError{1}
	}
	return nil
}

// shortCommit abbreviates a commit id for messages.
func shortCommit(c string) string {
	if len(c) > 12 {
		return c[:12]
	}
	return c
}

// annotateFromData adds to p what the data directory of `ripple apply`
// knows: hosts out of sync at the commit it last applied, and gate checks
// failing at their last result.
func annotateFromData(ctx context.Context, p *definitions.PlanResult, defs *definitions.Definitions, cache *definitions.Cache, repo *source.Repo, dir string, limits definitions.Limits) error {
	if _, err := os.Stat(filepath.Join(dir, "ripple.db")); err != nil {
		return fmt.Errorf("%s holds no ripple store: %w", dir, err)
	}
	store, err := sqlstore.Open(ctx, dir)
	if err != nil {
		return err
	}
	defer store.Close()
	var syncs []convergence.JobSync
	applied, err := store.LastApplied(ctx, repo.HeadBranch("apply"))
	if err != nil {
		return err
	}
	if applied != "" {
		appliedDefs, err := engine.LoadValid(cache, repo, applied, limits)
		if err != nil {
			return err
		}
		recs, err := store.HostSyncs(ctx, "")
		if err != nil {
			return err
		}
		jobs := slices.Sorted(maps.Keys(appliedDefs.Jobs))
		syncs = convergence.JobSyncs(jobs, definitions.NewFingerprints(appliedDefs).Job, applied, recs)
	}
	recs, err := store.MonitorStates(ctx)
	if err != nil {
		return err
	}
	monitors := make([]engine.MonitorHostState, 0, len(recs))
	for _, r := range recs {
		monitors = append(monitors, engine.MonitorHostState{Monitor: r.Monitor, Host: r.Host, State: r.State, LastAt: r.LastAt})
	}
	convergence.AnnotatePlan(p, defs, syncs, monitors)
	return nil
}
