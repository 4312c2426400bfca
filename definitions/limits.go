package definitions

import (
	"bytes"
	"fmt"

	"github.com/hashicorp/hcl/v2"
)

// Limits bound the work of one load and of each rendering of what it
// loaded, so that any commit, a hostile pull request head included, costs
// a bounded amount of memory and time: parsing takes a few hundred bytes of
// memory per byte of HCL, decoding and checking grow with blocks, hosts
// and targets, and expressions can repeat text (for loops, format widths).
// Every limit is checked before the work it bounds: the sizes of the *.hcl
// files are summed from the fs.FS's directory entries before any file is
// read, and blocks are counted by a scan of each file before any is
// parsed. A load over a limit reports one error naming it and stops.
//
// A zero field takes its default. The defaults fit a 10,000-host repo
// with room, about five times over: 50,000 hosts, 100,000 blocks,
// 2,500,000 tokens (the 10,000-host repo of the benchmarks has 514,000),
// 16 MiB of definitions, templates and scripts, 5,000,000 targets (500
// jobs and monitors each on all of 10,000 hosts).
type Limits struct {
	// Bytes is the most bytes a load reads: the *.hcl files under the
	// root (summed before any is read), then the templates and scripts
	// steps name (each counted when first named, before it is read).
	Bytes int64
	// Blocks is the most top-level blocks (host, job, monitor, ...)
	// across all files; also the most *.hcl files.
	Blocks int
	// Hosts is the most host blocks.
	Hosts int
	// Tokens is the most tokens (words, numbers, punctuation, newlines,
	// pieces of strings) in all *.hcl files, estimated by the same scan
	// before any file is parsed: the parser takes a few hundred bytes of
	// memory per token, so 16 MiB of one-byte list elements would take
	// gigabytes where 16 MiB of host blocks take a tenth of that.
	Tokens int
	// Targets is the most (job or monitor, host) pairs that the targets
	// of all jobs and monitors select together: checking, diffing and
	// planning a commit, and the size of its plan, grow with it.
	Targets int
	// Render is the most work one evaluation may do: at load, all
	// expressions of the commit together; when a run or a check renders,
	// each rendering (a step's command and template, a check). It counts
	// the bytes of every string that template interpolations, for loops
	// and functions produce, and for each element a for or splat
	// expression visits 64 bytes per syntax node evaluated for it, so a
	// short expression cannot expand into a huge one.
	Render int64
}

// Default limits; see Limits.
const (
	DefaultMaxBytes   = 16 << 20
	DefaultMaxBlocks  = 100_000
	DefaultMaxHosts   = 50_000
	DefaultMaxTokens  = 2_500_000
	DefaultMaxTargets = 5_000_000
	DefaultMaxRender  = 16 << 20
)

// DefaultLimits returns the limits a zero Limits stands for.
func DefaultLimits() Limits {
	return Limits{Bytes: DefaultMaxBytes, Blocks: DefaultMaxBlocks, Hosts: DefaultMaxHosts, Tokens: DefaultMaxTokens, Targets: DefaultMaxTargets, Render: DefaultMaxRender}
}

// withDefaults fills every zero (or negative) field with its default.
func (l Limits) withDefaults() Limits {
	d := DefaultLimits()
	if l.Bytes <= 0 {
		l.Bytes = d.Bytes
	}
	if l.Blocks <= 0 {
		l.Blocks = d.Blocks
	}
	if l.Hosts <= 0 {
		l.Hosts = d.Hosts
	}
	if l.Tokens <= 0 {
		l.Tokens = d.Tokens
	}
	if l.Targets <= 0 {
		l.Targets = d.Targets
	}
	if l.Render <= 0 {
		l.Render = d.Render
	}
	return l
}

// SizeText writes a byte count the way limits are shown: "16 MiB",
// "512 KiB", or "1000 bytes" when not a whole number of either.
func SizeText(n int64) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%d bytes", n)
}

// limitError is the error of a load over a limit: one diagnostic, at
// rng when the limit was crossed at a place (nil otherwise).
func limitError(summary, detail string, rng *hcl.Range) *hcl.Diagnostic {
	return &hcl.Diagnostic{Severity: hcl.DiagError, Summary: summary, Detail: detail + " The limits are set on ripple serve, apply, validate and plan (see Input limits in docs/hcl.md).", Subject: rng}
}

// Input limits of one file. hclsyntax parses and evaluates recursively,
// and a Go stack overflow is fatal, not a panic, so input nested deeper
// than these limits is refused before it reaches the parser.
const (
	// MaxFileSize is the largest definitions file, template or script read.
	MaxFileSize = 4 << 20
	// MaxNesting is the deepest nesting of brackets, braces, parentheses,
	// strings and template interpolations accepted.
	MaxNesting = 64
	// maxOperators caps operators in one expression: a long chain of
	// binary, unary or conditional operators nests as deeply once parsed.
	maxOperators = 1024
)

// scanResult is what scanning one definitions file found: its top-level
// blocks and host blocks, or why it must not be parsed.
type scanResult struct {
	blocks, hosts int
	// tokens estimates the tokens the lexer makes of the file (words,
	// numbers, punctuation, newlines, string pieces): what parsing costs
	// memory by, a few hundred bytes each, whatever their length.
	tokens int
	diag   *hcl.Diagnostic
}

// scanContext is one level of nesting seen by checkNesting.
type scanContext struct {
	kind   byte   // '{', '[', '(' code; 'T' template interpolation; '"' string; 'H' heredoc or template file
	marker []byte // heredoc end marker
	ops    int    // operators in the current expression at this level
}

// checkNesting scans src without parsing it and reports input nested too
// deeply for the recursive HCL parser. It understands strings, comments,
// heredocs and template interpolations well enough to count nesting; it
// never allocates per byte, so a hostile 4 MiB file is refused in
// milliseconds. template scans a template file (file step source).
func checkNesting(src []byte, filename string, template bool) *hcl.Diagnostic {
	return scan(src, filename, template).diag
}

// scan is checkNesting that also counts, in a config file, the top-level
// blocks (an opening brace at the top level; HCL requires it on the line
// of the block's type), those of type host (the line's first word), and
// about how many tokens the lexer will make (each word, number, newline,
// punctuation byte and piece of a string; within a few percent of hcl's
// count on real files, and above it where they differ). The parser's
// block count is checked again after parsing, so a miscount here can only
// let a file be parsed, never change what loads.
func scan(src []byte, filename string, template bool) (res scanResult) {
	stack := make([]scanContext, 1, MaxNesting+2)
	// atStatement: no word seen yet on this top-level line; hostStatement:
	// the line's first word is "host".
	atStatement, hostStatement := !template, false
	inLiteral := false // inside a run of string text, counted once
	if template {
		stack[0].kind = 'H'
	}
	line, lineStart := 1, 0
	fail := func(i int, detail string) *hcl.Diagnostic {
		pos := hcl.Pos{Line: line, Column: i - lineStart + 1, Byte: i}
		return &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "Input nested too deeply",
			Detail:   detail + " The file was not parsed.",
			Subject:  &hcl.Range{Filename: filename, Start: pos, End: pos},
		}
	}
	defer func() {
		if res.diag != nil {
			res.blocks, res.hosts, res.tokens = 0, 0, 0
		}
	}()
	push := func(i int, c scanContext) *hcl.Diagnostic {
		if len(stack) > MaxNesting {
			return fail(i, fmt.Sprintf("Brackets, braces, strings and templates nest more than %d levels deep here.", MaxNesting))
		}
		stack = append(stack, c)
		return nil
	}
	for i := 0; i < len(src); i++ {
		c := src[i]
		if c == '\n' {
			line, lineStart = line+1, i+1
		}
		top := &stack[len(stack)-1]
		switch top.kind {
		case '"':
			switch {
			case c == '"' || c == '\n':
				res.tokens++
				stack = stack[:len(stack)-1]
			case (c == '$' || c == '%') && i+1 < len(src) && src[i+1] == '{' && (i == 0 || src[i-1] != c):
				res.tokens++
				inLiteral = false
				if d := push(i, scanContext{kind: 'T'}); d != nil {
					return scanResult{diag: d}
				}
				i++
			default:
				if !inLiteral {
					res.tokens++
					inLiteral = true
				}
				switch {
				case c == '\\':
					i++
				case (c == '$' || c == '%') && i+1 < len(src) && src[i+1] == c:
					i++ // "$${" and "%%{" are escapes
				}
			}
			continue
		case 'H':
			if top.marker != nil && (i == 0 || src[i-1] == '\n') {
				end := bytes.IndexByte(src[i:], '\n')
				if end < 0 {
					end = len(src) - i
				}
				if bytes.Equal(bytes.TrimSpace(src[i:i+end]), top.marker) {
					stack = stack[:len(stack)-1]
					i += end - 1
					continue
				}
			}
			switch {
			case c == '\n':
				res.tokens++ // a heredoc is lexed a line at a time
			case (c == '$' || c == '%') && i+1 < len(src) && src[i+1] == c:
				i++
			case (c == '$' || c == '%') && i+1 < len(src) && src[i+1] == '{':
				res.tokens++
				if d := push(i, scanContext{kind: 'T'}); d != nil {
					return scanResult{diag: d}
				}
				i++
			}
			continue
		}
		// Code.
		switch {
		case c == ' ' || c == '\t' || c == '\r':
		case isWordByte(c) || c == '-' && i > 0 && isWordByte(src[i-1]):
			if i == 0 || !isWordByte(src[i-1]) && src[i-1] != '-' {
				res.tokens++
			}
		default:
			res.tokens++ // punctuation, a newline, a quote, a comment
			inLiteral = false
		}
		root := len(stack) == 1 && !template
		if root && atStatement && c != ' ' && c != '\t' && c != '\r' && c != '\n' {
			atStatement = false
			end := i
			for end < len(src) && (src[end] == '_' || src[end] == '-' || src[end] >= 'a' && src[end] <= 'z' || src[end] >= 'A' && src[end] <= 'Z' || src[end] >= '0' && src[end] <= '9') {
				end++
			}
			hostStatement = string(src[i:end]) == "host"
		}
		switch c {
		case '#':
			i = skipLine(src, i) - 1
		case '/':
			if i+1 < len(src) && src[i+1] == '/' {
				i = skipLine(src, i) - 1
			} else if i+1 < len(src) && src[i+1] == '*' {
				end := bytes.Index(src[i+2:], []byte("*/"))
				if end < 0 {
					// Unterminated: keep scanning as code, so nothing the
					// parser might read as code goes uncounted.
					continue
				}
				for _, b := range src[i : i+2+end] {
					if b == '\n' {
						line++
					}
				}
				i += 2 + end + 1
				lineStart = bytes.LastIndexByte(src[:i+1], '\n') + 1
			} else if top.ops++; top.ops > maxOperators {
				return scanResult{diag: fail(i, fmt.Sprintf("One expression holds more than %d operators.", maxOperators))}
			}
		case '"':
			if d := push(i, scanContext{kind: '"'}); d != nil {
				return scanResult{diag: d}
			}
		case '<':
			if m := heredocMarker(src[i:]); m != nil {
				if d := push(i, scanContext{kind: 'H', marker: m}); d != nil {
					return scanResult{diag: d}
				}
				i = skipLine(src, i) // the newline after the marker
				line, lineStart = line+1, i+1
				continue
			}
			if top.ops++; top.ops > maxOperators {
				return scanResult{diag: fail(i, fmt.Sprintf("One expression holds more than %d operators.", maxOperators))}
			}
		case '{', '[', '(':
			if c == '{' && root {
				res.blocks++
				if hostStatement {
					res.hosts++
				}
			}
			if d := push(i, scanContext{kind: c}); d != nil {
				return scanResult{diag: d}
			}
		case '}', ']', ')':
			if len(stack) > 1 {
				stack = stack[:len(stack)-1]
			}
		case ',':
			top.ops = 0
		case '\n':
			if top.kind != '(' && top.kind != '[' {
				top.ops = 0
			}
			atStatement = root
		case '!', '-', '+', '*', '%', '?', '>', '=', '&', '|', '.':
			if top.ops++; top.ops > maxOperators {
				return scanResult{diag: fail(i, fmt.Sprintf("One expression holds more than %d operators.", maxOperators))}
			}
		}
	}
	return res
}

// isWordByte reports whether c belongs to an identifier or a number.
func isWordByte(c byte) bool {
	return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c >= 0x80
}

// skipLine returns the index of the newline ending the line at i, or len(src).
func skipLine(src []byte, i int) int {
	if n := bytes.IndexByte(src[i:], '\n'); n >= 0 {
		return i + n
	}
	return len(src)
}

// heredocMarker returns the marker of a heredoc opening at s ("<<EOF" or
// "<<-EOF" then a newline), or nil.
func heredocMarker(s []byte) []byte {
	if len(s) < 3 || s[1] != '<' {
		return nil
	}
	j := 2
	if j < len(s) && s[j] == '-' {
		j++
	}
	start := j
	// Like hclsyntax: an identifier, starting with a letter or '_'. Anything
	// this scanner takes for a heredoc must be one for the parser too, or
	// code inside it would go uncounted.
	if j >= len(s) || !(s[j] == '_' || s[j] >= 'a' && s[j] <= 'z' || s[j] >= 'A' && s[j] <= 'Z') {
		return nil
	}
	for j < len(s) && (s[j] == '_' || s[j] == '-' || s[j] >= 'a' && s[j] <= 'z' || s[j] >= 'A' && s[j] <= 'Z' || s[j] >= '0' && s[j] <= '9') {
		j++
	}
	if j < len(s) && s[j] == '\r' {
		j++
	}
	if j < len(s) && s[j] != '\n' {
		return nil
	}
	return s[start:j]
}

// CheckNesting reports an HCL config src nested too deeply to parse safely
// (see MaxNesting), or nil. Tools that parse HCL themselves, such as
// ripple fmt, call it first.
func CheckNesting(src []byte, filename string) *hcl.Diagnostic {
	return checkNesting(src, filename, false)
}
