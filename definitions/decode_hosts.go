package definitions

import (
	"bytes"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"
)

// hostsSchema is a host block's schema plus for_each: every attribute of
// `host` may be written in a `hosts` block, evaluated per element.
var hostsSchema = withForEach(hostSchema)

func withForEach(s *hcl.BodySchema) *hcl.BodySchema {
	attrs := append([]hcl.AttributeSchema{{Name: "for_each", Required: true}}, s.Attributes...)
	return &hcl.BodySchema{Attributes: attrs, Blocks: s.Blocks}
}

// generatedHost is one element of a `hosts` block: the host it names and
// where it came from.
type generatedHost struct {
	name  string
	block *hcl.Block
	attrs hcl.Attributes
	// ctx is the static context with each.key and each.value.
	ctx *hcl.EvalContext
	// row is the CSV row the element's value came from; file alone is set
	// for other data files read with repofile().
	row dataRow
	// place is where a diagnostic about the whole host points: the row,
	// or the hosts block.
	place hcl.Range
}

// describe says where a generated host comes from, for diagnostics.
func (g *generatedHost) describe() string {
	r := g.block.DefRange
	return fmt.Sprintf("host %q from hosts %q at %s:%d", g.name, g.block.Labels[0], r.Filename, r.Start.Line)
}

// expandHosts evaluates a hosts block's for_each and returns one
// generatedHost per element, in key order. Errors name the data file's
// line when they come from one of its rows. More than room elements is
// an error: generated hosts count toward Limits.Hosts like host blocks.
func (l *loader) expandHosts(b *hcl.Block, room int) []*generatedHost {
	content, diags := b.Body.Content(hostsSchema)
	l.diags = append(l.diags, diags...)
	fe := content.Attributes["for_each"]
	if fe == nil {
		return nil
	}
	delete(content.Attributes, "for_each")
	base := l.scopes.in(l.static, fe.Expr)
	v, diags := l.render.evaluate(fe.Expr, base)
	for _, d := range diags {
		l.diags = append(l.diags, l.relocateForEach(d, fe.Expr))
	}
	if diags.HasErrors() {
		l.hostsFailed = true
		return nil
	}
	v, topMarks := v.Unmark()
	file := fileOf(topMarks)
	if v.IsNull() || !v.IsWhollyKnown() {
		detail := "for_each is null."
		if !v.IsWhollyKnown() {
			detail = "for_each is not known when the definitions load: it cannot use env() or file(), only values of the repository."
		}
		l.errorf(fe.Expr.Range(), "Invalid for_each", detail)
		return nil
	}
	ty := v.Type()
	switch {
	case ty.IsMapType() || ty.IsObjectType():
	case ty.IsSetType() && ty.ElementType() == cty.String:
	case ty.IsSetType() || ty.IsListType() || ty.IsTupleType():
		if sv, err := convert.Convert(v, cty.Set(cty.String)); err == nil && ty.IsSetType() {
			v = sv
			break
		}
		l.errorf(fe.Expr.Range(), "Invalid for_each", fmt.Sprintf("for_each must be a map (each key names a host) or a set of strings, not a %s; for a list of rows write { for r in LIST : r.name => r }.", ty.FriendlyName()))
		return nil
	default:
		l.errorf(fe.Expr.Range(), "Invalid for_each", fmt.Sprintf("for_each must be a map (each key names a host) or a set of strings, not a %s.", ty.FriendlyName()))
		return nil
	}
	if n := v.LengthInt(); n > room {
		l.diags = append(l.diags, limitError(fmt.Sprintf("Too many hosts (over %d)", l.limits.Hosts),
			fmt.Sprintf("This for_each has %d elements; with the hosts before it that is more than the limit of %d hosts.", n, l.limits.Hosts), fe.Expr.Range().Ptr()))
		l.hostsFailed = true
		return nil
	}
	if file != "" {
		l.dataLines(file)
	}
	var out []*generatedHost
	for it := v.ElementIterator(); it.Next(); {
		k, e := it.Element()
		k, _ = k.Unmark()
		if k.IsNull() || !k.IsKnown() {
			continue
		}
		key := k.AsString()
		if ty.IsSetType() {
			e = k
		}
		g := &generatedHost{name: key, block: b, attrs: content.Attributes, place: b.DefRange}
		g.row = rowOf(e)
		if g.row.file == "" {
			g.row.file = file
		}
		if g.row.line > 0 {
			g.place = l.rowRange(g.row)
		}
		ctx := base.NewChild()
		ctx.Variables = map[string]cty.Value{"each": cty.ObjectVal(map[string]cty.Value{
			"key":   cty.StringVal(key),
			"value": e,
		})}
		g.ctx = ctx
		out = append(out, g)
	}
	return out
}

// rowOf returns the one CSV row a value came from, if it came from exactly
// one; file alone when it came from a data file without rows.
func rowOf(v cty.Value) dataRow {
	_, marks := v.UnmarkDeep()
	var row dataRow
	n := 0
	for m := range marks {
		switch m := m.(type) {
		case dataRow:
			if m != row {
				row = m
				n++
			}
		case dataFile:
			if row.file == "" {
				row.file = m.path
			}
		}
	}
	if n > 1 {
		return dataRow{file: row.file}
	}
	return row
}

// dataLines records the start offset of every line of a data file read
// during this load, and shows the file in diagnostics' snippets.
func (l *loader) dataLines(file string) []int {
	if lines, ok := l.lines[file]; ok {
		return lines
	}
	data := l.repo.files()[file]
	lines := []int{0}
	for i, c := range data {
		if c == '\n' && i+1 < len(data) {
			lines = append(lines, i+1)
		}
	}
	if l.lines == nil {
		l.lines = map[string][]int{}
	}
	l.lines[file] = lines
	if _, ok := l.defs.Files[file]; !ok {
		l.defs.Files[file] = &hcl.File{Bytes: data}
	}
	return lines
}

// rowRange is the range of line row.line of a data file.
func (l *loader) rowRange(row dataRow) hcl.Range {
	lines := l.dataLines(row.file)
	f := l.defs.Files[row.file]
	if row.line < 1 || row.line > len(lines) || f == nil {
		return hcl.Range{Filename: row.file, Start: hcl.Pos{Line: max(row.line, 1), Column: 1}, End: hcl.Pos{Line: max(row.line, 1), Column: 1}}
	}
	start := lines[row.line-1]
	end := len(f.Bytes)
	if i := bytes.IndexByte(f.Bytes[start:], '\n'); i >= 0 {
		end = start + i
	}
	end = max(start, min(end, len(bytes.TrimRight(f.Bytes[:end], "\r"))))
	return hcl.Range{
		Filename: row.file,
		Start:    hcl.Pos{Line: row.line, Column: 1, Byte: start},
		End:      hcl.Pos{Line: row.line, Column: 1 + end - start, Byte: end},
	}
}

// relocateForEach points a diagnostic of a for_each expression at the data
// file's line when it comes from a row or from decoding the file.
func (l *loader) relocateForEach(d *hcl.Diagnostic, expr hcl.Expression) *hcl.Diagnostic {
	if d.Severity != hcl.DiagError {
		return d
	}
	if x, ok := hcl.DiagnosticExtra[hclsyntax.FunctionCallDiagExtra](d); ok {
		var de *dataError
		if errors.As(x.FunctionCallError(), &de) && de.file != "" {
			out := *d
			out.Summary = "Invalid data file"
			out.Detail = fmt.Sprintf("%s (%s() at %s).", de.msg, x.CalledFunctionName(), rangeText(d.Subject))
			if de.line > 0 {
				l.dataLines(de.file)
				out.Subject = l.rowRange(dataRow{file: de.file, line: de.line}).Ptr()
			} else {
				out.Subject = fileStart(de.file)
			}
			out.Context = nil
			return &out
		}
	}
	if d.EvalContext == nil {
		return d
	}
	var row dataRow
	for _, v := range d.EvalContext.Variables {
		if r := rowOf(v); r.line > 0 {
			if row.line > 0 && r != row {
				return d
			}
			row = r
		}
	}
	if row.line == 0 {
		return d
	}
	if md := l.missingColumn(d, row); md != nil {
		return md
	}
	out := *d
	if d.Summary == "Duplicate object key" {
		if first := l.firstRowWithKey(d, expr, row); first.line > 0 {
			key := ""
			if k, diags := d.Expression.Value(d.EvalContext); !diags.HasErrors() {
				if k, _ = k.UnmarkDeep(); k.Type() == cty.String && k.IsKnown() && !k.IsNull() {
					key = fmt.Sprintf(" %q", k.AsString())
				}
			}
			out.Summary = "Duplicate host name"
			out.Detail = fmt.Sprintf("Line %d and line %d of %s both produce the key%s, and each key names one host.", first.line, row.line, row.file, key)
		}
	}
	out.Detail = fmt.Sprintf("%s (evaluating %s)", strings.TrimSuffix(out.Detail, "."), rangeText(d.Subject))
	out.Subject = l.rowRange(row).Ptr()
	out.Context = nil
	return &out
}

// missingColumn turns "Unsupported attribute" on a CSV row into a missing
// column reported on the header line, once per file and column.
func (l *loader) missingColumn(d *hcl.Diagnostic, row dataRow) *hcl.Diagnostic {
	if d.Summary != "Unsupported attribute" || d.Subject == nil || !strings.HasSuffix(row.file, ".csv") {
		return nil
	}
	tr, ok := d.Expression.(*hclsyntax.ScopeTraversalExpr)
	if !ok {
		return nil
	}
	name := ""
	for _, step := range tr.Traversal {
		if a, ok := step.(hcl.TraverseAttr); ok && a.SrcRange == *d.Subject {
			name = a.Name
		}
	}
	if name == "" {
		return nil
	}
	var columns []string
	for _, v := range d.EvalContext.Variables {
		v = unmarkedObject(v)
		if v.Type().IsObjectType() && rowOf(v).line > 0 {
			columns = slices.Sorted(maps.Keys(v.Type().AttributeTypes()))
		}
		if v.Type().IsObjectType() && v.Type().HasAttribute("value") {
			if inner := unmarkedObject(v.GetAttr("value")); inner.Type().IsObjectType() {
				columns = slices.Sorted(maps.Keys(inner.Type().AttributeTypes()))
			}
		}
	}
	return &hcl.Diagnostic{
		Severity: hcl.DiagError,
		Summary:  "Missing column",
		Detail:   fmt.Sprintf("%s has no column %q, which %s uses; its header names %s.", row.file, name, rangeText(d.Subject), strings.Join(columns, ", ")),
		Subject:  l.rowRange(dataRow{file: row.file, line: 1}).Ptr(),
	}
}

func unmarkedObject(v cty.Value) cty.Value {
	v, _ = v.Unmark()
	if v.IsNull() || !v.IsKnown() {
		return cty.EmptyObjectVal
	}
	return v
}

// firstRowWithKey finds, for a duplicate key of a for expression in expr,
// the first row that produced the same key.
func (l *loader) firstRowWithKey(d *hcl.Diagnostic, expr hcl.Expression, dup dataRow) dataRow {
	node, ok := expr.(hclsyntax.Node)
	if !ok || d.Context == nil || d.EvalContext == nil || d.EvalContext.Parent() == nil {
		return dataRow{}
	}
	var fe *hclsyntax.ForExpr
	hclsyntax.VisitAll(node, func(n hclsyntax.Node) hcl.Diagnostics {
		if f, ok := n.(*hclsyntax.ForExpr); ok && f.SrcRange == *d.Context {
			fe = f
		}
		return nil
	})
	if fe == nil {
		return dataRow{}
	}
	parent := d.EvalContext.Parent()
	want, diags := fe.KeyExpr.Value(d.EvalContext)
	coll, cd := fe.CollExpr.Value(parent)
	if diags.HasErrors() || cd.HasErrors() {
		return dataRow{}
	}
	want, _ = want.UnmarkDeep()
	coll, _ = coll.Unmark()
	if !coll.CanIterateElements() {
		return dataRow{}
	}
	for it := coll.ElementIterator(); it.Next(); {
		k, v := it.Element()
		child := parent.NewChild()
		child.Variables = map[string]cty.Value{fe.ValVar: v}
		if fe.KeyVar != "" {
			child.Variables[fe.KeyVar] = k
		}
		got, diags := fe.KeyExpr.Value(child)
		if diags.HasErrors() {
			continue
		}
		got, _ = got.UnmarkDeep()
		if got.RawEquals(want) {
			if r := rowOf(v); r.line > 0 && r != dup {
				return r
			}
		}
	}
	return dataRow{}
}

func rangeText(r *hcl.Range) string {
	if r == nil {
		return "the expression"
	}
	return fmt.Sprintf("%s:%d:%d", r.Filename, r.Start.Line, r.Start.Column)
}

// relocateElement points a diagnostic about a generated host at its data
// row when it has one, and says which host and hosts block it is about.
func (l *loader) relocateElement(d *hcl.Diagnostic, g *generatedHost) *hcl.Diagnostic {
	if g.row.line > 0 && d.EvalContext != nil {
		if md := l.missingColumn(d, g.row); md != nil {
			return md
		}
	}
	out := *d
	where := g.describe()
	if g.row.line > 0 {
		where = fmt.Sprintf("%s, evaluating %s", where, rangeText(d.Subject))
		out.Subject = g.place.Ptr()
		out.Context = nil
	}
	out.Detail = fmt.Sprintf("%s (%s)", strings.TrimSuffix(d.Detail, "."), where)
	return &out
}

// dedupDiagnostics drops diagnostics equal to an earlier one (same
// severity, summary, detail and place): a missing column is reported once,
// not once per row.
func dedupDiagnostics(diags hcl.Diagnostics) hcl.Diagnostics {
	type key struct {
		sev              hcl.DiagnosticSeverity
		summary, detail  string
		file             string
		line, col, bytes int
	}
	seen := map[key]bool{}
	out := diags[:0]
	for _, d := range diags {
		k := key{sev: d.Severity, summary: d.Summary, detail: d.Detail}
		if d.Subject != nil {
			k.file, k.line, k.col, k.bytes = d.Subject.Filename, d.Subject.Start.Line, d.Subject.Start.Column, d.Subject.Start.Byte
		}
		if seen[k] {
			continue
		}
		seen[k] = true
		out = append(out, d)
	}
	return out
}
