package definitions

import (
	"fmt"
	"slices"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
)

// checkHostVars reports per-host strings and templates that use
// host.vars.KEY or host.labels.KEY on target hosts that have no such key.
// When no target host has the key, the job or monitor cannot work on any
// host: that is an error, naming the hosts. When only some lack it,
// rendering fails on those at run time, where the failure budget decides:
// a warning naming them. Only the first key after vars/labels is checked;
// deeper paths and computed keys are left to evaluation.
func (l *loader) checkHostVars() {
	d := l.defs
	keys := map[*Host]map[string]bool{}
	varKeys := func(h *Host) map[string]bool {
		if k, ok := keys[h]; ok {
			return k
		}
		k := map[string]bool{}
		for _, v := range hostVarSources(d, h) {
			if v != cty.NilVal && v.Type().IsObjectType() {
				for name := range v.Type().AttributeTypes() {
					k[name] = true
				}
			}
		}
		keys[h] = k
		return k
	}
	reported := map[string]bool{}
	check := func(expr hcl.Expression, hosts []*Host) {
		if expr == nil || len(hosts) == 0 {
			return
		}
		for _, tr := range expr.Variables() {
			kind, key, ok := hostKeyRef(tr)
			if !ok {
				continue
			}
			var missing []string
			for _, h := range hosts {
				has := false
				if kind == "vars" {
					has = varKeys(h)[key]
				} else {
					_, has = h.Labels[key]
				}
				if !has {
					missing = append(missing, h.Name)
				}
			}
			if len(missing) == 0 {
				continue
			}
			rng := tr.SourceRange()
			id := fmt.Sprintf("%s:%d:%d %s.%s", rng.Filename, rng.Start.Line, rng.Start.Column, kind, key)
			if reported[id] {
				continue
			}
			reported[id] = true
			summary, has := "Missing host variable", fmt.Sprintf("vars key %q (in its own vars or its groups')", key)
			if kind == "labels" {
				summary, has = "Missing host label", fmt.Sprintf("label %q", key)
			}
			switch {
			case len(hosts) == 1:
				l.errorf(rng, summary, fmt.Sprintf("host.%s.%s is used here, but its only target host, %s, has no %s. It cannot render on any host.", kind, key, missing[0], has))
			case len(missing) == len(hosts):
				l.errorf(rng, summary, fmt.Sprintf("host.%s.%s is used here, but none of its %d target hosts has a %s: %s. It cannot render on any host.", kind, key, len(hosts), has, namedHosts(missing)))
			default:
				l.warnf(rng, summary, fmt.Sprintf("host.%s.%s is used here, but %d of its %d target hosts have no %s: %s. Rendering fails on those hosts at run time.", kind, key, len(missing), len(hosts), has, namedHosts(missing)))
			}
		}
	}
	for _, name := range slices.Sorted(mapKeys(d.Jobs)) {
		j := d.Jobs[name]
		hosts := l.selected[&j.Targets]
		for _, s := range slices.Concat(j.Steps, j.Rollback) {
			check(s.Run, hosts)
			check(s.Check, hosts)
			if s.File != nil {
				check(l.templates[s.File.Source], hosts)
			}
		}
	}
	for _, name := range slices.Sorted(mapKeys(d.Monitors)) {
		m := d.Monitors[name]
		hosts := l.selected[&m.Targets]
		check(m.Check.Run, hosts)
		check(m.Check.URL, hosts)
		check(m.Check.Address, hosts)
	}
}

// namedHosts lists up to five host names, then how many more.
func namedHosts(names []string) string {
	if len(names) > 5 {
		return fmt.Sprintf("%s and %d more", strings.Join(names[:5], ", "), len(names)-5)
	}
	return strings.Join(names, ", ")
}

// hostKeyRef recognizes host.vars.KEY, host.labels.KEY and their
// host.vars["KEY"] forms.
func hostKeyRef(tr hcl.Traversal) (kind, key string, ok bool) {
	if len(tr) < 3 || tr.RootName() != "host" {
		return "", "", false
	}
	a, isAttr := tr[1].(hcl.TraverseAttr)
	if !isAttr || (a.Name != "vars" && a.Name != "labels") {
		return "", "", false
	}
	switch k := tr[2].(type) {
	case hcl.TraverseAttr:
		return a.Name, k.Name, true
	case hcl.TraverseIndex:
		if k.Key.Type().FriendlyName() == "string" && k.Key.IsKnown() && !k.Key.IsNull() {
			return a.Name, k.Key.AsString(), true
		}
	}
	return "", "", false
}

// hostVarSources lists the vars objects merged into host.vars for h.
func hostVarSources(d *Definitions, h *Host) []cty.Value {
	out := make([]cty.Value, 0, len(h.Groups)+1)
	for _, g := range h.Groups {
		if grp := d.Groups[g]; grp != nil {
			out = append(out, grp.Vars)
		}
	}
	return append(out, h.Vars)
}
