package webui

import (
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/ripple-ops/ripple/definitions"
	"github.com/ripple-ops/ripple/engine"
	"github.com/ripple-ops/ripple/engine/httpapi"
)

// The job page's run form is generated from the job's params: a choice
// for allowed values, a text input carrying the regex as its pattern, a
// password input for a sensitive param, a checkbox for a bool, a host
// picker limited to the job's targets, and a required reason. It is
// prefilled from the page's URL, so that a link can open it ready to go:
//
//	/jobs/restart-app?host=web-01&param.service=worker
//
// (host repeated for several hosts; a list param's values repeated or
// comma-separated; a sensitive param is never prefilled). The alert
// rows' "Run runbook" link is such a URL.

// runForm is what the template needs to draw the run form.
type runForm struct {
	Params []formParam
	Hosts  []formOption
}

// formParam is one param's input.
type formParam struct {
	Name        string
	Type        definitions.ParamType
	Description string
	Required    bool
	Sensitive   bool
	// Input is the kind of control: "select", "multiselect", "checkbox",
	// "password", "number" or "text".
	Input   string
	Options []formOption // select, multiselect
	Value   string       // text, number: the prefilled value
	Checked bool         // checkbox
	// Regex is the param's regex as written, shown beside the input;
	// Pattern is the same check as an HTML pattern (which the browser
	// anchors at both ends).
	Regex   string
	Pattern string
}

type formOption struct {
	Value    string
	Selected bool
}

// newRunForm builds job j's run form over its target hosts, prefilled
// from q (the page's query).
func newRunForm(j *definitions.Job, targets []string, q url.Values) runForm {
	f := runForm{}
	picked := prefillList(q["host"])
	for _, h := range targets {
		f.Hosts = append(f.Hosts, formOption{Value: h, Selected: slices.Contains(picked, h)})
	}
	for _, p := range j.ParamSpecs() {
		fp := formParam{Name: p.Name, Type: p.Type, Description: p.Description, Required: p.Required, Sensitive: p.Sensitive, Regex: p.Regex}
		given, prefilled := q["param."+p.Name]
		if p.Sensitive {
			given, prefilled = nil, false // a secret never travels in a URL
		}
		def := ""
		if !p.Required {
			def = engine.ParamText(p.Default)
		}
		if p.Regex != "" {
			fp.Pattern = ".*(?:" + p.Regex + ").*"
		}
		switch {
		case p.Type == definitions.ParamBool:
			fp.Input = "checkbox"
			fp.Checked = def == "true"
			if prefilled {
				fp.Checked = given[len(given)-1] == "true"
			}
		case len(p.Allowed) > 0:
			fp.Input = "select"
			chosen := []string{def}
			if p.Type == definitions.ParamList {
				fp.Input = "multiselect"
				chosen = jsonList(p.Default)
			}
			if prefilled {
				chosen = prefillList(given)
			}
			for _, a := range p.Allowed {
				v := engine.ParamText(a)
				fp.Options = append(fp.Options, formOption{Value: v, Selected: slices.Contains(chosen, v)})
			}
		case p.Sensitive:
			fp.Input = "password"
		default:
			fp.Input = "text"
			if p.Type == definitions.ParamNumber {
				fp.Input = "number"
			}
			fp.Value = def
			if p.Type == definitions.ParamList {
				fp.Value = strings.Join(jsonList(p.Default), ",")
			}
			if prefilled {
				fp.Value = strings.Join(given, ",")
			}
		}
		f.Params = append(f.Params, fp)
	}
	return f
}

// prefillList splits repeated and comma-separated values.
func prefillList(vals []string) []string {
	var out []string
	for _, v := range vals {
		for s := range strings.SplitSeq(v, ",") {
			if s = strings.TrimSpace(s); s != "" {
				out = append(out, s)
			}
		}
	}
	return out
}

func jsonList(raw json.RawMessage) []string {
	var out []string
	_ = json.Unmarshal(raw, &out)
	return out
}

// formParams reads the run form's param values as the API takes them:
// a string per param (a list as its selected values), checked by the
// daemon. An empty field is not given (the param's default applies); a
// field for a param the job does not have is passed on, for the daemon to
// refuse by name.
func formParams(j *definitions.Job, form url.Values) map[string]json.RawMessage {
	out := map[string]json.RawMessage{}
	for key, vals := range form {
		name, ok := strings.CutPrefix(key, "param.")
		if !ok || len(vals) == 0 {
			continue
		}
		p := j.Param(name)
		var v any
		switch {
		case p != nil && p.Type == definitions.ParamBool:
			v = vals[len(vals)-1] // the hidden "false", then "true" when checked
		case p != nil && p.Type == definitions.ParamList && len(p.Allowed) > 0:
			v = prefillList(vals)
		default:
			s := strings.TrimSpace(vals[len(vals)-1])
			if p != nil && p.Sensitive {
				s = vals[len(vals)-1] // exactly as typed
			}
			if s == "" {
				continue
			}
			v = s
		}
		b, _ := json.Marshal(v)
		out[name] = b
	}
	return out
}

// startRun starts a run from the job page's form.
func (u *UI) startRun(w http.ResponseWriter, r *http.Request, who httpapi.Identity) {
	name := r.PathValue("job")
	if err := r.ParseForm(); err != nil {
		u.fail(w, r, http.StatusBadRequest, "read the form: "+err.Error())
		return
	}
	req := engine.JobRunRequest{Job: name, Actor: who.Name, Reason: formReason(r)}
	req.Hosts = append(req.Hosts, r.PostForm["host"]...)
	// The older form's one text field of hosts.
	req.Hosts = append(req.Hosts, formHosts(r)...)
	if defs := u.opts.Backend.Definitions(); defs != nil && defs.Jobs[name] != nil {
		req.Params = formParams(defs.Jobs[name], r.PostForm)
	}
	run, err := u.opts.Backend.StartRun(r.Context(), req)
	if err != nil {
		u.failErr(w, r, err)
		return
	}
	http.Redirect(w, r, "/runs/"+strconv.FormatInt(run.ID, 10), http.StatusSeeOther)
}

// execHost runs the host page's ad-hoc command on that host.
func (u *UI) execHost(w http.ResponseWriter, r *http.Request, who httpapi.Identity) {
	if u.opts.Exec == nil {
		u.fail(w, r, http.StatusNotImplemented, "this daemon runs no ad-hoc commands")
		return
	}
	req := engine.ExecRequest{Hosts: []string{r.PathValue("host")}, Command: r.PostFormValue("command"), Actor: who.Name, Reason: formReason(r)}
	if !u.execLimits(w, r, &req) {
		return
	}
	run, err := u.opts.Exec.Exec(r.Context(), req)
	if err != nil {
		u.failErr(w, r, err)
		return
	}
	http.Redirect(w, r, "/runs/"+strconv.FormatInt(run.ID, 10), http.StatusSeeOther)
}
