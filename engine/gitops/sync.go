package gitops

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/ripple-ops/ripple/definitions"
	"github.com/ripple-ops/ripple/engine"
	"github.com/ripple-ops/ripple/engine/convergence"
)

// Sync state: per (job, host), what the applied head (the base commit)
// wants there, its fingerprint, against what the runs recorded there (see
// convergence.DeriveSync). It replaces "last applied" as what the API, the UI,
// the PR plan and the ripple/sync status reason about.

// StatusSync is the commit status context of the fleet's sync state, on
// the applied head.
const StatusSync = "ripple/sync"

// fingerprints caches the desired fingerprints of the base commit, one job
// at a time: they change only when the base does.
type fingerprints struct {
	mu     sync.Mutex
	commit string
	fps    *definitions.Fingerprints
	jobs   map[string]map[string]string
}

func (f *fingerprints) job(defs *definitions.Definitions, job string) map[string]string {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.fps == nil || f.commit != defs.Commit {
		f.commit, f.fps, f.jobs = defs.Commit, definitions.NewFingerprints(defs), map[string]map[string]string{}
	}
	fp, ok := f.jobs[job]
	if !ok {
		fp = f.fps.Job(job)
		f.jobs[job] = fp
	}
	return fp
}

// SyncStates returns the sync state of every target host of each of jobs
// (every job when none is named) at the applied head, by job then host.
func (d *Daemon) SyncStates(ctx context.Context, jobs ...string) ([]convergence.JobSync, error) {
	return syncStates(ctx, d.Definitions(), &d.fps, d.opts.Sync, d.opts.Store, jobs)
}

// syncStates is the sync state of jobs at defs, from what store recorded;
// runs say where self-heal is.
func syncStates(ctx context.Context, defs *definitions.Definitions, fps *fingerprints, store engine.SyncStore, runs engine.RunReader, jobs []string) ([]convergence.JobSync, error) {
	if defs == nil {
		return nil, fmt.Errorf("no commit applied yet: %w", engine.ErrConflict)
	}
	if store == nil {
		return nil, fmt.Errorf("sync state is not recorded: %w", engine.ErrConflict)
	}
	names := jobs
	if len(names) == 0 {
		for _, name := range sortedJobs(defs) {
			if !defs.Jobs[name].Manual {
				names = append(names, name)
			}
		}
	}
	for _, name := range names {
		switch j := defs.Jobs[name]; {
		case j == nil:
			return nil, fmt.Errorf("job %q: %w", name, engine.ErrNotFound)
		case j.Manual:
			return nil, fmt.Errorf("job %q is manual: it runs only when started (ripple run), so it has no sync state: %w", name, engine.ErrInvalidRequest)
		}
	}
	filter := ""
	if len(names) == 1 {
		filter = names[0]
	}
	recs, err := store.HostSyncs(ctx, filter)
	if err != nil {
		return nil, err
	}
	out := convergence.JobSyncs(names, func(job string) map[string]string { return fps.job(defs, job) }, defs.Commit, recs)
	for i := range out {
		if j := defs.Jobs[out[i].Job]; j.SelfHeal {
			out[i].SelfHeal = selfHealNote(ctx, runs, j)
		}
	}
	return out, nil
}

// syncChanged asks the loop to work the sync status out again (a run
// ended, a drift check finished). It never blocks.
func (d *Daemon) syncChanged() {
	select {
	case d.syncWake <- struct{}{}:
	default:
	}
}

// postSyncStatus sets ripple/sync on the base commit: "in sync: 198/200
// hosts", or "2 of 200 hosts out of sync (nginx-config: web-07 failed at
// abc1234)"; and the ripple_job_hosts metric. It runs in the loop's
// goroutine; setStatus writes only when the status changes.
func (d *Daemon) postSyncStatus(ctx context.Context) {
	d.mu.Lock()
	base := d.state.Base
	d.mu.Unlock()
	if base == "" || d.opts.Sync == nil {
		return
	}
	states, err := d.SyncStates(ctx)
	if err != nil {
		d.log.Warn().Err(err).Msg("work out sync state")
		return
	}
	d.metrics.setJobHosts(states)
	state, desc := syncSummary(states)
	d.setStatus(ctx, engine.CommitStatus{Commit: base, Context: StatusSync, State: state, Description: desc})
}

// syncSummary says how many hosts are in sync, counting a host once
// whatever number of jobs it runs: it is in sync when every job is synced
// there; the first out-of-sync pair found is named.
func syncSummary(states []convergence.JobSync) (state, desc string) {
	inSync := map[string]bool{} // host -> every job synced there
	var first string
	others := 0
	for _, js := range states {
		for _, h := range js.Hosts {
			ok := h.State == engine.SyncSynced
			if prev, seen := inSync[h.Host]; seen {
				ok = ok && prev
			}
			inSync[h.Host] = ok
			if h.State == engine.SyncSynced {
				continue
			}
			if first == "" {
				first = fmt.Sprintf("%s: %s %s", js.Job, h.Host, shortReason(h))
			} else {
				others++
			}
		}
	}
	if len(inSync) == 0 {
		return "success", "in sync: no host runs a job"
	}
	out := 0
	for _, ok := range inSync {
		if !ok {
			out++
		}
	}
	if out == 0 {
		return "success", "in sync: " + engine.PluralOf(len(inSync), len(inSync), "host")
	}
	desc = fmt.Sprintf("%d of %s out of sync (%s", out, engine.Plural(len(inSync), "host"), first)
	if others > 0 {
		desc += fmt.Sprintf(", %d more", others)
	}
	return "failure", desc + ")"
}

// shortReason is a pair's state in a status description: "failed at
// abc1234", "drifted", "changed", "never ran".
func shortReason(h convergence.HostSyncState) string {
	switch h.State {
	case engine.SyncDrifted:
		return "drifted"
	case engine.SyncUnknown:
		return "unreachable"
	}
	switch h.Reason {
	case engine.ReasonFailed, engine.ReasonAborted, engine.ReasonRolledBack:
		c := h.ReasonCommit
		if len(c) > 7 {
			c = c[:7]
		}
		return strings.ReplaceAll(h.Reason, "_", " ") + " at " + c
	case engine.ReasonNeverRan:
		return "never ran"
	}
	return "changed"
}

// StartSync queues a sync run of job at the applied head on its out-of-sync
// and drifted hosts (only those of hosts, when given): the same waves,
// gates and failure budget as any run. It fails with engine.ErrConflict
// when no host needs it.
func (d *Daemon) StartSync(ctx context.Context, job string, hosts []string, actor, reason string) (*engine.Run, error) {
	return d.submit(ctx, manualRequest{job: job, hosts: hosts, actor: actor, reason: reason, trigger: engine.TriggerSync, sync: true})
}

// syncHosts lists the hosts of job a sync run visits: out of sync or
// drifted, narrowed to only when given (each of which must be a target).
func (d *Daemon) syncHosts(ctx context.Context, job string, only []string) ([]string, error) {
	states, err := d.SyncStates(ctx, job)
	if err != nil {
		return nil, err
	}
	var all, need []string
	for _, h := range states[0].Hosts {
		all = append(all, h.Host)
		if h.NeedsSync() {
			need = append(need, h.Host)
		}
	}
	for _, h := range only {
		if !slices.Contains(all, h) {
			return nil, fmt.Errorf("host %q is not a target of job %q: %w", h, job, engine.ErrInvalidRequest)
		}
	}
	if len(only) > 0 {
		need = slices.DeleteFunc(need, func(h string) bool { return !slices.Contains(only, h) })
	}
	if len(need) == 0 {
		return nil, fmt.Errorf("nothing to sync: %s of job %s in sync: %w", engine.Plural(len(all), "host"), job, engine.ErrConflict)
	}
	return need, nil
}
