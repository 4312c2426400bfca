package engine

import (
	"context"
	"time"

	"github.com/ripple-ops/ripple/definitions"
)

// StepStatus is the outcome of one step on one host.
type StepStatus string

// Step outcomes. OK, Changed and Unchanged are successes; the rest count
// against a wave's failure budget.
const (
	StepOK          StepStatus = "ok"
	StepChanged     StepStatus = "changed"
	StepUnchanged   StepStatus = "unchanged"
	StepFailed      StepStatus = "failed"
	StepUnreachable StepStatus = "unreachable"
	StepTimeout     StepStatus = "timeout"
)

// Succeeded reports whether s lets the host go on to its next step.
func (s StepStatus) Succeeded() bool {
	return s == StepOK || s == StepChanged || s == StepUnchanged
}

// Endpoint is a host and how to reach it, resolved by the engine from the
// definitions of the commit being applied. Secret fields are never logged.
type Endpoint struct {
	Host       *definitions.Host
	Credential *definitions.Credential // nil for the local transport
	Passphrase string                  // private key passphrase, resolved
}

// Backup tells how to undo a file step on a host.
type Backup struct {
	Destination string
	// Path is the remote copy of the previous content; empty when the
	// destination did not exist before (restoring removes it).
	Path    string
	Existed bool
}

// StepResult is what happened when a step ran on a host. Output and Error are
// capped in size and already redacted.
type StepResult struct {
	Status   StepStatus
	ExitCode int // -1 when the command never produced an exit status
	Stdout   string
	Stderr   string
	Error    string
	Started  time.Time
	Duration time.Duration
	Backup   *Backup // set by file steps that wrote the destination
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
}

// Checker runs rendered monitor checks against hosts.
type Checker interface {
	Check(ctx context.Context, ep Endpoint, check *definitions.HostCheck) CheckResult
}
