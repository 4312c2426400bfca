package definitions

import (
	"cmp"
	"iter"
	"maps"
	"slices"
)

// hostIndex speeds up Select on large inventories. It is built once by Load
// and only read afterwards. Definitions built by hand have none, and Select
// then scans every host.
type hostIndex struct {
	sorted  []*Host            // all hosts by name
	byGroup map[string][]*Host // sorted by name
	byLabel map[string][]*Host // key "k=v", sorted by name
}

func buildIndex(hosts map[string]*Host) *hostIndex {
	idx := &hostIndex{byGroup: map[string][]*Host{}, byLabel: map[string][]*Host{}}
	idx.sorted = sortedHosts(hosts)
	for _, h := range idx.sorted {
		for _, g := range h.Groups {
			if l := idx.byGroup[g]; len(l) == 0 || l[len(l)-1] != h {
				idx.byGroup[g] = append(l, h)
			}
		}
		for k, v := range h.Labels {
			idx.byLabel[k+"="+v] = append(idx.byLabel[k+"="+v], h)
		}
	}
	return idx
}

func sortedHosts(hosts map[string]*Host) []*Host {
	out := slices.Collect(maps.Values(hosts))
	slices.SortFunc(out, byName)
	return out
}

func byName(a, b *Host) int { return cmp.Compare(a.Name, b.Name) }

func mapKeys[V any](m map[string]V) iter.Seq[string] { return maps.Keys(m) }

// Select returns the hosts t matches, sorted by name, without duplicates:
// hosts named in t.Hosts or in one of t.Groups that carry every label in
// t.Labels and are not in t.Exclude. With no Hosts and no Groups, Labels
// alone select; empty targets select nothing. Unknown names match nothing.
// A name repeated in the targets costs nothing more, so the work is that
// of the hosts matched, whatever a commit writes.
func (d *Definitions) Select(t Targets) []*Host {
	idx := d.index
	if idx == nil {
		idx = buildIndex(d.Hosts)
	}
	var candidates []*Host
	switch {
	case len(t.Hosts) > 0 || len(t.Groups) > 0:
		names, groups := t.Hosts, t.Groups
		if len(names)+len(groups) > smallList {
			names, groups = distinct(names), distinct(groups)
		}
		for _, n := range names {
			if h := d.Hosts[n]; h != nil {
				candidates = append(candidates, h)
			}
		}
		for _, g := range groups {
			candidates = append(candidates, idx.byGroup[g]...)
		}
		if len(names)+len(groups) > 1 {
			slices.SortFunc(candidates, byName)
			candidates = slices.CompactFunc(candidates, func(a, b *Host) bool { return a == b })
		}
	case len(t.Labels) > 0:
		// Start from the rarest label.
		first := true
		for k, v := range t.Labels {
			l := idx.byLabel[k+"="+v]
			if first || len(l) < len(candidates) {
				candidates, first = l, false
			}
		}
	default:
		return nil
	}
	excluded := func(name string) bool { return slices.Contains(t.Exclude, name) }
	if len(t.Exclude) > smallList {
		set := make(map[string]bool, len(t.Exclude))
		for _, n := range t.Exclude {
			set[n] = true
		}
		excluded = func(name string) bool { return set[name] }
	}
	out := make([]*Host, 0, len(candidates))
	for _, h := range candidates {
		if matchesLabels(h, t.Labels) && (len(t.Exclude) == 0 || !excluded(h.Name)) {
			out = append(out, h)
		}
	}
	return out
}

// smallList is the length up to which Select scans name lists instead of
// building a set: the targets people write.
const smallList = 8

// targetMatcher tells whether hosts match one Targets, as Select would
// select them; long name lists are looked up in sets, so matching many
// hosts costs what the hosts cost, not the lists.
type targetMatcher struct {
	t                      Targets
	hosts, groups, exclude map[string]bool // nil for short lists
}

func newTargetMatcher(t Targets) *targetMatcher {
	m := &targetMatcher{t: t}
	set := func(names []string) map[string]bool {
		if len(names) <= smallList {
			return nil
		}
		s := make(map[string]bool, len(names))
		for _, n := range names {
			s[n] = true
		}
		return s
	}
	m.hosts, m.groups, m.exclude = set(t.Hosts), set(t.Groups), set(t.Exclude)
	return m
}

func (m *targetMatcher) has(list []string, set map[string]bool, name string) bool {
	if set != nil {
		return set[name]
	}
	return slices.Contains(list, name)
}

// match reports whether m's targets select h (false for nil).
func (m *targetMatcher) match(h *Host) bool {
	if h == nil {
		return false
	}
	t := m.t
	switch {
	case len(t.Hosts) > 0 || len(t.Groups) > 0:
		if !m.has(t.Hosts, m.hosts, h.Name) && !slices.ContainsFunc(h.Groups, func(g string) bool { return m.has(t.Groups, m.groups, g) }) {
			return false
		}
	case len(t.Labels) == 0:
		return false
	}
	return matchesLabels(h, t.Labels) && !m.has(t.Exclude, m.exclude, h.Name)
}

// distinct returns names without repeats, in first-seen order.
func distinct(names []string) []string {
	seen := make(map[string]bool, len(names))
	out := names[:0:0]
	for _, n := range names {
		if !seen[n] {
			seen[n] = true
			out = append(out, n)
		}
	}
	return out
}

func matchesLabels(h *Host, labels map[string]string) bool {
	if len(labels) == 0 {
		return true
	}
	for k, v := range labels {
		if got, ok := h.Labels[k]; !ok || got != v {
			return false
		}
	}
	return true
}
