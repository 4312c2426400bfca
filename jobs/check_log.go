package jobs

import (
	"context"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/ripple-ops/ripple/definitions"
	"github.com/ripple-ops/ripple/engine"
)

// Streamer runs one command on a host like Commander, writing its
// standard output to stdout as it arrives instead of capturing it. The
// SSH and local transports implement it; log checks need it.
type Streamer interface {
	ExecStream(ctx context.Context, ep engine.Endpoint, cmd string, stdout io.Writer, timeout time.Duration) (ExecResult, error)
}

var _ engine.LogChecker = (*Checker)(nil)

// Log check output bounds: each shown line, and the whole output.
const (
	maxLogLineShown = 300
	maxLogOutput    = 16 << 10
)

// CheckLog implements engine.LogChecker: it reads the bytes of the file
// written since cursor from, over the host's connection, counts the lines
// that match the pattern and not exclude, and maps the count to a state
// (warn_count, crit_count). The output is a summary line, then up to
// max_lines of the matched lines (secrets redacted); the metrics are the
// count ("matches"), the bytes read ("bytes") and those left for later
// checks ("backlog_bytes").
//
// Where it reads: without a cursor for this path, from the end (old lines
// never alert); from the cursor's offset in the same file (device and
// inode); from the start of a new file (after a rotation, or a file that
// did not exist before), after the rest of the previous file, found at
// the check's rotated name; from the start of a file shorter than the
// offset (truncated). At most max_bytes per check; a last line without its
// newline is left for the next check. A check that could not read
// (unreachable host, broken output) returns from unchanged, so nothing is
// skipped.
func (c *Checker) CheckLog(ctx context.Context, ep engine.Endpoint, check *definitions.HostCheck, from *engine.LogCursor) (res engine.CheckResult, next *engine.LogCursor) {
	start := c.now()
	next = from
	parent := ctx
	defer func() {
		if r := recover(); r != nil {
			res, next = engine.CheckResult{State: engine.StateUnknown, Output: fmt.Sprintf("check panicked: %v", r)}, from
		}
		if errors.Is(parent.Err(), context.Canceled) {
			res, next = engine.CheckResult{State: engine.StateUnknown, Output: "check canceled"}, from
		}
		res.At = start
		res.Duration = max(c.now().Sub(start), 0)
		var secrets []string
		if check != nil {
			secrets = check.Secrets
		}
		res.Output = logOutput(redactCheckSecrets(res.Output, append(secrets, ep.Passphrase)))
		if next == nil {
			next = &engine.LogCursor{}
			if check != nil && check.Log != nil {
				next.Path = check.Log.Path
			}
		}
	}()
	if check == nil || check.Log == nil {
		return unknownf("no log check given"), from
	}
	lc := check.Log
	st, ok := c.cmd.(Streamer)
	if !ok || c.cmd == nil {
		return unknownf("no transport for log checks configured"), from
	}
	pattern, err := c.bodyPattern(lc.Pattern)
	if err != nil {
		return unknownf("%v", err), from
	}
	var exclude *regexp.Regexp
	if lc.Exclude != "" {
		if exclude, err = c.bodyPattern(lc.Exclude); err != nil {
			return unknownf("%v", err), from
		}
	}
	timeout := check.Timeout
	if timeout <= 0 {
		timeout = DefaultCheckTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()

	first := from == nil || from.Path != lc.Path
	token := newLogToken()
	var m logMatches
	m.max = lc.MaxLines
	stream := newLogStream(token, lc.MaxBytes, func(_ string, line []byte) {
		line = trimCR(line)
		if pattern.Match(line) && (exclude == nil || !exclude.Match(line)) {
			m.add(line)
		}
	})
	out, err := st.ExecStream(ctx, ep, logScript(token, lc.Path, lc.Rotated, from, first, lc.MaxBytes), stream, timeout)
	switch {
	case ctx.Err() != nil && !errors.Is(ctx.Err(), context.DeadlineExceeded):
		return unknownf("check canceled"), from
	case out.TimedOut || errors.Is(err, context.DeadlineExceeded) || ctx.Err() != nil:
		return unknownf("reading %s timed out after %s", lc.Path, roundDuration(timeout)), from
	case err != nil:
		return unknownf("could not read %s: %v", lc.Path, err), from
	}
	if err := stream.finish(); err != nil {
		why := stderrLine(out.Stderr)
		if why == "" {
			why = err.Error()
		}
		return unknownf("could not read %s: %s (exit status %d)", lc.Path, why, out.ExitCode), from
	}
	return logResult(lc, from, first, stream, &m, stderrLine(out.Stderr))
}

// logResult turns a complete read into the result and the next cursor.
func logResult(lc *definitions.HostLogCheck, from *engine.LogCursor, first bool, s *logStream, m *logMatches, stderr string) (engine.CheckResult, *engine.LogCursor) {
	next := &engine.LogCursor{Path: lc.Path}
	var read, left int64
	var notes []string
	rot, cur := s.section("rot"), s.section("cur")
	if rot != nil && s.rot != nil {
		next.Rotated = &engine.LogFile{Device: s.rot.Device, Inode: s.rot.Inode, Offset: rot.From + rot.Consumed}
		read += rot.Got
		left += s.rot.Size - next.Rotated.Offset
	}
	if s.cur == "open" {
		st := s.curStat
		next.File = &engine.LogFile{Device: st.Device, Inode: st.Inode, Offset: st.Size}
		if cur != nil {
			next.File.Offset = cur.From + cur.Consumed
			read += cur.Got
		}
		left += st.Size - next.File.Offset
		if next.Rotated.Same(next.File) {
			next.Rotated = nil // one file under both names
		}
	}
	var prev *engine.LogFile
	if !first && from != nil {
		prev = from.File
	}
	switch {
	case first || prev == nil:
	case prev.Same(next.File):
		if cur != nil && cur.From < prev.Offset {
			notes = append(notes, "truncated: read from its start")
		}
	case prev.Same(next.Rotated):
		// The file the cursor was in was renamed to the rotated name.
		notes = append(notes, fmt.Sprintf("rotated: read the rest of %s", lc.Rotated))
	case lc.Rotated == "":
		notes = append(notes, "the file was replaced; lines written to the old one after the last check were not read (set rotated to read them)")
	default:
		notes = append(notes, fmt.Sprintf("the file was replaced and the old one is not at %s; lines written to it after the last check were not read", lc.Rotated))
	}
	if left > 0 {
		notes = append(notes, fmt.Sprintf("%s left for the next checks (max_bytes %s per check)", byteSize(left), byteSize(lc.MaxBytes)))
	}

	state := logCountState(lc, m.count)
	var summary string
	switch {
	case s.cur == "unreadable":
		state = worseState(state, engine.StateUnknown)
		why := stderr
		if why == "" {
			why = "permission denied?"
		}
		summary = fmt.Sprintf("cannot read %s: %s", lc.Path, why)
	case first && s.cur == "open":
		summary = fmt.Sprintf("watching %s from its end (%s there before were not read)", lc.Path, byteSize(s.curStat.Size))
	case s.cur == "missing":
		if !lc.MissingOK {
			state = worseState(state, engine.StateUnknown)
		}
		summary = fmt.Sprintf("%s does not exist", lc.Path)
		if m.count > 0 {
			summary = fmt.Sprintf("%s in %s; %s", plural(m.count, "matching line"), lc.Rotated, summary)
		}
	case m.count == 0:
		summary = fmt.Sprintf("no matching lines in %s (%s read)", lc.Path, byteSize(read))
	default:
		summary = fmt.Sprintf("%s in %s (%s read)", plural(m.count, "matching line"), lc.Path, byteSize(read))
	}
	if len(notes) > 0 {
		summary += "; " + strings.Join(notes, "; ")
	}
	var b strings.Builder
	b.WriteString(summary)
	for _, l := range m.lines {
		b.WriteByte('\n')
		b.WriteString(l)
	}
	if hidden := m.count - len(m.lines); hidden > 0 && lc.MaxLines > 0 {
		fmt.Fprintf(&b, "\n(%d more %s not shown)", hidden, nouns(hidden, "matching line"))
	}
	return engine.CheckResult{
		State:  state,
		Output: b.String(),
		Metrics: []engine.Metric{
			{Name: "matches", Value: float64(m.count)},
			{Name: "bytes", Value: float64(read), Unit: "B"},
			{Name: "backlog_bytes", Value: float64(max(left, 0)), Unit: "B"},
		},
	}, next
}

// logCountState maps a count of matches to a state.
func logCountState(lc *definitions.HostLogCheck, n int) engine.CheckState {
	switch {
	case lc.CritCount > 0 && n >= lc.CritCount:
		return engine.StateCritical
	case lc.WarnCount > 0 && n >= lc.WarnCount:
		return engine.StateWarning
	}
	return engine.StateOK
}

// logMatches counts matched lines and keeps the first max for display.
type logMatches struct {
	max   int
	count int
	lines []string
}

func (m *logMatches) add(line []byte) {
	m.count++
	if len(m.lines) < m.max {
		m.lines = append(m.lines, shownLine(line))
	}
}

// shownLine is a log line as output shows it: valid UTF-8 without control
// characters, capped.
func shownLine(b []byte) string {
	if len(b) > maxLogLineShown {
		cut := maxLogLineShown
		for cut > 0 && !utf8.RuneStart(b[cut]) {
			cut--
		}
		b = append(b[:cut:cut], "..."...)
	}
	s := strings.ToValidUTF8(string(b), "\uFFFD")
	return strings.Map(func(r rune) rune {
		if r < 0x20 && r != '\t' || r == 0x7f {
			return '?'
		}
		return r
	}, s)
}

func trimCR(b []byte) []byte {
	if n := len(b); n > 0 && b[n-1] == '\r' {
		return b[:n-1]
	}
	return b
}

// logOutput caps a log check's output: its lines are kept (unlike the
// one-line output of other checks), up to maxLogOutput bytes.
func logOutput(s string) string {
	s = strings.TrimRight(s, "\n")
	if len(s) <= maxLogOutput {
		return s
	}
	cut := strings.LastIndexByte(s[:maxLogOutput], '\n')
	if cut < 0 {
		cut = maxLogOutput
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
	}
	return s[:cut] + "\n(output cut)"
}

// stderrLine is the first line of a command's standard error.
func stderrLine(b []byte) string {
	s, _, _ := strings.Cut(strings.TrimSpace(string(b)), "\n")
	return strings.TrimSpace(s)
}

func plural(n int, noun string) string {
	return fmt.Sprintf("%d %s", n, nouns(n, noun))
}

func nouns(n int, noun string) string {
	if n == 1 {
		return noun
	}
	return noun + "s"
}

// byteSize formats n bytes for messages: 512 B, 4.0 KiB, 49.5 MiB.
func byteSize(n int64) string {
	switch {
	case n < 1<<10:
		return fmt.Sprintf("%d B", n)
	case n < 1<<20:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	case n < 1<<30:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	default:
		return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
	}
}
