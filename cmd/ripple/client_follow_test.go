package main

import (
	"strings"
	"testing"

	"github.com/ripple-ops/ripple/engine/httpapi"
)

func detail(state string, okHosts int) *httpapi.RunDetail {
	w1 := httpapi.Wave{Number: 1, State: "done", Hosts: []httpapi.HostRun{{Host: "a", State: "ok"}}, Counts: httpapi.WaveCounts{OK: 1}}
	w2 := httpapi.Wave{Number: 2, State: "running", Counts: httpapi.WaveCounts{OK: okHosts, Failed: 1, Pending: 3 - okHosts}}
	w2.Hosts = append(w2.Hosts, httpapi.HostRun{Host: "b", State: "failed", Steps: []httpapi.StepResult{
		{Step: "reload", Phase: "finished", Status: "failed", ExitCode: 2, Stderr: "bad config\nmore"}}})
	for i := 0; i < 3; i++ {
		w2.Hosts = append(w2.Hosts, httpapi.HostRun{Host: "c", State: "pending"})
	}
	return &httpapi.RunDetail{Run: httpapi.Run{ID: 7, Job: "nginx", State: state}, WaveDetails: []httpapi.Wave{w1, w2}}
}

func TestRunFrame(t *testing.T) {
	got := strings.Join(runFrame(detail("running", 1)), "\n")
	want := `run 7 nginx  RUNNING  3/5 hosts
  wave 1/2 [####################] 1/1 ok 1
  wave 2/2 [##########..........] 2/4 ok 1 1 failed
    FAILED b  step reload: failed (exit 2) bad config`
	if got != want {
		t.Errorf("frame:\n%s\nwant:\n%s", got, want)
	}
}

func TestRunDrawerRedrawsInPlaceOnATerminal(t *testing.T) {
	var b strings.Builder
	d := &runDrawer{w: &b, tty: true, printed: map[string]bool{}}
	d.draw(detail("running", 0))
	d.draw(detail("running", 1))
	out := b.String()
	if strings.Count(out, "\x1b[4F\x1b[J") != 1 || strings.Count(out, "run 7 nginx") != 2 {
		t.Errorf("tty output %q", out)
	}

	b.Reset()
	d = &runDrawer{w: &b, tty: false, printed: map[string]bool{}}
	d.draw(detail("running", 0))
	d.draw(detail("running", 1))
	out = b.String()
	if strings.Contains(out, "\x1b") || strings.Count(out, "FAILED b") != 1 || strings.Count(out, "wave 1/2") != 1 || strings.Count(out, "wave 2/2") != 2 {
		t.Errorf("appended output %q", out)
	}
}

// TestShowNamesEveryHostThatDidNotSucceed: a run whose canary's health gate
// failed (its steps succeeded) and was rolled back prints that host with
// why, and the wave's reason; an unreachable host is named too.
func TestShowNamesEveryHostThatDidNotSucceed(t *testing.T) {
	d := &httpapi.RunDetail{Run: httpapi.Run{ID: 2, Job: "app-config", State: "failed"}, WaveDetails: []httpapi.Wave{
		{Number: 1, State: "failed", Reason: "1/1 host failed (max_failures 10%), 1 by the health gate", Counts: httpapi.WaveCounts{Failed: 1},
			Hosts: []httpapi.HostRun{{Host: "lab-01", State: "gate_failed", RolledBack: true, Reason: "health gate: app-health@lab-01 CRITICAL: cache disabled",
				Steps: []httpapi.StepResult{{Step: "render", Phase: "finished", Status: "changed"}}}}},
		{Number: 2, State: "not_started", Counts: httpapi.WaveCounts{Pending: 2},
			Hosts: []httpapi.HostRun{{Host: "lab-02", State: "not_started"}, {Host: "lab-03", State: "unreachable",
				Steps: []httpapi.StepResult{{Step: "render", Phase: "finished", Status: "unreachable", ExitCode: -1, Error: "dial tcp: connection refused"}}}}},
	}}
	var out strings.Builder
	printRunDetail(env{stdout: &out}, d)
	for _, want := range []string{
		"    why: 1/1 host failed (max_failures 10%), 1 by the health gate\n",
		"    GATE FAILED lab-01  health gate: app-health@lab-01 CRITICAL: cache disabled (rolled back)\n",
		"    UNREACHABLE lab-03  step render: unreachable",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("show lacks %q:\n%s", want, out.String())
		}
	}
	if strings.Contains(out.String(), "lab-02") {
		t.Errorf("a host that never started is listed:\n%s", out.String())
	}
}
