package engine

import (
	"fmt"
	"strings"
	"time"
)

// Event is an audit record: who did what to which run, and why.
type Event struct {
	RunID  int64
	At     time.Time
	Actor  string
	Action string // one of the Event actions
	Reason string
}

// Event actions a run records. Operator actions carry the operator as
// actor; the others are recorded by ripple itself.
const (
	EventSubmit        = "submit"
	EventStart         = "start"          // execution started or resumed
	EventGateBaseline  = "gate_baseline"  // gate checks already failing before wave 1 (reason lists them)
	EventGateFailed    = "gate_failed"    // hosts a wave's gate found unhealthy at its deadline (reason: a headline, then "host: why" lines)
	EventWaitApproval  = "wait_approval"  // the run stopped for approve_after
	EventPause         = "pause"          // the pause before a wave started (reason: "before wave N/M: ...")
	EventNeedsOperator = "needs_operator" // an interrupted, non-idempotent step stopped the run
	EventInterrupted   = "interrupted"    // execution stopped before the run was done (reason: why, e.g. the store could not write); recorded once it could be
	EventApprove       = "approve"
	EventAbort         = "abort"
	EventRollback      = "rollback"  // rollback started; reason is why the run failed
	EventSupersede     = "supersede" // a later commit replaced a run waiting for its window (reason: "superseded by ...")
	EventFinish        = "finish"
	// EventRevert: an operator asked for the revert of the run's commit
	// (reason: the branch and pull request on its first line, then why).
	EventRevert = "revert"
)

// maxEventText caps the one line an audit event says (`ripple show`, the
// run page); the API has the whole reason.
const maxEventText = 160

// Text is the audit event as a line for people, the same in `ripple show`
// and on the run page: what happened, by whom when it was a person
// (ripple's own events name no actor), and the first line of why. Events
// whose reason is empty say what that means instead of leaving a blank
// field ("gate checks all OK before the first wave"). Actions it does not
// know read as "ACTION by ACTOR: REASON".
func (e Event) Text() string {
	reason := strings.TrimSpace(e.Reason)
	by := ""
	if e.Actor != "" && e.Actor != ActorRipple {
		by = " by " + e.Actor
	}
	withReason := func(s string) string {
		if reason == "" {
			return s
		}
		return s + ": " + FirstLine(reason, maxEventText)
	}
	switch e.Action {
	case EventSubmit:
		return withReason("submitted" + by)
	case EventStart:
		if reason == "" || reason == "start" {
			return "started"
		}
		return FirstLine(reason, maxEventText) // "resume at wave 2/3"
	case EventGateBaseline:
		if reason == "" {
			return "gate checks all OK before the first wave"
		}
		checks := strings.Fields(reason) // one monitor@host per line
		return FirstLine(fmt.Sprintf("%s already failing before the first wave (they count): %s",
			Plural(len(checks), "gate check"), strings.Join(checks, ", ")), maxEventText)
	case EventGateFailed:
		return "health gate: " + FirstLine(reason, maxEventText) // "wave 1/3: 2 hosts not healthy by the deadline"
	case EventWaitApproval:
		return withReason("waiting for approval") // "after wave 1"
	case EventNeedsOperator:
		return withReason("stopped for an operator")
	case EventInterrupted:
		return withReason("execution stopped")
	case EventApprove:
		return withReason("approved" + by)
	case EventAbort:
		return withReason("abort requested" + by)
	case EventPause:
		if reason == "" {
			return "pause"
		}
		return "pause " + FirstLine(reason, maxEventText) // "before wave 2/3: 2m0s, until ..."
	case EventSupersede:
		if reason == "" {
			return "superseded" + by
		}
		s := FirstLine(reason, maxEventText) // "superseded by 0123456789ab (the job changed)"
		if by != "" {
			s += ", applied" + by
		}
		return s
	case EventRollback:
		return withReason("rolling back")
	case EventRevert:
		return withReason("revert proposed" + by) // "branch ripple/revert-0123456789ab, pull request https://..."
	case EventFinish:
		if reason == "" {
			return "finished"
		}
		return "finished " + FirstLine(reason, maxEventText) // "succeeded: 3/3 hosts ok"
	}
	return withReason(e.Action + by)
}
