package definitions

import (
	"fmt"
	"io/fs"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
)

// RenderStep evaluates step s of job for host h with the run's param
// values: the run command, the script's bytes (read from d.FS) and its
// param environment, or the file template rendered for h. params nil
// means the params' defaults; a step that reads a param without a value
// fails to render. src supplies env() and file(); with a nil src they are
// unknown and any step using them fails to render. HostStep.Secrets lists
// every value env() and file() returned and every sensitive param's
// value, so executors can redact them.
func (d *Definitions) RenderStep(job *Job, s *Step, h *Host, src SecretSource, params ParamValues) (*HostStep, hcl.Diagnostics) {
	if params == nil {
		params = job.defaultParams()
	}
	rec := &secretRecorder{src: src, protected: d.CredentialFiles()}
	for _, v := range job.secretTexts(params) {
		rec.record(v)
	}
	b := d.renderBudget()
	ctx := evalContext(rec, d.HostObject(h), b)
	ctx.Variables["param"] = job.paramObject(params)
	for _, expr := range []hcl.Expression{s.Run, s.Check, fileDest(s)} {
		if diags := missingParams(job, expr, params); diags.HasErrors() {
			return nil, diags
		}
	}
	sc := d.scopes()
	hs := &HostStep{
		Job:        job.Name,
		Name:       s.Name,
		Kind:       s.Kind,
		Timeout:    s.Timeout,
		Idempotent: s.Idempotent,
	}
	var diags hcl.Diagnostics
	switch s.Kind {
	case StepRun:
		if s.Run == nil {
			return nil, stepDiag(s, "The step has no run command.")
		}
		hs.Command, diags = evalString(b, s.Run, sc.in(ctx, s.Run))
	case StepScript:
		b, err := fs.ReadFile(d.FS, s.Script)
		if err != nil {
			return nil, stepDiag(s, fmt.Sprintf("Cannot read script: %v.", err))
		}
		hs.Script = b
		hs.Env = job.paramEnv(params)
	case StepFile:
		if s.File == nil {
			return nil, stepDiag(s, "The step has no file block.")
		}
		f := s.File
		hs.Destination, hs.Mode, hs.Owner, hs.Group = f.Destination, f.Mode, f.Owner, f.Group
		if f.DestinationExpr != nil {
			var dd hcl.Diagnostics
			if hs.Destination, dd = evalString(b, f.DestinationExpr, sc.in(ctx, f.DestinationExpr)); dd.HasErrors() {
				return nil, dd
			}
			if !validDestination(hs.Destination) {
				return nil, hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "Invalid destination",
					Detail: fmt.Sprintf("%q, the destination on host %s, must be a clean absolute path.", hs.Destination, h.Name), Subject: f.DestinationExpr.Range().Ptr()}}
			}
		}
		var content string
		content, diags = d.renderTemplate(b, f.Source, ctx, sc, job, params)
		hs.Content = []byte(content)
	default:
		return nil, stepDiag(s, fmt.Sprintf("Unknown step kind %q.", s.Kind))
	}
	if diags.HasErrors() {
		return nil, diags
	}
	if s.Check != nil {
		var cd hcl.Diagnostics
		hs.Check, cd = evalString(b, s.Check, sc.in(ctx, s.Check))
		if diags = append(diags, cd...); diags.HasErrors() {
			return nil, diags
		}
	}
	hs.Secrets = rec.values
	return hs, diags
}

// fileDest is a file step's per-host destination expression, nil for
// other steps.
func fileDest(s *Step) hcl.Expression {
	if s.File == nil {
		return nil
	}
	return s.File.DestinationExpr
}

// missingParams refuses expr when it reads a param of job that has no
// value in params (a required param the run did not give).
func missingParams(job *Job, expr hcl.Expression, params ParamValues) hcl.Diagnostics {
	if expr == nil {
		return nil
	}
	var diags hcl.Diagnostics
	for _, r := range paramRefs(expr) {
		if _, ok := params[r.name]; ok {
			continue
		}
		detail := fmt.Sprintf("param %q has no value in this run and no default.", r.name)
		if job.Param(r.name) == nil {
			detail = fmt.Sprintf("job %q declares no param %q.", job.Name, r.name)
		}
		rng := r.rng
		diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Missing param value", Detail: detail, Subject: &rng})
	}
	return diags
}

// defaultParams are the defaults of job's params (the required ones have
// none).
func (j *Job) defaultParams() ParamValues {
	out := ParamValues{}
	for _, p := range j.Params {
		if p.HasDefault {
			out[p.Name] = p.Default
		}
	}
	return out
}

func stepDiag(s *Step, detail string) hcl.Diagnostics {
	return hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "Cannot render step", Detail: detail, Subject: s.DeclRange.Ptr()}}
}

// renderTemplate reads and renders a file step source with the run's
// params, charging b; repofile() reads relative to the template (sc).
// Templates are parsed on each call: a Definitions value is never written
// after Load.
func (d *Definitions) renderTemplate(b *renderBudget, name string, ctx *hcl.EvalContext, sc *scopes, job *Job, params ParamValues) (string, hcl.Diagnostics) {
	_, src, err := readRepoFile(d.FS, name)
	if err != nil {
		return "", hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "Cannot read template", Detail: err.Error(), Subject: fileStart(name)}}
	}
	if diag := checkNesting(src, name, true); diag != nil {
		return "", hcl.Diagnostics{diag}
	}
	expr, diags := parseTemplate(src, name)
	if diags.HasErrors() {
		return "", diags
	}
	if diags := missingParams(job, expr, params); diags.HasErrors() {
		return "", diags
	}
	return evalString(b, expr, sc.in(ctx, expr))
}

// renderBudget is the budget of one rendering of d's definitions.
func (d *Definitions) renderBudget() *renderBudget {
	return newRenderBudget(d.limits.withDefaults().Render)
}

// parseTemplate parses a template file that checkNesting accepted, with
// its expressions charging the render budget.
func parseTemplate(src []byte, name string) (hclsyntax.Expression, hcl.Diagnostics) {
	expr, diags := hclsyntax.ParseTemplate(src, name, hcl.InitialPos)
	if expr != nil {
		limitExpressions(expr)
	}
	return expr, diags
}

// RenderCheck evaluates monitor m's check for host h. A tcp check without
// an address probes the host's address; an snmp check gets the host's SNMP
// profile with its secrets resolved from src.
func (d *Definitions) RenderCheck(m *Monitor, h *Host, src SecretSource) (*HostCheck, hcl.Diagnostics) {
	rec := &secretRecorder{src: src, protected: d.CredentialFiles()}
	b := d.renderBudget()
	ctx := evalContext(rec, d.HostObject(h), b)
	sc := d.scopes()
	c := &m.Check
	hc := &HostCheck{
		Monitor:   m.Name,
		Kind:      c.Kind,
		Timeout:   m.Timeout,
		Status:    c.Status,
		BodyMatch: c.BodyMatch,
		Insecure:  c.Insecure,
		Port:      c.Port,
		OIDs:      c.OIDs,
		Rate:      c.Rate,
		WarnAbove: c.WarnAbove,
		CritAbove: c.CritAbove,
		WarnBelow: c.WarnBelow,
		CritBelow: c.CritBelow,
	}
	var diags hcl.Diagnostics
	switch c.Kind {
	case CheckCommand:
		hc.Command, diags = evalRequired(b, c.Run, sc.in(ctx, c.Run), c)
	case CheckHTTP:
		hc.URL, diags = evalRequired(b, c.URL, sc.in(ctx, c.URL), c)
	case CheckTCP:
		hc.Address = h.Address
		if c.Address != nil {
			hc.Address, diags = evalString(b, c.Address, sc.in(ctx, c.Address))
		}
	case CheckSNMP:
		p := d.SNMP[h.SNMP]
		if p == nil {
			return nil, hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "Missing SNMP profile", Detail: fmt.Sprintf("Host %q has no SNMP profile %q.", h.Name, h.SNMP), Subject: c.DeclRange.Ptr()}}
		}
		hc.SNMP, diags = d.snmpAccess(p, h, rec, b)
	case CheckLog:
		hc.Log, diags = renderLogCheck(b, c, ctx, sc, h)
	case CheckTrap:
		t := c.Trap
		if t == nil {
			return nil, hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "Cannot render check", Detail: "The trap block has no trap.", Subject: c.DeclRange.Ptr()}}
		}
		hc.Trap = &HostTrap{OID: t.OID, State: t.State, ClearOID: t.ClearOID, ClearAfter: t.ClearAfter}
		if t.Message != nil {
			src, _ := d.sourceText(t.Message.Range())
			hc.Trap.Message = string(src)
		}
	default:
		return nil, hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "Unknown check kind", Detail: fmt.Sprintf("%q is not a check kind.", c.Kind), Subject: c.DeclRange.Ptr()}}
	}
	if diags.HasErrors() {
		return nil, diags
	}
	hc.Secrets = rec.values
	return hc, diags
}

func renderLogCheck(b *renderBudget, c *Check, ctx *hcl.EvalContext, sc *scopes, h *Host) (*HostLogCheck, hcl.Diagnostics) {
	lc := c.Log
	if lc == nil || lc.Path == nil {
		return nil, hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "Cannot render check", Detail: "The log check has no path.", Subject: c.DeclRange.Ptr()}}
	}
	out := &HostLogCheck{
		Pattern: lc.Pattern, Exclude: lc.Exclude, WarnCount: lc.WarnCount, CritCount: lc.CritCount,
		MaxLines: lc.MaxLines, MaxBytes: lc.MaxBytes, MissingOK: lc.MissingOK,
	}
	var diags hcl.Diagnostics
	for _, p := range []struct {
		name string
		expr hcl.Expression
		dst  *string
	}{{"path", lc.Path, &out.Path}, {"rotated", lc.Rotated, &out.Rotated}} {
		if p.expr == nil {
			continue
		}
		v, ds := evalString(b, p.expr, sc.in(ctx, p.expr))
		diags = append(diags, ds...)
		if ds.HasErrors() {
			return nil, diags
		}
		if !strings.HasPrefix(v, "/") {
			return nil, append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Relative path",
				Detail: fmt.Sprintf("%s %q on host %s must be an absolute path.", p.name, v, h.Name), Subject: p.expr.Range().Ptr()})
		}
		*p.dst = v
	}
	return out, diags
}

func evalRequired(b *renderBudget, expr hcl.Expression, ctx *hcl.EvalContext, c *Check) (string, hcl.Diagnostics) {
	if expr == nil {
		return "", hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "Cannot render check", Detail: "The check has no command or URL.", Subject: c.DeclRange.Ptr()}}
	}
	return evalString(b, expr, ctx)
}

func (d *Definitions) snmpAccess(p *SNMPProfile, h *Host, rec *secretRecorder, b *renderBudget) (*SNMPAccess, hcl.Diagnostics) {
	a := &SNMPAccess{
		Address: h.Address, Port: p.Port, Version: p.Version, User: p.User,
		AuthProtocol: p.AuthProtocol, PrivProtocol: p.PrivProtocol,
		Timeout: p.Timeout, Retries: p.Retries,
	}
	var diags hcl.Diagnostics
	for _, s := range []struct {
		secret *Secret
		dst    *string
	}{{p.Community, &a.Community}, {p.AuthPassphrase, &a.AuthPassphrase}, {p.PrivPassphrase, &a.PrivPassphrase}} {
		v, ds := resolve(s.secret, rec, b)
		diags = append(diags, ds...)
		*s.dst = v
	}
	return a, diags
}

// SNMPAccess returns h's SNMP profile with its secrets resolved from src,
// and the secret values, for reading the host's system group; nil when h
// has no profile.
func (d *Definitions) SNMPAccess(h *Host, src SecretSource) (*SNMPAccess, []string, hcl.Diagnostics) {
	p := d.SNMP[h.SNMP]
	if h.SNMP == "" || p == nil {
		return nil, nil, nil
	}
	rec := &secretRecorder{src: src, protected: d.CredentialFiles()}
	a, diags := d.snmpAccess(p, h, rec, d.renderBudget())
	return a, rec.values, diags
}

// ResolveSecret evaluates a daemon-side value with src. A nil secret is the
// empty string. With a nil src, a secret using env() or file() is an error.
func (d *Definitions) ResolveSecret(s *Secret, src SecretSource) (string, hcl.Diagnostics) {
	return resolve(s, &secretRecorder{src: src, protected: d.CredentialFiles()}, d.renderBudget())
}

func resolve(s *Secret, rec *secretRecorder, b *renderBudget) (string, hcl.Diagnostics) {
	if s == nil || s.Expr == nil {
		return "", nil
	}
	v, diags := evalString(b, s.Expr, evalContext(rec, cty.NilVal, b))
	if !diags.HasErrors() {
		rec.record(v)
	}
	return v, diags
}

// scopes binds repofile() to d's commit for one render.
func (d *Definitions) scopes() *scopes {
	if d.FS == nil {
		return nil
	}
	return &scopes{files: newRepoFiles(d.FS)}
}

// Credential returns the credential h logs in with, or nil when h uses the
// local transport or names a credential that is not defined.
func (d *Definitions) Credential(h *Host) *Credential {
	if h.Transport == "local" {
		return nil
	}
	return d.Credentials[h.Credential]
}
