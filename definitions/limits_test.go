package definitions

import (
	"strings"
	"testing"
	"testing/fstest"
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
			_, diags := Load(c.fs, "")
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
	d, diags := Load(fsys, "")
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
