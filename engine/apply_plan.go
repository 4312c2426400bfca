package engine

import (
	"bytes"
	"io/fs"
	"maps"
	"slices"

	"github.com/ripple-ops/ripple/definitions"
)

// ApplyJob is one job a commit runs: why, and its hosts per wave.
type ApplyJob struct {
	Name    string
	Reasons []string
	Waves   [][]string
}

// planApply lists the jobs going from old (nil: nothing applied yet) to new
// runs, by name, with their waves.
//
// Until the definitions planner (Diff/Plan) lands, this is a conservative
// stand-in: a job runs on all its hosts when it is new, when the file that
// declares it or a file it reads changed, or when its host set changed.
func planApply(old, new *definitions.Definitions) []ApplyJob {
	var out []ApplyJob
	for _, name := range slices.Sorted(maps.Keys(new.Jobs)) {
		j := new.Jobs[name]
		var hosts []string
		for _, h := range new.Select(j.Targets) {
			hosts = append(hosts, h.Name)
		}
		if len(hosts) == 0 {
			continue
		}
		var reasons []string
		oj := (*definitions.Job)(nil)
		if old != nil {
			oj = old.Jobs[name]
		}
		switch {
		case oj == nil:
			reasons = append(reasons, "job added")
		default:
			if !sameFile(old.FS, new.FS, oj.DeclRange.Filename, j.DeclRange.Filename) {
				reasons = append(reasons, "job definition changed")
			}
			for _, f := range j.SourceFiles {
				if !sameFile(old.FS, new.FS, f, f) {
					reasons = append(reasons, "file "+f+" changed")
				}
			}
			var oldHosts []string
			for _, h := range old.Select(oj.Targets) {
				oldHosts = append(oldHosts, h.Name)
			}
			if !slices.Equal(oldHosts, hosts) {
				reasons = append(reasons, "target hosts changed")
			}
		}
		if len(reasons) == 0 {
			continue
		}
		sizes := j.Rollout.Waves
		if len(sizes) == 0 {
			sizes = definitions.DefaultWaves()
		}
		out = append(out, ApplyJob{Name: name, Reasons: reasons, Waves: definitions.Waves(hosts, sizes)})
	}
	return out
}

func sameFile(a, b fs.FS, pa, pb string) bool {
	if a == nil || b == nil || pa == "" || pb == "" {
		return false
	}
	x, errA := fs.ReadFile(a, pa)
	y, errB := fs.ReadFile(b, pb)
	return errA == nil && errB == nil && bytes.Equal(x, y)
}
