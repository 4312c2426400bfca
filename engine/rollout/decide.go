package rollout

import (
	"fmt"
	"strings"

	"github.com/ripple-ops/ripple/definitions"
	"github.com/ripple-ops/ripple/engine"
)

// A failure reason is a headline, then details on further lines. Commit
// statuses show the headline; run errors show it all, lines joined by "; ".

// headline returns the first line of a reason.
func headline(reason string) string {
	h, _, _ := strings.Cut(reason, "\n")
	return h
}

// flatten joins a reason's lines for a one-line message.
func flatten(reason string) string {
	return strings.ReplaceAll(reason, "\n", "; ")
}

// hostOutcome is what happened to one host of a wave.
type hostOutcome struct {
	host    string
	failed  bool
	skipped bool // never started: the run was aborted first
	already bool // every step had finished before this execution (a resume)
	gate    bool // its steps succeeded but the health gate found it unhealthy
	step    string
	status  engine.StepStatus
	err     string
}

// waveVerdict decides whether a wave whose hosts all ran fails its failure
// budget (reason: headline, then the failed hosts): it fails when failures exceed max_failures (a count, or a
// percentage of the wave). Unreachable and timed-out hosts are failures;
// hosts skipped by an abort are not. reason is empty when the wave passes.
func waveVerdict(b definitions.Budget, outcomes []hostOutcome) (fail bool, reason string) {
	size := len(outcomes)
	var failed []hostOutcome
	for _, o := range outcomes {
		if o.failed {
			failed = append(failed, o)
		}
	}
	if !budgetExceeded(b, len(failed), size) {
		return false, ""
	}
	gate := 0
	for _, o := range failed {
		if o.gate {
			gate++
		}
	}
	var sb strings.Builder
	fmt.Fprintf(&sb, "%s failed (max_failures %s)", engine.PluralOf(len(failed), size, "host"), budgetString(b))
	if gate > 0 {
		fmt.Fprintf(&sb, ", %d by the health gate", gate)
	}
	for i, o := range failed {
		if i == 3 {
			fmt.Fprintf(&sb, "\nand %d more", len(failed)-3)
			break
		}
		fmt.Fprintf(&sb, "\n%s: %s", o.host, o.summary())
	}
	return true, sb.String()
}

func (o hostOutcome) summary() string {
	if o.gate {
		return "health gate: " + engine.FirstLine(o.err, 200)
	}
	s := fmt.Sprintf("step %s %s", o.step, o.status)
	if o.err != "" {
		s += ": " + engine.FirstLine(o.err, 200)
	}
	return s
}

func budgetString(b definitions.Budget) string {
	if b.IsPercent {
		return fmt.Sprintf("%g%%", b.Percent)
	}
	return fmt.Sprintf("%d", b.Count)
}

// onFailure returns the job's failure policy, defaulting to rollback.
func onFailure(j *definitions.Job) string {
	if j.Rollout.OnFailure == "halt" {
		return "halt"
	}
	return "rollback"
}

// maxParallel returns the job's max_parallel, defaulting to 10.
func maxParallel(j *definitions.Job) int {
	if j.Rollout.MaxParallel > 0 {
		return j.Rollout.MaxParallel
	}
	return 10
}
