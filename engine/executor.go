package engine

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/hashicorp/hcl/v2"

	"github.com/ripple-ops/ripple/definitions"
)

// What touches hosts: the endpoint of a host, the executor of steps, the
// checkers of monitors (log checks read on from a cursor the stores keep),
// and their results.

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

// LogFile is one file on a host, by device and inode, and the offset of
// the first byte a log check has not read yet.
type LogFile struct {
	Device uint64 `json:"dev"`
	Inode  uint64 `json:"ino"`
	Offset int64  `json:"off"`
}

// Same reports whether f and g are the same file, wherever they are read.
func (f *LogFile) Same(g *LogFile) bool {
	return f != nil && g != nil && f.Device == g.Device && f.Inode == g.Inode
}

// LogCursor is where the log check of one (monitor, host) stopped: the
// store keeps it with the alert state, so a restart, or another node of a
// cluster taking the pair over, reads on from there.
type LogCursor struct {
	// Path is the file the cursor is for; a check of another path starts
	// afresh.
	Path string `json:"path"`
	// File is the file at Path at the last check; nil when there was none
	// (a file that appears later is new and read from its start).
	File *LogFile `json:"file,omitempty"`
	// Rotated is the previous file while it is still found at the check's
	// rotated name after a rotation: a writer that has not reopened the log
	// yet may still append to it, and those lines are read too. Nil when
	// there is none.
	Rotated *LogFile `json:"rotated,omitempty"`
}

// LogChecker runs log checks, which read on from where the previous check
// of the same (monitor, host) stopped. jobs.Checker implements it; the
// monitor runner keeps each pair's cursor and hands it back with the next
// check.
type LogChecker interface {
	// CheckLog runs check (Kind log) from cursor from (nil: no check ran
	// before; the file is read from its end, so old lines never alert)
	// and returns the result and the cursor to keep with it. next is from
	// when the check read nothing (the host is unreachable); it is never
	// nil.
	CheckLog(ctx context.Context, ep Endpoint, check *definitions.HostCheck, from *LogCursor) (res CheckResult, next *LogCursor)
}

// EncodeLogCursor is c as the stores keep it: JSON, "" for nil.
func EncodeLogCursor(c *LogCursor) (string, error) {
	if c == nil {
		return "", nil
	}
	b, err := json.Marshal(c)
	if err != nil {
		return "", fmt.Errorf("encode log cursor: %w", err)
	}
	return string(b), nil
}

// DecodeLogCursor reverses EncodeLogCursor.
func DecodeLogCursor(s string) (*LogCursor, error) {
	if s == "" {
		return nil, nil
	}
	var c LogCursor
	if err := json.Unmarshal([]byte(s), &c); err != nil {
		return nil, fmt.Errorf("decode log cursor: %w", err)
	}
	return &c, nil
}
