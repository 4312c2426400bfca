package definitions

import (
	"cmp"
	"fmt"
	"io/fs"
	"maps"
	"runtime"
	"slices"
	"sync"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
)

// rootSchema lists the top-level blocks of an ops repo. Notifier blocks
// never reach it: they may have one label or two (see splitNotifiers),
// which a schema cannot say. The entry stays so that a misspelt block type
// such as "notifer" is still answered with "Did you mean "notifier"?".
var rootSchema = &hcl.BodySchema{
	Blocks: []hcl.BlockHeaderSchema{
		{Type: "host", LabelNames: []string{"name"}},
		{Type: "hosts", LabelNames: []string{"name"}},
		{Type: "group", LabelNames: []string{"name"}},
		{Type: "credential", LabelNames: []string{"name"}},
		{Type: "snmp", LabelNames: []string{"name"}},
		{Type: "window", LabelNames: []string{"name"}},
		{Type: "notifier", LabelNames: []string{"kind", "name"}},
		{Type: "monitor", LabelNames: []string{"name"}},
		{Type: "trap", LabelNames: []string{"name"}},
		{Type: "job", LabelNames: []string{"name"}},
	},
}

// loader is the state of one Load call.
type loader struct {
	fsys   fs.FS
	cache  *Cache // nil: parse every file
	gen    int    // generation of this load in cache
	limits Limits // with defaults filled in
	// bytes counts what the load has read toward limits.Bytes.
	bytes int64
	defs  *Definitions
	diags hcl.Diagnostics
	// render is the render budget of every evaluation of the load.
	render *renderBudget
	// static evaluates attributes that are neither per host nor secrets:
	// only functions, with env() and file() unknown.
	static *hcl.EvalContext
	// perHost type-checks per-host expressions against an unknown host.
	perHost *hcl.EvalContext
	// perTemplate type-checks file templates, which any job may share:
	// an unknown host, and param as any value (each job that renders a
	// template checks its params with checkTemplateParams).
	perTemplate *hcl.EvalContext
	// jobCtx type-checks the step expressions of the job being decoded:
	// an unknown host and the job's params, unknown of their types.
	jobCtx *hcl.EvalContext
	// repo reads the data files repofile() names, for every goroutine of
	// this load; scopes are this goroutine's contexts per directory.
	repo   *repoFiles
	scopes *scopes
	// lines holds the line starts of data files that diagnostics point
	// into.
	lines map[string][]int
	// hostsFailed is set when a hosts block's for_each had errors.
	hostsFailed bool
	// generatedBy says, by host name, which hosts block made a host.
	generatedBy map[string]string
	// first remembers the first definition of each "kind name".
	first     map[string]hcl.Range
	refs      []reference
	sources   map[string]cachedSource
	templates map[string]hcl.Expression
	// templateFailed marks templates whose own check reported an error.
	templateFailed map[string]bool
	locations      map[string]*time.Location
	// selected caches the hosts of each job's and monitor's targets for
	// the checks after decoding.
	selected map[*Targets][]*Host

	// Follow-on diagnostics (see followon.go): incomplete is set when a
	// file has a syntax error or was not parsed; syntax holds the
	// diagnostics of parsing; damaged the ranges of top-level blocks
	// holding a syntax error; written the (type, name) of every top-level
	// block, built when first needed.
	incomplete bool
	syntax     map[*hcl.Diagnostic]bool
	damaged    []hcl.Range
	written    map[[2]string]bool
}

// reference is a name used by one block that another block must define.
type reference struct {
	kind  string // block type: "group", "credential", "host", ...
	name  string
	rng   hcl.Range
	extra string // appended to the detail
}

// Load reads every *.hcl file under the root of fsys (dot-folders skipped),
// decodes and validates the definitions, and returns them with all
// diagnostics, sorted by file and position. commit is recorded as is.
// limits bound the work (a zero Limits means the defaults); a load over a
// limit stops there with one error naming it, and the definitions keep
// the limits for their renderings.
//
// Load always returns a non-nil *Definitions; when diags has errors it is
// partial and must not be acted on. Load reads nothing but fsys.
func Load(fsys fs.FS, commit string, limits Limits) (*Definitions, hcl.Diagnostics) {
	return load(fsys, commit, limits, nil, 0)
}

// load is Load, taking parsed files from cache (nil for none) as
// generation gen.
func load(fsys fs.FS, commit string, limits Limits, cache *Cache, gen int) (*Definitions, hcl.Diagnostics) {
	limits = limits.withDefaults()
	l := &loader{
		fsys:   fsys,
		cache:  cache,
		gen:    gen,
		limits: limits,
		defs: &Definitions{
			Commit:      commit,
			Hosts:       map[string]*Host{},
			Groups:      map[string]*Group{},
			Credentials: map[string]*Credential{},
			SNMP:        map[string]*SNMPProfile{},
			Windows:     map[string]*Window{},
			Notifiers:   map[string]*Notifier{},
			Monitors:    map[string]*Monitor{},
			Jobs:        map[string]*Job{},
			Files:       map[string]*hcl.File{},
			FS:          fsys,
			limits:      limits,
		},
		first:          map[string]hcl.Range{},
		sources:        map[string]cachedSource{},
		templates:      map[string]hcl.Expression{},
		templateFailed: map[string]bool{},
		locations:      map[string]*time.Location{},
	}
	l.repo = newRepoFiles(fsys)
	l.scopes = &scopes{files: l.repo}
	// All of the load's expressions share one render budget.
	l.render = newRenderBudget(limits.Render)
	l.static = evalContext(&secretRecorder{}, cty.NilVal, l.render)
	l.perHost = evalContext(&secretRecorder{}, unknownHost(), l.render)
	l.perTemplate = evalContext(&secretRecorder{}, unknownHost(), l.render)
	l.perTemplate.Variables["param"] = cty.DynamicVal

	parsed, ok := l.parseFiles()
	if !ok {
		// Over a limit: nothing is decoded.
		sortDiagnostics(l.diags)
		return l.defs, l.diags
	}
	files, notifiers := splitNotifiers(parsed)
	content, diags := hcl.MergeFiles(files).Content(rootSchema)
	l.diags = append(l.diags, diags...)
	content.Blocks = append(content.Blocks, l.notifierBlocks(notifiers)...)

	// Blocks others refer to first, so checks that need them can run.
	order := []string{"group", "credential", "snmp", "window", "notifier", "host", "monitor", "trap", "job"}
	for _, typ := range order {
		var blocks hcl.Blocks
		for _, b := range content.Blocks {
			if b.Type == typ || typ == "host" && b.Type == "hosts" {
				blocks = append(blocks, b)
			}
		}
		if typ == "host" {
			l.decodeHosts(blocks)
			continue
		}
		for _, b := range blocks {
			l.decodeBlock(b)
		}
	}
	l.defs.DataFiles = slices.Sorted(maps.Keys(l.repo.files()))
	l.defs.index = buildIndex(l.defs.Hosts)
	if !l.incomplete {
		// Checks across blocks; see followon.go for why they wait for
		// the syntax errors to be fixed.
		l.checkReferences()
		if l.checkTargets() {
			l.checkDependencies()
			l.checkHostVars()
		}
	}
	l.dropFollowOn()
	sortDiagnostics(l.diags)
	return l.defs, l.diags
}

// decodeHosts decodes host blocks and the hosts that hosts blocks
// generate, the bulk of a large inventory, on up to GOMAXPROCS goroutines.
// Names are checked first, in order, so duplicates are reported against
// the first definition; each worker then decodes with its own diagnostics
// and references, merged back in order.
func (l *loader) decodeHosts(blocks hcl.Blocks) {
	type unit struct {
		block *hcl.Block     // a host block
		gen   *generatedHost // or a generated host
	}
	var accepted []unit
	for _, b := range blocks {
		if b.Type == "host" {
			if l.checkName(b) && l.unique(b.Type, b.Labels[0], b.DefRange) {
				accepted = append(accepted, unit{block: b})
			}
			continue
		}
		if !l.checkName(b) || !l.unique("hosts", b.Labels[0], b.DefRange) {
			continue
		}
		for _, g := range l.expandHosts(b, l.limits.Hosts-len(accepted)) {
			if l.checkGeneratedName(g) {
				accepted = append(accepted, unit{gen: g})
			}
		}
	}
	workers := min(runtime.GOMAXPROCS(0), len(accepted)/256+1)
	parts := make([]*loader, workers)
	hosts := make([]*Host, len(accepted))
	// genDiags holds each generated host's diagnostics, to point them at
	// its data row once the workers are done.
	genDiags := make([]hcl.Diagnostics, len(accepted))
	var wg sync.WaitGroup
	for w := range workers {
		part := &loader{fsys: l.fsys, static: l.static, perHost: l.perHost, render: l.render, limits: l.limits, repo: l.repo, scopes: &scopes{files: l.repo}}
		parts[w] = part
		wg.Go(func() {
			for i := w; i < len(accepted); i += workers {
				u := accepted[i]
				if u.gen == nil {
					hosts[i] = part.decodeHostCached(l.cache, l.gen, u.block)
					continue
				}
				gl := &loader{fsys: l.fsys, static: u.gen.ctx, perHost: l.perHost, repo: l.repo}
				hosts[i] = gl.decodeHostAttrs(u.gen.name, u.gen.attrs, u.gen.place, u.gen.block.Body.MissingItemRange())
				genDiags[i] = gl.diags
				part.refs = append(part.refs, gl.refs...)
			}
		})
	}
	wg.Wait()
	for _, part := range parts {
		l.diags = append(l.diags, part.diags...)
		l.refs = append(l.refs, part.refs...)
	}
	var gen hcl.Diagnostics
	for i, ds := range genDiags {
		for _, d := range ds {
			gen = append(gen, l.relocateElement(d, accepted[i].gen))
		}
	}
	l.diags = append(l.diags, dedupDiagnostics(gen)...)
	for _, h := range hosts {
		if h != nil {
			l.defs.Hosts[h.Name] = h
		}
	}
}

// checkGeneratedName checks a generated host's name and that no other host
// has it, naming both places.
func (l *loader) checkGeneratedName(g *generatedHost) bool {
	if !validName(g.name) {
		l.errorf(g.place, "Invalid name", fmt.Sprintf("host name %q (%s) must start with a letter or digit and hold only letters, digits, '-', '_' and '.' (at most 128 characters).", g.name, g.describe()))
		return false
	}
	if prev, ok := l.first["host "+g.name]; ok {
		l.errorf(g.place, "Duplicate host", fmt.Sprintf("%s: host %q was already defined at %s:%d%s.", g.describe(), g.name, prev.Filename, prev.Start.Line, l.generatedBy[g.name]))
		return false
	}
	l.first["host "+g.name] = g.place
	if l.generatedBy == nil {
		l.generatedBy = map[string]string{}
	}
	l.generatedBy[g.name] = fmt.Sprintf(" (from hosts %q at %s:%d)", g.block.Labels[0], g.block.DefRange.Filename, g.block.DefRange.Start.Line)
	return true
}

// decodeHostCached is decodeHost through the cache: a host block of a file
// that another load parsed too (the same syntax, shared by the cache)
// decodes to the same Host, which depends on nothing but the block, so it
// is decoded once, with its diagnostics and references replayed.
func (l *loader) decodeHostCached(cache *Cache, gen int, b *hcl.Block) *Host {
	body, ok := b.Body.(*hclsyntax.Body)
	if cache == nil || !ok {
		return l.decodeHost(b)
	}
	if d, ok := cache.host(body, gen); ok {
		l.diags = append(l.diags, d.diags...)
		l.refs = append(l.refs, d.refs...)
		return d.host
	}
	d0, r0 := len(l.diags), len(l.refs)
	h := l.decodeHost(b)
	cache.putHost(body, gen, decodedHost{host: h, diags: slices.Clone(l.diags[d0:]), refs: slices.Clone(l.refs[r0:])})
	return h
}

func (l *loader) decodeBlock(b *hcl.Block) {
	name, _ := blockName(b)
	rng := b.DefRange
	kind := b.Type
	if kind == "trap" {
		kind = "monitor" // one namespace: a trap block is a monitor
	}
	if !l.checkName(b) || !l.unique(kind, name, rng) {
		return
	}
	switch b.Type {
	case "host":
		if h := l.decodeHost(b); h != nil {
			l.defs.Hosts[name] = h
		}
	case "group":
		if g := l.decodeGroup(b); g != nil {
			l.defs.Groups[name] = g
		}
	case "credential":
		if c := l.decodeCredential(b); c != nil {
			l.defs.Credentials[name] = c
		}
	case "snmp":
		if p := l.decodeSNMP(b); p != nil {
			l.defs.SNMP[name] = p
		}
	case "window":
		if w := l.decodeWindow(b); w != nil {
			l.defs.Windows[name] = w
		}
	case "notifier":
		if n := l.decodeNotifier(b); n != nil {
			l.defs.Notifiers[name] = n
		}
	case "monitor":
		if m := l.decodeMonitor(b); m != nil {
			l.defs.Monitors[name] = m
		}
	case "trap":
		if m := l.decodeTrap(b); m != nil {
			l.defs.Monitors[name] = m
		}
	case "job":
		if j := l.decodeJob(b); j != nil {
			l.defs.Jobs[name] = j
		}
	}
}

// blockName returns the name of a top-level block and its range: its last
// label, as in `notifier "webhook" "ops-chat"`, where the kind comes first.
func blockName(b *hcl.Block) (string, hcl.Range) {
	i := len(b.Labels) - 1
	if i < len(b.LabelRanges) {
		return b.Labels[i], b.LabelRanges[i]
	}
	return b.Labels[i], b.DefRange
}

// checkName refuses names that would be unsafe in URLs, commit status
// contexts and log fields.
func (l *loader) checkName(b *hcl.Block) bool {
	name, rng := blockName(b)
	if validName(name) {
		return true
	}
	l.errorf(rng, "Invalid name", fmt.Sprintf("%s name %q must start with a letter or digit and hold only letters, digits, '-', '_' and '.' (at most 128 characters).", b.Type, name))
	return false
}

func validName(s string) bool {
	if s == "" || len(s) > 128 {
		return false
	}
	for i, r := range s {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9':
		case i > 0 && (r == '-' || r == '_' || r == '.'):
		default:
			return false
		}
	}
	return true
}

// unique records the first definition of kind/name and reports any later one.
func (l *loader) unique(kind, name string, rng hcl.Range) bool {
	key := kind + " " + name
	if prev, ok := l.first[key]; ok {
		what, by := kind, ""
		switch kind {
		case "monitor":
			what = "monitor or trap" // trap blocks are monitors
		case "host":
			by = l.generatedBy[name]
		}
		l.errorf(rng, "Duplicate "+kind, fmt.Sprintf("%s %q was already defined; previous definition at %s:%d%s.", what, name, prev.Filename, prev.Start.Line, by))
		return false
	}
	l.first[key] = rng
	return true
}

func (l *loader) errorf(rng hcl.Range, summary, detail string) {
	l.diags = append(l.diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: summary, Detail: detail, Subject: rng.Ptr()})
}

func (l *loader) warnf(rng hcl.Range, summary, detail string) {
	l.diags = append(l.diags, &hcl.Diagnostic{Severity: hcl.DiagWarning, Summary: summary, Detail: detail, Subject: rng.Ptr()})
}

// sortDiagnostics orders diagnostics by file, then position; diagnostics
// without a place come first.
func sortDiagnostics(diags hcl.Diagnostics) {
	slices.SortStableFunc(diags, func(a, b *hcl.Diagnostic) int {
		switch {
		case a.Subject == nil && b.Subject == nil:
			return 0
		case a.Subject == nil:
			return -1
		case b.Subject == nil:
			return 1
		}
		if c := cmp.Compare(a.Subject.Filename, b.Subject.Filename); c != 0 {
			return c
		}
		if c := cmp.Compare(a.Subject.Start.Line, b.Subject.Start.Line); c != 0 {
			return c
		}
		return cmp.Compare(a.Subject.Start.Byte, b.Subject.Start.Byte)
	})
}

// template parses a file step source once per Load.
func (l *loader) template(real string, src []byte, rng hcl.Range) (hcl.Expression, bool) {
	if e, ok := l.templates[real]; ok {
		return e, e != nil
	}
	l.templates[real] = nil
	l.defs.Files[real] = &hcl.File{Bytes: src}
	if d := checkNesting(src, real, true); d != nil {
		l.diags = append(l.diags, d)
		return nil, false
	}
	expr, diags := parseTemplate(src, real)
	l.diags = append(l.diags, diags...)
	if diags.HasErrors() {
		return nil, false
	}
	n := len(l.diags)
	l.checkExprIn(expr, l.perTemplate)
	l.templateFailed[real] = l.diags[n:].HasErrors()
	l.templates[real] = expr
	return expr, true
}

// checkTemplateParams checks the params a file step's template reads
// against job j: each must be declared, and of a type the template can
// use. A template whose own check failed is not checked again.
func (l *loader) checkTemplateParams(j *Job, real string, expr hcl.Expression) {
	if !usesParam(expr) || l.templateFailed[real] {
		return
	}
	if l.checkParamRefs(j, expr, fmt.Sprintf(" (template %s is rendered by it)", real)) {
		l.checkExprIn(expr, l.jobCtx)
	}
}
