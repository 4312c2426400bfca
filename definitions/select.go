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
func (d *Definitions) Select(t Targets) []*Host {
	idx := d.index
	if idx == nil {
		idx = buildIndex(d.Hosts)
	}
	var candidates []*Host
	switch {
	case len(t.Hosts) > 0 || len(t.Groups) > 0:
		for _, n := range t.Hosts {
			if h := d.Hosts[n]; h != nil {
				candidates = append(candidates, h)
			}
		}
		for _, g := range t.Groups {
			candidates = append(candidates, idx.byGroup[g]...)
		}
		if len(t.Hosts)+len(t.Groups) > 1 {
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
	out := make([]*Host, 0, len(candidates))
	for _, h := range candidates {
		if matchesLabels(h, t.Labels) && (len(t.Exclude) == 0 || !slices.Contains(t.Exclude, h.Name)) {
			out = append(out, h)
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
