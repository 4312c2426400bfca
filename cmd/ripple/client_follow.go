package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/ripple-ops/ripple/engine"
	"github.com/ripple-ops/ripple/engine/httpapi"
)

// followRun draws a run live from the daemon's event stream
// (GET /api/v1/runs/{id}/events) until it ends: a line per wave with a
// progress bar and counts, then the failing hosts with the first line of
// their error. On a terminal the drawing is redrawn in place; otherwise a
// line is appended whenever something changed. The exit status is 1 unless
// the run succeeded. A daemon without the stream is polled every interval.
func followRun(ctx context.Context, c *apiClient, e env, id int64, interval time.Duration) error {
	last, err := drawLive(ctx, c, e, id)
	var ae *apiError
	if errors.As(err, &ae) && ae.status == http.StatusNotFound && last == nil && strings.Contains(ae.msg, "no such endpoint") {
		return waitRun(ctx, c, e, id, interval)
	}
	if err != nil {
		return err
	}
	return finishFollow(c, e, last)
}

// drawLive draws run id from the daemon's event stream until it ends and
// returns its final state. A stream that breaks after the first event
// (a daemon restart) is reconnected; an error before it is returned.
func drawLive(ctx context.Context, c *apiClient, e env, id int64) (*httpapi.RunDetail, error) {
	d := &runDrawer{w: e.stdout, tty: isTerminal(e.stdout) && !c.json, printed: map[string]bool{}}
	var last *httpapi.RunDetail
	for {
		final, err := c.streamRun(ctx, id, func(rd *httpapi.RunDetail) {
			last = rd
			if !c.json {
				d.draw(rd)
			}
		})
		switch {
		case err != nil && ctx.Err() != nil:
			return last, ctx.Err()
		case err != nil && last == nil:
			return nil, err
		case final:
			return last, nil
		}
		// The stream broke (daemon restart): reconnect.
		select {
		case <-ctx.Done():
			return last, ctx.Err()
		case <-time.After(2 * time.Second):
		}
	}
}

func finishFollow(c *apiClient, e env, d *httpapi.RunDetail) error {
	if c.json {
		b, err := json.MarshalIndent(d, "", "  ")
		if err != nil {
			return fmt.Errorf("encode run: %w", err)
		}
		c.printJSON(b)
	} else {
		fmt.Fprintln(e.stdout, strings.TrimSpace(fmt.Sprintf("run %d %s: %s %s", d.ID, runTitle(d.Run), d.State, d.Summary)))
		printRunDetail(e, d)
	}
	if d.State != "succeeded" {
		return exitError{1}
	}
	return nil
}

// streamRun reads one connection of a run's event stream, calling each for
// every update. It reports whether the stream ended because the run is
// final.
func (c *apiClient) streamRun(ctx context.Context, id int64, each func(*httpapi.RunDetail)) (bool, error) {
	path := "/api/v1/runs/" + strconv.FormatInt(id, 10) + "/events"
	req, err := http.NewRequestWithContext(ctx, "GET", c.server+path, nil)
	if err != nil {
		return false, fmt.Errorf("build request: %w", err)
	}
	req.Header.Set("Accept", "text/event-stream")
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	// No overall timeout: the stream lasts as long as the run; ctx ends it.
	resp, err := (&http.Client{Transport: c.http.Transport}).Do(req)
	if err != nil {
		return false, c.sendError(ctx, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		raw, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		return false, c.answerError(resp.StatusCode, raw)
	}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 64<<20)
	var event string
	var data strings.Builder
	for sc.Scan() {
		line := sc.Text()
		switch {
		case line == "":
			switch event {
			case "run":
				var d httpapi.RunDetail
				if err := json.Unmarshal([]byte(data.String()), &d); err != nil {
					return false, fmt.Errorf("decode run event: %w", err)
				}
				each(&d)
			case "end":
				return true, nil
			case "error":
				var e httpapi.Error
				_ = json.Unmarshal([]byte(data.String()), &e)
				return false, fmt.Errorf("run %d events: %s", id, e.Error)
			}
			event = ""
			data.Reset()
		case strings.HasPrefix(line, "event:"):
			event = strings.TrimSpace(strings.TrimPrefix(line, "event:"))
		case strings.HasPrefix(line, "data:"):
			if data.Len() > 0 {
				data.WriteByte('\n')
			}
			data.WriteString(strings.TrimPrefix(strings.TrimPrefix(line, "data:"), " "))
		}
	}
	if err := sc.Err(); err != nil {
		return false, fmt.Errorf("read run %d events: %w", id, err)
	}
	return false, io.ErrUnexpectedEOF
}

// runDrawer draws run progress: in place on a terminal, as appended lines
// elsewhere (each wave line when it changes, each failure once).
type runDrawer struct {
	w       io.Writer
	tty     bool
	lines   int             // lines of the last frame (tty)
	printed map[string]bool // lines already appended (not tty)
}

func (d *runDrawer) draw(rd *httpapi.RunDetail) {
	frame := runFrame(rd)
	if d.tty {
		var b strings.Builder
		if d.lines > 0 {
			fmt.Fprintf(&b, "\x1b[%dF\x1b[J", d.lines)
		}
		for _, l := range frame {
			b.WriteString(l + "\n")
		}
		io.WriteString(d.w, b.String())
		d.lines = len(frame)
		return
	}
	for _, l := range frame {
		if !d.printed[l] {
			d.printed[l] = true
			fmt.Fprintln(d.w, l)
		}
	}
}

// runFrame is the drawing of a run: a header, a line per wave, and the
// failing hosts.
func runFrame(rd *httpapi.RunDetail) []string {
	done, total := 0, 0
	for _, w := range rd.WaveDetails {
		done += w.Counts.OK + w.Counts.Failed
		total += len(w.Hosts)
	}
	out := []string{fmt.Sprintf("run %d %s  %s  %s", rd.ID, runTitle(rd.Run), strings.ToUpper(rd.State), engine.PluralOf(done, total, "host"))}
	var failed []string
	for _, w := range rd.WaveDetails {
		line := fmt.Sprintf("  wave %d/%d %s %d/%d ok %d", w.Number, len(rd.WaveDetails),
			progressBar(w.Counts.OK+w.Counts.Failed, len(w.Hosts), 20), w.Counts.OK+w.Counts.Failed, len(w.Hosts), w.Counts.OK)
		if w.Counts.Failed > 0 {
			line += fmt.Sprintf(" %d failed", w.Counts.Failed)
		}
		if w.Counts.Running > 0 {
			line += fmt.Sprintf(" %d running", w.Counts.Running)
		}
		out = append(out, line)
		for _, h := range w.Hosts {
			if label, why, ok := hostProblem(h); ok {
				failed = append(failed, fmt.Sprintf("    %s %s  %s", label, h.Host, why))
			}
		}
	}
	return append(out, failed...)
}

// hostProblem says what went wrong on a host that did not succeed: its
// outcome in capitals (FAILED, UNREACHABLE, GATE FAILED, ROLLED BACK) and
// why; ok is false for the hosts that succeeded, run or wait.
func hostProblem(h httpapi.HostRun) (label, why string, ok bool) {
	switch h.State {
	case "failed", "unreachable":
		why = hostFailure(h)
	case "gate_failed", "rolled_back":
		why = h.Reason
	default:
		return "", "", false
	}
	if h.RolledBack && h.State != "rolled_back" {
		why = strings.TrimSpace(why + " (rolled back)")
	}
	return strings.ToUpper(strings.ReplaceAll(h.State, "_", " ")), why, true
}

// hostFailure is the first failed forward step of a host with the first
// line of its error.
func hostFailure(h httpapi.HostRun) string {
	for _, s := range h.Steps {
		if s.Rollback || s.Phase != "finished" || s.Status == "ok" || s.Status == "changed" || s.Status == "unchanged" {
			continue
		}
		msg := s.Error
		if strings.TrimSpace(msg) == "" {
			msg = s.Stderr
		}
		if strings.TrimSpace(msg) == "" {
			msg = s.Stdout
		}
		return fmt.Sprintf("step %s: %s (exit %d) %s", s.Step, s.Status, s.ExitCode, engine.FirstLine(msg, 120))
	}
	return ""
}
