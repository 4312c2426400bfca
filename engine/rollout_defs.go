package engine

import (
	"errors"
	"fmt"
	"io/fs"
	"slices"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"

	"github.com/ripple-ops/ripple/definitions"
)

// This file is the rollout's only contact with definitions' evaluation:
// rendering steps and checks for a host, credentials, and the failure
// budget rule. The bodies are interim local versions, to be replaced by
// calls to the definitions package's renderers as they land.

// budgetExceeded reports whether failures in a wave of size hosts exceed b:
// strictly more than b.Count, or strictly more than b.Percent of size.
func budgetExceeded(b definitions.Budget, failures, size int) bool {
	if b.IsPercent {
		return float64(failures)*100 > b.Percent*float64(size)
	}
	return failures > b.Count
}

func renderStep(defs *definitions.Definitions, job *definitions.Job, st *definitions.Step, h *definitions.Host, src definitions.SecretSource) (*definitions.HostStep, error) {
	hs := &definitions.HostStep{Job: job.Name, Name: st.Name, Kind: st.Kind, Timeout: st.Timeout, Idempotent: st.Idempotent}
	ctx := &hcl.EvalContext{Variables: map[string]cty.Value{"host": hostValue(h)}}
	switch st.Kind {
	case definitions.StepRun:
		v, diags := st.Run.Value(ctx)
		if diags.HasErrors() {
			return nil, errors.New(diags.Error())
		}
		if v.IsNull() || !v.Type().Equals(cty.String) {
			return nil, fmt.Errorf("step %s: run is not a string", st.Name)
		}
		hs.Command = v.AsString()
	case definitions.StepScript:
		b, err := fs.ReadFile(defs.FS, st.Script)
		if err != nil {
			return nil, fmt.Errorf("step %s: %w", st.Name, err)
		}
		hs.Script = b
	case definitions.StepFile:
		b, err := fs.ReadFile(defs.FS, st.File.Source)
		if err != nil {
			return nil, fmt.Errorf("step %s: %w", st.Name, err)
		}
		hs.Content, hs.Destination, hs.Mode = b, st.File.Destination, st.File.Mode
		hs.Owner, hs.Group = st.File.Owner, st.File.Group
	}
	return hs, nil
}

func renderCheck(defs *definitions.Definitions, m *definitions.Monitor, h *definitions.Host, src definitions.SecretSource) (*definitions.HostCheck, error) {
	c := m.Check
	hc := &definitions.HostCheck{Monitor: m.Name, Kind: c.Kind, Timeout: m.Timeout, Port: c.Port, Status: c.Status, Address: h.Address}
	ctx := &hcl.EvalContext{Variables: map[string]cty.Value{"host": hostValue(h)}}
	eval := func(e hcl.Expression, dst *string) error {
		if e == nil {
			return nil
		}
		v, diags := e.Value(ctx)
		if diags.HasErrors() {
			return errors.New(diags.Error())
		}
		if !v.IsNull() && v.Type().Equals(cty.String) {
			*dst = v.AsString()
		}
		return nil
	}
	for _, p := range []struct {
		e   hcl.Expression
		dst *string
	}{{c.Run, &hc.Command}, {c.URL, &hc.URL}, {c.Address, &hc.Address}} {
		if err := eval(p.e, p.dst); err != nil {
			return nil, err
		}
	}
	return hc, nil
}

func hostValue(h *definitions.Host) cty.Value {
	return cty.ObjectVal(map[string]cty.Value{
		"name":    cty.StringVal(h.Name),
		"address": cty.StringVal(h.Address),
		"port":    cty.NumberIntVal(int64(h.Port)),
	})
}

// endpointFor resolves how to reach h: its credential and the private key
// passphrase, if any.
func endpointFor(defs *definitions.Definitions, h *definitions.Host, src definitions.SecretSource) (Endpoint, error) {
	ep := Endpoint{Host: h}
	if h.Transport == "local" {
		return ep, nil
	}
	name := h.Credential
	if name == "" {
		name = "default"
	}
	ep.Credential = defs.Credentials[name]
	return ep, nil
}

// selectHosts returns the hosts t matches.
func selectHosts(defs *definitions.Definitions, t definitions.Targets) []*definitions.Host {
	var out []*definitions.Host
	for _, h := range defs.Hosts {
		named := slices.Contains(t.Hosts, h.Name)
		for _, g := range h.Groups {
			named = named || slices.Contains(t.Groups, g)
		}
		if len(t.Hosts) == 0 && len(t.Groups) == 0 {
			named = len(t.Labels) > 0
		}
		for k, v := range t.Labels {
			named = named && h.Labels[k] == v
		}
		if named && !slices.Contains(t.Exclude, h.Name) {
			out = append(out, h)
		}
	}
	return out
}
