package main

import (
	"context"
	"fmt"
	"github.com/ripple-ops/ripple/engine"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/ripple-ops/ripple/engine/httpapi"
)

// demoRunTimeout bounds how long the demo waits for one commit's run.
const demoRunTimeout = 90 * time.Second

// watch waits for the daemon to pick up commit sha, then follows its run
// through the API, printing a line per wave as it ends, until the run ends.
func (d *demo) watch(ctx context.Context, sha string) (*httpapi.RunDetail, error) {
	ctx, cancel := context.WithTimeout(ctx, demoRunTimeout)
	defer cancel()
	committed := time.Now()
	var run httpapi.Run
	for {
		var runs []httpapi.Run
		if _, err := d.api.do(ctx, "GET", "/api/v1/runs?commit="+url.QueryEscape(sha), nil, &runs); err == nil && len(runs) > 0 {
			run = runs[len(runs)-1]
			break
		}
		if err := d.sleep(ctx, 200*time.Millisecond); err != nil {
			return nil, fmt.Errorf("waiting for a run of commit %s (log: %s): %w", shortSHA(sha), d.log, err)
		}
	}
	d.printf("  ripple noticed it in %s: run %d of job %s, %s in %s  %s\n",
		time.Since(committed).Round(100*time.Millisecond), run.ID, run.Job, plural(countRunHosts(run.Waves), "host"), plural(len(run.Waves), "wave"), run.URL)

	p := &runPrinter{d: d}
	path := "/api/v1/runs/" + strconv.FormatInt(run.ID, 10)
	for {
		var detail httpapi.RunDetail
		if _, err := d.api.do(ctx, "GET", path, nil, &detail); err == nil {
			final := runEnded(detail.State)
			p.update(&detail, final)
			if final {
				p.finish(&detail)
				return &detail, nil
			}
		}
		if err := d.sleep(ctx, 150*time.Millisecond); err != nil {
			return nil, fmt.Errorf("following run %d (log: %s): %w", run.ID, d.log, err)
		}
	}
}

// sleep waits for dur, and fails early when ctx ends or the daemon stops.
func (d *demo) sleep(ctx context.Context, dur time.Duration) error {
	t := time.NewTimer(dur)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case err := <-d.serveDone:
		d.serveDone <- err
		return fmt.Errorf("daemon stopped: %w", err)
	case <-t.C:
		return nil
	}
}

// runEnded reports whether the demo stops following a run in this state:
// final states, and states that wait for an operator (the demo's job never
// asks for one).
func runEnded(state string) bool {
	switch state {
	case "succeeded", "failed", "aborted", "error", "needs_operator", "waiting_approval":
		return true
	}
	return false
}

// runPrinter prints a run's waves as they go: a wave's line starts when
// its hosts start, gets their counts when they have finished their steps,
// and ends when its health gate decides. Waves are sequential, so lines
// never interleave.
type runPrinter struct {
	d       *demo
	state   []waveShown
	started time.Time
	gateAt  time.Time
}

// waveShown is how much of a wave's line is printed.
type waveShown int

const (
	waveUnseen  waveShown = iota
	waveHostsOn           // "wave i/n  hosts" printed, steps running
	waveGateOn            // counts printed, health gate deciding
	waveShownAll
)

func (p *runPrinter) update(r *httpapi.RunDetail, final bool) {
	if p.started.IsZero() {
		p.started = time.Now()
	}
	for len(p.state) < len(r.WaveDetails) {
		p.state = append(p.state, waveUnseen)
	}
	n := len(r.WaveDetails)
	for i, w := range r.WaveDetails {
		if p.state[i] == waveUnseen {
			if w.State == "pending" || w.State == "not_started" { // not_started: the run ended first
				if !final {
					return
				}
				p.d.printf("  wave %d/%d  %-24s not started\n", i+1, n, hostsLabel(waveHosts(w)))
				p.state[i] = waveShownAll
				continue
			}
			p.d.printf("  wave %d/%d  %-24s ", i+1, n, hostsLabel(waveHosts(w)))
			p.state[i] = waveHostsOn
		}
		if p.state[i] == waveHostsOn {
			if w.State != "done" && !final {
				return
			}
			p.d.printf("%s", countsLabel(w.Counts))
			if w.Counts.Failed > 0 || w.Counts.Running > 0 || w.Counts.Pending > 0 {
				p.d.printf("\n")
				p.state[i] = waveShownAll
				continue
			}
			p.d.printf("  → health gate ")
			p.state[i], p.gateAt = waveGateOn, time.Now()
		}
		if p.state[i] == waveGateOn {
			switch {
			case r.CurrentWave > i:
				p.d.printf("passed (%s)\n", time.Since(p.gateAt).Round(100*time.Millisecond))
			case final || hasEvent(r, "rollback"):
				p.d.printf("FAILED (%s)\n", time.Since(p.gateAt).Round(100*time.Millisecond))
			default:
				return
			}
			p.state[i] = waveShownAll
		}
	}
}

// finish prints the rollback and the run's outcome.
func (p *runPrinter) finish(r *httpapi.RunDetail) {
	for _, w := range r.WaveDetails {
		for _, h := range w.Hosts {
			var steps []string
			for _, s := range h.Steps {
				if s.Rollback {
					steps = append(steps, s.Step+" "+s.Status)
				}
			}
			if len(steps) > 0 {
				p.d.printf("  rollback  %-22s %s\n", h.Host, strings.Join(steps, ", "))
			}
		}
	}
	took := time.Since(p.started).Round(100 * time.Millisecond)
	if r.State == "succeeded" {
		p.d.printf("  ✔ run %d succeeded in %s: %s\n", r.ID, took, r.Summary)
		return
	}
	p.d.printf("  ✘ run %d %s after %s\n", r.ID, strings.ToUpper(r.State), took)
	for _, line := range strings.Split(strings.ReplaceAll(r.Error, "; ", "\n"), "\n") {
		if line = strings.TrimSpace(line); line != "" {
			p.d.printf("      %s\n", line)
		}
	}
}

func hasEvent(r *httpapi.RunDetail, action string) bool {
	for _, e := range r.Events {
		if e.Action == action {
			return true
		}
	}
	return false
}

func waveHosts(w httpapi.Wave) []string {
	names := make([]string, len(w.Hosts))
	for i, h := range w.Hosts {
		names[i] = h.Host
	}
	return names
}

// hostsLabel names up to three hosts, or the first and last of more.
func hostsLabel(names []string) string {
	switch {
	case len(names) == 0:
		return "-"
	case len(names) <= 3:
		return strings.Join(names, " ")
	}
	return fmt.Sprintf("%s … %s (%d)", names[0], names[len(names)-1], len(names))
}

func countsLabel(c httpapi.WaveCounts) string {
	s := fmt.Sprintf("%d ok", c.OK)
	if c.Failed > 0 {
		s += fmt.Sprintf(", %d FAILED", c.Failed)
	}
	if n := c.Running + c.Pending; n > 0 {
		s += fmt.Sprintf(", %d not finished", n)
	}
	return s
}

func countRunHosts(waves [][]string) int {
	n := 0
	for _, w := range waves {
		n += len(w)
	}
	return n
}

func waveSizes(waves [][]string) string {
	s := make([]string, len(waves))
	for i, w := range waves {
		s[i] = strconv.Itoa(len(w))
	}
	return strings.Join(s, ", ")
}

// fleetHost is what a lab host runs, read from its sandbox.
type fleetHost struct {
	name, version, health, history string
}

// fleet reads every lab host's app.conf version, health and deploy history
// straight from the sandboxes: evidence independent of ripple's records.
func (d *demo) fleet() []fleetHost {
	out := make([]fleetHost, 0, len(d.lab.Hosts))
	for _, h := range d.lab.Hosts {
		read := func(name string) string {
			b, err := os.ReadFile(filepath.Join(h.Sandbox, name))
			if err != nil {
				return "?"
			}
			return strings.TrimSpace(string(b))
		}
		fh := fleetHost{name: h.Name, health: engine.FirstLine(read("health"), 120)}
		for _, line := range strings.Split(read("app.conf"), "\n") {
			if k, v, ok := strings.Cut(line, "="); ok && strings.TrimSpace(k) == "version" {
				fh.version = strings.TrimSpace(v)
			}
		}
		fh.history = strings.ReplaceAll(read("history"), "\n", " → ")
		out = append(out, fh)
	}
	return out
}

// printFleet prints the fleet, hosts in the same state on one line.
func (d *demo) printFleet(fleet []fleetHost) {
	d.printf("  on the hosts now (read from their sandboxes):\n")
	for i := 0; i < len(fleet); {
		j := i + 1
		for j < len(fleet) && fleet[j].version == fleet[i].version && fleet[j].health == fleet[i].health && fleet[j].history == fleet[i].history {
			j++
		}
		names := make([]string, 0, j-i)
		for _, h := range fleet[i:j] {
			names = append(names, h.name)
		}
		d.printf("    %-24s app %-6s %-24s history: %s\n", hostsLabel(names), fleet[i].version, fleet[i].health, fleet[i].history)
		i = j
	}
}
