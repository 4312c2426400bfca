package definitions

import (
	"io/fs"
	"maps"
	"slices"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
)

// hostCause is one change to a host present in both commits that can
// change what a job does there.
type hostCause struct {
	// text is the reason: with shared set it stands alone ("group web vars
	// changed"); otherwise the job lists the hosts after it ("vars
	// changed: web-01, web-02").
	text   string
	shared bool
	// attr is the attribute of the `host` object that changed, if any.
	attr string
	// keys are the changed keys of host.vars (group vars merged under
	// host vars) this cause explains.
	keys map[string]bool
	// exec is set when commands run differently whatever the job says:
	// another login user, become or transport.
	exec bool
}

// hostDeltas lists, per host present in both definitions, the changes a
// job could see. changedGroups are groups whose vars changed; changedCreds
// are credentials whose user or become changed.
func hostDeltas(old, new *Definitions, changedGroups, changedCreds map[string]bool) map[string][]hostCause {
	out := map[string][]hostCause{}
	for name, nh := range new.Hosts {
		oh := old.Hosts[name]
		if oh == nil {
			continue
		}
		var cs []hostCause
		attr := func(changed bool, a string) {
			if changed {
				cs = append(cs, hostCause{text: a + " changed", attr: a})
			}
		}
		attr(oh.Address != nh.Address, "address")
		attr(oh.Port != nh.Port, "port")
		attr(!maps.Equal(oh.Labels, nh.Labels), "labels")
		if oh.Transport != nh.Transport {
			cs = append(cs, hostCause{text: "transport changed", exec: true})
		}
		if oh.Credential != nh.Credential {
			cs = append(cs, hostCause{text: "credential changed", exec: true})
		} else if changedCreds[nh.Credential] {
			cs = append(cs, hostCause{text: "credential " + nh.Credential + " changed", shared: true, exec: true})
		}

		groupsChanged := !slices.Equal(oh.Groups, nh.Groups)
		hostVars := !equalValues(oh.Vars, nh.Vars)
		var changedVarGroups []string
		for _, g := range nh.Groups {
			if changedGroups[g] && slices.Contains(oh.Groups, g) { // else groupsChanged covers it
				changedVarGroups = append(changedVarGroups, g)
			}
		}
		var merged map[string]bool
		if hostVars || groupsChanged || len(changedVarGroups) > 0 {
			merged = changedKeys(old.HostObject(oh).GetAttr("vars"), new.HostObject(nh).GetAttr("vars"))
		}
		if groupsChanged {
			cs = append(cs, hostCause{text: "groups changed", attr: "groups", keys: merged})
		}
		if hostVars {
			if k := intersect(changedKeys(oh.Vars, nh.Vars), merged); len(k) > 0 {
				cs = append(cs, hostCause{text: "vars changed", keys: k})
			}
		}
		for _, g := range changedVarGroups {
			if k := intersect(changedKeys(groupVars(old, g), groupVars(new, g)), merged); len(k) > 0 {
				cs = append(cs, hostCause{text: "group " + g + " vars changed", shared: true, keys: k})
			}
		}
		if len(cs) > 0 {
			out[name] = cs
		}
	}
	return out
}

func intersect(a, b map[string]bool) map[string]bool {
	out := map[string]bool{}
	for k := range a {
		if b[k] {
			out[k] = true
		}
	}
	return out
}

// equalValues compares two cty values, treating a missing value as an
// empty object.
func equalValues(a, b cty.Value) bool {
	if a == cty.NilVal {
		a = cty.EmptyObjectVal
	}
	if b == cty.NilVal {
		b = cty.EmptyObjectVal
	}
	return a.RawEquals(b)
}

// changedKeys lists the keys of two objects whose values differ.
func changedKeys(a, b cty.Value) map[string]bool {
	am, bm := valueMap(a), valueMap(b)
	out := map[string]bool{}
	for k, av := range am {
		if bv, ok := bm[k]; !ok || !av.RawEquals(bv) {
			out[k] = true
		}
	}
	for k := range bm {
		if _, ok := am[k]; !ok {
			out[k] = true
		}
	}
	return out
}

func valueMap(v cty.Value) map[string]cty.Value {
	if v == cty.NilVal || v.IsNull() || !v.IsKnown() || !v.Type().IsObjectType() && !v.Type().IsMapType() {
		return nil
	}
	return v.AsValueMap()
}

// hostRefs is what of the `host` object a job's steps use.
type hostRefs struct {
	all     bool // `host` itself, or something not statically known
	attrs   map[string]bool
	allVars bool
	varKeys map[string]bool
}

// sees reports whether the job can see a host change: commands run
// differently, or its steps or templates use what changed.
func (r *hostRefs) sees(c hostCause) bool {
	if c.exec || r.all {
		return true
	}
	if c.attr != "" && r.attrs[c.attr] {
		return true
	}
	if len(c.keys) == 0 {
		return false
	}
	if r.allVars {
		return true
	}
	for k := range c.keys {
		if r.varKeys[k] {
			return true
		}
	}
	return false
}

// jobHostRefs collects the references to `host` in a job's run commands
// and file templates (read from fsys). Scripts are uploaded as they are,
// so they reference nothing. A template that cannot be parsed counts as
// using everything.
func jobHostRefs(j *Job, fsys fs.FS, templates map[string][]hcl.Traversal) *hostRefs {
	r := &hostRefs{attrs: map[string]bool{}, varKeys: map[string]bool{}}
	// Rollback steps are left out: they run only when a run fails, and a
	// change to them alone runs nothing either.
	for _, s := range j.Steps {
		if s.Check != nil {
			r.add(s.Check.Variables())
		}
		switch s.Kind {
		case StepRun:
			if s.Run != nil {
				r.add(s.Run.Variables())
			}
		case StepFile:
			if s.File == nil {
				continue
			}
			if s.File.DestinationExpr != nil {
				r.add(s.File.DestinationExpr.Variables())
			}
			vars, ok := templates[s.File.Source]
			if !ok {
				vars = templateVariables(fsys, s.File.Source)
				templates[s.File.Source] = vars
			}
			if vars == nil {
				r.all = true
			}
			r.add(vars)
		}
	}
	return r
}

// templateVariables parses a file step template and returns its
// variables, or nil when it cannot be read or parsed.
func templateVariables(fsys fs.FS, name string) []hcl.Traversal {
	if fsys == nil {
		return nil
	}
	_, src, err := readRepoFile(fsys, name)
	if err != nil {
		return nil
	}
	if checkNesting(src, name, true) != nil {
		return nil
	}
	expr, diags := hclsyntax.ParseTemplate(src, name, hcl.InitialPos)
	if diags.HasErrors() {
		return nil
	}
	vars := expr.Variables()
	if vars == nil {
		vars = []hcl.Traversal{}
	}
	return vars
}

func (r *hostRefs) add(vars []hcl.Traversal) {
	for _, t := range vars {
		if t.RootName() != "host" {
			continue
		}
		if len(t) < 2 {
			r.all = true
			continue
		}
		attr, ok := stepName(t[1])
		switch {
		case !ok:
			r.all = true
		case attr != "vars":
			r.attrs[attr] = true
		case len(t) < 3:
			r.allVars = true
		default:
			if key, ok := stepName(t[2]); ok {
				r.varKeys[key] = true
			} else {
				r.allVars = true
			}
		}
	}
}

// stepName is the attribute or string key a traversal step names.
func stepName(s hcl.Traverser) (string, bool) {
	switch s := s.(type) {
	case hcl.TraverseAttr:
		return s.Name, true
	case hcl.TraverseIndex:
		if s.Key.Type() == cty.String && s.Key.IsKnown() && !s.Key.IsNull() {
			return s.Key.AsString(), true
		}
	}
	return "", false
}
