package main

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/ripple-ops/ripple/engine/httpapi"
)

// The sentences themselves are tested with engine.Event.Text.

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

// TestCommitStatusNamesExecRuns: `ripple status COMMIT` listed an exec run
// of the commit with an empty JOB column; it is named as `ripple runs`
// names it.
func TestCommitStatusNamesExecRuns(t *testing.T) {
	cm := &httpapi.Commit{SHA: "0123456789abcdef0123456789abcdef01234567", Runs: []httpapi.Run{
		{ID: 5, Trigger: "exec", State: "succeeded", Summary: "4/4 hosts ok", Exec: &httpapi.Exec{Command: "grep workers app.conf"}},
		{ID: 4, Job: "restart-app", State: "succeeded", Summary: "4/4 hosts ok in 2 waves"},
	}}
	var out bytes.Buffer
	if err := printCommit(env{stdout: &out}, cm); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"5 exec: grep workers app.conf succeeded 4/4 hosts ok", "4 restart-app succeeded 4/4 hosts ok in 2 waves"} {
		found := false
		for _, line := range strings.Split(out.String(), "\n") {
			found = found || strings.Join(strings.Fields(line), " ") == want
		}
		if !found {
			t.Errorf("no row %q in:\n%s", want, out.String())
		}
	}
}
