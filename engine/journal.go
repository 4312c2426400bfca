package engine

import "time"

// What a run does on hosts as it goes: the journal rows of each
// (run, wave, host, step), step results, and live progress events.

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

// ProgressKind says what a ProgressEvent reports.
type ProgressKind string

// Progress event kinds, in the order a run produces them.
const (
	ProgressRunStart  ProgressKind = "run_start"  // a run starts or resumes
	ProgressWaveStart ProgressKind = "wave_start" // a wave's hosts start
	ProgressHost      ProgressKind = "host"       // a host finished its steps (ok or failed)
	ProgressGate      ProgressKind = "gate"       // health gate news (waiting, pre-existing failures, verdict)
	ProgressWaveDone  ProgressKind = "wave_done"  // a wave passed its budget and gate
	ProgressWaiting   ProgressKind = "waiting"    // the run waits: for an operator, its window or a pause (Message says until when)
	ProgressRollback  ProgressKind = "rollback"   // rollback starts on the touched hosts
	ProgressRunDone   ProgressKind = "run_done"   // the run reached a final state or stopped
)

// ProgressEvent is one piece of live news about a run, for a terminal or a
// UI. Counts are for the current wave unless named otherwise.
type ProgressEvent struct {
	Kind  ProgressKind
	RunID int64
	Job   string
	State RunState
	Wave  int // 1-based; 0 before the first wave
	Waves int

	Host   string // ProgressHost
	Failed bool   // ProgressHost: the host failed a step
	Step   string // ProgressHost: the last step it ran
	Error  string // ProgressHost: why it failed

	WaveHosts  int // hosts in this wave
	WaveDone   int // hosts of this wave that finished (ok or failed)
	WaveFailed int
	RunHosts   int // hosts in the whole run
	RunOK      int // hosts of the whole run that finished every step

	Message string // human summary of the event
}

// Progress receives live news about runs. Report must not block for long:
// it is called from the goroutines that run hosts.
type Progress interface {
	Report(ev ProgressEvent)
}

// ProgressFunc adapts a function to Progress.
type ProgressFunc func(ProgressEvent)

// Report calls f(ev).
func (f ProgressFunc) Report(ev ProgressEvent) { f(ev) }

// Discard is a Progress that drops every event.
var Discard Progress = ProgressFunc(func(ProgressEvent) {})
