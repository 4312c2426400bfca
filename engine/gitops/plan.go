package gitops

import (
	"fmt"
	"slices"

	"github.com/ripple-ops/ripple/definitions"
	"github.com/ripple-ops/ripple/engine"
)

// plannedJob is one job a run is started for.
type plannedJob struct {
	Name    string
	Reasons []string
	Waves   [][]string
}

func (j plannedJob) hosts() int { return engine.CountHosts(j.Waves) }

// planCommit plans going from old to new with the definitions planner.
func planCommit(old, new *definitions.Definitions) *definitions.PlanResult {
	return definitions.Plan(definitions.Diff(old, new), new)
}

// jobPlan plans a manual run of job on hosts (all its hosts when empty).
func jobPlan(defs *definitions.Definitions, job string, only []string) (plannedJob, error) {
	j := defs.Jobs[job]
	if j == nil {
		return plannedJob{}, fmt.Errorf("job %q: %w", job, engine.ErrNotFound)
	}
	hosts := selectedHostNames(defs.Select(j.Targets))
	if len(only) > 0 {
		var picked []string
		for _, h := range only {
			if !slices.Contains(hosts, h) {
				return plannedJob{}, fmt.Errorf("host %q is not a target of job %q: %w", h, job, engine.ErrInvalidRequest)
			}
			if !slices.Contains(picked, h) {
				picked = append(picked, h)
			}
		}
		slices.Sort(picked)
		hosts = picked
	}
	return plannedJob{Name: job, Reasons: []string{"manual"}, Waves: definitions.Waves(hosts, j.Rollout.Waves)}, nil
}

func selectedHostNames(hs []*definitions.Host) []string {
	out := make([]string, len(hs))
	for i, h := range hs {
		out[i] = h.Name
	}
	return out
}
