package engine

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
