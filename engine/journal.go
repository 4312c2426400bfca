package engine

import "time"

// StepPhase is where a host-step is in the journal.
type StepPhase string

// Journal phases: every (run, wave, host, step) moves planned -> started ->
// finished, and each move is durable before the action it precedes.
const (
	PhasePlanned  StepPhase = "planned"
	PhaseStarted  StepPhase = "started"
	PhaseFinished StepPhase = "finished"
)

// HostStep is a journal row.
type HostStep struct {
	RunID    int64
	Wave     int
	Host     string
	Step     string
	Rollback bool // a rollback step rather than a forward one
	Phase    StepPhase
	Result   StepResult // valid when Phase == PhaseFinished
}

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
	// Diff is the change a file step made to its destination: a unified
	// diff from the old content to the new (from /dev/null for a new
	// file), secrets redacted, capped in size; or a note saying why it is
	// not shown (binary, too large). Empty when the step wrote nothing.
	Diff string
}
