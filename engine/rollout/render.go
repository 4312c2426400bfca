package rollout

import (
	"github.com/ripple-ops/ripple/definitions"
	"github.com/ripple-ops/ripple/engine"
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

func renderStep(defs *definitions.Definitions, job *definitions.Job, st *definitions.Step, h *definitions.Host, src definitions.SecretSource, params definitions.ParamValues) (*definitions.HostStep, error) {
	hs, diags := defs.RenderStep(job, st, h, src, params)
	if diags.HasErrors() {
		return nil, engine.DiagError(diags)
	}
	return hs, nil
}

func renderCheck(defs *definitions.Definitions, m *definitions.Monitor, h *definitions.Host, src definitions.SecretSource) (*definitions.HostCheck, error) {
	hc, diags := defs.RenderCheck(m, h, src)
	if diags.HasErrors() {
		return nil, engine.DiagError(diags)
	}
	return hc, nil
}
