package definitions

import (
	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
)

// literalValue returns the value of expr when it is a plain literal of type
// ty (string, list of strings or map of strings) without evaluating it. A
// large inventory is mostly such literals, and skipping evaluation and
// conversion halves the time to decode a host. ok is false for anything
// else, which then takes the general path.
func literalValue(expr hcl.Expression, ty cty.Type) (cty.Value, bool) {
	switch {
	case ty == cty.String:
		s, ok := literalString(expr)
		if !ok {
			return cty.NilVal, false
		}
		return cty.StringVal(s), true
	case ty.Equals(cty.List(cty.String)):
		list, ok := literalStrings(expr)
		if !ok {
			return cty.NilVal, false
		}
		if len(list) == 0 {
			return cty.ListValEmpty(cty.String), true
		}
		elems := make([]cty.Value, len(list))
		for i, s := range list {
			elems[i] = cty.StringVal(s)
		}
		return cty.ListVal(elems), true
	case ty.Equals(cty.Map(cty.String)):
		m, ok := literalStringMap(expr)
		if !ok {
			return cty.NilVal, false
		}
		if len(m) == 0 {
			return cty.MapValEmpty(cty.String), true
		}
		vals := make(map[string]cty.Value, len(m))
		for k, v := range m {
			vals[k] = cty.StringVal(v)
		}
		return cty.MapVal(vals), true
	}
	return cty.NilVal, false
}

// literalStrings returns the strings of a tuple of quoted literals.
func literalStrings(expr hcl.Expression) ([]string, bool) {
	tup, ok := expr.(*hclsyntax.TupleConsExpr)
	if !ok {
		return nil, false
	}
	out := make([]string, len(tup.Exprs))
	for i, e := range tup.Exprs {
		if out[i], ok = literalString(e); !ok {
			return nil, false
		}
	}
	return out, true
}

// literalStringMap returns the entries of an object of quoted literals
// with literal keys. A duplicate key is not literal: evaluation reports it.
func literalStringMap(expr hcl.Expression) (map[string]string, bool) {
	obj, ok := expr.(*hclsyntax.ObjectConsExpr)
	if !ok {
		return nil, false
	}
	m := make(map[string]string, len(obj.Items))
	for _, item := range obj.Items {
		k := hcl.ExprAsKeyword(item.KeyExpr)
		if k == "" {
			if k, ok = literalString(item.KeyExpr); !ok {
				return nil, false
			}
		}
		if _, dup := m[k]; dup {
			return nil, false
		}
		if m[k], ok = literalString(item.ValueExpr); !ok {
			return nil, false
		}
	}
	return m, true
}

// literalString returns the string of a quoted literal without template
// sequences.
func literalString(expr hcl.Expression) (string, bool) {
	if k, ok := expr.(*hclsyntax.ObjectConsKeyExpr); ok {
		if k.ForceNonLiteral {
			return "", false
		}
		expr = k.Wrapped
	}
	var lit *hclsyntax.LiteralValueExpr
	switch e := expr.(type) {
	case *hclsyntax.TemplateExpr:
		if len(e.Parts) != 1 {
			return "", false
		}
		l, ok := e.Parts[0].(*hclsyntax.LiteralValueExpr)
		if !ok {
			return "", false
		}
		lit = l
	case *hclsyntax.LiteralValueExpr:
		lit = e
	default:
		return "", false
	}
	if lit.Val.Type() != cty.String || lit.Val.IsNull() || !lit.Val.IsKnown() {
		return "", false
	}
	return lit.Val.AsString(), true
}
