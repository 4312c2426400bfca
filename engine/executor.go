package engine

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/hashicorp/hcl/v2"

	"github.com/ripple-ops/ripple/definitions"
)

// Endpoint is a host and how to reach it, resolved by the engine from the
// definitions of the commit being applied. Secret fields are never logged.
type Endpoint struct {
	Host       *definitions.Host
	Credential *definitions.Credential // nil for the local transport
	Passphrase string                  // private key passphrase, resolved
}

// Executor runs rendered steps on hosts. Implementations reuse one
// connection per host across calls and are safe for concurrent use.
type Executor interface {
	RunStep(ctx context.Context, ep Endpoint, step *definitions.HostStep) StepResult
	// Restore puts a file step's backup back in place.
	Restore(ctx context.Context, ep Endpoint, b *Backup) StepResult
}

// CheckState is a Nagios-style check state.
type CheckState int

// Check states, ordered by severity (except Unknown).
const (
	StateOK       CheckState = 0
	StateWarning  CheckState = 1
	StateCritical CheckState = 2
	StateUnknown  CheckState = 3
)

func (s CheckState) String() string {
	switch s {
	case StateOK:
		return "OK"
	case StateWarning:
		return "WARNING"
	case StateCritical:
		return "CRITICAL"
	default:
		return "UNKNOWN"
	}
}

// Metric is one numeric value a check produced (Nagios perfdata, an SNMP
// value or rate, an HTTP latency).
type Metric struct {
	Name  string
	Value float64
	Unit  string
	Warn  *float64
	Crit  *float64
	Min   *float64
	Max   *float64
}

// CheckResult is one run of a check on one host.
type CheckResult struct {
	State    CheckState
	Output   string // first line of output or an error, redacted
	Metrics  []Metric
	At       time.Time
	Duration time.Duration
	// Unreachable is set when the check could not reach the host over
	// SSH (the connection or handshake failed, or the connection broke):
	// the state says nothing about the service, only that the host cannot
	// be reached.
	Unreachable bool
}

// Checker runs rendered monitor checks against hosts.
type Checker interface {
	Check(ctx context.Context, ep Endpoint, check *definitions.HostCheck) CheckResult
}

// EndpointFor resolves how to reach h with the definitions it comes from:
// its credential and the private key passphrase, if any.
func EndpointFor(defs *definitions.Definitions, h *definitions.Host, src definitions.SecretSource) (Endpoint, error) {
	ep := Endpoint{Host: h, Credential: defs.Credential(h)}
	if h.Transport != "local" && ep.Credential == nil {
		return ep, fmt.Errorf("host %s: credential %q is not defined", h.Name, h.Credential)
	}
	if ep.Credential != nil && ep.Credential.Passphrase != nil {
		p, diags := defs.ResolveSecret(ep.Credential.Passphrase, src)
		if diags.HasErrors() {
			return ep, fmt.Errorf("credential %s passphrase: %w", ep.Credential.Name, DiagError(diags))
		}
		ep.Passphrase = p
	}
	return ep, nil
}

// DiagError flattens error diagnostics into one error: "file:line: summary:
// detail" joined by "; ". Journal rows and run errors show it, so it must
// read well on one line.
func DiagError(diags hcl.Diagnostics) error {
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
