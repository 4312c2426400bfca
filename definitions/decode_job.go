package definitions

import (
	"fmt"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
)

var jobSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{
		{Name: "description"}, {Name: "schedule"}, {Name: "window"}, {Name: "timezone"},
		{Name: "drift_check"}, {Name: "self_heal"}, {Name: "manual"}, {Name: "params"},
	},
	Blocks: []hcl.BlockHeaderSchema{
		{Type: "targets"},
		{Type: "param", LabelNames: []string{"name"}},
		{Type: "step", LabelNames: []string{"name"}},
		{Type: "rollout"},
		{Type: "rollback"},
	},
}

var stepSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{{Name: "run"}, {Name: "script"}, {Name: "timeout"}, {Name: "idempotent"}, {Name: "check"}},
	Blocks:     []hcl.BlockHeaderSchema{{Type: "file"}},
}

var fileSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{
		{Name: "source", Required: true}, {Name: "destination", Required: true},
		{Name: "mode"}, {Name: "owner"}, {Name: "group"},
	},
}

var rolloutSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{
		{Name: "waves"}, {Name: "max_parallel"}, {Name: "max_failures"}, {Name: "pause"},
		{Name: "approve_after"}, {Name: "on_failure"},
	},
	Blocks: []hcl.BlockHeaderSchema{{Type: "health_gate"}},
}

var healthGateSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{
		{Name: "monitors", Required: true}, {Name: "min_healthy_time"}, {Name: "healthy_deadline"},
	},
}

var rollbackSchema = &hcl.BodySchema{
	Blocks: []hcl.BlockHeaderSchema{{Type: "step", LabelNames: []string{"name"}}},
}

// Job defaults.
const (
	DefaultStepTimeout     = 5 * time.Minute
	DefaultFileMode        = 0o644
	DefaultMaxParallel     = 10
	DefaultOnFailure       = "rollback"
	DefaultMinHealthyTime  = 10 * time.Second
	DefaultHealthyDeadline = 5 * time.Minute
	// MinDriftCheck is the shortest drift_check interval: a drift check
	// opens a session on every host of the job.
	MinDriftCheck = time.Minute
)

// DefaultWaves is the wave list of a rollout that names none: one canary
// host, then the rest at once.
func DefaultWaves() []WaveSize { return []WaveSize{{Count: 1}, {Percent: 100}} }

func (l *loader) decodeJob(b *hcl.Block) *Job {
	content, diags := b.Body.Content(jobSchema)
	l.diags = append(l.diags, diags...)
	a := content.Attributes
	j := &Job{Name: b.Labels[0], DeclRange: b.DefRange}
	blocks := content.Blocks.ByType()
	l.str(a, "description", &j.Description)
	l.boolean(a, "manual", &j.Manual)
	// Params first: the steps' expressions are checked against them.
	l.decodeParams(j, blocks["param"])
	l.jobCtx = evalContext(&secretRecorder{}, unknownHost(), l.render)
	l.jobCtx.Variables["param"] = j.paramObject(nil)
	j.Targets = l.decodeTargets(blocks["targets"], b)
	l.ref(a, "window", "window", &j.Window)
	loc := l.timezone(a, "timezone", &j.Timezone)
	j.Cron = l.cronAttr(a, "schedule", &j.Schedule, loc)
	if j.Timezone != "" && j.Schedule == "" && a["schedule"] == nil {
		l.errorf(a["timezone"].Expr.Range(), "Timezone without schedule", "timezone only applies to a job's schedule.")
	}
	l.duration(a, "drift_check", MinDriftCheck, &j.DriftCheck)
	l.boolean(a, "self_heal", &j.SelfHeal)
	if j.SelfHeal && j.DriftCheck == 0 && a["drift_check"] == nil {
		l.errorf(a["self_heal"].Expr.Range(), "self_heal without drift_check", "self_heal re-syncs drifted and out-of-sync hosts at most once per drift_check interval; set drift_check (such as \"1h\") to say how often.")
	}

	j.Steps = l.decodeSteps(j, blocks["step"])
	if len(blocks["step"]) == 0 {
		l.errorf(b.DefRange, "Missing step", "A job needs at least one step block.")
	}
	j.Rollout = l.decodeRollout(blocks["rollout"], b)
	if rb := blocks["rollback"]; len(rb) > 0 {
		for _, extra := range rb[1:] {
			l.errorf(extra.DefRange, "Duplicate rollback block", fmt.Sprintf("Only one rollback block is allowed; previous definition at %s:%d.", rb[0].DefRange.Filename, rb[0].DefRange.Start.Line))
		}
		rc, diags := rb[0].Body.Content(rollbackSchema)
		l.diags = append(l.diags, diags...)
		j.Rollback = l.decodeSteps(j, rc.Blocks)
		if len(rc.Blocks) == 0 {
			l.errorf(rb[0].DefRange, "Missing step", "A rollback block needs at least one step; leave it out to restore file step backups.")
		}
		if j.Rollback == nil {
			j.Rollback = []*Step{}
		}
	}
	l.checkJobParams(j, a)
	l.scheduleParams(j, a)
	return j
}

func (l *loader) decodeSteps(j *Job, blocks hcl.Blocks) []*Step {
	var steps []*Step
	seen := map[string]hcl.Range{}
	for _, sb := range blocks {
		name := sb.Labels[0]
		if prev, ok := seen[name]; ok {
			l.errorf(sb.DefRange, "Duplicate step", fmt.Sprintf("step %q was already defined in this block; previous definition at %s:%d.", name, prev.Filename, prev.Start.Line))
			continue
		}
		seen[name] = sb.DefRange
		if !validName(name) {
			l.errorf(sb.LabelRanges[0], "Invalid name", fmt.Sprintf("step name %q must start with a letter or digit and hold only letters, digits, '-', '_' and '.'.", name))
			continue
		}
		if s := l.decodeStep(j, sb); s != nil {
			steps = append(steps, s)
		}
	}
	return steps
}

func (l *loader) decodeStep(j *Job, b *hcl.Block) *Step {
	content, diags := b.Body.Content(stepSchema)
	l.diags = append(l.diags, diags...)
	a := content.Attributes
	s := &Step{Name: b.Labels[0], Timeout: DefaultStepTimeout, DeclRange: b.DefRange}
	l.duration(a, "timeout", time.Second, &s.Timeout)
	l.boolean(a, "idempotent", &s.Idempotent)
	files := content.Blocks.ByType()["file"]
	kinds := 0
	if a["run"] != nil {
		kinds++
		s.Kind = StepRun
		s.Run = l.jobExpr(j, a, "run")
	}
	if a["script"] != nil {
		kinds++
		s.Kind = StepScript
		var src string
		if l.str(a, "script", &src) {
			if real, _, ok := l.sourcePath(b.DefRange.Filename, src, a["script"].Expr.Range()); ok {
				s.Script = real
				addSource(j, real)
			}
		}
	}
	if len(files) > 0 {
		kinds++
		s.Kind = StepFile
		for _, extra := range files[1:] {
			l.errorf(extra.DefRange, "Duplicate file block", "A step has one file block; use one step per file.")
		}
		s.File = l.decodeFile(j, files[0])
	}
	if a["check"] != nil {
		if s.Kind == StepFile {
			l.errorf(a["check"].Expr.Range(), "check on a file step", "A file step's drift check compares the destination with the rendered file by itself; check is for run and script steps.")
		} else {
			s.Check = l.jobExpr(j, a, "check")
		}
	}
	switch {
	case kinds == 0:
		l.errorf(b.DefRange, "Missing step action", "A step needs one of run, script or a file block.")
	case kinds > 1:
		l.errorf(b.DefRange, "Conflicting step actions", "A step has exactly one of run, script or a file block; split it into several steps.")
	}
	return s
}

func addSource(j *Job, p string) {
	if !slices.Contains(j.SourceFiles, p) {
		j.SourceFiles = append(j.SourceFiles, p)
	}
}

func (l *loader) decodeFile(j *Job, b *hcl.Block) *FileStep {
	content, diags := b.Body.Content(fileSchema)
	l.diags = append(l.diags, diags...)
	a := content.Attributes
	f := &FileStep{Mode: DefaultFileMode}
	var src string
	if l.str(a, "source", &src) {
		rng := a["source"].Expr.Range()
		if real, data, ok := l.sourcePath(b.DefRange.Filename, src, rng); ok {
			f.Source = real
			addSource(j, real)
			if expr, ok := l.template(real, data, rng); ok {
				l.checkTemplateParams(j, real, expr)
			}
		}
	}
	if d := a["destination"]; d != nil && (usesHost(d.Expr) || usesParam(d.Expr)) {
		// A per-host (or per-run) path, such as
		// "/srv/${host.vars.site}/app.conf": rendered, and checked, for
		// each host of each run.
		f.DestinationExpr = l.jobExpr(j, a, "destination")
	} else if l.str(a, "destination", &f.Destination) {
		if !validDestination(f.Destination) {
			l.errorf(a["destination"].Expr.Range(), "Invalid destination", fmt.Sprintf("%q must be a clean absolute path on the host, such as \"/etc/nginx/nginx.conf\".", f.Destination))
		}
	}
	var mode string
	if l.str(a, "mode", &mode) {
		m, err := strconv.ParseUint(mode, 8, 32)
		if err != nil || m > 0o7777 || mode == "" {
			l.errorf(a["mode"].Expr.Range(), "Invalid file mode", fmt.Sprintf("%q must be an octal mode such as \"0644\".", mode))
		} else {
			f.Mode = uint32(m)
		}
	}
	l.str(a, "owner", &f.Owner)
	l.str(a, "group", &f.Group)
	return f
}

func (l *loader) decodeRollout(blocks hcl.Blocks, job *hcl.Block) Rollout {
	r := Rollout{
		Waves: DefaultWaves(), MaxParallel: DefaultMaxParallel, OnFailure: DefaultOnFailure,
		DeclRange: job.DefRange,
	}
	if len(blocks) == 0 {
		return r
	}
	for _, extra := range blocks[1:] {
		l.errorf(extra.DefRange, "Duplicate rollout block", fmt.Sprintf("Only one rollout block is allowed; previous definition at %s:%d.", blocks[0].DefRange.Filename, blocks[0].DefRange.Start.Line))
	}
	b := blocks[0]
	r.DeclRange = b.DefRange
	content, diags := b.Body.Content(rolloutSchema)
	l.diags = append(l.diags, diags...)
	a := content.Attributes
	if w, ok := l.waves(a); ok {
		r.Waves = w
	}
	l.integer(a, "max_parallel", 1, 100000, &r.MaxParallel)
	l.budget(a, &r.MaxFailures)
	l.duration(a, "pause", 0, &r.Pause)
	l.integer(a, "approve_after", 0, 1000, &r.ApproveAfter)
	l.oneOf(a, "on_failure", &r.OnFailure, "rollback", "halt")
	if gates := content.Blocks; len(gates) > 0 {
		for _, extra := range gates[1:] {
			l.errorf(extra.DefRange, "Duplicate health_gate block", "Only one health_gate block is allowed; list every monitor in it.")
		}
		r.HealthGate = l.decodeHealthGate(gates[0])
	}
	return r
}

func (l *loader) decodeHealthGate(b *hcl.Block) *HealthGate {
	content, diags := b.Body.Content(healthGateSchema)
	l.diags = append(l.diags, diags...)
	a := content.Attributes
	g := &HealthGate{MinHealthyTime: DefaultMinHealthyTime, HealthyDeadline: DefaultHealthyDeadline, DeclRange: b.DefRange}
	g.Monitors = l.refList(a, "monitors", "monitor")
	if a["monitors"] != nil && len(g.Monitors) == 0 {
		l.errorf(a["monitors"].Expr.Range(), "Empty health gate", "monitors must name at least one monitor.")
	}
	l.duration(a, "min_healthy_time", 0, &g.MinHealthyTime)
	l.duration(a, "healthy_deadline", time.Second, &g.HealthyDeadline)
	if g.MinHealthyTime >= g.HealthyDeadline {
		rng := b.DefRange
		if at := a["min_healthy_time"]; at != nil {
			rng = at.Expr.Range()
		} else if at := a["healthy_deadline"]; at != nil {
			rng = at.Expr.Range()
		}
		l.errorf(rng, "Health gate can never pass", fmt.Sprintf("min_healthy_time (%s) must be below healthy_deadline (%s): monitors must stay OK for min_healthy_time before the deadline.", g.MinHealthyTime, g.HealthyDeadline))
	}
	return g
}

// waves reads a wave list: positive counts and "N%" with 0 < N <= 100.
func (l *loader) waves(a hcl.Attributes) ([]WaveSize, bool) {
	attr, ok := a["waves"]
	if !ok {
		return nil, false
	}
	v, ok := l.value(attr, cty.DynamicPseudoType)
	if !ok {
		return nil, false
	}
	if !(v.Type().IsTupleType() || v.Type().IsListType()) || v.LengthInt() == 0 {
		l.errorf(attr.Expr.Range(), "Invalid wave list", "waves must be a non-empty list such as [1, \"10%\", \"100%\"].")
		return nil, false
	}
	elems, _ := hcl.ExprList(attr.Expr)
	var out []WaveSize
	okAll := true
	i := 0
	for it := v.ElementIterator(); it.Next(); i++ {
		_, e := it.Element()
		rng := attr.Expr.Range()
		if len(elems) == v.LengthInt() {
			rng = elems[i].Range()
		}
		w, ok := parseWave(e)
		if !ok {
			l.errorf(rng, "Invalid wave size", "Each wave is a host count of at least 1 or a percentage \"N%\" with 0 < N <= 100.")
			okAll = false
			continue
		}
		out = append(out, w)
	}
	return out, okAll
}

func parseWave(v cty.Value) (WaveSize, bool) {
	if v.IsNull() {
		return WaveSize{}, false
	}
	switch v.Type() {
	case cty.Number:
		n, ok := wholeNumber(v.AsBigFloat())
		return WaveSize{Count: n}, ok && n >= 1
	case cty.String:
		p, ok := parsePercent(v.AsString())
		return WaveSize{Percent: p}, ok && p > 0
	}
	return WaveSize{}, false
}

// parsePercent parses "N%" with 0 <= N <= 100.
func parsePercent(s string) (float64, bool) {
	num, ok := strings.CutSuffix(s, "%")
	if !ok || num == "" || strings.TrimSpace(num) != num {
		return 0, false
	}
	f, err := strconv.ParseFloat(num, 64)
	if err != nil || f < 0 || f > 100 || f != f {
		return 0, false
	}
	return f, true
}

// budget reads max_failures: a count >= 0 or "N%" with 0 <= N <= 100.
func (l *loader) budget(a hcl.Attributes, dst *Budget) {
	attr, ok := a["max_failures"]
	if !ok {
		return
	}
	v, ok := l.value(attr, cty.DynamicPseudoType)
	if !ok {
		return
	}
	switch v.Type() {
	case cty.Number:
		if n, ok := wholeNumber(v.AsBigFloat()); ok && n >= 0 {
			*dst = Budget{Count: n}
			return
		}
	case cty.String:
		if p, ok := parsePercent(v.AsString()); ok {
			*dst = Budget{Percent: p, IsPercent: true}
			return
		}
	}
	l.errorf(attr.Expr.Range(), "Invalid max_failures", "max_failures is a whole number of hosts (0 or more) or a percentage of the wave from \"0%\" to \"100%\".")
}

// validDestination reports whether p is a clean absolute file path.
func validDestination(p string) bool {
	return path.IsAbs(p) && path.Clean(p) == p && p != "/" && !strings.ContainsAny(p, "\x00\n")
}

// usesParam reports whether expr refers to the job's params.
func usesParam(expr hcl.Expression) bool {
	return len(paramRefs(expr)) > 0
}

// usesHost reports whether expr refers to the host object.
func usesHost(expr hcl.Expression) bool {
	for _, t := range expr.Variables() {
		if t.RootName() == "host" {
			return true
		}
	}
	return false
}
