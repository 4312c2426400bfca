package main

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/ripple-ops/ripple/engine/httpapi"
)

func TestEventText(t *testing.T) {
	for _, c := range []struct {
		ev   httpapi.Event
		want string
	}{
		{httpapi.Event{Action: "submit", Actor: "ripple", Reason: "commit 0123456789ab: new job"}, "submitted: commit 0123456789ab: new job"},
		{httpapi.Event{Action: "submit", Actor: "alice", Reason: "OPS-12"}, "submitted by alice: OPS-12"},
		{httpapi.Event{Action: "start", Actor: "ripple", Reason: "start"}, "started"},
		{httpapi.Event{Action: "start", Actor: "ripple", Reason: "resume at wave 2/3"}, "resume at wave 2/3"},
		{httpapi.Event{Action: "gate_baseline", Actor: "ripple"}, "gate checks all OK before the first wave"},
		{httpapi.Event{Action: "gate_baseline", Actor: "ripple", Reason: "web-http@web-01\nweb-http@web-02"},
			"2 gate checks already failing before the first wave, not counted: web-http@web-01, web-http@web-02"},
		{httpapi.Event{Action: "gate_baseline", Actor: "ripple", Reason: "web-http@web-01"},
			"1 gate check already failing before the first wave, not counted: web-http@web-01"},
		{httpapi.Event{Action: "wait_approval", Actor: "ripple", Reason: "after wave 1"}, "waiting for approval: after wave 1"},
		{httpapi.Event{Action: "approve", Actor: "alice"}, "approved by alice"},
		{httpapi.Event{Action: "approve", Actor: "alice", Reason: "canary fine"}, "approved by alice: canary fine"},
		{httpapi.Event{Action: "abort", Actor: "bob", Reason: "wrong window"}, "abort requested by bob: wrong window"},
		{httpapi.Event{Action: "pause", Actor: "ripple", Reason: "before wave 2/3: 2m0s, until 2026-11-29T10:33:13Z"},
			"pause before wave 2/3: 2m0s, until 2026-11-29T10:33:13Z"},
		{httpapi.Event{Action: "supersede", Actor: "alice", Reason: "superseded by 0123456789ab (the job changed)"},
			"superseded by 0123456789ab (the job changed), applied by alice"},
		{httpapi.Event{Action: "rollback", Actor: "ripple", Reason: "wave 1/2 failed: 1/1 host failed (max_failures 0)\nweb-01: step reload failed"},
			"rolling back: wave 1/2 failed: 1/1 host failed (max_failures 0)"},
		{httpapi.Event{Action: "finish", Actor: "ripple", Reason: "succeeded: 3/3 hosts ok in 2 waves"}, "finished succeeded: 3/3 hosts ok in 2 waves"},
		{httpapi.Event{Action: "reconcile", Actor: "carol"}, "reconcile by carol"},
	} {
		if got := eventText(c.ev); got != c.want {
			t.Errorf("eventText(%+v) = %q, want %q", c.ev, got, c.want)
		}
	}
}

// TestShowPrintsNoEmptyEventLines: `ripple show` printed "gate_baseline by
// ripple" with nothing after it for a run whose gate checks were all OK.
func TestShowPrintsNoEmptyEventLines(t *testing.T) {
	at := time.Date(2026, 11, 29, 10, 0, 0, 0, time.UTC)
	d := &httpapi.RunDetail{Run: httpapi.Run{ID: 3, Job: "nginx", State: "succeeded"}, Events: []httpapi.Event{
		{At: at, Actor: "ripple", Action: "submit", Reason: "commit 0123456789ab: new job"},
		{At: at, Actor: "ripple", Action: "start", Reason: "start"},
		{At: at, Actor: "ripple", Action: "gate_baseline"},
		{At: at, Actor: "ripple", Action: "finish", Reason: "succeeded: 1/1 host ok in 1 wave"},
	}}
	var out bytes.Buffer
	printRunDetail(env{stdout: &out}, d)
	for _, line := range strings.Split(strings.TrimRight(out.String(), "\n"), "\n") {
		if strings.HasSuffix(line, " ") || strings.Contains(line, "by ripple") || strings.Contains(line, "gate_baseline") {
			t.Errorf("line %q: empty field, raw action or ripple as actor", line)
		}
	}
	if !strings.Contains(out.String(), "gate checks all OK before the first wave") {
		t.Errorf("show output:\n%s", out.String())
	}
}

func TestActionResult(t *testing.T) {
	for _, c := range []struct {
		action string
		run    httpapi.Run
		want   string
	}{
		{"approve", httpapi.Run{ID: 4, State: "running", Waves: [][]string{{"a"}, {"b"}}, CurrentWave: 1}, "approved; now running (wave 2/2)"},
		{"approve", httpapi.Run{ID: 4, State: "succeeded", Summary: "2/2 hosts ok in 2 waves"}, "approved; now succeeded: 2/2 hosts ok in 2 waves"},
		{"approve", httpapi.Run{ID: 4, State: "waiting_approval"}, "approved; still waiting_approval (the daemon resumes it shortly; see ripple show 4)"},
		{"abort", httpapi.Run{ID: 4, State: "aborted"}, "abort done; now aborted"},
		{"abort", httpapi.Run{ID: 4, State: "running"}, "abort requested; the run stops between hosts and applies its on_failure policy (now running)"},
	} {
		if got := actionResult(c.action, &c.run); got != c.want {
			t.Errorf("actionResult(%s, %+v) = %q, want %q", c.action, c.run, got, c.want)
		}
	}
}
