package main

import (
	"bytes"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/ripple-ops/ripple/engine"
)

func TestTerminalProgressPlain(t *testing.T) {
	var b bytes.Buffer
	p := NewTerminalProgress(&b, false)
	base := engine.ProgressEvent{RunID: 7, Job: "web", Waves: 2, RunHosts: 3}
	for _, ev := range []engine.ProgressEvent{
		{Kind: engine.ProgressRunStart, Message: "start"},
		{Kind: engine.ProgressWaveStart, Wave: 1, WaveHosts: 1},
		{Kind: engine.ProgressHost, Wave: 1, Host: "a", WaveHosts: 1, WaveDone: 1},
		{Kind: engine.ProgressWaveDone, Wave: 1, RunOK: 1},
		{Kind: engine.ProgressWaveStart, Wave: 2, WaveHosts: 2},
		{Kind: engine.ProgressHost, Wave: 2, Host: "b", Failed: true, Error: "step x failed: boom", WaveHosts: 2, WaveDone: 1, WaveFailed: 1},
		{Kind: engine.ProgressHost, Wave: 2, Host: "c", WaveHosts: 2, WaveDone: 2, WaveFailed: 1},
		{Kind: engine.ProgressRunDone, State: engine.RunFailed, Message: "wave 2/2 failed"},
	} {
		ev.RunID, ev.Job, ev.Waves, ev.RunHosts = base.RunID, base.Job, base.Waves, base.RunHosts
		p.Report(ev)
	}
	want := []string{
		"web (run 7): start, 3 hosts in 2 waves",
		"web (run 7): wave 1/2: 1 host",
		"web (run 7): wave 1/2: 1/1 host done, 0 failed",
		"web (run 7): wave 1/2 passed (1/3 hosts ok so far)",
		"web (run 7): wave 2/2: 2 hosts",
		"web (run 7): wave 2/2: FAILED b: step x failed: boom",
		"web (run 7): wave 2/2: 2/2 hosts done, 1 failed",
		"web (run 7): failed: wave 2/2 failed",
	}
	if diff := cmp.Diff(want, strings.Split(strings.TrimSpace(b.String()), "\n")); diff != "" {
		t.Fatalf("output (-want +got):\n%s", diff)
	}
}

func TestTerminalProgressTTYRewritesOneLine(t *testing.T) {
	var b bytes.Buffer
	p := NewTerminalProgress(&b, true)
	p.Report(engine.ProgressEvent{Kind: engine.ProgressWaveStart, Job: "web", Wave: 1, Waves: 1, WaveHosts: 2})
	p.Report(engine.ProgressEvent{Kind: engine.ProgressHost, Job: "web", Wave: 1, Waves: 1, Host: "a", WaveHosts: 2, WaveDone: 1})
	p.Report(engine.ProgressEvent{Kind: engine.ProgressHost, Job: "web", Wave: 1, Waves: 1, Host: "b", Failed: true, Error: "unreachable", WaveHosts: 2, WaveDone: 2, WaveFailed: 1})
	out := b.String()
	for _, want := range []string{"\r\x1b[Kweb: wave 1/1: 1/2 hosts done, 0 failed", "\r\x1b[Kweb (run 0): wave 1/1: FAILED b: unreachable\n", "\r\x1b[Kweb: wave 1/1: 2/2 hosts done, 1 failed"} {
		if !strings.Contains(out, want) {
			t.Errorf("output %q lacks %q", out, want)
		}
	}
}
