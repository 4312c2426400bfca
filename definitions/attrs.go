package definitions

import (
	"errors"
	"fmt"
	"math/big"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"
)

// value evaluates a static attribute (no host, no secrets) and converts it
// to ty. ok is false when the attribute is null or an error was reported.
func (l *loader) value(a *hcl.Attribute, ty cty.Type) (cty.Value, bool) {
	if v, ok := literalValue(a.Expr, ty); ok {
		return v, true
	}
	v, diags := l.render.evaluate(a.Expr, l.scopes.in(l.static, a.Expr))
	l.diags = append(l.diags, diags...)
	if diags.HasErrors() || v == cty.DynamicVal {
		return cty.NilVal, false
	}
	v, _ = v.UnmarkDeep()
	if v.IsNull() {
		return cty.NilVal, false
	}
	if !v.IsWhollyKnown() {
		if !usesSecretFunc(a.Expr) {
			return cty.NilVal, false // a syntax error, already reported
		}
		l.errorf(a.Expr.Range(), "Secret not allowed here", fmt.Sprintf("%q cannot use env() or file(): those are read on the daemon only, for secrets and per-host strings.", a.Name))
		return cty.NilVal, false
	}
	cv, err := convert.Convert(v, ty)
	if err != nil {
		l.errorf(a.Expr.Range(), "Incorrect attribute value type", fmt.Sprintf("Inappropriate value for attribute %q: %s.", a.Name, convertMessage(err)))
		return cty.NilVal, false
	}
	if cv.IsNull() {
		return cty.NilVal, false
	}
	return cv, true
}

func convertMessage(err error) string {
	if pe := (cty.PathError{}); errors.As(err, &pe) && len(pe.Path) > 0 {
		return fmt.Sprintf("element %s: %s", formatPath(pe.Path), pe.Error())
	}
	return err.Error()
}

func formatPath(p cty.Path) string {
	s := ""
	for _, step := range p {
		switch st := step.(type) {
		case cty.GetAttrStep:
			s += "." + st.Name
		case cty.IndexStep:
			if st.Key.Type() == cty.String {
				s += fmt.Sprintf("[%q]", st.Key.AsString())
			} else if st.Key.Type() == cty.Number {
				s += fmt.Sprintf("[%s]", st.Key.AsBigFloat().Text('f', -1))
			}
		}
	}
	return s
}

func (l *loader) str(attrs hcl.Attributes, name string, dst *string) bool {
	a, ok := attrs[name]
	if !ok {
		return false
	}
	v, ok := l.value(a, cty.String)
	if ok {
		*dst = v.AsString()
	}
	return ok
}

func (l *loader) boolean(attrs hcl.Attributes, name string, dst *bool) {
	a, ok := attrs[name]
	if !ok {
		return
	}
	if v, ok := l.value(a, cty.Bool); ok {
		*dst = v.True()
	}
}

// integer reads a whole number in [lo, hi].
func (l *loader) integer(attrs hcl.Attributes, name string, lo, hi int, dst *int) bool {
	a, ok := attrs[name]
	if !ok {
		return false
	}
	v, ok := l.value(a, cty.Number)
	if !ok {
		return false
	}
	n, ok := wholeNumber(v.AsBigFloat())
	if !ok || n < lo || n > hi {
		l.errorf(a.Expr.Range(), "Value out of range", fmt.Sprintf("%q must be a whole number from %d to %d.", name, lo, hi))
		return false
	}
	*dst = n
	return true
}

func wholeNumber(f *big.Float) (int, bool) {
	if !f.IsInt() {
		return 0, false
	}
	i, acc := f.Int64()
	if acc != big.Exact || i < -1<<31 || i > 1<<31-1 {
		return 0, false
	}
	return int(i), true
}

func (l *loader) float(attrs hcl.Attributes, name string) *float64 {
	a, ok := attrs[name]
	if !ok {
		return nil
	}
	v, ok := l.value(a, cty.Number)
	if !ok {
		return nil
	}
	f, _ := v.AsBigFloat().Float64()
	return &f
}

// duration reads a Go duration string ("30s", "1m30s", "4h") of at least min.
func (l *loader) duration(attrs hcl.Attributes, name string, min time.Duration, dst *time.Duration) bool {
	a, ok := attrs[name]
	if !ok {
		return false
	}
	v, ok := l.value(a, cty.String)
	if !ok {
		return false
	}
	d, err := time.ParseDuration(v.AsString())
	if err != nil || d < min {
		l.errorf(a.Expr.Range(), "Invalid duration", fmt.Sprintf("%q must be a duration such as \"30s\", \"5m\" or \"1h30m\" of at least %s; got %q.", name, fmtDuration(min), v.AsString()))
		return false
	}
	*dst = d
	return true
}

func fmtDuration(d time.Duration) string {
	if d == 0 {
		return "0s"
	}
	return d.String()
}

func (l *loader) strings(attrs hcl.Attributes, name string) []string {
	a, ok := attrs[name]
	if !ok {
		return nil
	}
	if list, ok := literalStrings(a.Expr); ok {
		return list
	}
	v, ok := l.value(a, cty.List(cty.String))
	if !ok {
		return nil
	}
	out := make([]string, 0, v.LengthInt())
	for it := v.ElementIterator(); it.Next(); {
		_, e := it.Element()
		if e.IsNull() {
			l.errorf(a.Expr.Range(), "Incorrect attribute value type", fmt.Sprintf("%q must not contain null.", name))
			return nil
		}
		out = append(out, e.AsString())
	}
	return out
}

// refs reads a list of names of kind and records each as a reference.
func (l *loader) refList(attrs hcl.Attributes, name, kind string) []string {
	names := l.strings(attrs, name)
	if names == nil {
		return nil
	}
	a := attrs[name]
	elems, _ := hcl.ExprList(a.Expr)
	for i, n := range names {
		rng := a.Expr.Range()
		if len(elems) == len(names) {
			rng = elems[i].Range()
		}
		l.refs = append(l.refs, reference{kind: kind, name: n, rng: rng})
	}
	return names
}

// ref reads one name of kind and records it as a reference.
func (l *loader) ref(attrs hcl.Attributes, name, kind string, dst *string) {
	if l.str(attrs, name, dst) {
		l.refs = append(l.refs, reference{kind: kind, name: *dst, rng: attrs[name].Expr.Range()})
	}
}

func (l *loader) stringMap(attrs hcl.Attributes, name string) map[string]string {
	a, ok := attrs[name]
	if !ok {
		return nil
	}
	if m, ok := literalStringMap(a.Expr); ok {
		return m
	}
	v, ok := l.value(a, cty.Map(cty.String))
	if !ok {
		return nil
	}
	out := make(map[string]string, v.LengthInt())
	for k, e := range v.AsValueMap() {
		if e.IsNull() {
			continue
		}
		out[k] = e.AsString()
	}
	return out
}

func (l *loader) numberMap(attrs hcl.Attributes, name string) map[string]float64 {
	a, ok := attrs[name]
	if !ok {
		return nil
	}
	v, ok := l.value(a, cty.Map(cty.Number))
	if !ok {
		return nil
	}
	out := make(map[string]float64, v.LengthInt())
	for k, e := range v.AsValueMap() {
		if e.IsNull() {
			continue
		}
		out[k], _ = e.AsBigFloat().Float64()
	}
	return out
}

// object reads vars: any object or map, kept as an object value.
func (l *loader) object(attrs hcl.Attributes, name string) cty.Value {
	a, ok := attrs[name]
	if !ok {
		return cty.EmptyObjectVal
	}
	v, ok := l.value(a, cty.DynamicPseudoType)
	if !ok {
		return cty.EmptyObjectVal
	}
	ty := v.Type()
	switch {
	case ty.IsObjectType():
		return v
	case ty.IsMapType():
		if v.LengthInt() == 0 {
			return cty.EmptyObjectVal
		}
		return cty.ObjectVal(v.AsValueMap())
	}
	l.errorf(a.Expr.Range(), "Incorrect attribute value type", fmt.Sprintf("%q must be an object such as { name = \"value\" }.", name))
	return cty.EmptyObjectVal
}

// secret keeps a daemon-side expression unevaluated. It is type-checked
// with env() and file() unknown; a value known already is a literal secret
// in the repository, which is a warning.
func (l *loader) secret(attrs hcl.Attributes, name string) *Secret {
	a, ok := attrs[name]
	if !ok {
		return nil
	}
	v, diags := l.render.evaluate(a.Expr, l.scopes.in(l.static, a.Expr))
	l.diags = append(l.diags, diags...)
	if diags.HasErrors() || v == cty.DynamicVal {
		return nil
	}
	v, _ = v.UnmarkDeep()
	if v.IsNull() {
		return nil
	}
	if _, err := convert.Convert(v, cty.String); err != nil {
		l.errorf(a.Expr.Range(), "Incorrect attribute value type", fmt.Sprintf("Inappropriate value for attribute %q: %s.", name, err))
		return nil
	}
	if v.IsWhollyKnown() {
		l.warnf(a.Expr.Range(), "Literal secret", fmt.Sprintf("%q is written in the repository as a literal; use env(\"NAME\") or file(\"/path\") so the secret stays on the daemon.", name))
	}
	return &Secret{Expr: a.Expr, Range: a.Expr.Range()}
}

// hostExpr keeps a per-host string expression and type-checks it against an
// unknown host.
func (l *loader) hostExpr(attrs hcl.Attributes, name string) hcl.Expression {
	a, ok := attrs[name]
	if !ok {
		return nil
	}
	l.checkHostExpr(a.Expr)
	return a.Expr
}

func (l *loader) checkHostExpr(expr hcl.Expression) {
	l.checkExprIn(expr, l.perHost)
}

// jobExpr keeps a per-host string expression of a job's step and
// type-checks it against an unknown host and the job's params (l.jobCtx).
func (l *loader) jobExpr(j *Job, attrs hcl.Attributes, name string) hcl.Expression {
	a, ok := attrs[name]
	if !ok {
		return nil
	}
	if l.checkParamRefs(j, a.Expr, "") {
		l.checkExprIn(a.Expr, l.jobCtx)
	}
	return a.Expr
}

// checkExprIn type-checks a per-host string expression in ctx.
func (l *loader) checkExprIn(expr hcl.Expression, ctx *hcl.EvalContext) {
	v, diags := l.render.evaluate(expr, l.scopes.in(ctx, expr))
	l.diags = append(l.diags, diags...)
	if diags.HasErrors() || v == cty.DynamicVal {
		return
	}
	v, _ = v.UnmarkDeep()
	if v.IsNull() {
		l.errorf(expr.Range(), "Missing value", "The expression is null.")
		return
	}
	if _, err := convert.Convert(v, cty.String); err != nil {
		l.errorf(expr.Range(), "Incorrect attribute value type", fmt.Sprintf("The expression must produce a string: %s.", err))
	}
}

// oneOf checks that a string attribute holds one of the allowed values.
func (l *loader) oneOf(attrs hcl.Attributes, name string, dst *string, allowed ...string) {
	var s string
	if !l.str(attrs, name, &s) {
		return
	}
	for _, a := range allowed {
		if s == a {
			*dst = s
			return
		}
	}
	l.errorf(attrs[name].Expr.Range(), "Invalid value", fmt.Sprintf("%q must be one of %q; got %q.", name, allowed, s))
}

func convertString(v cty.Value) (cty.Value, error) {
	return convert.Convert(v, cty.String)
}

// usesSecretFunc reports whether expr calls env() or file().
func usesSecretFunc(expr hcl.Expression) bool {
	node, ok := expr.(hclsyntax.Node)
	if !ok {
		return false
	}
	found := false
	hclsyntax.VisitAll(node, func(n hclsyntax.Node) hcl.Diagnostics {
		if fc, ok := n.(*hclsyntax.FunctionCallExpr); ok && (fc.Name == "env" || fc.Name == "file") {
			found = true
		}
		return nil
	})
	return found
}
