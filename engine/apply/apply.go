package apply

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/rs/zerolog"

	"github.com/ripple-ops/ripple/definitions"
	"github.com/ripple-ops/ripple/engine"
	"github.com/ripple-ops/ripple/engine/rollout"
)

// Repo is the ops repo as apply reads it: revisions and commit trees
// (engine/source provides both).
type Repo interface {
	Resolve(rev string) (string, error)
	engine.CommitReader
}

// Store is what apply keeps: what a rollout keeps, and the last commit
// applied from the data directory.
type Store interface {
	rollout.Store
	engine.AppliedStore
	engine.SyncStore
}

// Operator answers to runs that wait for one, for ApplyOptions.Decision.
const (
	DecisionApprove = "approve"
	DecisionAbort   = "abort"
)

// Options configures Run. Repo, Store and Executor are required.
type Options struct {
	Repo     Repo
	Store    Store
	Executor engine.Executor
	Checker  engine.Checker
	// Secrets resolves env() and file(); when it is also an
	// engine.ConfigApplier it gets To's definitions before anything runs.
	Secrets  definitions.SecretSource
	Redact   *engine.SecretRegistry // see rollout.Options
	Progress engine.Progress
	Logger   zerolog.Logger
	Clock    engine.Clock  // default RealClock
	GatePoll time.Duration // see rollout.Options
	// Key names the line of history in the store's last-applied record:
	// the branch name, or "apply".
	Key string
	// To is the revision to apply; default "HEAD".
	To    string
	Actor string // who runs apply, for events
	// Decision, when set, answers every run waiting for an operator
	// (approval after a wave, or an interrupted step) before anything else.
	Decision string
	Reason   string
	// Retry runs the jobs whose last run at To failed once more (`ripple
	// apply --retry`); without it a failed commit is attempted once.
	Retry bool
	// Sync re-runs each job at the last applied commit on its out-of-sync
	// and drifted hosts only (`ripple apply --sync`), instead of planning
	// a new commit.
	Sync bool
	// Limits bound loading each commit and every rendering (zero: the
	// defaults; see definitions.Limits).
	Limits definitions.Limits
}

// Result is what Run did.
type Result struct {
	From, To string
	// Diagnostics of loading To; with errors, nothing ran.
	Diagnostics hcl.Diagnostics
	// Files are the parsed files of To, for rendering Diagnostics.
	Files map[string]*hcl.File
	// Jobs the plan from From to To runs.
	Jobs []Job
	// Runs are every run this Apply executed, resumed or found already
	// done for To, in order, with their latest records.
	Runs []*engine.Run
	// Notes are things the operator should know ("job x already failed at
	// this commit; not retried").
	Notes []string
	// Applied is true when To is now the last applied commit.
	Applied bool
}

// Failed reports whether any run ended other than succeeded, or To did not
// load.
func (r *Result) Failed() bool {
	if r.Diagnostics.HasErrors() {
		return true
	}
	for _, run := range r.Runs {
		if run.State.Final() && run.State != engine.RunSucceeded {
			return true
		}
	}
	return false
}

// Waiting returns the runs stopped for an operator (approval, or an
// interrupted step that is not idempotent) or for a maintenance window.
func (r *Result) Waiting() []*engine.Run {
	var out []*engine.Run
	for _, run := range r.Runs {
		if !run.State.Final() {
			out = append(out, run)
		}
	}
	return out
}

// Run is `ripple apply`: it answers waiting runs if asked, resumes or
// closes every run an earlier (interrupted) apply left unfinished, plans
// from the last commit applied under opts.Key to opts.To, runs each
// changed job in name order, and records To as applied when every job
// succeeded. A job that already has a run at To is not run again: a
// failed commit is attempted once (a new commit runs it again), unless
// opts.Retry asks for another attempt. Runs, resumed ones included, wait
// for the maintenance windows defined at To. The error is for the store
// and the repo; failed runs are in the result.
func Run(ctx context.Context, opts Options) (*Result, error) {
	if opts.To == "" {
		opts.To = "HEAD"
	}
	if opts.Key == "" {
		opts.Key = "apply"
	}
	log := opts.Logger.With().Str("component", "apply").Logger()
	res := &Result{}
	to, err := opts.Repo.Resolve(opts.To)
	if err != nil {
		return nil, fmt.Errorf("resolve %s: %w", opts.To, err)
	}
	res.To = to
	if res.From, err = opts.Store.LastApplied(ctx, opts.Key); err != nil {
		return nil, fmt.Errorf("read last applied commit: %w", err)
	}
	// The commits an apply loads (To, the last applied one, those of
	// resumed runs) share most files: parse each distinct file once.
	parsed := definitions.NewCache()
	newDefs, diags, err := engine.LoadCommit(parsed, opts.Repo, to, opts.Limits)
	if err != nil {
		return nil, err
	}
	var loadMu sync.Mutex // Recover loads from one goroutine per job
	loaded := map[string]*definitions.Definitions{}
	var windowDefs *definitions.Definitions
	if !diags.HasErrors() {
		loaded[to], windowDefs = newDefs, newDefs
	}
	ro := rollout.New(rollout.Options{
		Store: opts.Store, Sync: opts.Store, Executor: opts.Executor, Checker: opts.Checker, Secrets: opts.Secrets,
		Redact: opts.Redact, Progress: opts.Progress, Logger: opts.Logger, Clock: opts.Clock, GatePoll: opts.GatePoll,
		ReturnOnWait: true,
	})
	if windowDefs != nil {
		// Runs, resumed ones included, wait for the windows defined at To.
		_ = ro.ApplyConfig(ctx, windowDefs)
		// A secret source that follows applied commits (the daemon's does)
		// refuses To's credential files before any step renders, to runs
		// of older commits resumed here too; every render refuses those of
		// its own commit anyway.
		if a, ok := opts.Secrets.(engine.ConfigApplier); ok {
			_ = a.ApplyConfig(ctx, windowDefs)
		}
	}

	if opts.Decision != "" {
		if err := decide(ctx, ro, opts); err != nil {
			return nil, err
		}
	}

	// Whatever an earlier apply left unfinished comes first.
	load := func(_ context.Context, commit string) (*definitions.Definitions, error) {
		loadMu.Lock()
		defer loadMu.Unlock()
		if d := loaded[commit]; d != nil {
			return d, nil
		}
		d, err := engine.LoadValid(parsed, opts.Repo, commit, opts.Limits)
		if err != nil {
			return nil, err
		}
		loaded[commit] = d
		return d, nil
	}
	// Runs waiting for a window that To changes the job of give way to it.
	var superseded []*engine.Run
	if windowDefs != nil {
		if superseded, err = supersede(ctx, ro, opts, load, to, windowDefs); err != nil {
			return nil, err
		}
		for _, run := range superseded {
			res.Notes = append(res.Notes, fmt.Sprintf("run %d of %s at %s %s", run.ID, run.Job, engine.ShortCommit(run.Commit), run.Summary))
		}
	}
	resumed, err := ro.Recover(ctx, load)
	if err != nil {
		return nil, err
	}
	// An earlier commit whose resumed runs have all succeeded is carried
	// to applied first, so that its jobs do not run a second time for To.
	earlier := finishedCommit(resumed, res.From, to)
	waiting := false
	for _, run := range resumed {
		if run.Commit == to || run.Commit == earlier || !run.State.Final() {
			res.Runs = append(res.Runs, run)
		} else {
			res.Notes = append(res.Notes, fmt.Sprintf("run %d of %s at %s, left unfinished earlier, ended %s", run.ID, run.Job, engine.ShortCommit(run.Commit), run.State))
		}
		waiting = waiting || !run.State.Final()
	}
	if opts.Sync {
		if waiting {
			res.Notes = append(res.Notes, "runs wait for an operator or a maintenance window; sync once they end")
			return res, nil
		}
		return res, syncApplied(ctx, ro, opts, res, load)
	}
	if earlier != "" {
		applied, err := finishCommit(ctx, ro, opts, res, load, earlier)
		if err != nil || !applied && (res.Failed() || len(res.Waiting()) > 0) {
			return res, err
		}
		if applied {
			res.Notes = append(res.Notes, fmt.Sprintf("%s applied", engine.ShortCommit(earlier)))
			res.From = earlier
		}
	}
	if waiting {
		res.Notes = append(res.Notes, "runs wait for an operator or a maintenance window; the jobs their commits change wait behind them")
		if !diags.HasErrors() {
			if err := runAhead(ctx, ro, opts, res, load, newDefs, to, resumed); err != nil {
				return nil, err
			}
		}
		return res, nil
	}
	if len(superseded) > 0 && earlier == "" {
		c, err := supersededCommit(ctx, opts, load, superseded, res.From)
		if err != nil {
			return nil, err
		}
		if c != "" {
			if err := opts.Store.SetLastApplied(ctx, opts.Key, c); err != nil {
				return nil, fmt.Errorf("record %s as applied: %w", engine.ShortCommit(c), err)
			}
			res.From = c
		}
	}
	if res.From == to {
		res.Applied = true
		return res, nil
	}

	res.Diagnostics = diags
	if newDefs != nil {
		res.Files = newDefs.Files
	}
	if diags.HasErrors() {
		return res, nil
	}
	var oldDefs *definitions.Definitions
	if res.From != "" {
		if oldDefs, err = load(ctx, res.From); err != nil {
			log.Warn().Err(err).Str("commit", engine.ShortCommit(res.From)).Msg("last applied commit does not load; planning as if nothing was applied")
			oldDefs = nil
		}
	}
	res.Jobs = planApply(oldDefs, newDefs)
	log.Info().Str("from", engine.ShortCommit(res.From)).Str("to", engine.ShortCommit(to)).Int("jobs", len(res.Jobs)).Msg("plan")

	retried := 0
	for _, j := range res.Jobs {
		prior, err := opts.Store.ListRuns(ctx, engine.RunFilter{Job: j.Name, Commit: to, Limit: 1})
		if err != nil {
			return nil, fmt.Errorf("runs of %s at %s: %w", j.Name, engine.ShortCommit(to), err)
		}
		reason := "ripple apply: " + joinReasons(j.Reasons)
		if len(prior) > 0 {
			run := prior[0]
			failed := run.State.Final() && run.State != engine.RunSucceeded
			if !failed || !opts.Retry {
				if !containsRun(res.Runs, run.ID) {
					res.Runs = append(res.Runs, run)
				}
				if failed {
					res.Notes = append(res.Notes, fmt.Sprintf("%s was attempted at %s (run %d, %s); not retried: `ripple apply --retry` or a new commit runs it again", j.Name, engine.ShortCommit(to), run.ID, run.State))
				}
				if !run.State.Final() {
					return res, nil
				}
				continue
			}
			retried++
			reason = fmt.Sprintf("ripple apply --retry of run %d (%s)", run.ID, run.State)
			if opts.Reason != "" {
				reason += ": " + opts.Reason
			}
			res.Notes = append(res.Notes, fmt.Sprintf("%s: run %d at %s ended %s; retrying", j.Name, run.ID, engine.ShortCommit(to), run.State))
		}
		run, err := submitApply(ctx, ro, opts, newDefs, j, to, reason)
		if err != nil {
			return nil, err
		}
		res.Runs = append(res.Runs, run)
		if !run.State.Final() {
			return res, nil // waits for an operator
		}
	}
	if opts.Retry && retried == 0 {
		res.Notes = append(res.Notes, fmt.Sprintf("--retry: no job failed at %s; nothing retried", engine.ShortCommit(to)))
	}
	if res.Failed() {
		return res, nil
	}
	if err := opts.Store.SetLastApplied(ctx, opts.Key, to); err != nil {
		return nil, fmt.Errorf("record %s as applied: %w", engine.ShortCommit(to), err)
	}
	res.Applied = true
	return res, nil
}

// runAhead runs, at to, the jobs that to changes and that no waiting run
// holds back, while other runs wait for an operator or their window, as
// Argo CD syncs one application while another waits. A job is held back
// when a waiting run is its own, or when the commit of a waiting run
// changes it too: that commit runs its jobs when the run ends, and running
// the job at to first would have the older version land last. The last
// applied commit does not move; once the waiting runs end, the later
// commits are planned as usual and the jobs run here are not run again.
func runAhead(ctx context.Context, ro *rollout.Runner, opts Options, res *Result, load engine.DefinitionsLoader, toDefs *definitions.Definitions, to string, resumed []*engine.Run) error {
	var old *definitions.Definitions
	if res.From != "" {
		var err error
		if old, err = load(ctx, res.From); err != nil {
			return nil // without the base, nothing is known to be independent
		}
	}
	held := map[string]string{} // job -> commit of the run it waits behind
	for _, run := range resumed {
		if run.State.Final() {
			continue
		}
		held[run.Job] = run.Commit
		defs, err := load(ctx, run.Commit)
		if err != nil {
			return nil // unknown what that commit changes: hold everything back
		}
		for _, j := range planApply(old, defs) {
			if _, ok := held[j.Name]; !ok {
				held[j.Name] = run.Commit
			}
		}
	}
	for _, j := range planApply(old, toDefs) {
		if c, ok := held[j.Name]; ok {
			if c != to {
				res.Notes = append(res.Notes, fmt.Sprintf("%s waits behind the waiting run at %s", j.Name, engine.ShortCommit(c)))
			}
			continue
		}
		prior, err := opts.Store.ListRuns(ctx, engine.RunFilter{Job: j.Name, Commit: to, Limit: 1})
		if err != nil {
			return fmt.Errorf("runs of %s at %s: %w", j.Name, engine.ShortCommit(to), err)
		}
		if len(prior) > 0 {
			if !containsRun(res.Runs, prior[0].ID) {
				res.Runs = append(res.Runs, prior[0])
			}
			continue
		}
		run, err := submitApply(ctx, ro, opts, toDefs, j, to, "ripple apply: "+joinReasons(j.Reasons))
		if err != nil {
			return err
		}
		res.Runs = append(res.Runs, run)
		res.Notes = append(res.Notes, fmt.Sprintf("%s ran at %s ahead of the waiting runs", j.Name, engine.ShortCommit(to)))
	}
	return nil
}

// finishedCommit returns the commit of the resumed runs when they all
// belong to one commit other than from and to and all succeeded: that
// commit may now be applied (see finishCommit). "" otherwise. Runs at to
// (jobs that ran ahead of a waiting run) do not count.
func finishedCommit(resumed []*engine.Run, from, to string) string {
	c := ""
	for _, run := range resumed {
		if run.Commit == to {
			continue // ran ahead of the earlier commit (runAhead)
		}
		if run.State != engine.RunSucceeded || c != "" && run.Commit != c {
			return ""
		}
		c = run.Commit
	}
	if c == from || c == to {
		return ""
	}
	return c
}

// finishCommit carries commit c, an earlier apply's target, on to applied:
// the jobs of the plan from the last applied commit to c that have no run
// at c yet run now, at c, and c is recorded as applied once every one has
// succeeded. Nothing runs if a job already failed at c. The runs started
// are added to res; applied is false when c is not applied (a run failed
// or waits, or c does not load).
func finishCommit(ctx context.Context, ro *rollout.Runner, opts Options, res *Result, load engine.DefinitionsLoader, c string) (applied bool, err error) {
	defs, err := load(ctx, c)
	if err != nil {
		opts.Logger.Warn().Err(err).Str("commit", engine.ShortCommit(c)).Msg("earlier commit does not load; planning the later one")
		return false, nil
	}
	var old *definitions.Definitions
	if res.From != "" {
		if old, err = load(ctx, res.From); err != nil {
			old = nil
		}
	}
	var missing []Job
	for _, j := range planApply(old, defs) {
		runs, err := opts.Store.ListRuns(ctx, engine.RunFilter{Job: j.Name, Commit: c, Limit: 1})
		if err != nil {
			return false, fmt.Errorf("runs of %s at %s: %w", j.Name, engine.ShortCommit(c), err)
		}
		switch {
		case len(runs) == 0:
			missing = append(missing, j)
		case runs[0].State != engine.RunSucceeded:
			return false, nil
		}
	}
	for _, j := range missing {
		run, err := submitApply(ctx, ro, opts, defs, j, c, "ripple apply: "+joinReasons(j.Reasons))
		if err != nil {
			return false, err
		}
		res.Runs = append(res.Runs, run)
		if run.State != engine.RunSucceeded {
			return false, nil
		}
	}
	if err := opts.Store.SetLastApplied(ctx, opts.Key, c); err != nil {
		return false, fmt.Errorf("record %s as applied: %w", engine.ShortCommit(c), err)
	}
	return true, nil
}

// submitApply records a run of job j at commit and executes it until it
// ends or waits.
func submitApply(ctx context.Context, ro *rollout.Runner, opts Options, defs *definitions.Definitions, j Job, commit, reason string) (*engine.Run, error) {
	run, err := ro.Submit(ctx, engine.RunRequest{Job: j.Name, Commit: commit, Branch: opts.Key, Trigger: engine.TriggerApply,
		Actor: opts.Actor, Reason: reason, Waves: j.Waves})
	if err != nil {
		return nil, err
	}
	return ro.Execute(ctx, defs, run.ID)
}

// decide answers every run waiting for an operator; an abort also ends
// the runs waiting for their maintenance window.
func decide(ctx context.Context, ro *rollout.Runner, opts Options) error {
	states, what := []engine.RunState{engine.RunWaitingApproval, engine.RunNeedsOperator}, "an operator"
	if opts.Decision == DecisionAbort {
		states, what = append(states, engine.RunWaitingWindow), "an operator or a maintenance window"
	}
	runs, err := opts.Store.ListRuns(ctx, engine.RunFilter{States: states})
	if err != nil {
		return fmt.Errorf("list waiting runs: %w", err)
	}
	if len(runs) == 0 {
		return fmt.Errorf("%s: no run waits for %s", opts.Decision, what)
	}
	for _, run := range runs {
		switch opts.Decision {
		case DecisionApprove:
			err = ro.Approve(ctx, run.ID, opts.Actor, opts.Reason)
		case DecisionAbort:
			err = ro.Abort(ctx, run.ID, opts.Actor, opts.Reason)
		default:
			return fmt.Errorf("unknown decision %q", opts.Decision)
		}
		if err != nil && !errors.Is(err, engine.ErrNotWaiting) {
			return err
		}
	}
	return nil
}

func containsRun(runs []*engine.Run, id int64) bool {
	for _, r := range runs {
		if r.ID == id {
			return true
		}
	}
	return false
}

func joinReasons(rs []string) string {
	s := ""
	for i, r := range rs {
		if i > 0 {
			s += ", "
		}
		s += r
	}
	return s
}
