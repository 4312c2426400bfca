package main

import (
	"fmt"
	"io"
	"sync"

	"github.com/ripple-ops/ripple/engine"
)

// TerminalProgress prints live rollout progress for a person. On a TTY it
// keeps one status line ("app: wave 2/4: 7/10 hosts done, 1 failed") that
// it rewrites in place, with failed hosts and other news printed above it;
// otherwise it prints plain lines only, one per piece of news, and a count
// line when a wave's hosts are done. It is safe for concurrent use.
type TerminalProgress struct {
	mu     sync.Mutex
	w      io.Writer
	tty    bool
	status bool // a status line is on screen (tty)
}

// NewTerminalProgress prints to w; tty selects the in-place status line.
func NewTerminalProgress(w io.Writer, tty bool) *TerminalProgress {
	return &TerminalProgress{w: w, tty: tty}
}

// Report prints ev.
func (p *TerminalProgress) Report(ev engine.ProgressEvent) {
	p.mu.Lock()
	defer p.mu.Unlock()
	prefix := fmt.Sprintf("%s (run %d)", ev.Job, ev.RunID)
	wave := fmt.Sprintf("wave %d/%d", ev.Wave, ev.Waves)
	switch ev.Kind {
	case engine.ProgressRunStart:
		p.line("%s: %s, %s in %s", prefix, ev.Message, engine.Plural(ev.RunHosts, "host"), engine.Plural(ev.Waves, "wave"))
	case engine.ProgressWaveStart:
		p.line("%s: %s: %s", prefix, wave, engine.Plural(ev.WaveHosts, "host"))
		p.statusLine(ev)
	case engine.ProgressHost:
		if ev.Failed {
			p.line("%s: %s: FAILED %s: %s", prefix, wave, ev.Host, ev.Error)
		}
		if p.tty {
			p.statusLine(ev)
		} else if ev.WaveDone == ev.WaveHosts {
			p.line("%s: %s: %s done, %d failed", prefix, wave, engine.PluralOf(ev.WaveDone, ev.WaveHosts, "host"), ev.WaveFailed)
		}
	case engine.ProgressWaveDone:
		p.line("%s: %s passed (%s ok so far)", prefix, wave, engine.PluralOf(ev.RunOK, ev.RunHosts, "host"))
	case engine.ProgressRunDone:
		p.line("%s: %s: %s", prefix, ev.State, ev.Message)
	default:
		p.line("%s: %s", prefix, ev.Message)
	}
}

// line prints one line of news above the status line.
func (p *TerminalProgress) line(format string, args ...any) {
	if p.status {
		fmt.Fprint(p.w, "\r\x1b[K")
		p.status = false
	}
	fmt.Fprintf(p.w, format+"\n", args...)
}

func (p *TerminalProgress) statusLine(ev engine.ProgressEvent) {
	if !p.tty {
		return
	}
	fmt.Fprintf(p.w, "\r\x1b[K%s: wave %d/%d: %s done, %d failed", ev.Job, ev.Wave, ev.Waves, engine.PluralOf(ev.WaveDone, ev.WaveHosts, "host"), ev.WaveFailed)
	p.status = true
}
