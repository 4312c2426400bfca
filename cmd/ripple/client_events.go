package main

import (
	"fmt"
	"strings"

	"github.com/ripple-ops/ripple/engine"
	"github.com/ripple-ops/ripple/engine/httpapi"
)

// maxEventText caps the one line `ripple show` prints per audit event;
// --json has the whole reason.
const maxEventText = 160

// eventText is one audit event of a run as a line for people: what
// happened, by whom when it was a person (ripple's own events name no
// actor), and the first line of why. Events whose reason is empty say
// what that means instead of printing an empty field.
func eventText(ev httpapi.Event) string {
	reason := strings.TrimSpace(ev.Reason)
	by := ""
	if ev.Actor != "" && ev.Actor != "ripple" {
		by = " by " + ev.Actor
	}
	withReason := func(s string) string {
		if reason == "" {
			return s
		}
		return s + ": " + engine.FirstLine(reason, maxEventText)
	}
	switch ev.Action {
	case "submit":
		return withReason("submitted" + by)
	case "start":
		if reason == "" || reason == "start" {
			return "started"
		}
		return engine.FirstLine(reason, maxEventText) // "resume at wave 2/3"
	case "gate_baseline":
		if reason == "" {
			return "gate checks all OK before the first wave"
		}
		checks := strings.Fields(reason) // one monitor@host per line
		list := strings.Join(checks, ", ")
		return engine.FirstLine(fmt.Sprintf("%s already failing before the first wave, not counted: %s", plural(len(checks), "gate check"), list), maxEventText)
	case "wait_approval":
		return withReason("waiting for approval") // "after wave 1"
	case "needs_operator":
		return withReason("stopped for an operator")
	case "approve":
		return withReason("approved" + by)
	case "abort":
		return withReason("abort requested" + by)
	case "pause":
		if reason == "" {
			return "pause"
		}
		return "pause " + engine.FirstLine(reason, maxEventText) // "before wave 2/3: 2m0s, until ..."
	case "supersede":
		if reason == "" {
			return "superseded" + by
		}
		s := engine.FirstLine(reason, maxEventText) // "superseded by 0123456789ab (the job changed)"
		if by != "" {
			s += ", applied" + by
		}
		return s
	case "rollback":
		return withReason("rolling back")
	case "finish":
		if reason == "" {
			return "finished"
		}
		return "finished " + engine.FirstLine(reason, maxEventText) // "succeeded: 3/3 hosts ok"
	}
	return withReason(ev.Action + by)
}
