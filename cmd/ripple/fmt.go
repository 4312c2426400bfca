package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/hashicorp/hcl/v2/hclwrite"
	"github.com/ripple-ops/ripple/definitions"
	"github.com/rogpeppe/go-internal/diff"
)

// fmtExitUnformatted is the exit status of fmt -check when a file would
// change (as terraform fmt -check).
const fmtExitUnformatted = 3

type fmtOptions struct {
	check, diff, write, list, recursive bool
}

// runFmt rewrites HCL files in canonical format, with terraform fmt's
// flags and semantics. Exit status: 0 done (or, with -check, nothing to
// change), 1 syntax or I/O errors (such files are never touched), 2 usage
// error, 3 with -check when some file is not formatted.
func runFmt(_ context.Context, args []string, e env) error {
	fset := flag.NewFlagSet("fmt", flag.ContinueOnError)
	fset.SetOutput(e.stderr)
	var o fmtOptions
	fset.BoolVar(&o.check, "check", false, "only check: list files that are not formatted and exit 3 if any; implies -write=false")
	fset.BoolVar(&o.diff, "diff", false, "print a unified diff of the changes")
	fset.BoolVar(&o.write, "write", true, "write the result to the source file")
	fset.BoolVar(&o.list, "list", true, "list files whose formatting differs")
	fset.BoolVar(&o.recursive, "recursive", false, "also process subdirectories (dot-folders are skipped)")
	noColor := fset.Bool("no-color", false, "never color diagnostics")
	fset.Usage = func() {
		fmt.Fprintln(e.stderr, "usage: ripple fmt [-check] [-diff] [-write=false] [-list=false] [-recursive] [DIR|FILE|-]...\n\nRewrites *.hcl files in canonical format. A directory means its *.hcl\nfiles (with -recursive, also its subdirectories'); \"-\" reads stdin and\nwrites stdout. Files with syntax errors are reported and left untouched.\nExit status: 0 ok, 1 errors, 2 usage, 3 with -check when a file would change.")
		fset.PrintDefaults()
	}
	if err := fset.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return exitError{2}
	}
	if o.check {
		o.write = false
	}
	targets := fset.Args()
	if len(targets) == 0 {
		targets = []string{"."}
	}
	color := !*noColor && isTerminal(e.stderr) && e.getenv("NO_COLOR") == ""
	var (
		failed, changed bool
		diags           hcl.Diagnostics
		files           = map[string]*hcl.File{}
	)
	for _, target := range targets {
		if target == "-" {
			src, err := io.ReadAll(e.stdin)
			if err != nil {
				return fmt.Errorf("fmt: read stdin: %w", err)
			}
			out, ds := formatHCL(src, "<stdin>")
			if ds.HasErrors() {
				diags = append(diags, ds...)
				files["<stdin>"] = &hcl.File{Bytes: src}
				failed = true
				continue
			}
			changed = changed || !bytes.Equal(src, out)
			if o.diff {
				e.stdout.Write(diff.Diff("<stdin>", src, "<stdin>", out))
			}
			if !o.check && !o.diff {
				e.stdout.Write(out)
			}
			continue
		}
		paths, err := fmtPaths(target, o.recursive)
		if err != nil {
			fmt.Fprintf(e.stderr, "ripple fmt: %v\n", err)
			failed = true
			continue
		}
		for _, p := range paths {
			c, ds, err := fmtFile(p, o, e.stdout)
			switch {
			case err != nil:
				fmt.Fprintf(e.stderr, "ripple fmt: %v\n", err)
				failed = true
			case ds.HasErrors():
				diags = append(diags, ds...)
				if src, err := os.ReadFile(p); err == nil {
					files[p] = &hcl.File{Bytes: src}
				}
				failed = true
			}
			changed = changed || c
		}
	}
	if len(diags) > 0 {
		if err := definitions.WriteDiagnostics(e.stderr, files, diags, color); err != nil {
			return err
		}
	}
	switch {
	case failed:
		return exitError{1}
	case o.check && changed:
		return exitError{fmtExitUnformatted}
	}
	return nil
}

// fmtPaths lists the files a target names: the file itself, or the *.hcl
// files of a directory (recursively, dot-folders skipped, with -recursive).
func fmtPaths(target string, recursive bool) ([]string, error) {
	fi, err := os.Stat(target)
	if err != nil {
		return nil, fmt.Errorf("%w", err)
	}
	if !fi.IsDir() {
		return []string{target}, nil
	}
	var paths []string
	err = filepath.WalkDir(target, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if p != target && (!recursive || strings.HasPrefix(d.Name(), ".")) {
				return filepath.SkipDir
			}
			return nil
		}
		if strings.HasSuffix(p, ".hcl") && d.Type().IsRegular() {
			paths = append(paths, p)
		}
		return nil
	})
	slices.Sort(paths)
	return paths, err
}

// fmtFile formats one file. It reports whether the file's formatting
// differs, and writes, lists or diffs it as the options say.
func fmtFile(p string, o fmtOptions, stdout io.Writer) (bool, hcl.Diagnostics, error) {
	src, err := os.ReadFile(p)
	if err != nil {
		return false, nil, fmt.Errorf("%w", err)
	}
	if len(src) > definitions.MaxFileSize {
		return false, nil, fmt.Errorf("%s: larger than %d bytes", p, definitions.MaxFileSize)
	}
	name := filepath.ToSlash(p)
	out, diags := formatHCL(src, name)
	if diags.HasErrors() {
		return false, diags, nil
	}
	if bytes.Equal(src, out) {
		return false, nil, nil
	}
	if o.list {
		fmt.Fprintln(stdout, name)
	}
	if o.diff {
		// Labels as git writes them: old/PATH, new/PATH, without a
		// doubled slash for an absolute path.
		label := strings.TrimPrefix(name, "/")
		stdout.Write(diff.Diff("old/"+label, src, "new/"+label, out))
	}
	if o.write {
		fi, err := os.Stat(p)
		if err != nil {
			return true, nil, fmt.Errorf("%w", err)
		}
		if err := os.WriteFile(p, out, fi.Mode().Perm()); err != nil {
			return true, nil, fmt.Errorf("%w", err)
		}
	}
	return true, nil, nil
}

// formatHCL returns src in canonical format. Syntax errors come from a real
// parse (hclwrite alone would format broken input); input nested too deeply
// for the parser is refused first.
func formatHCL(src []byte, name string) ([]byte, hcl.Diagnostics) {
	if d := definitions.CheckNesting(src, name); d != nil {
		return nil, hcl.Diagnostics{d}
	}
	if _, diags := hclsyntax.ParseConfig(src, name, hcl.InitialPos); diags.HasErrors() {
		return nil, diags
	}
	f, diags := hclwrite.ParseConfig(src, name, hcl.InitialPos)
	if diags.HasErrors() {
		return nil, diags
	}
	unwrapInterpolations(f.Body())
	return f.Bytes(), nil
}

// unwrapInterpolations rewrites attributes whose value is a lone
// interpolation, "${expr}", to expr, as terraform fmt does.
func unwrapInterpolations(body *hclwrite.Body) {
	for name, attr := range body.Attributes() {
		if inner := interpolationOnly(attr.Expr().BuildTokens(nil)); inner != nil {
			body.SetAttributeRaw(name, inner)
		}
	}
	for _, b := range body.Blocks() {
		unwrapInterpolations(b.Body())
	}
}

// interpolationOnly returns the tokens inside "${ ... }" when toks is
// exactly one quoted template holding one interpolation, else nil.
func interpolationOnly(toks hclwrite.Tokens) hclwrite.Tokens {
	if len(toks) < 5 || toks[0].Type != hclsyntax.TokenOQuote || toks[1].Type != hclsyntax.TokenTemplateInterp ||
		toks[len(toks)-1].Type != hclsyntax.TokenCQuote || toks[len(toks)-2].Type != hclsyntax.TokenTemplateSeqEnd {
		return nil
	}
	inner := toks[2 : len(toks)-2]
	depth := 0
	for _, t := range inner {
		switch t.Type {
		case hclsyntax.TokenTemplateInterp, hclsyntax.TokenTemplateControl:
			depth++
		case hclsyntax.TokenTemplateSeqEnd:
			if depth == 0 {
				return nil // "${a}${b}" is two interpolations
			}
			depth--
		case hclsyntax.TokenNewline, hclsyntax.TokenComment:
			return nil // keep multi-line and commented expressions as written
		}
	}
	if len(inner) > 0 && inner[len(inner)-1].Type == hclsyntax.TokenTemplateSeqEnd {
		return nil
	}
	out := make(hclwrite.Tokens, len(inner))
	copy(out, inner)
	if len(out) > 0 {
		c := *out[0]
		c.SpacesBefore = 0
		out[0] = &c
	}
	return out
}
