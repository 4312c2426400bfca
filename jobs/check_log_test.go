package jobs

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ripple-ops/ripple/definitions"
	"github.com/ripple-ops/ripple/engine"
)

// logFixture is a log file on this machine read through the local
// transport: the same script a host runs over SSH, on real files.
type logFixture struct {
	t      *testing.T
	dir    string
	path   string
	check  *definitions.HostCheck
	c      *Checker
	ep     engine.Endpoint
	cursor *engine.LogCursor
}

func newLogFixture(t *testing.T, configure func(*definitions.HostLogCheck)) *logFixture {
	t.Helper()
	dir := t.TempDir()
	f := &logFixture{t: t, dir: dir, path: filepath.Join(dir, "app log's.log")} // quoting on purpose
	lc := &definitions.HostLogCheck{Path: f.path, Rotated: f.path + ".1", Pattern: "ERROR|FATAL", CritCount: 1,
		MaxLines: 10, MaxBytes: definitions.DefaultLogMaxBytes}
	if configure != nil {
		configure(lc)
	}
	f.check = &definitions.HostCheck{Monitor: "app", Kind: definitions.CheckLog, Timeout: 10 * time.Second, Log: lc}
	f.c = NewChecker(CheckerOptions{Commander: NewLocal(SSHOptions{})})
	f.ep = engine.Endpoint{Host: &definitions.Host{Name: "local", Transport: "local"}}
	return f
}

func (f *logFixture) append(name, text string) {
	f.t.Helper()
	fh, err := os.OpenFile(filepath.Join(f.dir, name), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		f.t.Fatal(err)
	}
	if _, err := io.WriteString(fh, text); err != nil {
		f.t.Fatal(err)
	}
	if err := fh.Close(); err != nil {
		f.t.Fatal(err)
	}
}

func (f *logFixture) rename(from, to string) {
	f.t.Helper()
	if err := os.Rename(filepath.Join(f.dir, from), filepath.Join(f.dir, to)); err != nil {
		f.t.Fatal(err)
	}
}

// run checks once, keeping the cursor as the monitor runner would.
func (f *logFixture) run() engine.CheckResult {
	f.t.Helper()
	res, next := f.c.CheckLog(context.Background(), f.ep, f.check, f.cursor)
	if next == nil {
		f.t.Fatal("CheckLog returned a nil cursor")
	}
	f.cursor = next
	return res
}

func metric(res engine.CheckResult, name string) float64 {
	for _, m := range res.Metrics {
		if m.Name == name {
			return m.Value
		}
	}
	return -1
}

func (f *logFixture) expect(res engine.CheckResult, state engine.CheckState, matches int, outputHas ...string) {
	f.t.Helper()
	if res.State != state || metric(res, "matches") != float64(matches) {
		f.t.Errorf("result %s with %v matches, want %s with %d:\n%s", res.State, metric(res, "matches"), state, matches, res.Output)
	}
	for _, s := range outputHas {
		if !strings.Contains(res.Output, s) {
			f.t.Errorf("output does not say %q:\n%s", s, res.Output)
		}
	}
}

func TestLogCheckReadsOnlyNewLines(t *testing.T) {
	f := newLogFixture(t, func(lc *definitions.HostLogCheck) { lc.WarnCount, lc.CritCount = 1, 3 })
	f.append("app log's.log", "ERROR old line before ripple watched\n")
	f.expect(f.run(), engine.StateOK, 0, "from its end", "37 B there before were not read")

	appended := "INFO started\nERROR disk full\nINFO ok\nFATAL out of memory\n"
	f.append("app log's.log", appended)
	res := f.run()
	f.expect(res, engine.StateWarning, 2, "2 matching lines in", "\nERROR disk full\nFATAL out of memory")
	if strings.Contains(res.Output, "old line") || metric(res, "bytes") != float64(len(appended)) {
		t.Errorf("read %v bytes (want the %d new ones):\n%s", metric(res, "bytes"), len(appended), res.Output)
	}

	f.expect(f.run(), engine.StateOK, 0, "no matching lines", "(0 B read)")

	f.append("app log's.log", "ERROR a\nERROR b\nERROR c\n")
	f.expect(f.run(), engine.StateCritical, 3)
}

func TestLogCheckLeavesAnUnfinishedLine(t *testing.T) {
	f := newLogFixture(t, nil)
	f.run()
	f.append("app log's.log", "ERROR first\nERROR half a li")
	f.expect(f.run(), engine.StateCritical, 1, "\nERROR first")
	f.append("app log's.log", "ne\n")
	res := f.run()
	f.expect(res, engine.StateCritical, 1, "\nERROR half a line")
	if strings.Contains(res.Output, "ERROR first") {
		t.Errorf("a line was counted twice:\n%s", res.Output)
	}
}

// TestLogCheckRotation follows logrotate's default (create): the file is
// renamed to path.1, the writer keeps appending to it until it reopens,
// and a new file takes the path. No line is lost or read twice.
func TestLogCheckRotation(t *testing.T) {
	f := newLogFixture(t, nil)
	f.append("app log's.log", "boot\n")
	f.run()
	f.append("app log's.log", "ERROR 1 before rotation\n")
	f.rename("app log's.log", "app log's.log.1")
	f.append("app log's.log", "ERROR 2 in the new file\n")
	f.append("app log's.log.1", "ERROR 3 late write to the old file\n")
	f.expect(f.run(), engine.StateCritical, 3, "rotated: read the rest of", "ERROR 1", "ERROR 2", "ERROR 3")
	if f.cursor.Rotated == nil {
		t.Fatalf("cursor %+v does not follow the rotated file", f.cursor)
	}

	// The writer still had the old file open.
	f.append("app log's.log.1", "ERROR 4 even later\n")
	f.append("app log's.log", "ERROR 5\n")
	res := f.run()
	f.expect(res, engine.StateCritical, 2, "\nERROR 4 even later\nERROR 5")
	if strings.Contains(res.Output, "rotated") {
		t.Errorf("second check after a rotation says it rotated again:\n%s", res.Output)
	}

	// The next rotation: .1 goes away (compressed), the current file
	// becomes .1.
	if err := os.Remove(filepath.Join(f.dir, "app log's.log.1")); err != nil {
		t.Fatal(err)
	}
	f.append("app log's.log", "ERROR 6\n")
	f.rename("app log's.log", "app log's.log.1")
	f.expect(f.run(), engine.StateCritical, 1, "does not exist", "\nERROR 6")
	f.append("app log's.log", "ERROR 7\n")
	f.expect(f.run(), engine.StateCritical, 1, "\nERROR 7")
	f.expect(f.run(), engine.StateOK, 0)
}

func TestLogCheckRotationWithoutRotatedName(t *testing.T) {
	f := newLogFixture(t, func(lc *definitions.HostLogCheck) { lc.Rotated = "" })
	f.append("app log's.log", "boot\n")
	f.run()
	f.rename("app log's.log", "gone")
	f.append("app log's.log", "ERROR new file\n")
	f.expect(f.run(), engine.StateCritical, 1, "the file was replaced", "set rotated", "ERROR new file")
}

func TestLogCheckTruncation(t *testing.T) {
	f := newLogFixture(t, nil)
	f.append("app log's.log", strings.Repeat("INFO filler line\n", 100))
	f.run()
	if err := os.Truncate(f.path, 0); err != nil {
		t.Fatal(err)
	}
	f.append("app log's.log", "ERROR after truncation\n")
	f.expect(f.run(), engine.StateCritical, 1, "truncated: read from its start", "ERROR after truncation")
	f.expect(f.run(), engine.StateOK, 0)
}

// TestLogCheckMaxBytes: an append larger than max_bytes is read over
// several checks, never more than max_bytes each, every line once.
func TestLogCheckMaxBytes(t *testing.T) {
	f := newLogFixture(t, func(lc *definitions.HostLogCheck) { lc.MaxBytes, lc.MaxLines = 4096, 1 })
	f.run()
	var b strings.Builder
	for i := range 500 {
		if i%10 == 0 {
			fmt.Fprintf(&b, "ERROR %03d\n", i)
		} else {
			fmt.Fprintf(&b, "INFO  %03d\n", i)
		}
	}
	f.append("app log's.log", b.String()) // 5000 bytes, 50 errors
	total, checks := 0, 0
	for ; checks < 5; checks++ {
		res := f.run()
		if got := metric(res, "bytes"); got > 4096 {
			t.Errorf("check %d read %v bytes, over max_bytes", checks, got)
		}
		total += int(metric(res, "matches"))
		if metric(res, "backlog_bytes") == 0 {
			if strings.Contains(res.Output, "left for the next checks") {
				t.Errorf("last check still says bytes are left:\n%s", res.Output)
			}
			break
		}
		if !strings.Contains(res.Output, "left for the next checks (max_bytes 4.0 KiB per check)") {
			t.Errorf("check %d does not say the rest comes later:\n%s", checks, res.Output)
		}
	}
	if total != 50 || checks != 1 {
		t.Errorf("%d matches over %d+1 checks, want 50 over 2", total, checks)
	}
}

func TestLogCheckLineLongerThanMaxBytes(t *testing.T) {
	f := newLogFixture(t, func(lc *definitions.HostLogCheck) { lc.MaxBytes = 1024 })
	f.run()
	f.append("app log's.log", "ERROR "+strings.Repeat("x", 2000)+"\nERROR short\n")
	res := f.run()
	f.expect(res, engine.StateCritical, 1, "ERROR xxx")
	if !strings.Contains(res.Output, "...") {
		t.Errorf("a long line is not cut for display:\n%s", res.Output)
	}
	total := 1
	for range 3 {
		total += int(metric(f.run(), "matches"))
	}
	if total != 2 {
		t.Errorf("%d matches, want 2 (the long line once, the short one once)", total)
	}
}

func TestLogCheckMissingFile(t *testing.T) {
	f := newLogFixture(t, nil)
	f.expect(f.run(), engine.StateUnknown, 0, "does not exist")
	f.append("app log's.log", "ERROR the file appeared\n")
	f.expect(f.run(), engine.StateCritical, 1, "ERROR the file appeared")

	ok := newLogFixture(t, func(lc *definitions.HostLogCheck) { lc.MissingOK = true })
	ok.expect(ok.run(), engine.StateOK, 0, "does not exist")
}

func TestLogCheckExcludeAndRedaction(t *testing.T) {
	f := newLogFixture(t, func(lc *definitions.HostLogCheck) { lc.Exclude = "healthcheck" })
	f.check.Secrets = []string{"s3cr3t-token"}
	f.run()
	f.append("app log's.log", "ERROR healthcheck failed\nERROR login with token s3cr3t-token refused\n")
	res := f.run()
	f.expect(res, engine.StateCritical, 1, "token [redacted] refused")
	if strings.Contains(res.Output, "s3cr3t") || strings.Contains(res.Output, "healthcheck") {
		t.Errorf("output:\n%s", res.Output)
	}
}

func TestLogCheckMaxLines(t *testing.T) {
	f := newLogFixture(t, func(lc *definitions.HostLogCheck) { lc.MaxLines = 2 })
	f.run()
	f.append("app log's.log", "ERROR 1\nERROR 2\nERROR 3\nERROR 4\n")
	res := f.run()
	f.expect(res, engine.StateCritical, 4, "\nERROR 1\nERROR 2\n(2 more matching lines not shown)")
	if strings.Contains(res.Output, "ERROR 3") {
		t.Errorf("more than max_lines shown:\n%s", res.Output)
	}
}

// A new path (the monitor changed) starts from the end of the new file.
func TestLogCheckNewPathStartsAtEnd(t *testing.T) {
	f := newLogFixture(t, nil)
	f.append("app log's.log", "x\n")
	f.run()
	f.append("other.log", "ERROR old\n")
	f.check.Log.Path = filepath.Join(f.dir, "other.log")
	f.expect(f.run(), engine.StateOK, 0, "from its end")
}

type failingStreamer struct{ err error }

func (s failingStreamer) Exec(context.Context, engine.Endpoint, string, io.Reader, time.Duration) (ExecResult, error) {
	return ExecResult{ExitCode: -1}, s.err
}

func (s failingStreamer) ExecStream(_ context.Context, _ engine.Endpoint, _ string, w io.Writer, _ time.Duration) (ExecResult, error) {
	_, _ = io.WriteString(w, "partial output")
	return ExecResult{ExitCode: -1}, s.err
}

// A check that cannot read keeps the cursor: nothing is skipped.
func TestLogCheckFailureKeepsCursor(t *testing.T) {
	f := newLogFixture(t, nil)
	f.c = NewChecker(CheckerOptions{Commander: failingStreamer{errors.New("dial 127.0.0.9:22: connection refused")}})
	from := &engine.LogCursor{Path: f.path, File: &engine.LogFile{Device: 1, Inode: 2, Offset: 300}}
	f.cursor = from
	res := f.run()
	if res.State != engine.StateUnknown || !strings.Contains(res.Output, "connection refused") {
		t.Errorf("result = %s %q", res.State, res.Output)
	}
	if f.cursor != from {
		t.Errorf("cursor moved to %+v", f.cursor)
	}
}
