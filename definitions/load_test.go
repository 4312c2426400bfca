package definitions

import (
	"bufio"
	"bytes"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/hashicorp/hcl/v2"
)

// TestLoadValid loads each directory under testdata/valid and expects no
// diagnostics at all.
func TestLoadValid(t *testing.T) {
	dirs, err := os.ReadDir("testdata/valid")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range dirs {
		t.Run(e.Name(), func(t *testing.T) {
			d, diags := Load(os.DirFS(filepath.Join("testdata/valid", e.Name())), "c0ffee", Limits{})
			for _, diag := range diags {
				t.Errorf("unexpected diagnostic: %s", diagString(diag))
			}
			if d.Commit != "c0ffee" {
				t.Errorf("Commit = %q", d.Commit)
			}
		})
	}
}

// TestLoadInvalid loads each file or directory under testdata/invalid. Every
// expected diagnostic is a comment "# ERROR: summary" or "# WARNING:
// summary" on the line it must point at; any other diagnostic fails.
func TestLoadInvalid(t *testing.T) {
	entries, err := os.ReadDir("testdata/invalid")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		t.Run(strings.TrimSuffix(e.Name(), ".hcl"), func(t *testing.T) {
			p := filepath.Join("testdata/invalid", e.Name())
			var fsys fs.FS
			if e.IsDir() {
				fsys = os.DirFS(p)
			} else {
				data, err := os.ReadFile(p)
				if err != nil {
					t.Fatal(err)
				}
				fsys = fstest.MapFS{e.Name(): {Data: data}}
			}
			want := expectedDiagnostics(t, fsys)
			if len(want) == 0 {
				t.Fatal("case expects no diagnostics; put it under testdata/valid")
			}
			_, diags := Load(fsys, "", Limits{})
			var got []string
			for _, d := range diags {
				got = append(got, diagKey(d))
			}
			slices.Sort(got)
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("diagnostics (-want +got):\n%s\nall diagnostics:\n%s", diff, allDiags(diags))
			}
		})
	}
}

var expectRE = regexp.MustCompile(`(ERROR|WARNING): ([^#]+)`)

func expectedDiagnostics(t *testing.T, fsys fs.FS) []string {
	t.Helper()
	var want []string
	err := fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || d.Type()&fs.ModeSymlink != 0 {
			return err
		}
		data, err := fs.ReadFile(fsys, p)
		if err != nil {
			return err
		}
		sc := bufio.NewScanner(bytes.NewReader(data))
		sc.Buffer(nil, 1<<20)
		for line := 1; sc.Scan(); line++ {
			text := sc.Text()
			i := strings.Index(text, "# ERROR: ")
			if j := strings.Index(text, "# WARNING: "); i < 0 || (j >= 0 && j < i) {
				i = j
			}
			if i < 0 {
				continue
			}
			for _, m := range expectRE.FindAllStringSubmatch(text[i:], -1) {
				want = append(want, fmt.Sprintf("%s:%d: %s: %s", p, line, m[1], strings.TrimSpace(m[2])))
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(want)
	return want
}

// TestNotifierForms loads each kind of notifier in the label form and in
// the deprecated attribute form: both give the same Notifier, and only the
// attribute form warns, at the block, showing the label form to write.
func TestNotifierForms(t *testing.T) {
	tests := []struct {
		kind, label, attribute string
	}{
		{
			kind:      "webhook",
			label:     "notifier \"webhook\" \"ops-chat\" {\n  url = env(\"OPS_WEBHOOK_URL\")\n}\n",
			attribute: "notifier \"ops-chat\" {\n  type = \"webhook\"\n  url  = env(\"OPS_WEBHOOK_URL\")\n}\n",
		},
		{
			kind:      "slack",
			label:     "notifier \"slack\" \"ops-chat\" { url = env(\"SLACK\") }\n",
			attribute: "notifier \"ops-chat\" {\n  type = \"slack\"\n  url  = env(\"SLACK\")\n}\n",
		},
		{
			kind: "email",
			label: `notifier "email" "ops-chat" {
  to       = ["ops@example.net"]
  from     = "ripple@example.net"
  smtp     = "smtp.example.net:587"
  username = "ripple"
  password = file("/etc/ripple/smtp-password")
}
`,
			attribute: `notifier "ops-chat" {
  type     = "email"
  to       = ["ops@example.net"]
  from     = "ripple@example.net"
  smtp     = "smtp.example.net:587"
  username = "ripple"
  password = file("/etc/ripple/smtp-password")
}
`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.kind, func(t *testing.T) {
			load := func(src string) (*Definitions, *Notifier, hcl.Diagnostics) {
				t.Helper()
				d, diags := Load(fstest.MapFS{"notify.hcl": {Data: []byte(src)}}, "", Limits{})
				n := d.Notifiers["ops-chat"]
				if n == nil {
					t.Fatalf("no notifier ops-chat; diagnostics:\n%s", allDiags(diags))
				}
				return d, n, diags
			}
			ld, ln, ldiags := load(tt.label)
			ad, an, adiags := load(tt.attribute)

			if len(ldiags) > 0 {
				t.Errorf("label form: unexpected diagnostics:\n%s", allDiags(ldiags))
			}
			ignore := cmpopts.IgnoreFields(Notifier{}, "DeclRange", "URL", "Password")
			if diff := cmp.Diff(ln, an, ignore); diff != "" {
				t.Errorf("notifier (-label +attribute):\n%s", diff)
			}
			if ln.Type != tt.kind {
				t.Errorf("Type = %q, want %q", ln.Type, tt.kind)
			}
			if got, want := secretSource(ad, an.URL)+secretSource(ad, an.Password), secretSource(ld, ln.URL)+secretSource(ld, ln.Password); got != want {
				t.Errorf("secrets: attribute form %q, label form %q", got, want)
			}
			for form, n := range map[string]*Notifier{"label": ln, "attribute": an} {
				if n.DeclRange.Filename != "notify.hcl" || n.DeclRange.Start != hcl.InitialPos {
					t.Errorf("%s form: DeclRange = %s, want notify.hcl:1,1", form, n.DeclRange)
				}
			}

			want := &hcl.Diagnostic{
				Severity: hcl.DiagWarning,
				Summary:  "Deprecated notifier syntax",
				Detail:   `The attribute form notifier "ops-chat" { type = "` + tt.kind + `" } is deprecated; write notifier "` + tt.kind + `" "ops-chat" { ... } instead, without type.`,
				Subject:  &hcl.Range{Filename: "notify.hcl", Start: hcl.InitialPos, End: hcl.Pos{Line: 1, Column: 20, Byte: 19}},
			}
			if diff := cmp.Diff(hcl.Diagnostics{want}, adiags); diff != "" {
				t.Errorf("attribute form diagnostics (-want +got):\n%s", diff)
			}
		})
	}
}

// secretSource is the source text of s, "" for nil.
func secretSource(d *Definitions, s *Secret) string {
	if s == nil {
		return ""
	}
	return string(s.Range.SliceBytes(d.Files[s.Range.Filename].Bytes))
}

func diagKey(d *hcl.Diagnostic) string {
	sev := "ERROR"
	if d.Severity == hcl.DiagWarning {
		sev = "WARNING"
	}
	if d.Subject == nil {
		return fmt.Sprintf("?:0: %s: %s", sev, d.Summary)
	}
	return fmt.Sprintf("%s:%d: %s: %s", d.Subject.Filename, d.Subject.Start.Line, sev, d.Summary)
}

func diagString(d *hcl.Diagnostic) string {
	return diagKey(d) + " (" + d.Detail + ")"
}

func allDiags(diags hcl.Diagnostics) string {
	var b strings.Builder
	for _, d := range diags {
		b.WriteString("  " + diagString(d) + "\n")
	}
	return b.String()
}
