package definitions

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math/big"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"
)

// Job params: `param "NAME" { type, default, allowed, regex, description,
// sensitive }` blocks in a job. Steps, file templates and destinations read
// a run's values as ${param.NAME}; a script step gets them in its
// environment (ParamEnvName). The values of one run are checked by
// ResolveParams before anything runs.

// ParamType is the type of a job param.
type ParamType string

// Param types.
const (
	ParamString ParamType = "string"
	ParamNumber ParamType = "number"
	ParamBool   ParamType = "bool"
	ParamList   ParamType = "list(string)"
)

// Type is the value type of params of type t.
func (t ParamType) Type() cty.Type {
	switch t {
	case ParamNumber:
		return cty.Number
	case ParamBool:
		return cty.Bool
	case ParamList:
		return cty.List(cty.String)
	}
	return cty.String
}

// Masked stands in for the value of a sensitive param wherever a run's
// params are stored, shown or sent.
const Masked = "***"

// Param is one param block of a job.
type Param struct {
	Name string
	Type ParamType // default string
	// Default is the value a run that gives none uses; set only when
	// HasDefault. A param without a default is required.
	Default    cty.Value
	HasDefault bool
	// Allowed, when not empty, are the only values a run may give (for a
	// list(string) param, the only elements).
	Allowed []cty.Value
	// Regex, when set, must match a string value, or each element of a
	// list. RE2, matched anywhere in the value: anchor it with ^ and $.
	Regex       *regexp.Regexp
	Description string
	// Sensitive values are never stored, logged, shown or sent: a run's
	// record keeps Masked, and step output is redacted of them.
	Sensitive bool
	DeclRange hcl.Range
}

// Required reports whether a run must give the param a value.
func (p *Param) Required() bool { return !p.HasDefault }

// ParamValues are the values of a job's params for one run, by name, each
// of its param's type.
type ParamValues map[string]cty.Value

// ParamError is a value a param refuses, or a param a job does not have.
// Its message names the param and never shows a sensitive value.
type ParamError struct {
	Param string
	Msg   string
}

func (e *ParamError) Error() string { return "param " + e.Param + ": " + e.Msg }

var paramSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{
		{Name: "type"}, {Name: "default"}, {Name: "allowed"}, {Name: "regex"},
		{Name: "description"}, {Name: "sensitive"},
	},
}

// validParamName: an HCL identifier (so ${param.NAME} works) of at most 64
// characters.
func validParamName(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for i, r := range s {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r == '_':
		case i > 0 && (r >= '0' && r <= '9' || r == '-'):
		default:
			return false
		}
	}
	return true
}

// ParamEnvName is the environment variable a script step reads param name
// from: RIPPLE_PARAM_ and the name in upper case, '-' as '_'.
func ParamEnvName(name string) string {
	return "RIPPLE_PARAM_" + strings.ToUpper(strings.ReplaceAll(name, "-", "_"))
}

func (l *loader) decodeParams(j *Job, blocks hcl.Blocks) {
	seen := map[string]hcl.Range{}
	for _, b := range blocks {
		name := b.Labels[0]
		if prev, ok := seen[name]; ok {
			l.errorf(b.DefRange, "Duplicate param", fmt.Sprintf("param %q was already declared in job %q; previous declaration at %s:%d.", name, j.Name, prev.Filename, prev.Start.Line))
			continue
		}
		seen[name] = b.DefRange
		if !validParamName(name) {
			l.errorf(b.LabelRanges[0], "Invalid name", fmt.Sprintf("param name %q must start with a letter or '_' and hold only letters, digits, '_' and '-' (at most 64 characters), so that ${param.%s} can name it.", name, name))
			continue
		}
		j.Params = append(j.Params, l.decodeParam(b))
	}
}

func (l *loader) decodeParam(b *hcl.Block) *Param {
	content, diags := b.Body.Content(paramSchema)
	l.diags = append(l.diags, diags...)
	a := content.Attributes
	p := &Param{Name: b.Labels[0], Type: ParamString, DeclRange: b.DefRange}
	typeOK := true
	if at := a["type"]; at != nil {
		p.Type, typeOK = l.paramType(at)
	}
	l.str(a, "description", &p.Description)
	l.boolean(a, "sensitive", &p.Sensitive)
	if at := a["regex"]; at != nil {
		var src string
		if l.str(a, "regex", &src) {
			re, err := regexp.Compile(src)
			switch {
			case err != nil:
				l.errorf(at.Expr.Range(), "Invalid regex", fmt.Sprintf("regex %q of param %q is not an RE2 regular expression: %v.", src, p.Name, err))
			case p.Type == ParamNumber || p.Type == ParamBool:
				l.errorf(at.Expr.Range(), "Regex on a "+string(p.Type)+" param", fmt.Sprintf("regex applies to string and list(string) params; param %q is a %s.", p.Name, p.Type))
			default:
				p.Regex = re
			}
		}
	}
	if !typeOK {
		return p
	}
	if at := a["allowed"]; at != nil {
		l.paramAllowed(p, at)
	}
	if at := a["default"]; at != nil {
		if v, ok := l.value(at, p.Type.Type()); ok {
			if msg := p.refuses(v); msg != "" {
				l.errorf(at.Expr.Range(), "Invalid default", fmt.Sprintf("param %q: the default %s.", p.Name, msg))
			} else {
				p.Default, p.HasDefault = v, true
			}
			if p.Sensitive {
				l.warnf(at.Expr.Range(), "Literal secret", fmt.Sprintf("param %q is sensitive, but its default is written in the repository; leave the default out so that operators give the value when they run the job.", p.Name))
			}
		}
	}
	return p
}

// paramType reads `type = string` (a type keyword, as Terraform's
// variables write it, or the same in quotes): string, number, bool or
// list(string).
func (l *loader) paramType(a *hcl.Attribute) (ParamType, bool) {
	name, ok := literalString(a.Expr)
	if !ok {
		name = strings.Join(strings.Fields(string(a.Expr.Range().SliceBytes(l.fileBytes(a.Expr.Range().Filename)))), "")
	}
	switch t := ParamType(name); t {
	case ParamString, ParamNumber, ParamBool, ParamList:
		return t, true
	}
	l.errorf(a.Expr.Range(), "Invalid param type", "type must be string, number, bool or list(string).")
	return ParamString, false
}

// fileBytes is the source of a loaded file, nil when unknown.
func (l *loader) fileBytes(name string) []byte {
	if f := l.defs.Files[name]; f != nil {
		return f.Bytes
	}
	return nil
}

// paramAllowed reads allowed: a non-empty list of values of the param's
// type (of strings for a list(string) param), each matching its regex.
func (l *loader) paramAllowed(p *Param, at *hcl.Attribute) {
	elem := p.Type.Type()
	if p.Type == ParamList {
		elem = cty.String
	}
	v, ok := l.value(at, cty.List(elem))
	if !ok {
		return
	}
	if p.Sensitive {
		l.errorf(at.Expr.Range(), "Allowed values of a sensitive param", fmt.Sprintf("param %q is sensitive: its values must not be written in the repository or offered in forms; check it with regex instead.", p.Name))
		return
	}
	if v.LengthInt() == 0 {
		l.errorf(at.Expr.Range(), "Empty allowed list", fmt.Sprintf("allowed of param %q lists no value; leave it out to allow any.", p.Name))
		return
	}
	elems, _ := hcl.ExprList(at.Expr)
	var out []cty.Value
	i := 0
	for it := v.ElementIterator(); it.Next(); i++ {
		_, e := it.Element()
		rng := at.Expr.Range()
		if len(elems) == v.LengthInt() {
			rng = elems[i].Range()
		}
		if e.IsNull() {
			l.errorf(rng, "Invalid allowed value", "allowed must not contain null.")
			return
		}
		if p.Regex != nil && e.Type() == cty.String && !p.Regex.MatchString(e.AsString()) {
			l.errorf(rng, "Allowed value does not match regex", fmt.Sprintf("%q is allowed but does not match regex %q of param %q, so no run could give it.", e.AsString(), p.Regex.String(), p.Name))
			continue
		}
		out = append(out, e)
	}
	p.Allowed = out
}

// refuses says why p does not take v (of p's type): " is not allowed
// (allowed: ...)", "does not match ...". "" when it does. A sensitive
// param's value is never part of the message.
func (p *Param) refuses(v cty.Value) string {
	if v.IsNull() {
		return "must not be null"
	}
	var items []cty.Value
	if p.Type == ParamList {
		for it := v.ElementIterator(); it.Next(); {
			_, e := it.Element()
			if e.IsNull() {
				return "must not contain null"
			}
			items = append(items, e)
		}
	} else {
		items = []cty.Value{v}
	}
	for _, e := range items {
		if len(p.Allowed) > 0 && !slices.ContainsFunc(p.Allowed, func(a cty.Value) bool { return a.Equals(e).True() }) {
			return p.shown(e) + " is not allowed (allowed: " + p.allowedText() + ")"
		}
		if p.Regex != nil && !p.Regex.MatchString(e.AsString()) {
			return p.shown(e) + " does not match regex " + strconv.Quote(p.Regex.String())
		}
	}
	return ""
}

// shown is v for a message: quoted, or "the value" for a sensitive param.
func (p *Param) shown(v cty.Value) string {
	if p.Sensitive {
		return "the value"
	}
	return valueText(v, true)
}

func (p *Param) allowedText() string {
	s := make([]string, len(p.Allowed))
	for i, a := range p.Allowed {
		s[i] = valueText(a, true)
	}
	return strings.Join(s, ", ")
}

// valueText is a param value for people: a string as is (quoted when
// quote), a number in decimal, a bool, a list as JSON.
func valueText(v cty.Value, quote bool) string {
	switch {
	case v.IsNull() || !v.IsKnown():
		return "null"
	case v.Type() == cty.String:
		if quote {
			return strconv.Quote(v.AsString())
		}
		return v.AsString()
	case v.Type() == cty.Number:
		return v.AsBigFloat().Text('f', -1)
	case v.Type() == cty.Bool:
		return strconv.FormatBool(v.True())
	}
	b, _ := json.Marshal(listStrings(v))
	return string(b)
}

func listStrings(v cty.Value) []string {
	out := []string{}
	if v.IsNull() || !v.CanIterateElements() {
		return out
	}
	for it := v.ElementIterator(); it.Next(); {
		_, e := it.Element()
		if !e.IsNull() && e.Type() == cty.String {
			out = append(out, e.AsString())
		}
	}
	return out
}

// ResolveParams checks the values a run is given (as the API and the CLI
// send them: JSON values, where a string may also spell a number, a bool
// or a list, comma-separated or as a JSON array) against j's params and
// fills in the defaults. The error joins a *ParamError for every param
// given that j does not declare, every value its param refuses (type,
// allowed, regex) and every required param without a value. A JSON null
// counts as not given.
func (j *Job) ResolveParams(given map[string]json.RawMessage) (ParamValues, error) {
	vals := ParamValues{}
	refused := map[string]bool{}
	var errs []error
	for _, name := range slices.Sorted(maps.Keys(given)) {
		p := j.Param(name)
		if p == nil {
			errs = append(errs, j.unknownParam(name))
			refused[name] = true
			continue
		}
		raw := given[name]
		if isJSONNull(raw) {
			continue
		}
		v, err := p.fromJSON(raw)
		if err != nil {
			errs = append(errs, &ParamError{Param: name, Msg: err.Error()})
			refused[name] = true
			continue
		}
		vals[name] = v
	}
	return j.resolve(vals, refused, errs)
}

// ResolveParamValues is ResolveParams for values already of their
// params' types (a schedule's params).
func (j *Job) ResolveParamValues(given ParamValues) (ParamValues, error) {
	return j.resolve(given, nil, nil)
}

// resolve checks given against j's params and adds the defaults; refused
// are params whose value was already refused (errs says why).
func (j *Job) resolve(given ParamValues, refused map[string]bool, errs []error) (ParamValues, error) {
	out := ParamValues{}
	for _, name := range slices.Sorted(maps.Keys(given)) {
		if j.Param(name) == nil {
			errs = append(errs, j.unknownParam(name))
		}
	}
	for _, p := range j.Params {
		v, ok := given[p.Name]
		switch {
		case refused[p.Name]:
		case ok && !v.IsNull():
			cv, err := convert.Convert(v, p.Type.Type())
			if err != nil {
				errs = append(errs, &ParamError{Param: p.Name, Msg: "must be a " + string(p.Type)})
				continue
			}
			if msg := p.refuses(cv); msg != "" {
				errs = append(errs, &ParamError{Param: p.Name, Msg: msg})
				continue
			}
			out[p.Name] = cv
		case p.HasDefault:
			out[p.Name] = p.Default
		default:
			errs = append(errs, &ParamError{Param: p.Name, Msg: "is required (it has no default)"})
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return out, nil
}

func (j *Job) unknownParam(name string) error {
	names := make([]string, len(j.Params))
	for i, p := range j.Params {
		names[i] = p.Name
	}
	msg := fmt.Sprintf("job %s has no such param", j.Name)
	if len(names) == 0 {
		msg += " (it takes none)"
	} else {
		msg += " (params: " + strings.Join(names, ", ") + ")"
	}
	return &ParamError{Param: name, Msg: msg}
}

func isJSONNull(raw json.RawMessage) bool {
	s := strings.TrimSpace(string(raw))
	return s == "" || s == "null"
}

// fromJSON reads a value for p from JSON: its own type, or a string that
// spells it ("3", "true", "a,b" or "[\"a\",\"b\"]").
func (p *Param) fromJSON(raw json.RawMessage) (cty.Value, error) {
	var x any
	dec := json.NewDecoder(strings.NewReader(string(raw)))
	dec.UseNumber()
	if err := dec.Decode(&x); err != nil {
		return cty.NilVal, fmt.Errorf("not a JSON value: %w", err)
	}
	s, isString := x.(string)
	switch p.Type {
	case ParamString:
		if isString {
			return cty.StringVal(s), nil
		}
		return cty.NilVal, errors.New("must be a string")
	case ParamNumber:
		text := ""
		switch n := x.(type) {
		case json.Number:
			text = n.String()
		case string:
			text = strings.TrimSpace(n)
		}
		f, _, err := big.ParseFloat(text, 10, 512, big.ToNearestEven)
		if text == "" || err != nil {
			return cty.NilVal, fmt.Errorf("must be a number; got %s", p.shownRaw(raw))
		}
		return cty.NumberVal(f), nil
	case ParamBool:
		if b, ok := x.(bool); ok {
			return cty.BoolVal(b), nil
		}
		if isString {
			if b, err := strconv.ParseBool(strings.TrimSpace(s)); err == nil && s != "" {
				return cty.BoolVal(b), nil
			}
		}
		return cty.NilVal, fmt.Errorf("must be true or false; got %s", p.shownRaw(raw))
	case ParamList:
		var items []string
		switch v := x.(type) {
		case []any:
			for _, e := range v {
				es, ok := e.(string)
				if !ok {
					return cty.NilVal, errors.New("must be a list of strings")
				}
				items = append(items, es)
			}
		case string:
			var err error
			if items, err = splitList(v); err != nil {
				return cty.NilVal, err
			}
		default:
			return cty.NilVal, errors.New("must be a list of strings (comma-separated, or a JSON array)")
		}
		if len(items) == 0 {
			return cty.ListValEmpty(cty.String), nil
		}
		vals := make([]cty.Value, len(items))
		for i, it := range items {
			vals[i] = cty.StringVal(it)
		}
		return cty.ListVal(vals), nil
	}
	return cty.NilVal, fmt.Errorf("unknown type %s", p.Type)
}

// splitList reads a list given as one string: a JSON array of strings, or
// comma-separated items (spaces around each trimmed, empty ones dropped).
func splitList(s string) ([]string, error) {
	t := strings.TrimSpace(s)
	if strings.HasPrefix(t, "[") {
		var items []string
		if err := json.Unmarshal([]byte(t), &items); err != nil {
			return nil, errors.New("must be a JSON array of strings or comma-separated items")
		}
		return items, nil
	}
	var items []string
	for it := range strings.SplitSeq(s, ",") {
		if it = strings.TrimSpace(it); it != "" {
			items = append(items, it)
		}
	}
	return items, nil
}

func (p *Param) shownRaw(raw json.RawMessage) string {
	if p.Sensitive {
		return "the value"
	}
	s := strings.TrimSpace(string(raw))
	if len(s) > 80 {
		s = s[:80] + "..."
	}
	return s
}

// JSON is v as a JSON value of its param's type.
func paramJSON(v cty.Value) json.RawMessage {
	var x any
	switch {
	case v.IsNull() || !v.IsKnown():
		x = nil
	case v.Type() == cty.String:
		x = v.AsString()
	case v.Type() == cty.Number:
		return json.RawMessage(v.AsBigFloat().Text('f', -1))
	case v.Type() == cty.Bool:
		x = v.True()
	default:
		x = listStrings(v)
	}
	b, _ := json.Marshal(x)
	return b
}

// RecordParams is vals as a run records them: JSON values by name, a
// sensitive param's value as Masked.
func (j *Job) RecordParams(vals ParamValues) map[string]json.RawMessage {
	if len(vals) == 0 {
		return nil
	}
	out := make(map[string]json.RawMessage, len(vals))
	for name, v := range vals {
		if p := j.Param(name); p != nil && p.Sensitive {
			out[name] = json.RawMessage(strconv.Quote(Masked))
			continue
		}
		out[name] = paramJSON(v)
	}
	return out
}

// SensitiveValues returns the values of vals' sensitive params, by name,
// as JSON: what a run holds only in memory.
func (j *Job) SensitiveValues(vals ParamValues) map[string]json.RawMessage {
	var out map[string]json.RawMessage
	for _, p := range j.Params {
		if v, ok := vals[p.Name]; ok && p.Sensitive {
			if out == nil {
				out = map[string]json.RawMessage{}
			}
			out[p.Name] = paramJSON(v)
		}
	}
	return out
}

// HasSensitive reports whether j declares a sensitive param.
func (j *Job) HasSensitive() bool {
	return slices.ContainsFunc(j.Params, func(p *Param) bool { return p.Sensitive })
}

// secretTexts lists the texts of vals' sensitive params: a string, each
// element of a list, a number or bool in decimal.
func (j *Job) secretTexts(vals ParamValues) []string {
	var out []string
	for _, p := range j.Params {
		v, ok := vals[p.Name]
		if !ok || !p.Sensitive || v.IsNull() || !v.IsKnown() {
			continue
		}
		if p.Type == ParamList {
			out = append(out, listStrings(v)...)
			continue
		}
		out = append(out, valueText(v, false))
	}
	return out
}

// paramObject is the value of `param` in j's expressions: every declared
// param, vals's value or, without one, unknown of its type (a render
// refuses a step that uses such a param; see missingParams).
func (j *Job) paramObject(vals ParamValues) cty.Value {
	if len(j.Params) == 0 {
		return cty.EmptyObjectVal
	}
	m := make(map[string]cty.Value, len(j.Params))
	for _, p := range j.Params {
		if v, ok := vals[p.Name]; ok {
			m[p.Name] = v
		} else {
			m[p.Name] = cty.UnknownVal(p.Type.Type())
		}
	}
	return cty.ObjectVal(m)
}

// paramEnv is vals as environment assignments for a script step,
// NAME=value in param order; a list's elements one per line.
func (j *Job) paramEnv(vals ParamValues) []string {
	var out []string
	for _, p := range j.Params {
		v, ok := vals[p.Name]
		if !ok {
			continue
		}
		text := valueText(v, false)
		if p.Type == ParamList {
			text = strings.Join(listStrings(v), "\n")
		}
		out = append(out, ParamEnvName(p.Name)+"="+text)
	}
	return out
}

// paramRefs lists the params expr reads: the names after "param.", with
// the range of each reference. A bare `param` or param[expr] is a
// reference to no name (name "").
func paramRefs(expr hcl.Expression) []paramRef {
	var out []paramRef
	for _, t := range expr.Variables() {
		if t.RootName() != "param" {
			continue
		}
		ref := paramRef{rng: t.SourceRange()}
		if len(t) > 1 {
			switch s := t[1].(type) {
			case hcl.TraverseAttr:
				ref.name = s.Name
			case hcl.TraverseIndex:
				if s.Key.Type() == cty.String && s.Key.IsKnown() && !s.Key.IsNull() {
					ref.name = s.Key.AsString()
				}
			}
		}
		out = append(out, ref)
	}
	return out
}

type paramRef struct {
	name string
	rng  hcl.Range
}

// checkParamRefs reports every reference of expr to a param j does not
// declare; ok is false when there was one. where says what reads it
// ("this template", for a template other jobs may share).
func (l *loader) checkParamRefs(j *Job, expr hcl.Expression, where string) bool {
	ok := true
	for _, r := range paramRefs(expr) {
		if r.name == "" {
			l.errorf(r.rng, "Invalid param reference", "Name a param of the job: ${param.NAME}.")
			ok = false
			continue
		}
		if j.Param(r.name) != nil {
			continue
		}
		detail := fmt.Sprintf("Job %q declares no param %q%s; declare it with a param block.", j.Name, r.name, where)
		if s := closestParam(j, r.name); s != "" {
			detail = fmt.Sprintf("Job %q declares no param %q%s. Did you mean %q?", j.Name, r.name, where, s)
		}
		l.errorf(r.rng, "Undeclared param", detail)
		ok = false
	}
	return ok
}

func closestParam(j *Job, name string) string {
	best, dist := "", 3
	for _, p := range j.Params {
		if d := levenshtein(name, p.Name, dist); d < dist {
			best, dist = p.Name, d
		}
	}
	return best
}

// checkJobParams applies the rules that tie a job's params to the rest of
// the job, after its blocks are decoded: a job that runs on commits (not
// manual) needs a default for every param; a manual job neither checks
// drift nor heals itself.
func (l *loader) checkJobParams(j *Job, a hcl.Attributes) {
	if !j.Manual {
		for _, p := range j.Params {
			if p.Required() {
				l.errorf(p.DeclRange, "Required param in a job that runs on commits", fmt.Sprintf("param %q has no default, but job %q runs on commits, which give no params: give it a default, or set manual = true.", p.Name, j.Name))
			}
		}
		return
	}
	for _, name := range []string{"drift_check", "self_heal"} {
		if at := a[name]; at != nil {
			l.errorf(at.NameRange, name+" on a manual job", fmt.Sprintf("job %q is manual: it runs only when started, so it has no sync state to check or heal; remove %s.", j.Name, name))
		}
	}
}

// scheduleParams reads params = { NAME = value, ... } beside a job's
// schedule: each a declared, non-sensitive param and a value it takes;
// with the defaults, every param must then have a value.
func (l *loader) scheduleParams(j *Job, a hcl.Attributes) {
	at := a["params"]
	if at == nil {
		if j.Schedule != "" && j.Manual {
			for _, p := range j.Params {
				if p.Required() {
					l.errorf(a["schedule"].Expr.Range(), "Scheduled run without a required param", fmt.Sprintf("The schedule runs job %q without a value for param %q, which has no default: set it in params = { %s = ... } beside schedule.", j.Name, p.Name, p.Name))
				}
			}
		}
		return
	}
	if a["schedule"] == nil {
		l.errorf(at.NameRange, "params without schedule", "params are the values the job's schedule runs it with; set schedule too, or give operators the values with ripple run --param.")
		return
	}
	pairs, diags := hcl.ExprMap(at.Expr)
	if diags.HasErrors() {
		l.errorf(at.Expr.Range(), "Invalid params", "params must be an object such as { service = \"worker\" }.")
		return
	}
	given := ParamValues{}
	named := map[string]bool{}
	okAll := true
	for _, kv := range pairs {
		name := hcl.ExprAsKeyword(kv.Key)
		if name == "" {
			if k, d := kv.Key.Value(nil); !d.HasErrors() && k.Type() == cty.String && !k.IsNull() {
				name = k.AsString()
			}
		}
		named[name] = true
		p := j.Param(name)
		if p == nil {
			detail := fmt.Sprintf("Job %q declares no param %q.", j.Name, name)
			if s := closestParam(j, name); s != "" {
				detail += fmt.Sprintf(" Did you mean %q?", s)
			}
			l.errorf(kv.Key.Range(), "Undeclared param", detail)
			okAll = false
			continue
		}
		if p.Sensitive {
			l.errorf(kv.Key.Range(), "Sensitive param in params", fmt.Sprintf("param %q is sensitive: a value written here would be in the repository. Scheduled runs use its default, if any.", name))
			okAll = false
			continue
		}
		v, d := l.render.evaluate(kv.Value, l.scopes.in(l.static, kv.Value))
		l.diags = append(l.diags, d...)
		if d.HasErrors() {
			okAll = false
			continue
		}
		if !v.IsWhollyKnown() {
			l.errorf(kv.Value.Range(), "Secret not allowed here", "params cannot use env() or file().")
			okAll = false
			continue
		}
		cv, err := convert.Convert(v, p.Type.Type())
		if err != nil || cv.IsNull() {
			l.errorf(kv.Value.Range(), "Invalid param value", fmt.Sprintf("param %q is a %s.", name, p.Type))
			okAll = false
			continue
		}
		if msg := p.refuses(cv); msg != "" {
			l.errorf(kv.Value.Range(), "Invalid param value", fmt.Sprintf("param %q: %s.", name, msg))
			okAll = false
			continue
		}
		given[name] = cv
	}
	for _, p := range j.Params {
		if !named[p.Name] && p.Required() && !p.Sensitive {
			l.errorf(at.Expr.Range(), "Missing param", fmt.Sprintf("The schedule runs job %q without a value for param %q, which has no default; add %s = ... here.", j.Name, p.Name, p.Name))
			okAll = false
		}
		if p.Required() && p.Sensitive {
			l.errorf(p.DeclRange, "Scheduled run without a required param", fmt.Sprintf("The schedule cannot give sensitive param %q a value, and it has no default.", p.Name))
			okAll = false
		}
	}
	if okAll {
		j.ScheduleParams = given
	}
}
