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
