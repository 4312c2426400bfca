package definitions

import (
	"bytes"
	"fmt"
	"io"
	"slices"

	"github.com/hashicorp/hcl/v2"
)

// Diagnostic is one diagnostic in a form that marshals to stable JSON, for
// plan --json and the API.
type Diagnostic struct {
	Severity string `json:"severity"` // "error" or "warning"
	Summary  string `json:"summary"`
	Detail   string `json:"detail,omitempty"`
	File     string `json:"file,omitempty"`
	Line     int    `json:"line,omitempty"`
	Column   int    `json:"column,omitempty"`
}

// DiagnosticList converts diags, sorted by file and position. It never
// returns nil, so JSON shows [] rather than null.
func DiagnosticList(diags hcl.Diagnostics) []Diagnostic {
	sorted := slices.Clone(diags)
	sortDiagnostics(sorted)
	out := make([]Diagnostic, 0, len(sorted))
	for _, d := range sorted {
		item := Diagnostic{Severity: severity(d.Severity), Summary: d.Summary, Detail: d.Detail}
		if d.Subject != nil {
			item.File, item.Line, item.Column = d.Subject.Filename, d.Subject.Start.Line, d.Subject.Start.Column
		}
		out = append(out, item)
	}
	return out
}

func severity(s hcl.DiagnosticSeverity) string {
	if s == hcl.DiagWarning {
		return "warning"
	}
	return "error"
}

// WriteDiagnostics renders diags to w, sorted by file and position, with
// source snippets from files (Definitions.Files) where available. Each
// diagnostic is printed once: a "file:line:col: severity: summary" line that
// tools and editors can jump to ("severity: summary" without a place), then
// hcl's rendering of the snippet and the detail, without hcl's own
// "Error: summary" header. color adds terminal colors; set it only when w
// is a terminal.
func WriteDiagnostics(w io.Writer, files map[string]*hcl.File, diags hcl.Diagnostics, color bool) error {
	sorted := slices.Clone(diags)
	sortDiagnostics(sorted)
	var buf bytes.Buffer
	tw := hcl.NewDiagnosticTextWriter(&buf, files, 0, color)
	for _, d := range sorted {
		buf.Reset()
		if err := tw.WriteDiagnostic(d); err != nil {
			return fmt.Errorf("write diagnostics: %w", err)
		}
		body := buf.Bytes()
		sev, hclSev, colorOn, colorOff := severity(d.Severity), "Error", "", ""
		if d.Severity == hcl.DiagWarning {
			hclSev = "Warning"
		}
		if color {
			colorOn, colorOff = "\x1b[31m", "\x1b[0m"
			if d.Severity == hcl.DiagWarning {
				colorOn = "\x1b[33m"
			}
		}
		// hcl starts with "Error: summary" and a blank line; the line
		// written here replaces it. Should hcl ever change that header,
		// its rendering is printed whole rather than cut wrongly.
		if rest, ok := bytes.CutPrefix(body, []byte(colorOn+hclSev+colorOff+": "+d.Summary+"\n\n")); ok {
			body = rest
		}
		place := ""
		if d.Subject != nil {
			place = fmt.Sprintf("%s:%d:%d: ", d.Subject.Filename, d.Subject.Start.Line, d.Subject.Start.Column)
		}
		if _, err := fmt.Fprintf(w, "%s%s%s%s: %s\n%s", place, colorOn, sev, colorOff, d.Summary, body); err != nil {
			return fmt.Errorf("write diagnostics: %w", err)
		}
	}
	return nil
}

// ShortDiagnostics summarizes diags in one line for commit statuses and
// logs: "2 errors; first at jobs/web.hcl:14", or, when one of them has no
// place (a load over a limit), its summary: "1 error: Too many hosts (over
// 50000)". Warnings count only when there are no errors. No diagnostics
// gives "".
func ShortDiagnostics(diags hcl.Diagnostics) string {
	errs, warns := diags.Errs(), 0
	for _, d := range diags {
		if d.Severity == hcl.DiagWarning {
			warns++
		}
	}
	sev, n := hcl.DiagError, len(errs)
	noun := "error"
	if n == 0 {
		sev, n, noun = hcl.DiagWarning, warns, "warning"
	}
	if n == 0 {
		return ""
	}
	if n != 1 {
		noun += "s"
	}
	sorted := slices.Clone(diags)
	sortDiagnostics(sorted)
	for _, d := range sorted {
		if d.Severity != sev {
			continue
		}
		if d.Subject == nil {
			return fmt.Sprintf("%d %s: %s", n, noun, d.Summary)
		}
		return fmt.Sprintf("%d %s; first at %s:%d", n, noun, d.Subject.Filename, d.Subject.Start.Line)
	}
	return fmt.Sprintf("%d %s", n, noun)
}
