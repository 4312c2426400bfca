package main

import (
	"bytes"
	"cmp"
	"context"
	"fmt"
	"io/fs"
	"maps"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ripple-ops/ripple/engine/pgstore/pgtest"
)

// The docs tests keep docs/ and README.md true to the code: every link and
// every page named resolves, every ripple command shown takes the flags it
// is shown with, cli.md's flag tables list exactly each command's flags,
// and the `ripple lab up` examples print what the command prints.

// docFiles are README.md and every page under docs/, by path from the
// repository root.
func docFiles(t *testing.T) map[string]string {
	t.Helper()
	root := filepath.Join("..", "..")
	out := map[string]string{}
	read := func(rel string) {
		b, err := os.ReadFile(filepath.Join(root, rel))
		if err != nil {
			t.Fatal(err)
		}
		out[rel] = string(b)
	}
	read("README.md")
	err := fs.WalkDir(os.DirFS(root), "docs", func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasSuffix(p, ".md") {
			read(p)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

var (
	mdLink    = regexp.MustCompile(`\]\(([^)\s]+)\)`)
	mdMention = regexp.MustCompile("(?:^|[\\s`(\"])([A-Za-z0-9_./-]+\\.md)\\b")
)

// TestDocsLinks: every relative link and every .md page a doc names exists.
func TestDocsLinks(t *testing.T) {
	root := filepath.Join("..", "..")
	exists := func(p string) bool { _, err := os.Stat(filepath.Join(root, p)); return err == nil }
	for name, text := range docFiles(t) {
		dir := filepath.Dir(name)
		for _, m := range mdLink.FindAllStringSubmatch(text, -1) {
			target, _, _ := strings.Cut(m[1], "#")
			if target == "" || strings.Contains(target, "://") || strings.HasPrefix(target, "mailto:") {
				continue
			}
			if !exists(filepath.Join(dir, target)) {
				t.Errorf("%s links %s, which does not exist", name, m[1])
			}
		}
		for _, m := range mdMention.FindAllStringSubmatch(text, -1) {
			page := m[1]
			if !exists(filepath.Join(dir, page)) && !exists(page) && !exists(filepath.Join("docs", page)) {
				t.Errorf("%s names %s, which is not in the repository", name, page)
			}
		}
	}
}

// commandFlags runs `ripple CMD -h` and returns the flags its usage lists.
func commandFlags(t *testing.T, cmd []string) map[string]bool {
	t.Helper()
	var out bytes.Buffer
	e := env{stdin: strings.NewReader(""), stdout: &out, stderr: &out, getenv: func(string) string { return "" }}
	_ = run(context.Background(), append(slices.Clone(cmd), "-h"), e)
	flags := map[string]bool{}
	for _, m := range regexp.MustCompile(`(?m)^\s+-{1,2}([a-z][a-z0-9-]*)`).FindAllStringSubmatch(out.String(), -1) {
		flags[m[1]] = true
	}
	return flags
}

// commandOf is the (sub)command an argument list names, or nil when the
// first word is not a ripple command.
func commandOf(args []string) []string {
	if len(args) == 0 {
		return nil
	}
	if len(args) > 1 && (args[0] == "lab" && args[1] == "up" || args[0] == "hosts" && args[1] == "trust") {
		return args[:2]
	}
	for _, c := range commands() {
		if c.name == args[0] {
			return args[:1]
		}
	}
	return nil
}

// shellWords splits a command line as sh would for the plain cases docs
// show: words, single and double quotes; it stops at a pipe, a redirection
// or a comment.
func shellWords(line string) []string {
	var words []string
	var cur strings.Builder
	in, quote, started := false, byte(0), false
	for i := 0; i < len(line); i++ {
		c := line[i]
		switch {
		case quote != 0:
			if c == quote {
				quote = 0
			} else {
				cur.WriteByte(c)
			}
		case c == '\'' || c == '"':
			quote, started = c, true
		case c == ' ' || c == '\t':
			if started {
				words = append(words, cur.String())
				cur.Reset()
				started = false
			}
		case (c == '|' || c == '>' || c == '#' || c == '&') && !started || c == ';':
			in = true
		default:
			cur.WriteByte(c)
			started = true
		}
		if in {
			break
		}
	}
	if started {
		words = append(words, cur.String())
	}
	return words
}

// docCommand is a ripple command line in a doc: an example after "$ " in
// a console block, or a synopsis line of a usage block.
type docCommand struct {
	where string
	args  []string
}

var fence = regexp.MustCompile("(?ms)^```([a-z]*)\n(.*?)^```")

func docCommands(t *testing.T) []docCommand {
	var out []docCommand
	for name, text := range docFiles(t) {
		for _, b := range fence.FindAllStringSubmatch(text, -1) {
			lang, body := b[1], strings.ReplaceAll(b[2], "\\\n", " ")
			for i, line := range strings.Split(body, "\n") {
				switch {
				case lang == "console" && strings.HasPrefix(line, "$ "):
					line = line[2:]
				case lang == "" && strings.HasPrefix(line, "ripple "):
				default:
					continue
				}
				words := shellWords(line)
				for len(words) > 0 && strings.Contains(words[0], "=") && !strings.HasPrefix(words[0], "-") {
					words = words[1:] // VAR=value ripple ...
				}
				if len(words) == 0 || words[0] != "ripple" {
					continue
				}
				out = append(out, docCommand{where: name + ": " + strings.TrimSpace(strings.Split(body, "\n")[i]), args: words[1:]})
			}
		}
	}
	return out
}

// TestDocsCommandsTakeTheirFlags: every ripple command line in the docs
// names a command that exists, and every flag it shows is one the command
// takes.
func TestDocsCommandsTakeTheirFlags(t *testing.T) {
	cache := map[string]map[string]bool{}
	flagWord := regexp.MustCompile(`^\[?-{1,2}([a-z][a-z0-9-]*)`)
	n := 0
	for _, c := range docCommands(t) {
		cmd := commandOf(c.args)
		if cmd == nil {
			if len(c.args) > 0 && !strings.HasPrefix(c.args[0], "-") && c.args[0] != "COMMAND" && c.args[0] != "help" {
				t.Errorf("%s: no command %q", c.where, c.args[0])
			}
			continue
		}
		key := strings.Join(cmd, " ")
		if cache[key] == nil {
			cache[key] = commandFlags(t, cmd)
		}
		n++
		for _, w := range c.args[len(cmd):] {
			m := flagWord.FindStringSubmatch(w)
			if m == nil || m[1] == "h" || m[1] == "help" {
				continue
			}
			if prefix, ok := strings.CutSuffix(m[1], "-"); ok { // -max-...: a family of flags
				if !slices.ContainsFunc(slices.Collect(maps.Keys(cache[key])), func(f string) bool { return strings.HasPrefix(f, prefix+"-") }) {
					t.Errorf("%s: ripple %s has no flag -%s...", c.where, key, m[1])
				}
				continue
			}
			if !cache[key][m[1]] {
				t.Errorf("%s: ripple %s has no flag -%s", c.where, key, m[1])
			}
		}
	}
	if n < 30 {
		t.Errorf("found only %d ripple command lines in the docs", n)
	}
}

// TestDocsFlagTablesAreComplete: cli.md's flag table of each command lists
// every flag `ripple CMD -h` shows, and no other.
func TestDocsFlagTablesAreComplete(t *testing.T) {
	text := docFiles(t)["docs/cli.md"]
	heading := regexp.MustCompile(`(?m)^#{2,3} (.*)$`)
	cell := regexp.MustCompile("`-{1,2}([a-z][a-z0-9-]*)")
	locs := heading.FindAllStringSubmatchIndex(text, -1)
	clientFlags := map[string]bool{}
	tables := 0
	for i, loc := range locs {
		title := text[loc[2]:loc[3]]
		end := len(text)
		if i+1 < len(locs) {
			end = locs[i+1][0]
		}
		documented := map[string]bool{}
		for _, line := range strings.Split(text[loc[1]:end], "\n") {
			if !strings.HasPrefix(line, "| `-") {
				continue
			}
			first, _, _ := strings.Cut(line[2:], " | ")
			for _, m := range cell.FindAllStringSubmatch(first, -1) {
				documented[m[1]] = true
			}
		}
		if len(documented) == 0 {
			continue
		}
		tables++
		if title == "API client commands" {
			clientFlags = documented
			got := commandFlags(t, []string{"runs"})
			for f := range documented {
				if !got[f] {
					t.Errorf("cli.md's client flags list -%s, which ripple runs does not take", f)
				}
			}
			continue
		}
		cmd := commandOf(strings.Fields(strings.TrimPrefix(title, "ripple ")))
		if !strings.HasPrefix(title, "ripple ") || cmd == nil {
			t.Errorf("cli.md: a flag table under %q, which names no command", title)
			continue
		}
		got := commandFlags(t, cmd)
		for f := range got {
			if !documented[f] && !clientFlags[f] {
				t.Errorf("cli.md: %s: the table lacks -%s", title, f)
			}
		}
		for f := range documented {
			if !got[f] {
				t.Errorf("cli.md: %s: the table lists -%s, which the command does not take", title, f)
			}
		}
	}
	if tables < 5 {
		t.Errorf("found only %d flag tables in cli.md", tables)
	}
}

// TestDocsLabUpOutput: each `ripple lab up` example prints what the command
// prints: it runs with the example's flags (in a temporary --dir) and its
// output must match the example line for line, "..." standing for any
// lines and the ports and temporary directory for the example's.
func TestDocsLabUpOutput(t *testing.T) {
	type example struct {
		where string
		args  []string
		out   []string
	}
	var examples []example
	for name, text := range docFiles(t) {
		for _, b := range fence.FindAllStringSubmatch(text, -1) {
			if b[1] != "console" {
				continue
			}
			lines := strings.Split(strings.TrimSuffix(b[2], "\n"), "\n")
			for i, line := range lines {
				if !strings.HasPrefix(line, "$ ripple lab up") {
					continue
				}
				ex := example{where: name, args: shellWords(line[2:])[1:]}
				for _, l := range lines[i+1:] {
					if strings.HasPrefix(l, "$ ") {
						break
					}
					ex.out = append(ex.out, l)
				}
				examples = append(examples, ex)
			}
		}
	}
	if len(examples) < 2 {
		t.Fatalf("found %d ripple lab up examples, want those of cli.md and the runbook tutorial", len(examples))
	}
	port := regexp.MustCompile(`(port +=) \d+`)
	for _, ex := range examples {
		t.Run(strings.ReplaceAll(ex.where, "/", "_"), func(t *testing.T) {
			docDir := ""
			args := slices.Clone(ex.args)
			tmp := t.TempDir()
			for i := range args {
				if args[i] == "--dir" && i+1 < len(args) {
					docDir, args[i+1] = args[i+1], tmp
				}
			}
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			var out, errOut syncBuffer
			done := make(chan error, 1)
			go func() {
				done <- run(ctx, args, env{stdin: strings.NewReader(""), stdout: &out, stderr: &errOut, getenv: func(string) string { return "" }})
			}()
			for !strings.Contains(out.String(), "Serving until Ctrl-C.") {
				select {
				case err := <-done:
					t.Fatalf("ripple %s ended: %v\n%s%s", strings.Join(args, " "), err, out.String(), errOut.String())
				case <-ctx.Done():
					t.Fatalf("ripple %s never came up:\n%s", strings.Join(args, " "), out.String())
				case <-time.After(50 * time.Millisecond):
				}
			}
			cancel()
			<-done
			got := out.String()
			if docDir != "" {
				got = strings.ReplaceAll(got, tmp, docDir)
			}
			got = port.ReplaceAllString(got, "$1 PORT")
			var re strings.Builder
			re.WriteString(`^`)
			for _, l := range ex.out {
				if strings.TrimSpace(l) == "..." {
					re.WriteString(`(?:.*\n)*?`)
					continue
				}
				re.WriteString(regexp.QuoteMeta(port.ReplaceAllString(l, "$1 PORT")) + `\n`)
			}
			if !regexp.MustCompile(re.String()).MatchString(got) {
				t.Errorf("%s: the example differs from what ripple %s prints:\n--- example\n%s\n--- ripple\n%s", ex.where, strings.Join(ex.args, " "), strings.Join(ex.out, "\n"), got)
			}
		})
	}
}

// A console block in the docs is an example: its "$ " lines are run (the
// test binary stands in for ripple on PATH, see TestMain) with sh, and what
// each prints must be the lines that follow it, "..." standing for any
// lines and the values docsNormalize lists for any of their kind. A console
// block of output only is the output of the sh block just before it, which
// is then its command. A page's blocks run in order in one temporary
// directory (a copy of examples/ in it; the page's /tmp directory made one
// in it), each starting where the one before ended, the page's `ripple lab
// up` serving in the background. Markers on the line before a fence:
//
//	<!-- docs-test: write PATH -->  this block is the file PATH: write it
//	<!-- docs-test: insert PATH before LINE -->  insert it in PATH before LINE
//	<!-- docs-test: run -->         run this sh block (setup; output not compared)
//	<!-- docs-test: cleanup -->     run this sh block when the page is done,
//	                                passed or not
//	<!-- docs-test: retry [DUR] --> run each command again until it prints
//	                                the example, DUR (1m) at most: commands
//	                                that read what the daemon is doing
//	<!-- docs-test: REASON -->      this console block is not run, because REASON
//	<!-- docs-test: postgres ADDR DB PASSFILE -->  this sh block makes a
//	                                PostgreSQL database: instead, start a
//	                                private server (pgtest) as ADDR with
//	                                database DB, its password in PASSFILE
//
// The test logs each REASON with its blocks and fails on each, but for a
// `ripple lab up` example TestDocsLabUpOutput runs (REASON names it); an
// unmarked console block that does not pass fails it.
var docsTestMarker = regexp.MustCompile(`<!-- docs-test: ([^>]*?) -->\s*$`)

var docsTestInsert = regexp.MustCompile(`<!-- docs-test: insert (\S+) before (.+?) -->\s*$`)

var docsTestRun = regexp.MustCompile(`<!-- docs-test: (run|cleanup) -->\s*$`)

var docsTestWrite = regexp.MustCompile(`<!-- docs-test: write (\S+) -->\s*$`)

// docsTestPostgres marks the block that makes the page's PostgreSQL
// database: the test starts its own server for it, since initdb does not
// run as root and the reader's server is set up their way.
var docsTestPostgres = regexp.MustCompile(`<!-- docs-test: postgres (127\.0\.0\.1:\d+) (\w+) (\S+) -->\s*$`)

type consoleBlock struct {
	page   string
	line   int    // of the fence
	marker string // the reason it is not run, "" when it is
	cmds   []string
	outs   [][]string
	// a block of another language the page shows as a file: its path and
	// its text, written before the blocks after it run
	write, body string
	// with write: the body goes into the file, before this line of it
	before string
	// marked <!-- docs-test: retry [DURATION] -->: each command runs again
	// until it prints what the example shows, for DURATION at most (a
	// minute), as a user waits for the daemon
	retry time.Duration
	// a block of another language marked <!-- docs-test: run -->: the
	// page's commands that set up what its examples need, run in their
	// place, what they print not compared
	setup bool
	// with setup, marked <!-- docs-test: cleanup -->: run when the page is
	// done, passed or not (stopping what the page started outside its
	// process groups, such as a database server)
	cleanup bool
	// marked <!-- docs-test: postgres ADDR DB PASSFILE -->: the address,
	// database and password file of the server to start in its place
	postgres []string
}

func consoleBlocks(t *testing.T) []consoleBlock {
	t.Helper()
	var blocks []consoleBlock
	for page, text := range docFiles(t) {
		var prev []int // the fenced block before
		for _, loc := range indentedFence.FindAllStringSubmatchIndex(text, -1) {
			indent := loc[3] - loc[2]
			loc = append(loc[:2:2], loc[4:]...) // as fence's: language, body
			if text[loc[2]:loc[3]] != "console" {
				line := strings.Count(text[:loc[0]], "\n") + 1
				if m := docsTestWrite.FindStringSubmatch(strings.TrimRight(text[:loc[0]], "\n")); m != nil {
					blocks = append(blocks, consoleBlock{page: page, line: line, write: m[1], body: text[loc[4]:loc[5]]})
				}
				if m := docsTestInsert.FindStringSubmatch(strings.TrimRight(text[:loc[0]], "\n")); m != nil {
					blocks = append(blocks, consoleBlock{page: page, line: line, write: m[1], before: m[2], body: text[loc[4]:loc[5]]})
				}
				if m := docsTestPostgres.FindStringSubmatch(strings.TrimRight(text[:loc[0]], "\n")); m != nil {
					blocks = append(blocks, consoleBlock{page: page, line: line, postgres: m[1:]})
				}
				if m := docsTestRun.FindStringSubmatch(strings.TrimRight(text[:loc[0]], "\n")); m != nil {
					blocks = append(blocks, consoleBlock{page: page, line: line, setup: true, cleanup: m[1] == "cleanup", cmds: []string{text[loc[4]:loc[5]]}, outs: [][]string{nil}})
				}
				prev = loc
				continue
			}
			b := consoleBlock{page: page, line: strings.Count(text[:loc[0]], "\n") + 1}
			if m := docsTestMarker.FindStringSubmatch(strings.TrimRight(text[:loc[0]], "\n")); m != nil {
				b.marker = m[1]
				if d, ok := strings.CutPrefix(m[1], "retry"); ok {
					b.marker, b.retry = "", time.Minute
					if d = strings.TrimSpace(d); d != "" {
						var err error
						if b.retry, err = time.ParseDuration(d); err != nil {
							t.Errorf("%s:%d: docs-test: retry %s: %v", page, b.line, d, err)
						}
					}
				}
			}
			lines := strings.Split(strings.TrimSuffix(text[loc[4]:loc[5]], "\n"), "\n")
			for i, l := range lines {
				lines[i] = l[min(indent, len(l)-len(strings.TrimLeft(l, " "))):]
			}
			if !strings.HasPrefix(lines[0], "$ ") && prev != nil && text[prev[2]:prev[3]] == "sh" &&
				strings.TrimSpace(docsTestMarker.ReplaceAllString(text[prev[1]:loc[0]], "")) == "" {
				// the output of the sh block just before: that block is its command
				b.cmds = []string{strings.TrimSuffix(text[prev[4]:prev[5]], "\n")}
				b.outs = [][]string{lines}
				blocks = append(blocks, b)
				prev = loc
				continue
			}
			for i := 0; i < len(lines); i++ {
				l := lines[i]
				if cmd, ok := strings.CutPrefix(l, "$ "); ok {
					for strings.HasSuffix(cmd, "\\") && i+1 < len(lines) {
						i++
						cmd += "\n" + lines[i]
					}
					b.cmds = append(b.cmds, cmd)
					b.outs = append(b.outs, nil)
					continue
				}
				if len(b.cmds) == 0 {
					b.cmds, b.outs = append(b.cmds, ""), append(b.outs, nil) // output without a command
				}
				b.outs[len(b.outs)-1] = append(b.outs[len(b.outs)-1], l)
			}
			blocks = append(blocks, b)
			prev = loc
		}
	}
	slices.SortFunc(blocks, func(a, b consoleBlock) int {
		if c := strings.Compare(a.page, b.page); c != 0 {
			return c
		}
		return a.line - b.line
	})
	return blocks
}

// normalize replaces what legitimately differs between the docs' run and
// this one, in both: timestamps, durations, commit hashes, ports, and the
// padding between table columns they widen. Nothing else.
var docsNormalize = []struct {
	re   *regexp.Regexp
	with string
}{
	// a lab's host keys are new on every start (first: hex runs and
	// durations inside one must not be replaced before)
	{regexp.MustCompile(`\bSHA256:[A-Za-z0-9+/]{43}`), "SHA256:FINGERPRINT"},
	{regexp.MustCompile(`\b\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:\d\d)`), "TIME"},
	{regexp.MustCompile(`\b\d+(?:\.\d+)?[smhd] ago\b`), "DURATION ago"},
	{regexp.MustCompile(`\b(?:\d+h)?(?:\d+m)?\d+(?:\.\d+)?(?:ms|µs|s)\b`), "DURATION"},
	{regexp.MustCompile(`\b[0-9a-f]{40}\b|\b[0-9a-f]{12}\b|\b[0-9a-f]{8}\b`), "HASH"},
	{regexp.MustCompile(`(port +=) \d+|(127\.0\.0\.1:)\d+`), "${1}${2}PORT"},
	// wall-clock times as the CLI shows them to people: an audit line's
	// "2026-12-04 19:47:08", a silence's "until 2026-12-04 20:17 UTC"
	{regexp.MustCompile(`\b\d{4}-\d\d-\d\d \d\d:\d\d(?::\d\d)?\b`), "TIME"},
	// what an SNMP agent counts: snmpget's counters and uptime, and the
	// value or rate an snmp check reports (snmp-switch.md); HASH: eight
	// digits looked like one above
	{regexp.MustCompile(`\b(Counter32|Counter64|Gauge32): (?:\d+|HASH)`), "$1: N"},
	{regexp.MustCompile(`\bTimeticks: \((?:\d+|HASH)\) [0-9:.]+`), "Timeticks: N"},
	{regexp.MustCompile(`(SNMP [A-Z]+: \S+ = )(?:\d+|HASH)(?:\.\d+)?`), "${1}N"},
	// ripple capacity before it can forecast: a rate's latest value, the
	// samples so far
	{regexp.MustCompile(`(/rate +)\S+`), "${1}N"},
	{regexp.MustCompile(`\(\d+ samples\)`), "(N samples)"},
	// table columns are as wide as their widest value: "3s ago" pads more
	{regexp.MustCompile(`(\S)  +`), "$1  "},
}

func normalizeDocOutput(s string) string {
	for _, n := range docsNormalize {
		s = n.re.ReplaceAllString(s, n.with)
	}
	return s
}

// outputMatches reports whether got is what the example shows.
func outputMatches(want []string, got string) bool {
	var re strings.Builder
	re.WriteString(`^`)
	for _, l := range want {
		if strings.TrimSpace(l) == "..." {
			re.WriteString(`(?:.*\n)*?`)
			continue
		}
		re.WriteString(regexp.QuoteMeta(normalizeDocOutput(l)) + `\n`)
	}
	re.WriteString(`$`)
	got = normalizeDocOutput(got)
	if got != "" && !strings.HasSuffix(got, "\n") {
		got += "\n"
	}
	return regexp.MustCompile(re.String()).MatchString(got)
}

// indentedFence is fence also in a list item: the indent, the language,
// the body.
var indentedFence = regexp.MustCompile("(?ms)^( *)```([a-z]*)\n(.*?)^ *```")

// docsPage is where a page's blocks run, in order: a temporary directory
// holding a copy of examples/, the page's directories under /tmp (those
// its blocks name) made ones of this run and shown back as the page's in
// what the commands print, and the shell state the last command left: its
// directory, its exported variables and its exit status. Each loopback
// port the page names is a free one of this run, shown back as the page's;
// a command ending in & runs in the background until the page is done.
type docsPage struct {
	dir string
	// the page's directories under /tmp, each made one under tmp in this run
	tutDirs []string
	// where the page's /tmp/<dir> is: a short path, as commands print it in
	// columns they cut at a width
	tmp    string
	ports  map[string]string // the page's 127.0.0.1:PORT -> this run's
	groups []int             // process groups of background commands
}

var docsLoopback = regexp.MustCompile(`127\.0\.0\.1:(\d+)`)

func newDocsPage(t *testing.T, blocks []consoleBlock) *docsPage {
	t.Helper()
	p := &docsPage{dir: t.TempDir(), ports: map[string]string{}}
	tmp, err := os.MkdirTemp("", "dt")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(tmp, 0o755); err != nil { // a page may run a server as another user
		t.Fatal(err)
	}
	p.tmp = tmp
	t.Cleanup(func() { os.RemoveAll(tmp) })
	for _, b := range blocks {
		if b.marker == "" {
			for _, d := range docsTmpDir.FindAllString(strings.Join(b.cmds, "\n"), -1) {
				if !slices.Contains(p.tutDirs, d) {
					p.tutDirs = append(p.tutDirs, d)
				}
			}
		}
		for _, text := range append(slices.Clone(b.cmds), b.body) {
			for _, m := range docsLoopback.FindAllStringSubmatch(text, -1) {
				if m[1] != "0" && p.ports[m[0]] == "" {
					p.ports[m[0]] = "127.0.0.1:" + strconv.Itoa(freeLoopbackPort(t))
				}
			}
		}
	}
	if err := os.CopyFS(filepath.Join(p.dir, "examples"), os.DirFS(filepath.Join("..", "..", "examples"))); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p.state("cwd"), []byte(p.dir), 0o644); err != nil {
		t.Fatal(err)
	}
	for f, text := range map[string]string{"env": "", "rc": "0", "bg.log": ""} {
		if err := os.WriteFile(p.state(f), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	t.Cleanup(func() {
		for _, g := range p.groups {
			_ = syscall.Kill(-g, syscall.SIGKILL)
		}
		for _, g := range p.groups { // gone before the directory is removed
			for i := 0; i < 100 && syscall.Kill(-g, 0) == nil; i++ {
				time.Sleep(50 * time.Millisecond)
			}
		}
		if log, _ := os.ReadFile(p.state("bg.log")); t.Failed() && len(log) > 0 {
			t.Logf("the page's background commands printed:\n%s", p.fromRun(string(log)))
		}
	})
	return p
}

// freeLoopbackPort is a port free on 127.0.0.1 for TCP and UDP both.
func freeLoopbackPort(t *testing.T) int {
	t.Helper()
	for range 20 {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		port := l.Addr().(*net.TCPAddr).Port
		u, err := net.ListenPacket("udp", l.Addr().String())
		l.Close()
		if err == nil {
			u.Close()
			return port
		}
	}
	t.Fatal("no loopback port free for both TCP and UDP")
	return 0
}

// state is the file holding one piece of the shell state between commands.
func (p *docsPage) state(name string) string { return filepath.Join(p.dir, ".docs-test-"+name) }

// docsTmpDir is a directory under /tmp a page names.
var docsTmpDir = regexp.MustCompile(`/tmp/[a-z][a-z0-9-]*\b`)

func (p *docsPage) local(dir string) string { return filepath.Join(p.tmp, filepath.Base(dir)) }

// toRun is text of the page as this run needs it: its directory and ports.
func (p *docsPage) toRun(s string) string {
	s = docsTmpDir.ReplaceAllStringFunc(s, func(d string) string {
		if slices.Contains(p.tutDirs, d) {
			return p.local(d)
		}
		return d
	})
	s = docsLoopback.ReplaceAllStringFunc(s, func(a string) string { return cmp.Or(p.ports[a], a) })
	// HCL that names a loopback port apart from its address (an snmp
	// profile's port = 16161) gets the same port as 127.0.0.1:16161
	return docsPortAttr.ReplaceAllStringFunc(s, func(a string) string {
		m := docsPortAttr.FindStringSubmatch(a)
		if run, ok := p.ports["127.0.0.1:"+m[2]]; ok {
			return m[1] + strings.TrimPrefix(run, "127.0.0.1:")
		}
		return a
	})
}

var docsPortAttr = regexp.MustCompile(`(\bport\s*=\s*)(\d+)\b`)

// fromRun is what this run printed as the page shows it.
func (p *docsPage) fromRun(s string) string {
	for _, d := range p.tutDirs {
		s = strings.ReplaceAll(s, p.local(d), d)
	}
	for page, run := range p.ports {
		s = regexp.MustCompile(regexp.QuoteMeta(run)+`\b`).ReplaceAllString(s, page)
	}
	return s
}

func (p *docsPage) command(ctx context.Context, script string) *exec.Cmd {
	script = p.toRun(script)
	// the state the command before left: directory, exports, exit status
	prologue := fmt.Sprintf("cd \"$(cat %[1]s)\" || exit 1\n. %[2]s\n(exit \"$(cat %[3]s)\")\n", p.state("cwd"), p.state("env"), p.state("rc"))
	cmd := exec.CommandContext(ctx, "sh", "-c", prologue+script)
	cmd.Dir = p.dir
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + p.dir, "NO_COLOR=1", "LANG=C", "TZ=UTC",
		"GIT_AUTHOR_NAME=docs", "GIT_AUTHOR_EMAIL=docs@example.com", "GIT_COMMITTER_NAME=docs", "GIT_COMMITTER_EMAIL=docs@example.com"}
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 5 * time.Second
	return cmd
}

// startLab runs a `ripple lab up` example in the background until the
// page is done.
func (p *docsPage) startLab(t *testing.T, line string) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	cmd := p.command(ctx, line)
	var out syncBuffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	t.Cleanup(func() { cancel(); <-done })
	deadline := time.After(2 * time.Minute)
	for !strings.Contains(out.String(), "Serving until Ctrl-C.") {
		select {
		case err := <-done:
			t.Fatalf("%s ended: %v\n%s", line, err, out.String())
		case <-deadline:
			t.Fatalf("%s never came up:\n%s", line, out.String())
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// write writes a block the page shows as a file (<!-- docs-test: write
// PATH -->), PATH relative to where the last block ended.
func (p *docsPage) write(t *testing.T, name, before, body string) {
	t.Helper()
	cwd, err := os.ReadFile(p.state("cwd"))
	if err != nil {
		t.Fatal(err)
	}
	name = filepath.Join(strings.TrimSpace(string(cwd)), name)
	body = p.toRun(body)
	if before != "" {
		old, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		i := strings.Index(string(old), "\n"+before+"\n")
		if i < 0 {
			t.Fatalf("%s has no line %q to insert before", name, before)
		}
		body = string(old[:i+1]) + body + string(old[i+1:])
	}
	if err := os.MkdirAll(filepath.Dir(name), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(name, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
}

// docsBackground is a command ending in a lone &.
var docsBackground = regexp.MustCompile(`(?s)^(.*[^&])&\s*$`)

// docsListen is the address a background command serves on.
var docsListen = regexp.MustCompile(`--listen[ =](\S+)`)

// runOne runs one command of a block in sh, in the state the one before
// left, and returns what it printed (stdout and stderr). A command ending
// in & runs in the background until the page is done, what it prints
// kept for the log; when it names --listen ADDR, runOne returns once ADDR
// accepts connections.
func (p *docsPage) runOne(t *testing.T, where, c string) string {
	t.Helper()
	bg := docsBackground.FindStringSubmatch(c)
	script := c
	if bg != nil {
		script = "(" + bg[1] + ") </dev/null >>" + p.state("bg.log") + " 2>&1 &"
	}
	script += fmt.Sprintf("\n__rc=$?; pwd > %s; export -p > %s; echo $__rc > %s; exit $__rc\n", p.state("cwd"), p.state("env"), p.state("rc"))
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := p.command(ctx, script)
	out, _ := cmd.CombinedOutput()
	if cmd.Process != nil {
		if bg != nil {
			p.groups = append(p.groups, cmd.Process.Pid)
		} else {
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) // what the command left behind
		}
	}
	if bg != nil {
		if m := docsListen.FindStringSubmatch(p.toRun(c)); m != nil {
			p.waitListening(t, where, m[1])
		}
	}
	return p.fromRun(string(out))
}

// waitListening waits until a background command serves on addr.
func (p *docsPage) waitListening(t *testing.T, where, addr string) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	for {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			c.Close()
			return
		}
		if time.Now().After(deadline) {
			log, _ := os.ReadFile(p.state("bg.log"))
			t.Fatalf("%s: nothing serves on %s two minutes after the command started; it printed:\n%s", where, addr, log)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// run runs a block's commands in order and returns what each printed.
func (p *docsPage) run(t *testing.T, b consoleBlock) []string {
	t.Helper()
	outs := make([]string, len(b.cmds))
	for i, c := range b.cmds {
		outs[i] = p.runOne(t, fmt.Sprintf("%s:%d", b.page, b.line), c)
	}
	return outs
}

// TestDocsConsoleExamples runs every unmarked console block of the docs,
// page by page in order, and compares what each command prints with the
// example. A page's `ripple lab up` runs in the background while its later
// blocks run (TestDocsLabUpOutput compares its output).
func TestDocsConsoleExamples(t *testing.T) {
	if _, err := exec.LookPath("ripple"); err != nil {
		t.Fatalf("no ripple on PATH (TestMain puts the test binary there): %v", err)
	}
	skipped := map[string][]string{}
	ran, total := 0, 0
	var pages [][]consoleBlock
	for _, b := range consoleBlocks(t) {
		if len(pages) == 0 || pages[len(pages)-1][0].page != b.page {
			pages = append(pages, nil)
		}
		pages[len(pages)-1] = append(pages[len(pages)-1], b)
	}
	isLab := func(b consoleBlock) bool { return len(b.cmds) == 1 && strings.HasPrefix(b.cmds[0], "ripple lab up ") }
	for _, blocks := range pages {
		runs := 0
		for _, b := range blocks {
			where := fmt.Sprintf("%s:%d", b.page, b.line)
			switch {
			case b.write != "" || b.setup || b.postgres != nil:
			case b.marker != "":
				total++
				skipped[b.marker] = append(skipped[b.marker], where)
				if !strings.Contains(b.marker, "TestDocsLabUpOutput") {
					// every example runs: what cannot run here is not an example
					t.Errorf("%s: a console block not run (%s): make it run, or show it as something else than console output", where, b.marker)
				}
			case slices.Contains(b.cmds, ""):
				total++
				t.Errorf("%s: a console block with output but no command: mark it (<!-- docs-test: REASON -->) or show the command", where)
			default:
				total++
				ran++
				if !isLab(b) {
					runs++
				}
			}
		}
		if runs == 0 {
			continue
		}
		t.Run(strings.NewReplacer("/", "_", ".md", "").Replace(blocks[0].page), func(t *testing.T) {
			t.Parallel() // pages are independent, and mostly wait on their labs
			p := newDocsPage(t, blocks)
			for _, b := range blocks {
				if b.cleanup {
					t.Cleanup(func() { p.run(t, b) })
				}
			}
			for _, b := range blocks {
				where := fmt.Sprintf("%s:%d", b.page, b.line)
				switch {
				case b.write != "":
					p.write(t, b.write, b.before, b.body)
				case b.cleanup: // registered with the page
				case b.setup:
					p.run(t, b)
				case b.postgres != nil:
					p.startPostgres(t, b.postgres[0], b.postgres[1], b.postgres[2])
				case b.marker != "" || slices.Contains(b.cmds, ""):
				case isLab(b):
					p.startLab(t, b.cmds[0])
				default:
					outs := make([]string, len(b.cmds))
					for i, c := range b.cmds {
						outs[i] = p.runOne(t, where, c)
						for deadline := time.Now().Add(b.retry); !outputMatches(b.outs[i], outs[i]) && time.Now().Before(deadline); {
							time.Sleep(time.Second)
							outs[i] = p.runOne(t, where, c)
						}
						if !outputMatches(b.outs[i], outs[i]) {
							t.Errorf("%s: $ %s\n--- example\n%s\n--- printed\n%s", where, c, strings.Join(b.outs[i], "\n"), outs[i])
						}
					}
				}
			}
		})
	}
	for _, reason := range slices.Sorted(maps.Keys(skipped)) {
		t.Logf("not run (%s): %d blocks: %s", reason, len(skipped[reason]), strings.Join(skipped[reason], ", "))
	}
	t.Logf("%d of %d console blocks run and compared (those of ripple lab up by TestDocsLabUpOutput)", ran, total)
	if ran < 3 {
		t.Errorf("only %d console blocks run", ran)
	}
}

// startPostgres starts a private PostgreSQL server until the test ends,
// makes database db on it, writes its password to passFile (a path of the
// page) and maps the page's addr to it.
func (p *docsPage) startPostgres(t *testing.T, addr, db, passFile string) {
	t.Helper()
	c := pgtest.New(t, pgtest.Options{})
	ctx := context.Background()
	conn, err := c.Connect(ctx, "postgres")
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+db); err != nil {
		t.Fatalf("create database %s: %v", db, err)
	}
	pw, err := os.ReadFile(c.PasswordFile())
	if err != nil {
		t.Fatal(err)
	}
	name := p.toRun(passFile)
	if err := os.MkdirAll(filepath.Dir(name), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(name, pw, 0o600); err != nil {
		t.Fatal(err)
	}
	p.ports[addr] = "127.0.0.1:" + strconv.Itoa(c.Port())
}
