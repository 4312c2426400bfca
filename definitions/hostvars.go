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
//
// Each key is looked up once per job or monitor and host; the lookups of
// a load, and gathering each host's vars keys, are bounded (4 per target
// pair the limit allows), past which the rest is not checked and a
// warning says so.
func (l *loader) checkHostVars() {
	d := l.defs
	budget := 4 * l.limits.Targets
	// The vars keys of each host, its groups' merged in, gathered once;
	// gathering counts toward the lookups too.
	keys := map[*Host]map[string]bool{}
	varKeys := func(h *Host) map[string]bool {
		if k, ok := keys[h]; ok {
			return k
		}
		k := map[string]bool{}
		add := func(v cty.Value) {
			if v != cty.NilVal && v.Type().IsObjectType() {
				for name := range v.Type().AttributeTypes() {
					k[name] = true
				}
				budget -= len(v.Type().AttributeTypes())
			}
		}
		for _, g := range h.Groups {
			if grp := d.Groups[g]; grp != nil {
				add(grp.Vars)
			}
		}
		add(h.Vars)
		keys[h] = k
		return k
	}
	hasKey := func(h *Host, kind, key string) bool {
		if kind == "labels" {
			_, ok := h.Labels[key]
			return ok
		}
		return varKeys(h)[key]
	}
	reported := map[string]bool{}
	// check reports the keys exprs use that hosts lack; false when the
	// lookups ran out.
	check := func(exprs []hcl.Expression, hosts []*Host) bool {
		if len(hosts) == 0 {
			return true
		}
		missingOf := map[[2]string][]string{}
		for _, expr := range exprs {
			if expr == nil {
				continue
			}
			for _, tr := range expr.Variables() {
				kind, key, ok := hostKeyRef(tr)
				if !ok {
					continue
				}
				missing, done := missingOf[[2]string{kind, key}]
				if !done {
					budget -= len(hosts)
					for _, h := range hosts {
						if !hasKey(h, kind, key) {
							missing = append(missing, h.Name)
						}
						if budget < 0 {
							return false
						}
					}
					missingOf[[2]string{kind, key}] = missing
				}
				if len(missing) == 0 {
					continue
				}
				l.reportMissingKey(tr.SourceRange(), kind, key, missing, len(hosts), reported)
			}
		}
		return true
	}
	complete := true
	for _, name := range slices.Sorted(mapKeys(d.Jobs)) {
		j := d.Jobs[name]
		var exprs []hcl.Expression
		for _, s := range slices.Concat(j.Steps, j.Rollback) {
			exprs = append(exprs, s.Run, s.Check)
			if s.File != nil {
				exprs = append(exprs, l.templates[s.File.Source], s.File.DestinationExpr)
			}
		}
		if complete = check(exprs, l.selected[&j.Targets]); !complete {
			break
		}
	}
	for _, name := range slices.Sorted(mapKeys(d.Monitors)) {
		if !complete {
			break
		}
		m := d.Monitors[name]
		complete = check([]hcl.Expression{m.Check.Run, m.Check.URL, m.Check.Address}, l.selected[&m.Targets])
	}
	if !complete {
		l.diags = append(l.diags, &hcl.Diagnostic{Severity: hcl.DiagWarning, Summary: "Host variables not all checked",
			Detail: fmt.Sprintf("The jobs and monitors use host variables and labels on so many target hosts that checking them would take more than %d lookups; the rest were not checked, and a missing one fails at run time.", 4*l.limits.Targets)})
	}
}

// reportMissingKey reports host.KIND.KEY at rng, missing on the hosts
// named in missing out of targets; once per place.
func (l *loader) reportMissingKey(rng hcl.Range, kind, key string, missing []string, targets int, reported map[string]bool) {
	id := fmt.Sprintf("%s:%d:%d %s.%s", rng.Filename, rng.Start.Line, rng.Start.Column, kind, key)
	if reported[id] {
		return
	}
	reported[id] = true
	summary, has := "Missing host variable", fmt.Sprintf("vars key %q (in its own vars or its groups')", key)
	if kind == "labels" {
		summary, has = "Missing host label", fmt.Sprintf("label %q", key)
	}
	switch {
	case targets == 1:
		l.errorf(rng, summary, fmt.Sprintf("host.%s.%s is used here, but its only target host, %s, has no %s. It cannot render on any host.", kind, key, missing[0], has))
	case len(missing) == targets:
		l.errorf(rng, summary, fmt.Sprintf("host.%s.%s is used here, but none of its %d target hosts has a %s: %s. It cannot render on any host.", kind, key, targets, has, namedHosts(missing)))
	default:
		l.warnf(rng, summary, fmt.Sprintf("host.%s.%s is used here, but %d of its %d target hosts have no %s: %s. Rendering fails on those hosts at run time.", kind, key, len(missing), targets, has, namedHosts(missing)))
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
