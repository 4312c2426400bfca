package apply

import (
	"github.com/ripple-ops/ripple/definitions"
)

// Job is one job a commit runs: why, and its hosts per wave.
type Job struct {
	Name    string
	Reasons []string
	Waves   [][]string
}

// planApply lists the jobs going from old (nil: nothing applied yet) to new
// runs, by name, with their waves: definitions' Diff and Plan. Jobs whose
// change runs nothing (a new rollout policy, a description) are left out.
func planApply(old, new *definitions.Definitions) []Job {
	p := definitions.Plan(definitions.Diff(old, new), new)
	var out []Job
	for _, j := range p.Jobs {
		if len(j.Waves) == 0 {
			continue
		}
		out = append(out, Job{Name: j.Name, Reasons: j.Reasons, Waves: j.Waves})
	}
	return out
}
