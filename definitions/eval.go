package definitions

import (
	"errors"
	"fmt"
	"maps"
	"slices"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/function"
)

// secretRecorder backs env() and file(). With a nil source both return
// unknown strings, so validate and plan never read the daemon's
// environment or disk. With a source, every value it hands out is recorded
// so executors can redact it.
type secretRecorder struct {
	src SecretSource
	// protected are the files the definitions being rendered authenticate
	// with; file() hands them to src to refuse.
	protected []ProtectedFile
	values    []string
}

func (r *secretRecorder) record(v string) {
	if v != "" && !slices.Contains(r.values, v) {
		r.values = append(r.values, v)
	}
}

// evalContext builds the context for expressions: host (when not NilVal)
// and the function table, whose functions charge b (see render_limit.go).
// repofile() in it is an error until an expression is evaluated through
// scopes.in, which binds it to the expression's directory.
func evalContext(r *secretRecorder, host cty.Value, b *renderBudget) *hcl.EvalContext {
	funcs := pureFunctions()
	maps.Copy(funcs, b.functions())
	funcs["env"], funcs["file"] = r.envFunc(b), r.fileFunc(b)
	funcs["repofile"] = noRepoFileFunc
	ctx := &hcl.EvalContext{Functions: funcs}
	if host != cty.NilVal {
		ctx.Variables = map[string]cty.Value{"host": host}
	}
	return ctx
}

func (r *secretRecorder) envFunc(b *renderBudget) function.Function {
	return function.New(&function.Spec{
		Description: "Reads an environment variable of the daemon.",
		Params:      []function.Parameter{{Name: "name", Type: cty.String}},
		Type:        function.StaticReturnType(cty.String),
		Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
			name := args[0].AsString()
			if name == "" {
				return cty.NilVal, function.NewArgErrorf(0, "the variable name is empty")
			}
			if r.src == nil {
				return cty.UnknownVal(cty.String), nil
			}
			v, ok := r.src.Env(name)
			if !ok {
				return cty.NilVal, fmt.Errorf("environment variable %s is not set on the daemon", name)
			}
			r.record(v)
			return cty.StringVal(v), b.charge(int64(len(v)))
		},
	})
}

func (r *secretRecorder) fileFunc(b *renderBudget) function.Function {
	return function.New(&function.Spec{
		Description: "Reads a file on the daemon host.",
		Params:      []function.Parameter{{Name: "path", Type: cty.String}},
		Type:        function.StaticReturnType(cty.String),
		Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
			p := args[0].AsString()
			if p == "" {
				return cty.NilVal, function.NewArgErrorf(0, "the path is empty")
			}
			if r.src == nil {
				return cty.UnknownVal(cty.String), nil
			}
			data, err := r.src.ReadFile(p, r.protected)
			if err != nil {
				return cty.NilVal, err // names p (SecretSource)
			}
			r.record(string(data))
			return cty.StringVal(string(data)), b.charge(int64(len(data)))
		},
	})
}

// unknownHost stands for any host when expressions are type-checked at
// load time.
func unknownHost() cty.Value {
	return cty.ObjectVal(map[string]cty.Value{
		"name":    cty.UnknownVal(cty.String),
		"address": cty.UnknownVal(cty.String),
		"port":    cty.UnknownVal(cty.Number),
		"labels":  cty.UnknownVal(cty.Map(cty.String)),
		"groups":  cty.UnknownVal(cty.List(cty.String)),
		"vars":    cty.DynamicVal,
		"facts":   cty.DynamicVal,
	})
}

// HostObject is the value of `host` in expressions evaluated for h: name,
// address, port, labels, groups, vars and facts (the facts d was given by
// WithFacts; an empty object without them). vars holds the vars of h's groups,
// merged in the order h lists its groups (a later group wins), with h's own
// vars merged over them. The merge is shallow: a key is replaced whole.
func (d *Definitions) HostObject(h *Host) cty.Value {
	vars := map[string]cty.Value{}
	for _, g := range h.Groups {
		if grp := d.Groups[g]; grp != nil {
			mergeObject(vars, grp.Vars)
		}
	}
	mergeObject(vars, h.Vars)
	labels := cty.MapValEmpty(cty.String)
	if len(h.Labels) > 0 {
		m := make(map[string]cty.Value, len(h.Labels))
		for k, v := range h.Labels {
			m[k] = cty.StringVal(v)
		}
		labels = cty.MapVal(m)
	}
	groups := cty.ListValEmpty(cty.String)
	if len(h.Groups) > 0 {
		gs := make([]cty.Value, len(h.Groups))
		for i, g := range h.Groups {
			gs[i] = cty.StringVal(g)
		}
		groups = cty.ListVal(gs)
	}
	varsVal := cty.EmptyObjectVal
	if len(vars) > 0 {
		varsVal = cty.ObjectVal(vars)
	}
	facts := cty.EmptyObjectVal
	if f, ok := d.facts[h.Name]; ok && f != cty.NilVal {
		facts = f
	}
	return cty.ObjectVal(map[string]cty.Value{
		"name":    cty.StringVal(h.Name),
		"address": cty.StringVal(h.Address),
		"port":    cty.NumberIntVal(int64(h.Port)),
		"labels":  labels,
		"groups":  groups,
		"vars":    varsVal,
		"facts":   facts,
	})
}

// WithFacts returns a copy of d whose expressions see facts (by host
// name) as host.facts: the last gathered values, fixed for as long as the
// copy is used (a run renders with what is known at its start). d is not
// changed.
func (d *Definitions) WithFacts(facts map[string]cty.Value) *Definitions {
	c := *d
	c.facts = facts
	return &c
}

func mergeObject(dst map[string]cty.Value, v cty.Value) {
	if v == cty.NilVal || v.IsNull() || !v.IsKnown() || !(v.Type().IsObjectType() || v.Type().IsMapType()) {
		return
	}
	for k, e := range v.AsValueMap() {
		dst[k] = e
	}
}

// evalString evaluates expr to a known string in ctx, whose functions
// charge b.
func evalString(b *renderBudget, expr hcl.Expression, ctx *hcl.EvalContext) (string, hcl.Diagnostics) {
	v, diags := b.evaluate(expr, ctx)
	if diags.HasErrors() {
		return "", plainSecretErrors(diags)
	}
	v, _ = v.UnmarkDeep()
	var err error
	switch {
	case v.IsNull():
		err = errors.New("the value is null")
	case !v.IsWhollyKnown():
		err = errors.New("the value is not known (env() and file() need a secret source)")
	default:
		v, err = convertString(v)
	}
	if err != nil {
		rng := expr.Range()
		return "", append(diags, &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "Invalid value",
			Detail:   fmt.Sprintf("Cannot use this value as a string: %v.", err),
			Subject:  &rng,
		})
	}
	return v.AsString(), diags
}

// plainSecretErrors words a failed env() or file() plainly, "file() failed:
// WHY", instead of HCL's "Error in function call: Call to function "file"
// failed: WHY.": the reason then survives where errors are cut to a line
// (commit statuses, run summaries).
func plainSecretErrors(diags hcl.Diagnostics) hcl.Diagnostics {
	for _, d := range diags {
		x, ok := hcl.DiagnosticExtra[hclsyntax.FunctionCallDiagExtra](d)
		if !ok || x.FunctionCallError() == nil {
			continue
		}
		if name := x.CalledFunctionName(); name == "env" || name == "file" {
			d.Summary = name + "() failed"
			d.Detail = x.FunctionCallError().Error()
		}
	}
	return diags
}
