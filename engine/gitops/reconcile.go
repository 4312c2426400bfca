package gitops

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/hashicorp/hcl/v2"

	"github.com/ripple-ops/ripple/definitions"
	"github.com/ripple-ops/ripple/engine"
)

// BaseKey is where the store keeps branch's base commit (the last commit
// whose runs were started): the definitions every node of a cluster
// follows.
func BaseKey(branch string) string { return "base/" + branch }

// restoreBase finds where the next diff starts: the last applied commit, or
// a later commit of the branch whose runs were already started (the daemon
// stopped while they ran). Runs of that commit are watched so that it
// becomes the last applied one once they end.
func (d *Daemon) restoreBase(ctx, runCtx context.Context) error {
	branch := d.opts.Mirror.Branch
	applied, err := d.opts.Store.LastApplied(ctx, branch)
	if err != nil {
		return fmt.Errorf("read last applied commit: %w", err)
	}
	base := applied
	runs, err := d.opts.Store.ListRuns(ctx, engine.RunFilter{Limit: 200})
	if err != nil {
		return fmt.Errorf("list runs: %w", err)
	}
	slices.SortFunc(runs, func(a, b *engine.Run) int { return cmp.Compare(b.ID, a.ID) })
	for _, r := range runs {
		if r.Trigger != engine.TriggerCommit || r.Branch != branch {
			continue
		}
		if r.Commit != applied && d.mirror.HasCommit(plumbing.NewHash(r.Commit)) {
			if applied == "" {
				base = r.Commit
			} else if ok, _ := d.mirror.IsAncestor(plumbing.NewHash(applied), plumbing.NewHash(r.Commit)); ok {
				base = r.Commit
			}
		}
		break
	}
	var defs *definitions.Definitions
	if base != "" && d.mirror.HasCommit(plumbing.NewHash(base)) {
		defs, _, err = d.load(plumbing.NewHash(base))
		if err != nil {
			return err
		}
	}
	if base != "" {
		if err := d.opts.Store.SetLastApplied(ctx, BaseKey(branch), base); err != nil {
			return fmt.Errorf("record the base commit: %w", err)
		}
	}
	d.mu.Lock()
	d.state.LastApplied, d.state.Base, d.defs = applied, base, defs
	d.mu.Unlock()
	d.wakeFacts()
	if defs != nil {
		d.applyConfig(ctx, defs)
	}
	d.metrics.setApplied(d.commitTime(applied))
	if base != applied {
		d.log.Info().Str("commit", engine.ShortCommit(base)).Msg("runs of a commit were in progress at the last stop; waiting for them")
		d.seq++
		var ids []int64
		for _, r := range runs {
			if r.Commit == base && r.Trigger == engine.TriggerCommit {
				ids = append(ids, r.ID)
			}
		}
		d.queue.watch(runCtx, &commitBatch{commit: base, seq: d.seq, committed: d.commitTime(base)}, ids)
	}
	return nil
}

func (d *Daemon) commitTime(sha string) time.Time {
	if sha == "" {
		return time.Time{}
	}
	t, err := d.mirror.CommitTime(plumbing.NewHash(sha))
	if err != nil {
		return time.Time{}
	}
	return t
}

// loadCommit returns the definitions of commit, for recovery; a commit
// with errors is an error, because it was valid when its runs were
// recorded.
func (d *Daemon) loadCommit(_ context.Context, commit string) (*definitions.Definitions, error) {
	if !isHexSHA(commit) {
		return nil, fmt.Errorf("commit %q is not a full sha", commit)
	}
	return engine.LoadValid(d.parsed, d.mirror, commit, d.opts.Limits)
}

// load reads and validates the definitions of commit h. Secrets are never
// loaded here: definitions evaluates env() and file() only per run.
func (d *Daemon) load(h plumbing.Hash) (*definitions.Definitions, hcl.Diagnostics, error) {
	return engine.LoadCommit(d.parsed, d.mirror, h.String(), d.opts.Limits)
}

// reconcile brings the branch from the base commit to its head: fetch,
// validate, check history and emptiness, plan, start runs. Refusals are
// remembered per head so that polling does not repeat them.
func (d *Daemon) reconcile(ctx, runCtx context.Context) error {
	head, err := d.mirror.Fetch(ctx)
	if err != nil {
		return err
	}
	hs := head.String()
	d.mu.Lock()
	d.state.Ready, d.state.Head, d.state.LastFetch = true, hs, time.Now().UTC()
	base, acc, old := d.state.Base, d.accept, d.defs
	d.mu.Unlock()
	l := d.log.With().Str("commit", engine.ShortCommit(hs)).Logger()

	if hs == base {
		d.setVerdict("", "")
		return nil
	}
	if v, ok := d.verdicts[hs]; ok {
		d.setVerdict("", v)
		return nil
	}
	defs, diags, err := d.load(head)
	if err != nil {
		return err
	}
	if diags.HasErrors() {
		desc := "invalid: " + definitions.ShortDiagnostics(diags)
		l.Warn().Str("diagnostics", definitions.ShortDiagnostics(diags)).Msg("commit is invalid; nothing runs")
		d.setStatus(ctx, engine.CommitStatus{Commit: hs, Context: engine.StatusValidate, State: "failure", Description: desc})
		d.refuse(hs, desc)
		return nil
	}

	accepted := acc != nil && acc.head == hs
	if base != "" && !accepted {
		ok, err := d.mirror.IsAncestor(plumbing.NewHash(base), head)
		if err != nil {
			return err
		}
		if !ok {
			reason := fmt.Sprintf("history rewritten: last applied %s is not an ancestor of %s; an operator must accept %s (ripple status, POST /api/v1/reconcile)", engine.ShortCommit(base), engine.ShortCommit(hs), engine.ShortCommit(hs))
			d.mu.Lock()
			was := d.state.Paused
			d.state.Paused, d.state.Refused = reason, ""
			d.mu.Unlock()
			if was != reason {
				l.Warn().Str("last_applied", engine.ShortCommit(base)).Msg("force-push dropped the last applied commit; paused until an operator accepts the new head")
			}
			d.setStatus(ctx, engine.CommitStatus{Commit: hs, Context: engine.StatusValidate, State: "success", Description: validDescription(diags) + "; paused: history rewritten"})
			return nil
		}
	}
	if old == nil {
		old = emptyDefinitions()
	}
	plan := planCommit(old, defs)
	if !d.opts.AllowEmpty {
		if what := plan.RemovesWhat(); what != "" {
			desc := "refused: the commit removes " + what + " (start ripple serve with --allow-empty to allow)"
			l.Warn().Str("removes", what).Msg("commit refused")
			d.setStatus(ctx, engine.CommitStatus{Commit: hs, Context: engine.StatusValidate, State: "failure", Description: desc})
			d.refuse(hs, desc)
			return nil
		}
	}
	d.setStatus(ctx, engine.CommitStatus{Commit: hs, Context: engine.StatusValidate, State: "success", Description: validDescription(diags)})

	actor, reason := engine.ActorRipple, "commit "+engine.ShortCommit(hs)
	if accepted {
		actor, reason = acc.actor, acc.reason
	}
	if err := d.startCommitRuns(ctx, runCtx, hs, defs, plan, actor, reason); err != nil {
		return err
	}
	defer d.syncChanged()
	if err := d.opts.Store.SetLastApplied(ctx, BaseKey(d.opts.Mirror.Branch), hs); err != nil {
		return fmt.Errorf("record the base commit: %w", err)
	}
	d.mu.Lock()
	d.state.Base, d.defs, d.state.Paused, d.state.Refused = hs, defs, "", ""
	if accepted {
		d.accept = nil
	}
	d.mu.Unlock()
	d.wakeFacts()
	d.applyConfig(ctx, defs)
	return nil
}

// startCommitRuns records one run per planned job (or adopts the runs a
// previous process already recorded for this commit) and queues them.
func (d *Daemon) startCommitRuns(ctx, runCtx context.Context, commit string, defs *definitions.Definitions, plan *definitions.PlanResult, actor, reason string) error {
	d.seq++
	batch := &commitBatch{commit: commit, seq: d.seq, committed: d.commitTime(commit)}
	existing, err := d.opts.Store.ListRuns(ctx, engine.RunFilter{Commit: commit})
	if err != nil {
		return fmt.Errorf("list runs of %s: %w", engine.ShortCommit(commit), err)
	}
	var adopted []int64
	for _, r := range existing {
		if r.Trigger == engine.TriggerCommit && r.Branch == d.opts.Mirror.Branch {
			adopted = append(adopted, r.ID)
		}
	}
	if len(adopted) > 0 {
		// One automatic attempt per commit: never a second set of runs.
		d.queue.watch(runCtx, batch, adopted)
		return nil
	}
	var runs []*engine.Run
	for _, j := range plan.Jobs {
		if engine.CountHosts(j.Waves) == 0 {
			continue // a manual job, or a change that runs nothing
		}
		// A job that runs on commits has a default for every param.
		job := defs.Jobs[j.Name]
		vals, err := job.ResolveParams(nil)
		if err != nil {
			return fmt.Errorf("params of %s: %w", j.Name, err)
		}
		r, err := d.opts.Runner.Submit(ctx, engine.RunRequest{
			Params:    job.RecordParams(vals),
			Sensitive: job.SensitiveValues(vals),
			Job:       j.Name,
			Commit:    commit,
			Branch:    d.opts.Mirror.Branch,
			Trigger:   engine.TriggerCommit,
			Actor:     actor,
			Reason:    clip(reason+": "+strings.Join(j.Reasons, "; "), 500),
			Waves:     j.Waves,
		})
		if err != nil {
			return fmt.Errorf("submit run of %s: %w", j.Name, err)
		}
		runs = append(runs, r)
	}
	if len(runs) > 0 && d.opts.Outbox != nil {
		d.opts.Outbox.Notify()
	}
	d.log.Info().Str("commit", engine.ShortCommit(commit)).Int("runs", len(runs)).Str("plan", plan.Summary()).Msg("commit planned")
	if len(runs) == 0 {
		d.queue.markApplied(ctx, batch)
		return nil
	}
	batch.remaining = len(runs)
	if len(d.batches) > 100 {
		clear(d.batches)
	}
	d.batches[commit] = batch
	for _, r := range runs {
		d.queue.enqueue(runCtx, &queuedRun{run: r, defs: defs, batch: batch})
	}
	return nil
}

func (d *Daemon) refuse(head, why string) {
	if len(d.verdicts) > 100 {
		clear(d.verdicts)
	}
	d.verdicts[head] = why
	d.setVerdict("", why)
}

func (d *Daemon) setVerdict(paused, refused string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.state.Paused, d.state.Refused = paused, refused
}

// setStatus records a commit status (kept locally, and delivered by the
// outbox when GitHub reporting is on). A failure is logged, not returned:
// a status must never stop a rollout.
func (d *Daemon) setStatus(ctx context.Context, s engine.CommitStatus) {
	s.Description = clip(s.Description, engine.MaxStatusDescription)
	key := s.Commit + " " + s.Context
	if d.posted[key] == s.State+" "+s.Description+" "+s.TargetURL {
		return
	}
	if len(d.posted) > 1000 {
		clear(d.posted)
	}
	d.posted[key] = s.State + " " + s.Description + " " + s.TargetURL
	if s.Updated.IsZero() {
		s.Updated = time.Now().UTC()
	}
	if err := d.opts.Store.SetStatus(ctx, s); err != nil {
		d.log.Error().Err(err).Str("commit", engine.ShortCommit(s.Commit)).Str("context", s.Context).Msg("record commit status")
		return
	}
	if d.opts.Outbox != nil {
		d.opts.Outbox.Notify()
	}
}

func validDescription(diags hcl.Diagnostics) string {
	if s := definitions.ShortDiagnostics(diags); s != "" {
		return "valid (" + s + ")"
	}
	return "valid"
}

func emptyDefinitions() *definitions.Definitions {
	return &definitions.Definitions{
		Hosts:       map[string]*definitions.Host{},
		Groups:      map[string]*definitions.Group{},
		Credentials: map[string]*definitions.Credential{},
		SNMP:        map[string]*definitions.SNMPProfile{},
		Windows:     map[string]*definitions.Window{},
		Notifiers:   map[string]*definitions.Notifier{},
		Monitors:    map[string]*definitions.Monitor{},
		Jobs:        map[string]*definitions.Job{},
		Files:       map[string]*hcl.File{},
	}
}

// truncate cuts s to at most n bytes on a rune boundary, marking the cut.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := n - len("…")
	for cut > 0 && !isRuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}

func isRuneStart(b byte) bool { return b&0xC0 != 0x80 }
