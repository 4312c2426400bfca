package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/hashicorp/hcl/v2"
	"github.com/ripple-ops/ripple/definitions"
)

// runValidate loads and checks every definition under DIR. Exit status: 0
// valid (warnings allowed), 1 errors found, 2 usage error.
func runValidate(_ context.Context, args []string, e env) error {
	fset := flag.NewFlagSet("validate", flag.ContinueOnError)
	fset.SetOutput(e.stderr)
	noColor := fset.Bool("no-color", false, "never color diagnostics (default: color only on a terminal)")
	asJSON := fset.Bool("json", false, "print {\"valid\", \"errors\", \"warnings\", \"diagnostics\"} as JSON on stdout")
	limits := limitFlags(fset)
	fset.Usage = func() {
		fmt.Fprintln(e.stderr, "usage: ripple validate [-json] [-no-color] [-max-...] [DIR]\n\nLoads every *.hcl file under DIR (default \".\") and reports problems as\nfile:line:col. Exits 1 when there are errors; warnings alone exit 0.\nThe -max-* limits are also read from RIPPLE_MAX_* (e.g. RIPPLE_MAX_HOSTS).")
		fset.PrintDefaults()
	}
	if err := fset.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return exitError{2}
	}
	if fset.NArg() > 1 {
		fset.Usage()
		return exitError{2}
	}
	if err := fillFromEnv(fset, e, limitFlagNames); err != nil {
		fmt.Fprintf(e.stderr, "ripple validate: %v\n", err)
		return exitError{2}
	}
	dir := "."
	if fset.NArg() == 1 {
		dir = fset.Arg(0)
	}
	if fi, err := os.Stat(dir); err != nil {
		return fmt.Errorf("validate: %w", err)
	} else if !fi.IsDir() {
		return fmt.Errorf("validate: %s is not a directory", dir)
	}

	defs, diags := definitions.Load(os.DirFS(dir), "", *limits)
	files, diags := relativeTo(dir, defs.Files, diags)
	nerr, nwarn := countDiagnostics(diags)

	if *asJSON {
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(map[string]any{
			"valid":       nerr == 0,
			"errors":      nerr,
			"warnings":    nwarn,
			"diagnostics": definitions.DiagnosticList(diags),
		}); err != nil {
			return fmt.Errorf("validate: %w", err)
		}
	} else {
		color := !*noColor && isTerminal(e.stderr) && e.getenv("NO_COLOR") == ""
		if err := definitions.WriteDiagnostics(e.stderr, files, diags, color); err != nil {
			return err
		}
		switch {
		case nerr > 0:
			fmt.Fprintf(e.stderr, "%s, %s: the definitions are not valid.\n", plural(nerr, "error"), plural(nwarn, "warning"))
		case nwarn > 0:
			fmt.Fprintf(e.stdout, "Valid with %s: %s, %s, %s.\n", plural(nwarn, "warning"), plural(len(defs.Hosts), "host"), plural(len(defs.Jobs), "job"), plural(len(defs.Monitors), "monitor"))
		default:
			fmt.Fprintf(e.stdout, "Valid: %s, %s, %s.\n", plural(len(defs.Hosts), "host"), plural(len(defs.Jobs), "job"), plural(len(defs.Monitors), "monitor"))
		}
	}
	if nerr > 0 {
		return exitError{1}
	}
	return nil
}

func countDiagnostics(diags hcl.Diagnostics) (errs, warns int) {
	for _, d := range diags {
		if d.Severity == hcl.DiagWarning {
			warns++
		} else {
			errs++
		}
	}
	return errs, warns
}

func plural(n int, noun string) string {
	if n == 1 {
		return fmt.Sprintf("1 %s", noun)
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

// relativeTo prefixes file names in diagnostics with dir, so that the
// file:line:col printed can be opened from the current directory.
func relativeTo(dir string, files map[string]*hcl.File, diags hcl.Diagnostics) (map[string]*hcl.File, hcl.Diagnostics) {
	if filepath.Clean(dir) == "." {
		return files, diags
	}
	name := func(n string) string { return filepath.ToSlash(filepath.Join(dir, filepath.FromSlash(n))) }
	out := make(map[string]*hcl.File, len(files))
	for n, f := range files {
		out[name(n)] = f
	}
	moved := make(hcl.Diagnostics, len(diags))
	for i, d := range diags {
		c := *d
		if c.Subject != nil {
			s := *c.Subject
			s.Filename = name(s.Filename)
			c.Subject = &s
		}
		if c.Context != nil {
			s := *c.Context
			s.Filename = name(s.Filename)
			c.Context = &s
		}
		moved[i] = &c
	}
	return out, moved
}

// isTerminal reports whether w is a character device, such as a terminal.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}
