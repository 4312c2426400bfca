package engine

import (
	"errors"
	"fmt"

	"github.com/hashicorp/hcl/v2"

	"github.com/ripple-ops/ripple/definitions"
)

// This file is the rollout's contact with definitions' evaluation:
// rendering steps and checks for a host, credentials, and the failure
// budget rule. Diagnostics become plain errors here; they end up in the
// journal and the run's error, so they must read well on one line.

// budgetExceeded reports whether failures in a wave of size hosts exceed b
// (strictly; see definitions.Budget.Exceeded).
func budgetExceeded(b definitions.Budget, failures, size int) bool {
	return b.Exceeded(failures, size)
}

func renderStep(defs *definitions.Definitions, job *definitions.Job, st *definitions.Step, h *definitions.Host, src definitions.SecretSource) (*definitions.HostStep, error) {
	hs, diags := defs.RenderStep(job, st, h, src)
	if diags.HasErrors() {
		return nil, diagError(diags)
	}
	return hs, nil
}

func renderCheck(defs *definitions.Definitions, m *definitions.Monitor, h *definitions.Host, src definitions.SecretSource) (*definitions.HostCheck, error) {
	hc, diags := defs.RenderCheck(m, h, src)
	if diags.HasErrors() {
		return nil, diagError(diags)
	}
	return hc, nil
}

// selectHosts returns the hosts t matches.
func selectHosts(defs *definitions.Definitions, t definitions.Targets) []*definitions.Host {
	return defs.Select(t)
}

// endpointFor resolves how to reach h: its credential and the private key
// passphrase, if any.
func endpointFor(defs *definitions.Definitions, h *definitions.Host, src definitions.SecretSource) (Endpoint, error) {
	ep := Endpoint{Host: h, Credential: defs.Credential(h)}
	if h.Transport != "local" && ep.Credential == nil {
		return ep, fmt.Errorf("host %s: credential %q is not defined", h.Name, h.Credential)
	}
	if ep.Credential != nil && ep.Credential.Passphrase != nil {
		p, diags := defs.ResolveSecret(ep.Credential.Passphrase, src)
		if diags.HasErrors() {
			return ep, fmt.Errorf("credential %s passphrase: %w", ep.Credential.Name, diagError(diags))
		}
		ep.Passphrase = p
	}
	return ep, nil
}

// diagError flattens error diagnostics into one error: "file:line: summary:
// detail" joined by "; ".
func diagError(diags hcl.Diagnostics) error {
	var errs []error
	for _, d := range diags {
		if d.Severity != hcl.DiagError {
			continue
		}
		msg := d.Summary
		if d.Detail != "" {
			msg += ": " + d.Detail
		}
		if d.Subject != nil {
			msg = fmt.Sprintf("%s:%d: %s", d.Subject.Filename, d.Subject.Start.Line, msg)
		}
		errs = append(errs, errors.New(msg))
	}
	if len(errs) == 1 {
		return errs[0]
	}
	return errors.Join(errs...)
}
