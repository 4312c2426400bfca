package definitions

import (
	"regexp"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/google/go-cmp/cmp"
	"github.com/hashicorp/hcl/v2"
)

func TestDiagnosticHelpers(t *testing.T) {
	fsys := fstest.MapFS{
		"b.hcl": {Data: []byte("host \"a\" {\n  address = \"a b\"\n  transport = \"local\"\n}\n")},
		"a.hcl": {Data: []byte("credential \"c\" {\n  user = \"u\"\n  agent = true\n  passphrase = \"x\"\n}\n\nnope {}\n")},
	}
	d, diags := Load(fsys, "", Limits{})
	want := []Diagnostic{
		{Severity: "warning", Summary: "Literal secret", File: "a.hcl", Line: 4, Column: 16},
		{Severity: "error", Summary: "Unsupported block type", File: "a.hcl", Line: 7, Column: 1},
		{Severity: "error", Summary: "Invalid host address", File: "b.hcl", Line: 2, Column: 13},
	}
	got := DiagnosticList(diags)
	if diff := cmp.Diff(want, got, cmp.FilterPath(func(p cmp.Path) bool { return p.Last().String() == ".Detail" }, cmp.Ignore())); diff != "" {
		t.Errorf("DiagnosticList (-want +got):\n%s", diff)
	}
	if s := ShortDiagnostics(diags); s != "2 errors; first at a.hcl:7" {
		t.Errorf("ShortDiagnostics = %q", s)
	}
	if s := ShortDiagnostics(diags[:1]); s != "1 warning; first at a.hcl:4" {
		t.Errorf("ShortDiagnostics(warning) = %q", s)
	}
	if s := ShortDiagnostics(nil); s != "" {
		t.Errorf("ShortDiagnostics(nil) = %q", s)
	}
	if l := DiagnosticList(nil); l == nil || len(l) != 0 {
		t.Errorf("DiagnosticList(nil) = %#v, want empty non-nil", l)
	}
	var b strings.Builder
	if err := WriteDiagnostics(&b, d.Files, diags, false); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, s := range []string{"a.hcl:4:16: warning: Literal secret\n", "b.hcl:2:13: error: Invalid host address\n", `   2:   address = "a b"`} {
		if !strings.Contains(out, s) {
			t.Errorf("WriteDiagnostics output lacks %q:\n%s", s, out)
		}
	}
	if strings.Index(out, "a.hcl:7") > strings.Index(out, "b.hcl:2") {
		t.Errorf("diagnostics not sorted by file:\n%s", out)
	}
}

func TestDuplicateNamesFirstDefinition(t *testing.T) {
	fsys := fstest.MapFS{
		"a.hcl":     {Data: []byte("group \"g\" {}\n\n\ngroup \"x\" {}\n")},
		"sub/b.hcl": {Data: []byte("group \"x\" {}\n")},
	}
	_, diags := Load(fsys, "", Limits{})
	if len(diags) != 1 || diags[0].Summary != "Duplicate group" || !strings.Contains(diags[0].Detail, "previous definition at a.hcl:4") || diags[0].Subject.Filename != "sub/b.hcl" {
		t.Errorf("diagnostics:\n%s", allDiags(diags))
	}
}

// TestWriteDiagnosticsOnce checks that each diagnostic's summary is printed
// once, on its file:line:col line, followed by the source snippet and the
// detail; a diagnostic without a place keeps its severity and summary.
func TestWriteDiagnosticsOnce(t *testing.T) {
	fsys := fstest.MapFS{
		"hosts.hcl": {Data: []byte("host \"a\" {\n  address = \"a b\"\n  transport = \"local\"\n}\n")},
	}
	d, diags := Load(fsys, "", Limits{})
	diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagWarning, Summary: "Old commit does not load", Detail: "Somewhere else."})
	for _, color := range []bool{false, true} {
		var b strings.Builder
		if err := WriteDiagnostics(&b, d.Files, diags, color); err != nil {
			t.Fatal(err)
		}
		out := b.String()
		for _, summary := range []string{"Invalid host address", "Old commit does not load"} {
			if n := strings.Count(out, summary); n != 1 {
				t.Errorf("color %v: %q printed %d times, want once:\n%s", color, summary, n, out)
			}
		}
		plain := regexp.MustCompile("\x1b\\[[0-9;]*m").ReplaceAllString(out, "")
		want := "warning: Old commit does not load\nSomewhere else.\n\n" +
			"hosts.hcl:2:13: error: Invalid host address\n" +
			"  on hosts.hcl line 2, in host \"a\":\n" +
			"   2:   address = \"a b\"\n\n"
		if !strings.HasPrefix(plain, want) {
			t.Errorf("color %v: output does not start with\n%s\ngot:\n%s", color, want, plain)
		}
	}
}
