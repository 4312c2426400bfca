package apply

import (
	"context"
	"fmt"
	"maps"
	"slices"

	"github.com/ripple-ops/ripple/definitions"
	"github.com/ripple-ops/ripple/engine"
	"github.com/ripple-ops/ripple/engine/convergence"
	"github.com/ripple-ops/ripple/engine/rollout"
)

// syncApplied is `ripple apply --sync`: each job of the last applied
// commit runs again there, through its waves, gates and budget, on the
// hosts out of sync or drifted only. A job with none is left alone.
func syncApplied(ctx context.Context, ro *rollout.Runner, opts Options, res *Result, load engine.DefinitionsLoader) error {
	applied := res.From
	if applied == "" {
		res.Notes = append(res.Notes, "--sync: nothing was applied from this data directory yet; run `ripple apply` first")
		return nil
	}
	res.To = applied
	res.Applied = true
	defs, err := load(ctx, applied)
	if err != nil {
		return err
	}
	recs, err := opts.Store.HostSyncs(ctx, "")
	if err != nil {
		return err
	}
	jobs := slices.Sorted(maps.Keys(defs.Jobs))
	synced := 0
	for _, js := range convergence.JobSyncs(jobs, definitions.NewFingerprints(defs).Job, applied, recs) {
		var need []string
		for _, h := range js.Hosts {
			if h.NeedsSync() {
				need = append(need, h.Host)
			}
		}
		if len(need) == 0 {
			synced++
			continue
		}
		j := defs.Jobs[js.Job]
		reason := fmt.Sprintf("ripple apply --sync: %s out of sync or drifted", engine.Plural(len(need), "host"))
		if opts.Reason != "" {
			reason += ": " + opts.Reason
		}
		run, err := ro.Submit(ctx, engine.RunRequest{Job: js.Job, Commit: applied, Branch: opts.Key, Trigger: engine.TriggerSync,
			Actor: opts.Actor, Reason: reason, Waves: definitions.Waves(need, j.Rollout.Waves)})
		if err != nil {
			return err
		}
		if run, err = ro.Execute(ctx, defs, run.ID); err != nil {
			return err
		}
		res.Runs = append(res.Runs, run)
		if !run.State.Final() {
			return nil // waits for an operator
		}
	}
	if synced == len(jobs) {
		res.Notes = append(res.Notes, fmt.Sprintf("--sync: every host of every job is in sync at %s", engine.ShortCommit(applied)))
	}
	return nil
}
