package engine

import (
	"fmt"
	"unicode/utf8"
)

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

type discardProgress struct{}

func (discardProgress) Report(ProgressEvent) {}

// maxStatusDescription is GitHub's limit on a commit status description.
const maxStatusDescription = 140

// statusContext is the commit status context of a job's runs.
func statusContext(job string) string { return "ripple/job/" + job }

// runningDescription is the pending status while wave (1-based) of waves
// runs: counts first, so the useful part survives truncation.
func runningDescription(wave, waves, ok, total, failed int) string {
	s := fmt.Sprintf("wave %d/%d: %s ok", wave, waves, PluralOf(ok, total, "host"))
	if failed > 0 {
		s += fmt.Sprintf(", %d failed", failed)
	}
	return s
}

// truncateDescription cuts s to the status description limit on a rune
// boundary, marking the cut.
func truncateDescription(s string) string {
	if utf8.RuneCountInString(s) <= maxStatusDescription {
		return s
	}
	r := []rune(s)
	return string(r[:maxStatusDescription-1]) + "…"
}
