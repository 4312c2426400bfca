package engine

import (
	"bytes"
	"fmt"
	"io/fs"
	"maps"
	"slices"
	"strings"

	"github.com/ripple-ops/ripple/definitions"
)

// commitPlan is what applying a commit would do: the jobs to run, with
// their waves, and the monitor changes. It is the daemon's view of the
// definitions planner's result.
type commitPlan struct {
	Jobs     []plannedJob
	Monitors monitorChanges
}

type plannedJob struct {
	Name    string     `json:"name"`
	Reasons []string   `json:"reasons"`
	Waves   [][]string `json:"waves"`
}

type monitorChanges struct {
	Added   []string `json:"added"`
	Changed []string `json:"changed"`
	Removed []string `json:"removed"`
}

func (j plannedJob) hosts() int {
	n := 0
	for _, w := range j.Waves {
		n += len(w)
	}
	return n
}

// Summary is the one-line form used in logs and the ripple/plan status:
// "3 jobs, 214 hosts in 5 waves; 2 monitors changed".
func (p *commitPlan) Summary() string {
	hosts, waves := 0, 0
	jobs := 0
	for _, j := range p.Jobs {
		if j.hosts() == 0 {
			continue
		}
		jobs++
		hosts += j.hosts()
		waves = max(waves, len(j.Waves))
	}
	s := "no job runs"
	if jobs > 0 {
		s = fmt.Sprintf("%s, %s in %s", countNoun(jobs, "job"), countNoun(hosts, "host"), countNoun(waves, "wave"))
	}
	if m := len(p.Monitors.Added) + len(p.Monitors.Changed) + len(p.Monitors.Removed); m > 0 {
		s += "; " + countNoun(m, "monitor") + " changed"
	}
	return s
}

func countNoun(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

// planCommit plans going from old to new.
//
// Until the definitions planner lands this is a conservative stand-in: a
// job runs on all its hosts when it is new, when the file that declares it
// or any file it reads changed, or when its host set changed.
func planCommit(old, new *definitions.Definitions) *commitPlan {
	p := &commitPlan{}
	for _, name := range slices.Sorted(maps.Keys(new.Jobs)) {
		j := new.Jobs[name]
		hosts := selectedHostNames(new.Select(j.Targets))
		var reasons []string
		oj := old.Jobs[name]
		switch {
		case oj == nil:
			reasons = append(reasons, "job added")
		default:
			if fileChanged(old, new, j.DeclRange.Filename) {
				reasons = append(reasons, "definition changed ("+j.DeclRange.Filename+")")
			}
			for _, src := range j.SourceFiles {
				if fileChanged(old, new, src) {
					reasons = append(reasons, "source changed ("+src+")")
				}
			}
			if !slices.Equal(hosts, selectedHostNames(old.Select(oj.Targets))) {
				reasons = append(reasons, "targets changed")
			}
		}
		if len(reasons) == 0 {
			continue
		}
		p.Jobs = append(p.Jobs, plannedJob{Name: name, Reasons: reasons, Waves: definitions.Waves(hosts, j.Rollout.Waves)})
	}
	for _, name := range slices.Sorted(maps.Keys(new.Monitors)) {
		switch om := old.Monitors[name]; {
		case om == nil:
			p.Monitors.Added = append(p.Monitors.Added, name)
		case fileChanged(old, new, new.Monitors[name].DeclRange.Filename):
			p.Monitors.Changed = append(p.Monitors.Changed, name)
		}
	}
	for _, name := range slices.Sorted(maps.Keys(old.Monitors)) {
		if new.Monitors[name] == nil {
			p.Monitors.Removed = append(p.Monitors.Removed, name)
		}
	}
	return p
}

// jobPlan plans a manual run of job on hosts (all its hosts when empty).
func jobPlan(defs *definitions.Definitions, job string, only []string) (plannedJob, error) {
	j := defs.Jobs[job]
	if j == nil {
		return plannedJob{}, fmt.Errorf("job %q: %w", job, ErrNotFound)
	}
	hosts := selectedHostNames(defs.Select(j.Targets))
	if len(only) > 0 {
		var picked []string
		for _, h := range only {
			if !slices.Contains(hosts, h) {
				return plannedJob{}, fmt.Errorf("host %q is not a target of job %q: %w", h, job, ErrInvalidRequest)
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

func fileChanged(old, new *definitions.Definitions, path string) bool {
	return !bytes.Equal(fileBytes(old, path), fileBytes(new, path))
}

func fileBytes(d *definitions.Definitions, path string) []byte {
	if f := d.Files[path]; f != nil {
		return f.Bytes
	}
	if d.FS == nil {
		return nil
	}
	b, err := fs.ReadFile(d.FS, strings.TrimPrefix(path, "./"))
	if err != nil {
		return nil
	}
	return b
}
