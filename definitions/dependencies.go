package definitions

import (
	"fmt"
	"slices"
	"strings"

	"github.com/hashicorp/hcl/v2"
)

// checkDependencies checks what decides whether an alert is suppressed or
// which job it offers, once every block is decoded: no cycle among
// monitors' depends_on or hosts' parents, a warning for a parent that
// nothing can find down (no connectivity monitor targets it), for a
// depends_on that shares no host with its monitor, and for a runbook job
// that does not run on every host of its monitor.
func (l *loader) checkDependencies() {
	d := l.defs
	l.checkMonitorCycles()
	l.checkHostCycles()

	hostsOf := func(t *Targets) []*Host {
		if hs, ok := l.selected[t]; ok {
			return hs
		}
		return d.Select(*t)
	}
	connected := map[string]bool{} // hosts some connectivity monitor targets
	for _, m := range d.Monitors {
		if m.Connectivity {
			for _, h := range hostsOf(&m.Targets) {
				connected[h.Name] = true
			}
		}
	}
	warned := map[string]bool{}
	for _, name := range slices.Sorted(mapKeys(d.Hosts)) {
		h := d.Hosts[name]
		for i, p := range h.Parents {
			if p == name || d.Hosts[p] == nil || connected[p] || warned[p] {
				continue
			}
			warned[p] = true
			l.warnf(h.parentRanges[i], "Parent without connectivity monitor", fmt.Sprintf("No monitor with connectivity = true targets host %q, so it never counts as down and the alerts of the hosts behind it are never suppressed.", p))
		}
	}

	for _, name := range slices.Sorted(mapKeys(d.Monitors)) {
		m := d.Monitors[name]
		if len(m.DependsOn) == 0 && m.Runbook == "" {
			continue
		}
		mine := hostsOf(&m.Targets)
		for i, dep := range m.DependsOn {
			dm := d.Monitors[dep]
			if dm == nil || dep == name {
				continue
			}
			if !overlaps(mine, hostsOf(&dm.Targets)) && len(mine) > 0 {
				l.warnf(m.dependsOnRanges[i], "Dependency on no common host", fmt.Sprintf("Monitor %q runs on none of the hosts of %q, so it never suppresses it: depends_on applies on the same host.", dep, name))
			}
		}
		if j := d.Jobs[m.Runbook]; j != nil {
			if missing := notIn(mine, hostsOf(&j.Targets)); len(missing) > 0 {
				l.warnf(m.runbookRange, "Runbook does not cover every host", fmt.Sprintf("Job %q does not target %s, where monitor %q runs: its runbook could not be run there.", m.Runbook, listSome(missing), name))
			}
		}
	}
}

// checkMonitorCycles reports each cycle of depends_on once, at the
// element that closes it.
func (l *loader) checkMonitorCycles() {
	d := l.defs
	edges := func(name string) ([]string, []hcl.Range) {
		m := d.Monitors[name]
		if m == nil {
			return nil, nil
		}
		return m.DependsOn, m.dependsOnRanges
	}
	l.findCycles(slices.Sorted(mapKeys(d.Monitors)), edges, "Monitors", "depends_on")
}

// checkHostCycles reports each cycle of parents once.
func (l *loader) checkHostCycles() {
	d := l.defs
	var withParents []string
	for name, h := range d.Hosts {
		if len(h.Parents) > 0 {
			withParents = append(withParents, name)
		}
	}
	slices.Sort(withParents)
	edges := func(name string) ([]string, []hcl.Range) {
		h := d.Hosts[name]
		if h == nil {
			return nil, nil
		}
		return h.Parents, h.parentRanges
	}
	l.findCycles(withParents, edges, "Hosts", "parents")
}

// findCycles walks the graph from each of roots (depth first, each node
// once) and reports every edge that leads back into the current path as
// a cycle. Self-edges are reported where they are decoded.
func (l *loader) findCycles(roots []string, edges func(string) ([]string, []hcl.Range), kind, attr string) {
	const (
		unseen = iota
		onPath
		done
	)
	state := map[string]int{}
	var path []string
	var visit func(n string)
	visit = func(n string) {
		state[n] = onPath
		path = append(path, n)
		next, ranges := edges(n)
		for i, m := range next {
			if m == n {
				continue
			}
			switch state[m] {
			case unseen:
				visit(m)
			case onPath:
				start := slices.Index(path, m)
				cycle := append(slices.Clone(path[start:]), m)
				rng := hcl.Range{}
				if i < len(ranges) {
					rng = ranges[i]
				}
				l.errorf(rng, "Dependency cycle", fmt.Sprintf("%s form a cycle through %s: %s.", kind, attr, strings.Join(quoteAll(cycle), " -> ")))
			}
		}
		path = path[:len(path)-1]
		state[n] = done
	}
	for _, r := range roots {
		if state[r] == unseen {
			visit(r)
		}
	}
}

func quoteAll(s []string) []string {
	out := make([]string, len(s))
	for i, v := range s {
		out[i] = fmt.Sprintf("%q", v)
	}
	return out
}

func overlaps(a, b []*Host) bool {
	in := make(map[string]bool, len(b))
	for _, h := range b {
		in[h.Name] = true
	}
	for _, h := range a {
		if in[h.Name] {
			return true
		}
	}
	return false
}

// notIn lists the names of hosts in a and not in b, sorted.
func notIn(a, b []*Host) []string {
	in := make(map[string]bool, len(b))
	for _, h := range b {
		in[h.Name] = true
	}
	var out []string
	for _, h := range a {
		if !in[h.Name] {
			out = append(out, h.Name)
		}
	}
	slices.Sort(out)
	return out
}

// listSome names up to five of names, then how many more.
func listSome(names []string) string {
	if len(names) <= 5 {
		return strings.Join(names, ", ")
	}
	return fmt.Sprintf("%s and %d more", strings.Join(names[:5], ", "), len(names)-5)
}
