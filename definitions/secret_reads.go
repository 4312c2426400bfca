package definitions

import (
	"bytes"
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
)

// SecretRead is one env() or file() call in the definitions or a file
// step template: what the daemon reads when it runs the step, checks the
// monitor or logs in with the credential. A plan never reads it.
type SecretRead struct {
	Function string `json:"function"` // "env" or "file"
	// Argument is the literal string the call reads ("DEPLOY_TOKEN",
	// "/etc/ripple/db.pass"); for any other argument, the expression's
	// source text with whitespace and comments collapsed
	// ("\"TOKEN_${host.name}\"", "upper(\"x\")").
	Argument string `json:"argument"`
	File     string `json:"file"`
	Line     int    `json:"line"`

	// literal is set when Argument is the call's literal string.
	literal bool
}

// String is the call as written: env("DEPLOY_TOKEN").
func (r SecretRead) String() string {
	if r.literal {
		return r.Function + "(" + hclQuote(r.Argument) + ")"
	}
	return r.Function + "(" + r.Argument + ")"
}

// hclQuote quotes s as an HCL string literal.
func hclQuote(s string) string {
	q := strconv.Quote(s)
	return strings.NewReplacer("${", "$${", "%{", "%%{").Replace(q)
}

// writeSecretReads writes the env() and file() calls a commit adds.
func writeSecretReads(b *strings.Builder, reads []SecretRead) {
	b.WriteString("reads added (env() and file() calls the daemon will make; a plan reads none)\n")
	for _, r := range reads {
		fmt.Fprintf(b, "  %s at %s:%d\n", r, r.File, r.Line)
	}
}

// readKey identifies what a call reads: the function and its literal
// argument, or the tokens of a non-literal one (so that reformatting an
// expression does not make it new).
type readKey struct {
	function, argument string
	literal            bool
}

// addedSecretReads lists, sorted by file and line, the env() and file()
// calls of new whose function and argument old has nowhere. Files that
// are byte for byte the same in both commits add nothing and are not
// searched in new.
func addedSecretReads(old, new *Definitions) []SecretRead {
	have := map[readKey]bool{}
	collectSecretReads(old, nil, func(r SecretRead, k readKey) { have[k] = true })
	var out []SecretRead
	collectSecretReads(new, old, func(r SecretRead, k readKey) {
		if !have[k] {
			out = append(out, r)
		}
	})
	slices.SortFunc(out, func(a, b SecretRead) int {
		return cmp.Or(cmp.Compare(a.File, b.File), cmp.Compare(a.Line, b.Line),
			cmp.Compare(a.Function, b.Function), cmp.Compare(a.Argument, b.Argument))
	})
	return slices.CompactFunc(out, func(a, b SecretRead) bool { return a == b })
}

// collectSecretReads calls emit for every env() and file() call in the
// parsed definitions files of d and in the file step templates its jobs
// render. Files whose bytes are the same in skipSame (nil for none) are
// left out.
func collectSecretReads(d *Definitions, skipSame *Definitions, emit func(SecretRead, readKey)) {
	if d == nil {
		return
	}
	same := func(name string, src []byte) bool {
		if skipSame == nil {
			return false
		}
		f := skipSame.Files[name]
		return f != nil && bytes.Equal(f.Bytes, src)
	}
	templates := map[string]bool{}
	for _, j := range d.Jobs {
		for _, steps := range [][]*Step{j.Steps, j.Rollback} {
			for _, s := range steps {
				if s.Kind == StepFile && s.File != nil && s.File.Source != "" {
					templates[s.File.Source] = true
				}
			}
		}
	}
	for _, name := range slices.Sorted(mapKeys(d.Files)) {
		f := d.Files[name]
		if !mayReadSecrets(f.Bytes) || same(name, f.Bytes) {
			continue
		}
		if body, ok := f.Body.(*hclsyntax.Body); ok {
			secretCalls(body, f.Bytes, emit)
		}
		if templates[name] && f.Body == nil {
			if checkNesting(f.Bytes, name, true) != nil {
				continue
			}
			expr, diags := hclsyntax.ParseTemplate(f.Bytes, name, hcl.InitialPos)
			if !diags.HasErrors() {
				secretCalls(expr, f.Bytes, emit)
			}
		}
	}
}

// secretCalls finds the env() and file() calls under node, whose source
// is src.
func secretCalls(node hclsyntax.Node, src []byte, emit func(SecretRead, readKey)) {
	hclsyntax.VisitAll(node, func(n hclsyntax.Node) hcl.Diagnostics {
		fc, ok := n.(*hclsyntax.FunctionCallExpr)
		if !ok || (fc.Name != "env" && fc.Name != "file") {
			return nil
		}
		r := SecretRead{Function: fc.Name, File: fc.NameRange.Filename, Line: fc.NameRange.Start.Line}
		k := readKey{function: fc.Name}
		if len(fc.Args) == 1 {
			r.Argument, r.literal = literalString(fc.Args[0])
		}
		if r.literal {
			k.argument, k.literal = r.Argument, true
		} else if len(fc.Args) > 0 {
			rng := hcl.RangeBetween(fc.Args[0].Range(), fc.Args[len(fc.Args)-1].Range())
			r.Argument, k.argument = sourceText(src, rng)
		}
		emit(r, k)
		return nil
	})
}

// sourceText is the source of rng for people, with runs of whitespace,
// newlines and comments between tokens collapsed to one space, and for
// comparing, the tokens alone.
func sourceText(src []byte, rng hcl.Range) (text, tokens string) {
	if rng.Start.Byte < 0 || rng.End.Byte > len(src) || rng.Start.Byte > rng.End.Byte {
		return "", ""
	}
	toks, _ := hclsyntax.LexExpression(src[rng.Start.Byte:rng.End.Byte], rng.Filename, rng.Start)
	var t, k strings.Builder
	end := -1
	for _, tok := range toks {
		switch tok.Type {
		case hclsyntax.TokenComment, hclsyntax.TokenNewline, hclsyntax.TokenEOF:
			continue
		}
		if end >= 0 && tok.Range.Start.Byte > end {
			t.WriteByte(' ')
		}
		t.Write(tok.Bytes)
		k.WriteString(strconv.Itoa(int(tok.Type)))
		k.WriteByte(':')
		k.Write(tok.Bytes)
		k.WriteByte(0)
		end = tok.Range.End.Byte
	}
	return t.String(), k.String()
}

// mayReadSecrets reports whether src may call env() or file(): whether it
// holds "env" or "file" followed, after any spaces, by "(" (or by a
// comment, which may hide one). A file without is not searched.
func mayReadSecrets(src []byte) bool {
	for _, name := range [...]string{"env", "file"} {
		rest := src
		for {
			i := bytes.Index(rest, []byte(name))
			if i < 0 {
				break
			}
			rest = rest[i+len(name):]
			after := bytes.TrimLeft(rest, " \t\r\n")
			if len(after) > 0 && (after[0] == '(' || after[0] == '/' || after[0] == '#') {
				return true
			}
		}
	}
	return false
}
