package definitions

import (
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
)

var targetsSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{{Name: "hosts"}, {Name: "groups"}, {Name: "labels"}, {Name: "exclude"}},
}

var monitorSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{
		{Name: "interval"}, {Name: "timeout"}, {Name: "alert_after"}, {Name: "notify"},
		{Name: "window"}, {Name: "limits"}, {Name: "severity"}, {Name: "labels"},
		{Name: "runbook"}, {Name: "depends_on"}, {Name: "connectivity"}, {Name: "repeat_interval"},
	},
	Blocks: []hcl.BlockHeaderSchema{
		{Type: "targets"},
		{Type: "check", LabelNames: []string{"kind"}},
	},
}

// checkSchemas holds one schema per check kind.
var checkSchemas = map[CheckKind]*hcl.BodySchema{
	CheckCommand: {Attributes: []hcl.AttributeSchema{{Name: "run", Required: true}, {Name: "timeout"}}},
	CheckHTTP: {Attributes: []hcl.AttributeSchema{
		{Name: "url", Required: true}, {Name: "status"}, {Name: "body"}, {Name: "insecure"}, {Name: "timeout"},
	}},
	CheckTCP: {Attributes: []hcl.AttributeSchema{{Name: "port", Required: true}, {Name: "address"}, {Name: "timeout"}}},
	CheckSNMP: {Attributes: []hcl.AttributeSchema{
		{Name: "oid"}, {Name: "oids"}, {Name: "rate"}, {Name: "warn_above"}, {Name: "crit_above"},
		{Name: "warn_below"}, {Name: "crit_below"}, {Name: "timeout"},
	}},
	CheckLog: {Attributes: []hcl.AttributeSchema{
		{Name: "path", Required: true}, {Name: "pattern", Required: true}, {Name: "exclude"},
		{Name: "warn_count"}, {Name: "crit_count"}, {Name: "max_lines"}, {Name: "max_bytes"},
		{Name: "rotated"}, {Name: "missing_ok"}, {Name: "timeout"},
	}},
}

// checkKinds is the list of check kinds for messages.
const checkKinds = `"command", "http", "tcp", "snmp" or "log"`

// Monitor defaults.
const (
	DefaultInterval     = time.Minute
	DefaultCheckTimeout = 10 * time.Second
	DefaultAlertAfter   = 1
	DefaultHTTPStatus   = 200
	// DefaultRepeatInterval is Alertmanager's repeat_interval.
	DefaultRepeatInterval = 4 * time.Hour
)

func (l *loader) decodeTargets(blocks hcl.Blocks, parent *hcl.Block) Targets {
	var t Targets
	if len(blocks) == 0 {
		l.errorf(parent.DefRange, "Missing targets block", fmt.Sprintf("A %s needs a targets block saying which hosts it runs on.", parent.Type))
		return t
	}
	for _, extra := range blocks[1:] {
		l.errorf(extra.DefRange, "Duplicate targets block", fmt.Sprintf("Only one targets block is allowed; previous definition at %s:%d.", blocks[0].DefRange.Filename, blocks[0].DefRange.Start.Line))
	}
	b := blocks[0]
	content, diags := b.Body.Content(targetsSchema)
	l.diags = append(l.diags, diags...)
	a := content.Attributes
	t.DeclRange = b.DefRange
	t.Hosts = l.refList(a, "hosts", "host")
	t.Groups = l.refList(a, "groups", "target group")
	t.Labels = l.stringMap(a, "labels")
	t.Exclude = l.refList(a, "exclude", "host")
	if len(a) == 0 {
		l.errorf(b.DefRange, "Empty targets", "targets needs hosts, groups or labels.")
	}
	return t
}

func (l *loader) decodeMonitor(b *hcl.Block) *Monitor {
	content, diags := b.Body.Content(monitorSchema)
	l.diags = append(l.diags, diags...)
	a := content.Attributes
	m := &Monitor{
		Name: b.Labels[0], Interval: DefaultInterval, Timeout: DefaultCheckTimeout,
		AlertAfter: DefaultAlertAfter, Severity: SeverityCritical, RepeatInterval: DefaultRepeatInterval,
		DeclRange: b.DefRange,
	}
	blocks := content.Blocks.ByType()
	m.Targets = l.decodeTargets(blocks["targets"], b)
	l.duration(a, "interval", time.Second, &m.Interval)
	timeoutSet := l.duration(a, "timeout", time.Millisecond, &m.Timeout)
	l.integer(a, "alert_after", 1, 1000, &m.AlertAfter)
	m.Notify = l.refList(a, "notify", "notifier")
	l.ref(a, "window", "window", &m.Window)
	m.Limits = l.numberMap(a, "limits")
	l.decodeAlerting(a, m)

	checks := blocks["check"]
	if len(checks) == 0 {
		l.errorf(b.DefRange, "Missing check block", "A monitor needs one check block: check "+checkKinds+".")
		return m
	}
	for _, extra := range checks[1:] {
		l.errorf(extra.DefRange, "Duplicate check block", fmt.Sprintf("A monitor has exactly one check; previous definition at %s:%d.", checks[0].DefRange.Filename, checks[0].DefRange.Start.Line))
	}
	m.Check = l.decodeCheck(checks[0])
	if m.Check.Timeout > 0 {
		m.Timeout = m.Check.Timeout
	}
	if m.Timeout > m.Interval && (timeoutSet || m.Check.Timeout > 0) {
		rng := m.Check.DeclRange
		if timeoutSet {
			rng = a["timeout"].Expr.Range()
		}
		l.errorf(rng, "Timeout longer than interval", fmt.Sprintf("The check timeout (%s) must not exceed the interval (%s).", m.Timeout, m.Interval))
	}
	return m
}

// decodeAlerting reads what a monitor's alerts carry and when they are
// suppressed: severity, labels, runbook, depends_on, connectivity,
// repeat_interval. References are checked once everything is decoded
// (checkDependencies).
func (l *loader) decodeAlerting(a hcl.Attributes, m *Monitor) {
	l.oneOf(a, "severity", &m.Severity, SeverityCritical, SeverityWarning, SeverityInfo)
	m.Labels = l.stringMap(a, "labels")
	for _, k := range slices.Sorted(maps.Keys(m.Labels)) {
		if !labelNameRE.MatchString(k) {
			l.errorf(a["labels"].Expr.Range(), "Invalid label name", fmt.Sprintf("Label %q must start with a letter or '_' and hold only letters, digits and '_' (as Prometheus and Alertmanager labels do).", k))
		}
	}
	if l.str(a, "runbook", &m.Runbook) {
		m.runbookRange = a["runbook"].Expr.Range()
		l.refs = append(l.refs, reference{kind: "job", name: m.Runbook, rng: m.runbookRange, extra: " A runbook names a job of the ops repo."})
	}
	m.DependsOn = l.refList(a, "depends_on", "monitor")
	m.dependsOnRanges = elementRanges(a["depends_on"], len(m.DependsOn))
	for i, d := range m.DependsOn {
		if d == m.Name {
			l.errorf(m.dependsOnRanges[i], "Dependency cycle", fmt.Sprintf("Monitor %q cannot depend on itself.", m.Name))
		}
	}
	l.boolean(a, "connectivity", &m.Connectivity)
	l.duration(a, "repeat_interval", 0, &m.RepeatInterval)
	if m.RepeatInterval > 0 && m.RepeatInterval < time.Minute {
		// Tests and demos may repeat fast; a real pager should not.
		l.warnf(a["repeat_interval"].Expr.Range(), "Short repeat interval", fmt.Sprintf("repeat_interval %s re-sends a firing alert more than once a minute.", m.RepeatInterval))
	}
}

// labelNameRE is a Prometheus label name.
var labelNameRE = regexp.MustCompile(`^[a-zA-Z_][a-zA-Z0-9_]*$`)

// elementRanges are the ranges of the n elements of a list attribute, or
// the attribute's range n times when its elements cannot be told apart.
func elementRanges(a *hcl.Attribute, n int) []hcl.Range {
	if a == nil || n == 0 {
		return nil
	}
	out := make([]hcl.Range, n)
	elems, _ := hcl.ExprList(a.Expr)
	for i := range out {
		out[i] = a.Expr.Range()
		if len(elems) == n {
			out[i] = elems[i].Range()
		}
	}
	return out
}

func (l *loader) decodeCheck(b *hcl.Block) Check {
	c := Check{Kind: CheckKind(b.Labels[0]), DeclRange: b.DefRange}
	schema, ok := checkSchemas[c.Kind]
	if !ok {
		rng := b.DefRange
		if len(b.LabelRanges) > 0 {
			rng = b.LabelRanges[0]
		}
		l.errorf(rng, "Unknown check kind", fmt.Sprintf("%q is not a check kind; use %s.", b.Labels[0], checkKinds))
		return c
	}
	content, diags := b.Body.Content(schema)
	l.diags = append(l.diags, diags...)
	a := content.Attributes
	l.duration(a, "timeout", time.Millisecond, &c.Timeout)
	switch c.Kind {
	case CheckCommand:
		c.Run = l.hostExpr(a, "run")
	case CheckHTTP:
		c.URL = l.hostExpr(a, "url")
		c.Status = DefaultHTTPStatus
		l.integer(a, "status", 100, 599, &c.Status)
		if l.str(a, "body", &c.BodyMatch) {
			if _, err := regexp.Compile(c.BodyMatch); err != nil {
				l.errorf(a["body"].Expr.Range(), "Invalid regular expression", fmt.Sprintf("body: %v.", err))
			}
		}
		l.boolean(a, "insecure", &c.Insecure)
	case CheckTCP:
		l.integer(a, "port", 1, 65535, &c.Port)
		c.Address = l.hostExpr(a, "address")
	case CheckSNMP:
		l.decodeSNMPCheck(b, a, &c)
	case CheckLog:
		c.Log = l.decodeLogCheck(a)
	}
	return c
}

// decodeLogCheck decodes the attributes of a check "log" block.
func (l *loader) decodeLogCheck(a hcl.Attributes) *LogCheck {
	lc := &LogCheck{MaxLines: DefaultLogMaxLines, MaxBytes: DefaultLogMaxBytes}
	lc.Path = l.hostExpr(a, "path")
	lc.Rotated = l.hostExpr(a, "rotated")
	for _, p := range []struct {
		name string
		expr hcl.Expression
	}{{"path", lc.Path}, {"rotated", lc.Rotated}} {
		if p.expr == nil {
			continue
		}
		// A literal path is checked now; one using host values when it
		// is rendered for each host.
		if v, diags := p.expr.Value(l.scopes.in(l.perHost, p.expr)); !diags.HasErrors() && v.IsWhollyKnown() && v.Type() == cty.String && !strings.HasPrefix(v.AsString(), "/") {
			l.errorf(p.expr.Range(), "Relative path", fmt.Sprintf("%s %q must be an absolute path on the host.", p.name, v.AsString()))
		}
	}
	for _, re := range []struct {
		name string
		dst  *string
	}{{"pattern", &lc.Pattern}, {"exclude", &lc.Exclude}} {
		if !l.str(a, re.name, re.dst) {
			continue
		}
		if _, err := regexp.Compile(*re.dst); err != nil {
			l.errorf(a[re.name].Expr.Range(), "Invalid regular expression", fmt.Sprintf("%s: %v.", re.name, err))
		} else if re.name == "pattern" && *re.dst == "" {
			l.errorf(a[re.name].Expr.Range(), "Empty pattern", "pattern must not be empty: it would match every line.")
		}
	}
	warnSet := l.integer(a, "warn_count", 1, 1<<30, &lc.WarnCount)
	critSet := l.integer(a, "crit_count", 1, 1<<30, &lc.CritCount)
	if warnSet && critSet && lc.WarnCount > lc.CritCount {
		l.errorf(a["warn_count"].Expr.Range(), "Thresholds out of order", "warn_count must not be above crit_count.")
	}
	if a["warn_count"] == nil && a["crit_count"] == nil {
		lc.CritCount = 1
	}
	l.integer(a, "max_lines", 0, 1000, &lc.MaxLines)
	maxBytes := int(lc.MaxBytes)
	if l.integer(a, "max_bytes", 1024, MaxLogMaxBytes, &maxBytes) {
		lc.MaxBytes = int64(maxBytes)
	}
	l.boolean(a, "missing_ok", &lc.MissingOK)
	return lc
}

func (l *loader) decodeSNMPCheck(b *hcl.Block, a hcl.Attributes, c *Check) {
	var oid string
	if l.str(a, "oid", &oid) {
		c.OIDs = []string{oid}
	}
	oids := l.strings(a, "oids")
	c.OIDs = append(c.OIDs, oids...)
	if a["oid"] == nil && a["oids"] == nil {
		l.errorf(b.Body.MissingItemRange(), "Missing required argument", "An snmp check needs oid or oids.")
	}
	for i, o := range c.OIDs {
		if validOID(o) {
			continue
		}
		attr := a["oids"]
		if oid != "" && i == 0 {
			attr = a["oid"]
		}
		l.errorf(attr.Expr.Range(), "Invalid OID", fmt.Sprintf("%q is not a numeric OID such as \"1.3.6.1.2.1.1.3.0\".", o))
	}
	l.boolean(a, "rate", &c.Rate)
	c.WarnAbove = l.float(a, "warn_above")
	c.CritAbove = l.float(a, "crit_above")
	c.WarnBelow = l.float(a, "warn_below")
	c.CritBelow = l.float(a, "crit_below")
	if c.WarnAbove != nil && c.CritAbove != nil && *c.WarnAbove > *c.CritAbove {
		l.errorf(a["warn_above"].Expr.Range(), "Thresholds out of order", "warn_above must not be above crit_above.")
	}
	if c.WarnBelow != nil && c.CritBelow != nil && *c.WarnBelow < *c.CritBelow {
		l.errorf(a["warn_below"].Expr.Range(), "Thresholds out of order", "warn_below must not be below crit_below.")
	}
}

// validOID accepts dotted decimal OIDs, with an optional leading dot.
func validOID(s string) bool {
	s = strings.TrimPrefix(s, ".")
	if s == "" {
		return false
	}
	parts := strings.Split(s, ".")
	if len(parts) < 2 || len(parts) > 128 {
		return false
	}
	for _, p := range parts {
		if p == "" || len(p) > 10 {
			return false
		}
		for i := 0; i < len(p); i++ {
			if p[i] < '0' || p[i] > '9' {
				return false
			}
		}
	}
	return true
}
