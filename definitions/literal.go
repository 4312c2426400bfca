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
		tup, ok := expr.(*hclsyntax.TupleConsExpr)
		if !ok {
			return cty.NilVal, false
		}
		if len(tup.Exprs) == 0 {
			return cty.ListValEmpty(cty.String), true
		}
		elems := make([]cty.Value, len(tup.Exprs))
		for i, e := range tup.Exprs {
			s, ok := literalString(e)
			if !ok {
				return cty.NilVal, false
			}
			elems[i] = cty.StringVal(s)
		}
		return cty.ListVal(elems), true
	case ty.Equals(cty.Map(cty.String)):
		obj, ok := expr.(*hclsyntax.ObjectConsExpr)
		if !ok {
			return cty.NilVal, false
		}
		if len(obj.Items) == 0 {
			return cty.MapValEmpty(cty.String), true
		}
		m := make(map[string]cty.Value, len(obj.Items))
		for _, item := range obj.Items {
			k := hcl.ExprAsKeyword(item.KeyExpr)
			if k == "" {
				var ok bool
				if k, ok = literalString(item.KeyExpr); !ok {
					return cty.NilVal, false
				}
			}
			if _, dup := m[k]; dup {
				return cty.NilVal, false // let evaluation report it
			}
			v, ok := literalString(item.ValueExpr)
			if !ok {
				return cty.NilVal, false
			}
			m[k] = cty.StringVal(v)
		}
		return cty.MapVal(m), true
	}
	return cty.NilVal, false
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
