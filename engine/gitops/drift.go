package gitops

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/ripple-ops/ripple/definitions"
	"github.com/ripple-ops/ripple/engine"
	"github.com/ripple-ops/ripple/engine/schedule"
)

// Drift detection and self-heal. A drift check is read-only: it renders the
// job's steps at the applied head for each host and asks the transport
// (engine.DriftChecker) whether the host still matches: file steps compare
// the destination, run steps run their check. Hosts already out of sync
// are known to differ and are not checked. Results are recorded per (job,
// host) with their time, and feed the sync state.

const (
	// driftTick is how often the drift loop looks for a job whose
	// drift_check is due.
	driftTick = 15 * time.Second
	// driftConcurrency bounds the hosts checked at once for one job (the
	// job's max_parallel when it is lower).
	driftConcurrency = 32
	// maxSelfHealBackoff caps the wait after failed self-heal runs.
	maxSelfHealBackoff = 24 * time.Hour
)

// driftLoop runs each job's drift check every drift_check and then, for
// jobs with self_heal, re-syncs what is drifted or out of sync. It runs
// until ctx ends; the daemon's Run waits for it.
func (d *Daemon) driftLoop(ctx context.Context) {
	t := time.NewTicker(driftTick)
	defer t.Stop()
	last := map[string]time.Time{}
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		defs := d.Definitions()
		if defs == nil {
			continue
		}
		now := time.Now()
		for _, name := range sortedJobs(defs) {
			j := defs.Jobs[name]
			if j.DriftCheck <= 0 || now.Sub(last[name]) < j.DriftCheck {
				continue
			}
			last[name] = now
			if _, err := d.driftJob(ctx, defs, j); err != nil {
				if ctx.Err() == nil {
					d.log.Warn().Err(err).Str("job", name).Msg("drift check")
				}
				continue
			}
			if j.SelfHeal {
				d.selfHeal(ctx, defs, j)
			}
		}
	}
}

func sortedJobs(defs *definitions.Definitions) []string {
	out := make([]string, 0, len(defs.Jobs))
	for name := range defs.Jobs {
		out = append(out, name)
	}
	sort.Strings(out)
	return out
}

// CheckDrift runs the drift check of each of jobs now (every job with
// something to check when none is named) and returns what it found per
// host; the results are recorded like those of the periodic checks.
func (d *Daemon) CheckDrift(ctx context.Context, jobs ...string) ([]engine.JobDrift, error) {
	if d.opts.Drift == nil {
		return nil, fmt.Errorf("drift checks need the SSH transport: %w", engine.ErrConflict)
	}
	defs := d.Definitions()
	if defs == nil {
		return nil, fmt.Errorf("no commit applied yet: %w", engine.ErrConflict)
	}
	names := jobs
	if len(names) == 0 {
		for _, name := range sortedJobs(defs) {
			if checkable(defs.Jobs[name]) && !defs.Jobs[name].Manual {
				names = append(names, name)
			}
		}
	}
	var out []engine.JobDrift
	for _, name := range names {
		j := defs.Jobs[name]
		if j == nil {
			return nil, fmt.Errorf("job %q: %w", name, engine.ErrNotFound)
		}
		jd, err := d.driftJob(ctx, defs, j)
		if err != nil {
			return nil, err
		}
		out = append(out, jd)
	}
	return out, nil
}

// checkable reports whether a drift check can look at anything of j: a
// file step, or a run or script step with a check.
func checkable(j *definitions.Job) bool {
	return slices.ContainsFunc(j.Steps, func(s *definitions.Step) bool {
		return s.Kind == definitions.StepFile || s.Check != nil
	})
}

// driftJob checks j's in-sync hosts and records the results.
func (d *Daemon) driftJob(ctx context.Context, defs *definitions.Definitions, j *definitions.Job) (engine.JobDrift, error) {
	jd := engine.JobDrift{Job: j.Name, At: time.Now().UTC(), Hosts: []engine.HostDrift{}}
	states, err := d.SyncStates(ctx, j.Name)
	if err != nil {
		return jd, err
	}
	desired := d.fps.job(defs, j.Name)
	results := make([]engine.HostDrift, len(states[0].Hosts))
	var check []string
	for i, st := range states[0].Hosts {
		switch {
		case !checkable(j):
			results[i] = engine.HostDrift{Host: st.Host, Skipped: "nothing to check: no file step, no check on a run step"}
		case st.State == engine.SyncOutOfSync:
			results[i] = engine.HostDrift{Host: st.Host, Skipped: "out of sync: " + st.ReasonText()}
		default:
			check = append(check, st.Host)
		}
	}
	checked, err := d.checkHosts(ctx, defs, j, check)
	if err != nil {
		return jd, err
	}
	for i, k := 0, 0; i < len(results); i++ {
		if results[i].Host == "" {
			results[i] = checked[k]
			k++
		}
	}
	var ups []engine.SyncUpdate
	counts := map[engine.DriftStatus]int{}
	for _, r := range results {
		jd.Hosts = append(jd.Hosts, r)
		if r.Skipped != "" {
			continue
		}
		counts[r.Status]++
		mark := engine.DriftMark{Status: r.Status, Fingerprint: desired[r.Host], Detail: r.Detail, At: jd.At}
		ups = append(ups, engine.SyncUpdate{Job: j.Name, Host: r.Host, Drift: &mark})
	}
	if d.opts.Sync != nil {
		if err := d.opts.Sync.RecordSync(context.WithoutCancel(ctx), ups); err != nil {
			return jd, err
		}
	}
	d.log.Info().Str("job", j.Name).Int("checked", len(ups)).Int("drifted", counts[engine.DriftDrifted]).
		Int("unknown", counts[engine.DriftUnknown]).Msg("drift check")
	d.syncChanged()
	return jd, nil
}

// checkHosts is CheckHosts with the daemon's transport and secrets, every
// detail redacted of the secrets the process loaded.
func (d *Daemon) checkHosts(ctx context.Context, defs *definitions.Definitions, j *definitions.Job, hosts []string) ([]engine.HostDrift, error) {
	out, err := CheckHosts(ctx, d.opts.Drift, d.opts.Secrets, defs, j, hosts)
	for i := range out {
		out[i].Detail = d.opts.Redact.Redact(out[i].Detail)
	}
	return out, err
}

// CheckHosts runs the drift check of job j on hosts, read-only, with the
// job's max_parallel (at most 32) hosts at once, and returns a result per
// host in the order given. The error is ctx's.
func CheckHosts(ctx context.Context, drift engine.DriftChecker, secrets definitions.SecretSource, defs *definitions.Definitions, j *definitions.Job, hosts []string) ([]engine.HostDrift, error) {
	out := make([]engine.HostDrift, len(hosts))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(min(driftConcurrency, max(j.Rollout.MaxParallel, 1)))
	for i, h := range hosts {
		g.Go(func() error {
			out[i] = checkHost(gctx, drift, secrets, defs, j, h)
			return nil
		})
	}
	_ = g.Wait() // checkHost reports problems as results
	return out, ctx.Err()
}

// checkHost checks every step of j on host; the worst result wins
// (drifted, then unknown, then clean), with every step's detail.
func checkHost(ctx context.Context, drift engine.DriftChecker, secrets definitions.SecretSource, defs *definitions.Definitions, j *definitions.Job, host string) engine.HostDrift {
	out := engine.HostDrift{Host: host, Status: engine.DriftClean}
	h := defs.Hosts[host]
	ep, err := engine.EndpointFor(defs, h, secrets)
	if err != nil {
		out.Status, out.Detail = engine.DriftUnknown, err.Error()
		return out
	}
	var details []string
	for _, st := range j.Steps {
		hs, diags := defs.RenderStep(j, st, h, secrets, nil)
		if diags.HasErrors() {
			out.Status = worse(out.Status, engine.DriftUnknown)
			details = append(details, fmt.Sprintf("step %s: cannot render: %v", st.Name, engine.DiagError(diags)))
			continue
		}
		r := drift.CheckDrift(ctx, ep, hs)
		if !r.Checked {
			continue
		}
		out.Status = worse(out.Status, r.Status)
		if r.Status != engine.DriftClean && r.Detail != "" {
			details = append(details, r.Detail)
		}
		if r.Status == engine.DriftUnknown {
			break // unreachable: the other steps would say the same
		}
	}
	out.Detail = strings.Join(details, "\n")
	return out
}

func worse(a, b engine.DriftStatus) engine.DriftStatus {
	rank := map[engine.DriftStatus]int{engine.DriftClean: 0, engine.DriftUnknown: 1, engine.DriftDrifted: 2}
	if rank[b] > rank[a] {
		return b
	}
	return a
}

// selfHeal queues a self-heal run of j on its drifted and out-of-sync hosts
// when it may: inside the job's window, with no run of the job going, and
// not while failed self-heal runs back off.
func (d *Daemon) selfHeal(ctx context.Context, defs *definitions.Definitions, j *definitions.Job) {
	l := d.log.With().Str("job", j.Name).Logger()
	if note := selfHealNote(ctx, d.opts.Store, j); note != "on" && !strings.HasPrefix(note, "on ") {
		l.Info().Str("self_heal", note).Msg("self-heal waits")
		return
	}
	now := time.Now()
	if j.Window != "" {
		if w := schedule.NewWindow(defs.Windows[j.Window]); w != nil && !w.Open(now) {
			return
		}
	}
	active, err := d.opts.Store.ListRuns(ctx, engine.RunFilter{Job: j.Name, States: engine.UnfinishedStates, Limit: 1})
	if err != nil || len(active) > 0 {
		return
	}
	states, err := d.SyncStates(ctx, j.Name)
	if err != nil {
		return
	}
	drifted, out := states[0].Count(engine.SyncDrifted), states[0].Count(engine.SyncOutOfSync)
	if drifted+out == 0 {
		return
	}
	reason := fmt.Sprintf("self-heal: %d drifted, %d out of sync", drifted, out)
	run, err := d.submit(ctx, manualRequest{job: j.Name, actor: engine.ActorRipple, reason: reason, trigger: engine.TriggerSelfHeal, sync: true})
	if err != nil {
		l.Warn().Err(err).Msg("self-heal")
		return
	}
	l.Info().Int64("run", run.ID).Str("reason", reason).Msg("self-heal run queued")
}

// selfHealNote says what self-heal does next for j: "on", or, after failed
// self-heal runs, when it tries again. The wait doubles with each failure
// in a row (drift_check, 2x, 4x, ... up to a day), so a run that keeps
// failing does not loop; a self-heal run that succeeds resets it.
func selfHealNote(ctx context.Context, store engine.RunReader, j *definitions.Job) string {
	runs, err := store.ListRuns(ctx, engine.RunFilter{Job: j.Name, Limit: 50})
	if err != nil {
		return "on"
	}
	failed := 0
	var last time.Time
	for _, r := range runs { // newest first
		if r.Trigger != engine.TriggerSelfHeal || !r.State.Final() {
			continue
		}
		if r.State == engine.RunSucceeded {
			break
		}
		if failed == 0 {
			last = r.Finished
		}
		failed++
	}
	if failed == 0 {
		return "on"
	}
	wait := j.DriftCheck
	for i := 1; i < failed && wait < maxSelfHealBackoff; i++ {
		wait *= 2
	}
	wait = min(wait, maxSelfHealBackoff)
	next := last.Add(wait)
	what := fmt.Sprintf("after %s", engine.Plural(failed, "failed self-heal run"))
	if time.Now().Before(next) {
		return fmt.Sprintf("%s, next not before %s", what, next.UTC().Format(time.RFC3339))
	}
	return "on (" + what + ")"
}
