package definitions

import (
	"fmt"
	"slices"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
)

// checkHostVars reports per-host strings and templates that use
// host.vars.KEY or host.labels.KEY on a target host that has no such key.
// Rendering fails on those hosts at run time, where the failure budget
// decides; it is a warning here, so validate blocks only on definitions
// that cannot work on any host. Only the first key after vars/labels is checked; deeper paths and
// computed keys are left to evaluation.
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
			more := ""
			if len(missing) > 3 {
				more = fmt.Sprintf(" and %d more", len(missing)-3)
				missing = missing[:3]
			}
			summary, what := "Missing host variable", "vars"
			if kind == "labels" {
				summary, what = "Missing host label", "labels"
			}
			l.warnf(rng, summary, fmt.Sprintf("host.%s.%s is used here, but target host %s%s has no %s key %q (in its own %s or, for vars, its groups').", kind, key, strings.Join(missing, ", "), more, what, key, what))
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
				check(s.File.DestinationExpr, hosts)
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
