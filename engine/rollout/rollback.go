package rollout

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync"

	"golang.org/x/sync/errgroup"

	"github.com/ripple-ops/ripple/definitions"
	"github.com/ripple-ops/ripple/engine"
)

// rollback undoes the run on every host it touched (a forward step started
// there): the job's rollback steps in order, or, without a rollback block,
// each file step's backup restored, last step first. It is journaled like
// the forward steps, so a crash mid-rollback resumes it. The summary says
// how it went; err is only for the journal and ctx.
func (x *runExec) rollback(ctx context.Context) (summary string, err error) {
	touched := x.jr.touched()
	// A host that could not be reached ran nothing: there is nothing to
	// undo there, and trying would only report it "incomplete".
	var unreachable []string
	for h := range touched {
		if x.neverRan(h) {
			unreachable = append(unreachable, h)
			delete(touched, h)
		}
	}
	sort.Strings(unreachable)
	if len(touched) == 0 {
		if len(unreachable) > 0 {
			return fmt.Sprintf("nothing to roll back: %s unreachable, nothing ran there (%s)", engine.Plural(len(unreachable), "host"), nameList(unreachable)), nil
		}
		return "no host was touched", nil
	}
	hosts := make([]string, 0, len(touched))
	for h := range touched {
		hosts = append(hosts, h)
	}
	sort.Strings(hosts)
	defer func() {
		if len(unreachable) > 0 && err == nil {
			summary += fmt.Sprintf("\n%s unreachable, nothing ran there: %s", engine.Plural(len(unreachable), "host"), nameList(unreachable))
		}
	}()

	plans := map[string][]rollbackAction{}
	var keys []stepKey
	for _, h := range hosts {
		acts := x.rollbackActions(h, touched[h])
		plans[h] = acts
		for _, a := range acts {
			keys = append(keys, a.key)
		}
	}
	if len(keys) == 0 {
		return fmt.Sprintf("nothing to roll back on %s (no rollback steps, no file backups)", engine.Plural(len(hosts), "host")), nil
	}
	if err := x.jr.plan(ctx, keys); err != nil {
		return "", err
	}
	x.log.Warn().Int("hosts", len(hosts)).Msg("rolling back")
	x.report(engine.ProgressEvent{Kind: engine.ProgressRollback, Message: "rolling back " + engine.Plural(len(hosts), "host")})
	if err := x.r.setStatus(ctx, x.run, "pending", "rolling back "+engine.Plural(len(hosts), "host")); err != nil {
		return "", err
	}

	var mu sync.Mutex
	var problems []string
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(maxParallel(x.job))
	for _, h := range hosts {
		g.Go(func() error {
			msg, err := x.rollbackHost(gctx, plans[h])
			if msg != "" {
				mu.Lock()
				problems = append(problems, h+": "+msg)
				mu.Unlock()
			}
			return err
		})
	}
	if err := g.Wait(); err != nil {
		return "", err
	}
	if err := ctx.Err(); err != nil {
		return "", err
	}
	what := "rollback steps"
	if x.job.Rollback == nil {
		what = "file backups"
	}
	if len(problems) == 0 {
		return fmt.Sprintf("rolled back %s (%s)", engine.Plural(len(hosts), "host"), what), nil
	}
	sort.Strings(problems)
	if len(problems) > 3 {
		problems = append(problems[:3], fmt.Sprintf("and %d more", len(problems)-3))
	}
	return fmt.Sprintf("rollback (%s) incomplete on %d of %s\n%s", what, len(problems), engine.Plural(len(hosts), "host"), strings.Join(problems, "\n")), nil
}

// rollbackAction is one journaled undo on a host.
type rollbackAction struct {
	key     stepKey
	step    *definitions.Step // a rollback step; nil for a restore
	backup  *engine.Backup    // a restore
	missing string            // why a restore cannot happen
}

// rollbackActions lists what to undo on host, touched in wave w.
func (x *runExec) rollbackActions(host string, w int) []rollbackAction {
	var acts []rollbackAction
	if x.job.Rollback != nil {
		for _, st := range x.job.Rollback {
			acts = append(acts, rollbackAction{key: stepKey{wave: w, host: host, step: st.Name, rollback: true}, step: st})
		}
		return acts
	}
	for i := len(x.job.Steps) - 1; i >= 0; i-- {
		st := x.job.Steps[i]
		if st.Kind != definitions.StepFile {
			continue
		}
		hs, ok := x.jr.get(stepKey{wave: w, host: host, step: st.Name})
		if !ok || hs.Phase == engine.PhasePlanned {
			continue
		}
		a := rollbackAction{key: stepKey{wave: w, host: host, step: st.Name, rollback: true}}
		switch {
		case hs.Phase == engine.PhaseStarted:
			a.missing = "no backup recorded: the step was interrupted"
		case hs.Result.Backup == nil:
			continue // nothing was written
		default:
			a.backup = hs.Result.Backup
		}
		acts = append(acts, a)
	}
	return acts
}

// rollbackHost runs one host's undo actions in order, skipping finished
// ones and stopping at the first that fails. msg describes a failure.
func (x *runExec) rollbackHost(ctx context.Context, acts []rollbackAction) (msg string, err error) {
	for _, a := range acts {
		if hs, ok := x.jr.get(a.key); ok && hs.Phase == engine.PhaseFinished {
			if !hs.Result.Status.Succeeded() {
				return fmt.Sprintf("%s %s", a.key.step, hs.Result.Status), nil
			}
			continue
		}
		if a.missing != "" {
			return a.key.step + ": " + a.missing, nil
		}
		res, err := x.runStep(ctx, a.key, func(ctx context.Context, ep engine.Endpoint) (engine.StepResult, error) {
			if a.step == nil {
				return x.r.opts.Executor.Restore(ctx, ep, a.backup), nil
			}
			hs, err := renderStep(x.defs, x.job, a.step, ep.Host, x.r.opts.Secrets, x.params)
			if err != nil {
				return engine.StepResult{}, fmt.Errorf("render rollback step %s: %w", a.step.Name, err)
			}
			return x.r.opts.Executor.RunStep(ctx, ep, hs), nil
		})
		if err != nil {
			return "", err
		}
		if !res.Status.Succeeded() {
			m := fmt.Sprintf("%s %s", a.key.step, res.Status)
			if res.Error != "" {
				m += ": " + engine.FirstLine(res.Error, 200)
			}
			return m, nil
		}
	}
	return "", nil
}

// neverRan reports whether nothing ran on host: every forward step that
// started there ended unreachable (the transport never reached it).
func (x *runExec) neverRan(host string) bool {
	rows := x.jr.hostRows(host, false)
	started := 0
	for _, hs := range rows {
		if hs.Phase == engine.PhasePlanned {
			continue
		}
		started++
		if hs.Phase != engine.PhaseFinished || hs.Result.Status != engine.StepUnreachable {
			return false
		}
	}
	return started > 0
}

// nameList spells out up to 5 names: "web-01, web-02 and 3 more".
func nameList(names []string) string {
	if len(names) <= 5 {
		return strings.Join(names, ", ")
	}
	return fmt.Sprintf("%s and %d more", strings.Join(names[:5], ", "), len(names)-5)
}
