package definitions

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"unicode/utf8"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/function"
	"github.com/zclconf/go-cty/cty/function/stdlib"
)

// The render limit (Limits.Render). HCL evaluation has no bound of its
// own: a for expression nested in another multiplies their lengths, a
// template repeats its text once per loop element, and format("%9999999d")
// or replace(s, "", t) build strings far larger than what was written.
// hcl gives no hook into evaluation, so parsed expressions are rewritten
// (limitExpressions) to call two internal functions at the points where
// work multiplies:
//
//   - the collection of every for expression and the source of every
//     splat goes through iterFunc, which charges, per element, 64 for each
//     syntax node evaluated per element (the loop's body): nested loops
//     and literals rebuilt in a body count as the work they are;
//   - every part of a template that joins parts (an interpolation, and a
//     literal part inside a loop, which repeats) goes through outFunc,
//     which charges the bytes of the part.
//
// The string functions charge what they return, and format, join, replace,
// upper and lower refuse to run when what they could return is over what
// is left. Each function returns its argument unchanged, so a rewritten
// expression evaluates exactly as written, within the budget.

// Names of the internal functions rewritten expressions call.
const (
	iterFunc = "ripple_limit_iter"
	outFunc  = "ripple_limit_out"
)

// iterCost is what each element a for or splat expression visits counts
// per syntax node of the body evaluated for it.
const iterCost = 64

// errRenderLimit is what a function returns when the budget is spent.
var errRenderLimit = errors.New("the render limit is reached")

// renderBudget is what is left of one evaluation's limit: at load, all of
// a commit's expressions share one; a rendering has its own. Safe for
// concurrent use (hosts are decoded on several goroutines).
type renderBudget struct {
	limit    int64
	left     atomic.Int64
	reported atomic.Bool // the limit error was reported (shared budgets report once)
}

func newRenderBudget(limit int64) *renderBudget {
	b := &renderBudget{limit: limit}
	b.left.Store(limit)
	return b
}

// charge takes n from the budget, or fails when that would overspend it.
func (b *renderBudget) charge(n int64) error {
	n = min(max(n, 0), b.limit+1)
	if b.left.Add(-n) < 0 {
		return errRenderLimit
	}
	return nil
}

// fits reports whether n more is within the budget, without taking it.
func (b *renderBudget) fits(n int64) error {
	if n > b.left.Load() {
		return errRenderLimit
	}
	return nil
}

// functions are the internal functions and the string functions of
// evalContext, charging b.
func (b *renderBudget) functions() map[string]function.Function {
	value := function.Parameter{Name: "value", Type: cty.DynamicPseudoType, AllowNull: true, AllowUnknown: true, AllowDynamicType: true, AllowMarked: true}
	same := func(args []cty.Value) (cty.Type, error) { return args[0].Type(), nil }
	return map[string]function.Function{
		// ripple_limit_iter(collection, cost per element)
		iterFunc: function.New(&function.Spec{
			Params: []function.Parameter{value, {Name: "cost", Type: cty.Number}},
			Type:   same,
			Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
				cost, _ := args[1].AsBigFloat().Int64()
				return args[0], b.charge(min(knownLength(args[0]), saturated) * min(cost, saturated>>20))
			},
		}),
		// ripple_limit_out(template part)
		outFunc: function.New(&function.Spec{
			Params: []function.Parameter{value},
			Type:   same,
			Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
				return args[0], b.charge(stringSize(args[0]))
			},
		}),
		"format":    b.limited(stdlib.FormatFunc, formatBound),
		"join":      b.limited(stdlib.JoinFunc, joinBound),
		"replace":   b.limited(stdlib.ReplaceFunc, replaceBound),
		"upper":     b.limited(stdlib.UpperFunc, caseBound),
		"lower":     b.limited(stdlib.LowerFunc, caseBound),
		"trimspace": b.limited(stdlib.TrimSpaceFunc, nil),
	}
}

// limited is f refusing to run when bound (nil: none) says its result
// could be over what is left, and charging what it returns.
func (b *renderBudget) limited(f function.Function, bound func([]cty.Value) int64) function.Function {
	params := f.Params()
	spec := &function.Spec{
		Description: f.Description(),
		Params:      params,
		VarParam:    f.VarParam(),
		Type:        func(args []cty.Value) (cty.Type, error) { return f.ReturnTypeForValues(args) },
		Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
			if bound != nil {
				if err := b.fits(bound(args)); err != nil {
					return cty.NilVal, err
				}
			}
			v, err := f.Call(args)
			if err != nil {
				return v, err
			}
			return v, b.charge(stringSize(v))
		},
	}
	return function.New(spec)
}

// knownLength is the number of elements of a known collection, 0 for
// anything else.
func knownLength(v cty.Value) int64 {
	v, _ = v.Unmark() // repofile() data is marked (dataFile, dataRow)
	if v.IsNull() || !v.IsKnown() {
		return 0
	}
	ty := v.Type()
	if !ty.IsCollectionType() && !ty.IsTupleType() && !ty.IsObjectType() {
		return 0
	}
	n := v.Length()
	if !n.IsKnown() {
		return 0
	}
	i, _ := n.AsBigFloat().Int64()
	return i
}

// stringSize is the bytes a value adds to a template: the length of a
// known string; a number or bool is short.
func stringSize(v cty.Value) int64 {
	v, _ = v.Unmark() // repofile() data is marked (dataFile, dataRow)
	switch {
	case v.IsNull() || !v.IsKnown():
		return 0
	case v.Type() == cty.String:
		return int64(len(v.AsString()))
	case v.Type().IsPrimitiveType():
		return 32
	}
	return 0
}

// valueSize estimates the bytes of a known value written out: strings
// whole, 32 for a number or bool, and 8 more per element and key.
func valueSize(v cty.Value) int64 {
	v, _ = v.Unmark() // repofile() data is marked (dataFile, dataRow)
	if v.IsNull() || !v.IsKnown() {
		return 0
	}
	ty := v.Type()
	switch {
	case ty == cty.String:
		return int64(len(v.AsString()))
	case ty.IsPrimitiveType():
		return 32
	case ty.IsCollectionType() || ty.IsTupleType() || ty.IsObjectType():
		var n int64
		for it := v.ElementIterator(); it.Next(); {
			k, e := it.Element()
			n = saturatingAdd(n, valueSize(e)+8)
			if k.Type() == cty.String {
				n = saturatingAdd(n, int64(len(k.AsString())))
			}
		}
		return n
	}
	return 0
}

const saturated = int64(1) << 50

func saturatingAdd(a, b int64) int64 { return min(a+min(b, saturated), saturated) }

// formatBound is the most format(f, args...) can write: the format, and
// per verb its argument written out (six times that for %v and %q, which
// may escape every byte), its width and precision.
func formatBound(args []cty.Value) int64 {
	f := args[0].AsString()
	rest := args[1:]
	largest := int64(0)
	for _, a := range rest {
		largest = max(largest, valueSize(a))
	}
	total := int64(len(f))
	arg := 0
	number := func(i *int) int64 {
		var n int64
		for *i < len(f) && f[*i] >= '0' && f[*i] <= '9' {
			n = min(n*10+int64(f[*i]-'0'), saturated)
			*i++
		}
		return n
	}
	for i := 0; i < len(f); i++ {
		if f[i] != '%' {
			continue
		}
		i++
		if i < len(f) && f[i] == '%' {
			continue
		}
		for i < len(f) && strings.IndexByte("+-# 0", f[i]) >= 0 {
			i++
		}
		if i < len(f) && f[i] == '[' {
			i++
			arg = int(number(&i)) - 1
			if i < len(f) && f[i] == ']' {
				i++
			}
		}
		width := number(&i)
		var precision int64
		if i < len(f) && f[i] == '.' {
			i++
			precision = number(&i)
		}
		size := largest
		if arg >= 0 && arg < len(rest) {
			size = valueSize(rest[arg])
		}
		arg++
		if i < len(f) && (f[i] == 'v' || f[i] == 'q') {
			size = min(size*6, saturated)
		}
		total = saturatingAdd(total, saturatingAdd(saturatingAdd(size, width), precision+32))
	}
	return total
}

// joinBound is the most join(sep, lists...) can write.
func joinBound(args []cty.Value) int64 {
	sep := int64(len(args[0].AsString()))
	var total int64
	for _, list := range args[1:] {
		total = saturatingAdd(total, valueSize(list))
		total = saturatingAdd(total, min(sep*knownLength(list), saturated))
	}
	return total
}

// replaceBound is the length of replace(s, old, new).
func replaceBound(args []cty.Value) int64 {
	s, old, repl := args[0].AsString(), args[1].AsString(), args[2].AsString()
	count := int64(strings.Count(s, old))
	if old == "" {
		count = int64(utf8.RuneCountInString(s)) + 1
	}
	return saturatingAdd(int64(len(s)), min(count*max(int64(len(repl)-len(old)), 0), saturated))
}

// caseBound bounds upper and lower: a few characters grow by half when
// their case changes.
func caseBound(args []cty.Value) int64 {
	return 2 * int64(len(args[0].AsString()))
}

// limitExpressions rewrites the expressions under node to charge the
// render budget (see the top of this file). Run it once on each parsed
// file or template, before any evaluation; parsed syntax is shared
// read-only afterwards.
func limitExpressions(node hclsyntax.Node) {
	_ = hclsyntax.Walk(node, &limitWalker{})
}

// limitBody is limitExpressions for a parsed file's body, whose source is
// src, walking only the attributes and blocks whose text could hold what
// it rewrites: a for expression, a splat or a template sequence. Most of
// a large inventory holds none, and walking every node would cost more
// than parsing a tenth of it.
func limitBody(body *hclsyntax.Body, src []byte) {
	for _, a := range body.Attributes {
		if mayExpand(src, a.SrcRange) {
			limitExpressions(a.Expr)
		}
	}
	for _, b := range body.Blocks {
		if mayExpand(src, b.Range()) {
			limitBody(b.Body, src)
		}
	}
}

// mayExpand reports whether the text of rng in src could hold a for
// expression, a splat or a template interpolation or directive.
func mayExpand(src []byte, rng hcl.Range) bool {
	if rng.Start.Byte < 0 || rng.End.Byte > len(src) || rng.Start.Byte > rng.End.Byte {
		return true
	}
	s := src[rng.Start.Byte:rng.End.Byte]
	return bytes.Contains(s, []byte("${")) || bytes.Contains(s, []byte("%{")) || bytes.Contains(s, []byte("for")) || bytes.IndexByte(s, '*') >= 0
}

// limitWalker rewrites nodes on the way in; loops counts the for and
// splat expressions around the node, where literal template parts repeat.
type limitWalker struct {
	loops int
}

func (w *limitWalker) Enter(n hclsyntax.Node) hcl.Diagnostics {
	switch e := n.(type) {
	case *hclsyntax.ForExpr:
		e.CollExpr = iterCall(e.CollExpr, e.KeyExpr, e.ValExpr, e.CondExpr)
		w.loops++
	case *hclsyntax.SplatExpr:
		e.Source = iterCall(e.Source, e.Each)
		w.loops++
	case *hclsyntax.TemplateExpr:
		if len(e.Parts) == 1 {
			if _, literal := e.Parts[0].(*hclsyntax.LiteralValueExpr); literal {
				return nil // a plain string, as most are
			}
		}
		for i, p := range e.Parts {
			if _, literal := p.(*hclsyntax.LiteralValueExpr); !literal || w.loops > 0 {
				e.Parts[i] = limitCall(outFunc, p)
			}
		}
	}
	return nil
}

func (w *limitWalker) Exit(n hclsyntax.Node) hcl.Diagnostics {
	switch n.(type) {
	case *hclsyntax.ForExpr, *hclsyntax.SplatExpr:
		w.loops--
	}
	return nil
}

// iterCall wraps a loop's collection in a call of iterFunc charging, per
// element, iterCost for each syntax node of body (the expressions
// evaluated per element; nil ones are skipped).
func iterCall(coll hclsyntax.Expression, body ...hclsyntax.Expression) hclsyntax.Expression {
	nodes := int64(1)
	for _, e := range body {
		if e != nil {
			hclsyntax.VisitAll(e, func(hclsyntax.Node) hcl.Diagnostics { nodes++; return nil })
		}
	}
	call := limitCall(iterFunc, coll)
	call.Args = append(call.Args, &hclsyntax.LiteralValueExpr{Val: cty.NumberIntVal(iterCost * nodes), SrcRange: coll.Range()})
	return call
}

// limitCall wraps expr in a call of the internal function name, with
// expr's range, so diagnostics about expr still point at it.
func limitCall(name string, expr hclsyntax.Expression) *hclsyntax.FunctionCallExpr {
	rng := expr.Range()
	return &hclsyntax.FunctionCallExpr{
		Name:            name,
		Args:            []hclsyntax.Expression{expr},
		NameRange:       hcl.Range{Filename: rng.Filename, Start: rng.Start, End: rng.Start},
		OpenParenRange:  hcl.Range{Filename: rng.Filename, Start: rng.Start, End: rng.Start},
		CloseParenRange: hcl.Range{Filename: rng.Filename, Start: rng.End, End: rng.End},
	}
}

// evaluate evaluates expr in ctx, whose functions charge b. Evaluation
// that ran out of budget gives one diagnostic naming the limit, at the
// place it ran out (nothing more when b is shared and already reported
// it), and a dynamic unknown value.
func (b *renderBudget) evaluate(expr hcl.Expression, ctx *hcl.EvalContext) (cty.Value, hcl.Diagnostics) {
	v, diags := expr.Value(ctx)
	if !diags.HasErrors() {
		return v, diags
	}
	for _, d := range diags {
		extra, ok := d.Extra.(hclsyntax.FunctionCallDiagExtra)
		if !ok || !errors.Is(extra.FunctionCallError(), errRenderLimit) {
			continue
		}
		if b.reported.Swap(true) {
			return cty.DynamicVal, nil
		}
		rng := expr.Range()
		if d.Subject != nil {
			rng = *d.Subject
		}
		limit := SizeText(b.limit)
		return cty.DynamicVal, hcl.Diagnostics{limitError(fmt.Sprintf("Rendering over the size limit (%s)", limit),
			fmt.Sprintf("Evaluating this would produce more than %s, counting every string that template interpolations, for loops and functions produce, and %d bytes per syntax node a for or splat expression evaluates for each element; validation evaluates all of a commit's expressions within one such budget, and each rendering for a host has its own.", limit, iterCost), &rng)}
	}
	return v, diags
}
