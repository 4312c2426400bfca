package definitions

import (
	"bytes"
	"fmt"

	"github.com/hashicorp/hcl/v2"
)

// Input limits. hclsyntax parses and evaluates recursively, and a Go stack
// overflow is fatal, not a panic, so input nested deeper than these limits
// is refused before it reaches the parser.
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
	stack := make([]scanContext, 1, MaxNesting+2)
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
			case c == '\\':
				i++
			case c == '"' || c == '\n':
				stack = stack[:len(stack)-1]
			case (c == '$' || c == '%') && i+1 < len(src) && src[i+1] == c:
				i++ // "$${" and "%%{" are escapes
			case (c == '$' || c == '%') && i+1 < len(src) && src[i+1] == '{':
				if d := push(i, scanContext{kind: 'T'}); d != nil {
					return d
				}
				i++
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
			case (c == '$' || c == '%') && i+1 < len(src) && src[i+1] == c:
				i++
			case (c == '$' || c == '%') && i+1 < len(src) && src[i+1] == '{':
				if d := push(i, scanContext{kind: 'T'}); d != nil {
					return d
				}
				i++
			}
			continue
		}
		// Code.
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
				return fail(i, fmt.Sprintf("One expression holds more than %d operators.", maxOperators))
			}
		case '"':
			if d := push(i, scanContext{kind: '"'}); d != nil {
				return d
			}
		case '<':
			if m := heredocMarker(src[i:]); m != nil {
				if d := push(i, scanContext{kind: 'H', marker: m}); d != nil {
					return d
				}
				i = skipLine(src, i) // the newline after the marker
				line, lineStart = line+1, i+1
				continue
			}
			if top.ops++; top.ops > maxOperators {
				return fail(i, fmt.Sprintf("One expression holds more than %d operators.", maxOperators))
			}
		case '{', '[', '(':
			if d := push(i, scanContext{kind: c}); d != nil {
				return d
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
		case '!', '-', '+', '*', '%', '?', '>', '=', '&', '|', '.':
			if top.ops++; top.ops > maxOperators {
				return fail(i, fmt.Sprintf("One expression holds more than %d operators.", maxOperators))
			}
		}
	}
	return nil
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
