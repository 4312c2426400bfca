package main

import (
	"bytes"
	"context"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
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
		case (c == '|' || c == '>' || c == '#' || c == ';' || c == '&') && !started:
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
