package definitions

import (
	"fmt"
	"io/fs"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"testing/fstest"
	"time"

	"github.com/hashicorp/hcl/v2"

	"github.com/ripple-ops/ripple/definitions/fleetgen"
)

// TestInputLimits feeds inputs that would crash or stall a naive loader:
// each must come back as a diagnostic, never a crash.
func TestInputLimits(t *testing.T) {
	host := "host \"a\" {\n  address = \"a.example\"\n  transport = \"local\"\n}\n"
	cases := []struct {
		name    string
		fs      fstest.MapFS
		summary string
	}{
		{"over the size cap", fstest.MapFS{"big.hcl": {Data: []byte(host + "# " + strings.Repeat("x", MaxFileSize))}}, "File too large"},
		{"deep brackets", fstest.MapFS{"deep.hcl": {Data: []byte("x = " + strings.Repeat("[", 200000) + strings.Repeat("]", 200000))}}, "Input nested too deeply"},
		{"deep parentheses", fstest.MapFS{"deep.hcl": {Data: []byte("x = " + strings.Repeat("(", 200000) + "1" + strings.Repeat(")", 200000))}}, "Input nested too deeply"},
		{"deep templates", fstest.MapFS{"deep.hcl": {Data: []byte("x = " + strings.Repeat("\"${", 100000) + "1" + strings.Repeat("}\"", 100000))}}, "Input nested too deeply"},
		{"unary chain", fstest.MapFS{"deep.hcl": {Data: []byte("x = " + strings.Repeat("!", 1000000) + "true\n")}}, "Input nested too deeply"},
		{"negation chain", fstest.MapFS{"deep.hcl": {Data: []byte("x = " + strings.Repeat("- ", 1000000) + "1\n")}}, "Input nested too deeply"},
		{"conditional chain", fstest.MapFS{"deep.hcl": {Data: []byte("x = " + strings.Repeat("true ? 1 : ", 200000) + "2\n")}}, "Input nested too deeply"},
		{"binary chain in parentheses", fstest.MapFS{"deep.hcl": {Data: []byte("x = (1" + strings.Repeat(" +\n 1", 200000) + ")\n")}}, "Input nested too deeply"},
		{"symlinked definitions leaving the repo", fstest.MapFS{
			"a.hcl":     {Data: []byte(host)},
			"b.hcl":     {Data: []byte("../../etc/x.hcl"), Mode: 0o777 | 1<<27},
			"loop1.hcl": {Data: []byte("loop2.hcl"), Mode: 0o777 | 1<<27},
			"loop2.hcl": {Data: []byte("loop1.hcl"), Mode: 0o777 | 1<<27},
		}, "File outside the repository"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, diags := Load(c.fs, "", Limits{})
			found := false
			for _, d := range diags {
				if d.Summary == c.summary {
					found = true
				}
			}
			if !found {
				t.Errorf("no %q diagnostic in:\n%s", c.summary, allDiags(diags))
			}
		})
	}
}

// TestDotFoldersSkipped checks that .git, .github and friends are not
// loaded, and that files outside *.hcl are ignored.
func TestDotFoldersSkipped(t *testing.T) {
	fsys := fstest.MapFS{
		"hosts.hcl":         {Data: []byte("host \"a\" {\n  address = \"a.example\"\n  transport = \"local\"\n}\n")},
		".git/config.hcl":   {Data: []byte("garbage {{{")},
		".github/x/y.hcl":   {Data: []byte("garbage {{{")},
		"sub/.hidden.hcl":   {Data: []byte("garbage {{{")},
		"notes.txt":         {Data: []byte("garbage {{{")},
		"sub/dir/group.hcl": {Data: []byte("group \"g\" {}\n")},
	}
	d, diags := Load(fsys, "", Limits{})
	if len(diags) != 0 {
		t.Fatalf("unexpected diagnostics:\n%s", allDiags(diags))
	}
	if d.Hosts["a"] == nil || d.Groups["g"] == nil {
		t.Errorf("hosts %v groups %v", d.Hosts, d.Groups)
	}
}

// TestNestingScannerAgreesWithParser checks inputs where the pre-scan must
// treat text as code because the parser does.
func TestNestingScannerAgreesWithParser(t *testing.T) {
	deep := strings.Repeat("(", 200000)
	for _, src := range []string{
		"x = 1 /* " + deep,               // unterminated block comment
		"x = <<1EOF\n" + deep,            // not a heredoc: the marker starts with a digit
		"x = \"a\n" + deep,               // a string ends at the newline
		"x = <<EOF\nEOF\n" + deep,        // heredoc closed, code again
		"x = \"${\"${" + deep + "}\"}\"", // interpolations nest
	} {
		if d := checkNesting([]byte(src), "x.hcl", false); d == nil {
			t.Errorf("%.30q...: not refused", src)
		}
	}
}

// readCounter is an fs.FS that counts the *.hcl files opened or read.
type readCounter struct {
	fs.FS
	reads atomic.Int64
}

func (c *readCounter) Open(name string) (fs.File, error) {
	if strings.HasSuffix(name, ".hcl") {
		c.reads.Add(1)
	}
	return c.FS.Open(name)
}

// TestRepoLimits checks the limits on a whole load: each is reported as
// one error naming the limit, and the size limit is checked before any
// file is read.
func TestRepoLimits(t *testing.T) {
	hosts := func(n int) []byte {
		var b strings.Builder
		for i := range n {
			fmt.Fprintf(&b, "host \"h%d\" {\n  address   = \"10.0.%d.%d\"\n  transport = \"local\"\n}\n", i, i/250, i%250)
		}
		return []byte(b.String())
	}
	groups := func(n int) []byte {
		var b strings.Builder
		for i := range n {
			fmt.Fprintf(&b, "group \"g%d\" {}\n", i)
		}
		return []byte(b.String())
	}
	cases := []struct {
		name    string
		fs      fstest.MapFS
		limits  Limits
		summary string
		reads   int64 // *.hcl files read, at most
	}{
		{"bytes", fstest.MapFS{"a.hcl": {Data: hosts(20)}, "b.hcl": {Data: hosts(20)}}, Limits{Bytes: 1000},
			"Definitions over the size limit (1000 bytes)", 0},
		{"files", fstest.MapFS{"a.hcl": {Data: hosts(1)}, "b.hcl": {Data: groups(1)}, "c.hcl": {Data: groups(1)}}, Limits{Blocks: 2},
			"Too many definitions files (over 2)", 0},
		{"blocks", fstest.MapFS{"a.hcl": {Data: hosts(3)}, "b.hcl": {Data: groups(8)}}, Limits{Blocks: 10},
			"Too many blocks (over 10)", 2},
		{"hosts", fstest.MapFS{"a.hcl": {Data: hosts(6)}}, Limits{Hosts: 5},
			"Too many hosts (over 5)", 1},
		{"tokens", fstest.MapFS{"a.hcl": {Data: hosts(3)}, "b.hcl": {Data: groups(8)}}, Limits{Tokens: 50},
			"Too many tokens (over 50)", 2},
		{"blocks of one-line hosts", fstest.MapFS{"a.hcl": {Data: []byte(strings.Repeat("host \"h\" { address = \"a\" }\n", 12))}}, Limits{Hosts: 10},
			"Too many hosts (over 10)", 1},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			fsys := &readCounter{FS: c.fs}
			d, diags := Load(fsys, "", c.limits)
			if len(diags) != 1 || diags[0].Summary != c.summary || diags[0].Severity != hcl.DiagError {
				t.Fatalf("want one error %q, got:\n%s", c.summary, allDiags(diags))
			}
			if n := fsys.reads.Load(); n > c.reads {
				t.Errorf("read %d files, want at most %d", n, c.reads)
			}
			for name, f := range d.Files {
				if f.Body != nil {
					t.Errorf("%s was parsed", name)
				}
			}
			if s := ShortDiagnostics(diags); s != "1 error: "+c.summary {
				t.Errorf("ShortDiagnostics = %q", s)
			}
		})
	}

	// Within every limit, the same repo loads.
	fsys := fstest.MapFS{"a.hcl": {Data: hosts(5)}, "b.hcl": {Data: groups(5)}}
	if _, diags := Load(fsys, "", Limits{Bytes: 1000, Blocks: 10, Hosts: 5, Tokens: 150}); len(diags) != 0 {
		t.Errorf("at the limits:\n%s", allDiags(diags))
	}
}

// TestSourcesCountTowardTheSizeLimit checks that templates and scripts
// count toward Limits.Bytes as steps name them.
func TestSourcesCountTowardTheSizeLimit(t *testing.T) {
	job := []byte(`host "h" {
  address   = "a"
  transport = "local"
}
job "j" {
  targets { hosts = ["h"] }
  step "a" {
    file {
      source      = "a.tmpl"
      destination = "/a"
    }
  }
  step "b" { script = "b.sh" }
}
`)
	fsys := fstest.MapFS{"main.hcl": {Data: job}, "a.tmpl": {Data: []byte(strings.Repeat("a", 600))}, "b.sh": {Data: []byte(strings.Repeat("b", 600))}}
	_, diags := Load(fsys, "", Limits{Bytes: int64(len(job)) + 1000})
	if len(diags) != 1 || diags[0].Summary != fmt.Sprintf("Definitions over the size limit (%d bytes)", len(job)+1000) || diags[0].Subject == nil || diags[0].Subject.Start.Line != 13 {
		t.Errorf("diagnostics:\n%s", allDiags(diags))
	}
}

// TestDefaultLimits checks that zero fields take the defaults, which fit
// a 10,000-host repo with room, and that the repo from the review (about
// 60 MB of host blocks in files just under the per-file cap) is refused
// before anything is read, in well under a second.
func TestDefaultLimits(t *testing.T) {
	if got := (Limits{Hosts: 7}).withDefaults(); got.Hosts != 7 || got.Bytes != DefaultLimits().Bytes || got.Render != DefaultLimits().Render {
		t.Errorf("withDefaults = %+v", got)
	}
	d := DefaultLimits()
	if d.Hosts < 5*fleetgen.Hosts || d.Blocks < d.Hosts || d.Targets < 100*d.Hosts || d.Tokens < 200*fleetgen.Hosts {
		t.Errorf("defaults too tight for a 10,000-host fleet: %+v", d)
	}
	var size int64
	for _, f := range genFleet(false) {
		size += int64(len(f.Data))
	}
	if size*5 > d.Bytes {
		t.Errorf("the 10,000-host fleet holds %d bytes: the default size limit %d leaves less than 5x room", size, d.Bytes)
	}

	var b strings.Builder
	for i := 0; b.Len() < MaxFileSize-100; i++ {
		fmt.Fprintf(&b, "host \"h%d\" {\n address = \"a\"\n}\n", i)
	}
	big := fstest.MapFS{}
	for i := range 16 {
		big[fmt.Sprintf("hosts-%02d.hcl", i)] = &fstest.MapFile{Data: []byte(b.String())}
	}
	fsys := &readCounter{FS: big}
	start := time.Now()
	_, diags := Load(fsys, "", Limits{})
	if elapsed := time.Since(start); elapsed > time.Second {
		t.Errorf("refusing took %v", elapsed)
	}
	if len(diags) != 1 || diags[0].Summary != "Definitions over the size limit (16 MiB)" || fsys.reads.Load() != 0 {
		t.Errorf("reads %d, diagnostics:\n%s", fsys.reads.Load(), allDiags(diags))
	}

	// What costs the parser most memory is many tiny tokens: 16 MiB of
	// list elements is 16 million, and parsing them took 4 GiB. They are
	// counted, and refused, before anything is parsed.
	b.Reset()
	b.WriteString("group \"g\" {\n  vars = { x = [")
	for b.Len() < MaxFileSize-200 {
		b.WriteString("1,")
	}
	b.WriteString("] }\n}\n")
	lists := fstest.MapFS{}
	for i := range 4 {
		lists[fmt.Sprintf("list-%d.hcl", i)] = &fstest.MapFile{Data: []byte(strings.Replace(b.String(), `"g"`, fmt.Sprintf(`"g%d"`, i), 1))}
	}
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	start = time.Now()
	_, diags = Load(lists, "", Limits{})
	elapsed := time.Since(start)
	runtime.ReadMemStats(&after)
	if len(diags) != 1 || diags[0].Summary != fmt.Sprintf("Too many tokens (over %d)", DefaultMaxTokens) {
		t.Errorf("diagnostics:\n%s", allDiags(diags))
	}
	if n := after.TotalAlloc - before.TotalAlloc; n > 128<<20 || elapsed > 5*time.Second {
		t.Errorf("refusing took %v and allocated %d MiB", elapsed, n>>20)
	}
}

// TestTargetsLimit checks the limit on (job or monitor, host) pairs: one
// error naming it, and no checks over the targets after it.
func TestTargetsLimit(t *testing.T) {
	var b strings.Builder
	for i := range 3 {
		fmt.Fprintf(&b, "host \"h%d\" {\n  address   = \"10.0.0.%d\"\n  transport = \"local\"\n  groups    = [\"web\"]\n}\n", i, i)
	}
	for i := range 3 {
		fmt.Fprintf(&b, "job \"j%d\" {\n  targets { groups = [\"web\"] }\n  step \"s\" { run = \"echo ${host.vars.nope}\" }\n}\n", i)
	}
	b.WriteString("monitor \"m\" {\n  targets { groups = [\"web\"] }\n  check \"tcp\" { port = 22 }\n}\n")
	fsys := fstest.MapFS{"main.hcl": {Data: []byte(b.String())}}

	_, diags := Load(fsys, "", Limits{Targets: 11})
	if len(diags) != 1 || diags[0].Summary != "Too many targets (over 11)" || !strings.Contains(diags[0].Detail, `monitor "m"`) {
		t.Errorf("diagnostics:\n%s", allDiags(diags))
	}
	// At the limit, the checks over targets run (the missing variable).
	_, diags = Load(fsys, "", Limits{Targets: 12})
	if len(diags) != 3 || diags[0].Summary != "Missing host variable" {
		t.Errorf("at the limit:\n%s", allDiags(diags))
	}
}
