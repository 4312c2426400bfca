package definitions

import (
	"fmt"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
)

// Input limits. hclsyntax parses and evaluates recursively, and a Go stack
// overflow is fatal, not a panic, so input nested deeper than these limits
// is refused before it reaches the parser.
const (
	// MaxFileSize is the largest definitions file, template or script read.
	MaxFileSize = 4 << 20
	// MaxNesting is the deepest bracket, brace, parenthesis or template
	// interpolation nesting accepted.
	MaxNesting = 64
	// maxOperators caps operators in one expression: a long chain of binary,
	// unary or conditional operators nests just as deeply once parsed.
	maxOperators = 1024
)

// checkNesting lexes src (the lexer is iterative and safe on any input)
// and reports input nested too deeply for the recursive parser. template
// selects template lexing, for file step sources.
func checkNesting(src []byte, filename string, template bool) *hcl.Diagnostic {
	var toks hclsyntax.Tokens
	if template {
		toks, _ = hclsyntax.LexTemplate(src, filename, hcl.InitialPos)
	} else {
		toks, _ = hclsyntax.LexConfig(src, filename, hcl.InitialPos)
	}
	// ops[i] counts operators in the current expression at nesting level
	// i; a comma or newline ends an expression at that level.
	// Inside parentheses and brackets newlines do not end an expression.
	ops := make([]int, 1, MaxNesting+1)
	openers := make([]hclsyntax.TokenType, 1, MaxNesting+1)
	for i := range toks {
		tok := &toks[i]
		switch tok.Type {
		case hclsyntax.TokenOBrace, hclsyntax.TokenOBrack, hclsyntax.TokenOParen,
			hclsyntax.TokenTemplateInterp, hclsyntax.TokenTemplateControl,
			hclsyntax.TokenOQuote, hclsyntax.TokenOHeredoc:
			if len(ops) > MaxNesting {
				return nestingDiag(tok.Range, fmt.Sprintf("Brackets, braces, strings and templates nest more than %d levels deep here.", MaxNesting))
			}
			ops = append(ops, 0)
			openers = append(openers, tok.Type)
		case hclsyntax.TokenCBrace, hclsyntax.TokenCBrack, hclsyntax.TokenCParen,
			hclsyntax.TokenTemplateSeqEnd, hclsyntax.TokenCQuote, hclsyntax.TokenCHeredoc:
			if len(ops) > 1 {
				ops = ops[:len(ops)-1]
				openers = openers[:len(openers)-1]
			}
		case hclsyntax.TokenComma:
			ops[len(ops)-1] = 0
		case hclsyntax.TokenNewline:
			if o := openers[len(openers)-1]; o != hclsyntax.TokenOParen && o != hclsyntax.TokenOBrack {
				ops[len(ops)-1] = 0
			}
		case hclsyntax.TokenPlus, hclsyntax.TokenMinus, hclsyntax.TokenStar,
			hclsyntax.TokenSlash, hclsyntax.TokenPercent, hclsyntax.TokenBang,
			hclsyntax.TokenQuestion, hclsyntax.TokenAnd, hclsyntax.TokenOr,
			hclsyntax.TokenEqualOp, hclsyntax.TokenNotEqual,
			hclsyntax.TokenLessThan, hclsyntax.TokenLessThanEq,
			hclsyntax.TokenGreaterThan, hclsyntax.TokenGreaterThanEq,
			hclsyntax.TokenDot, hclsyntax.TokenEllipsis:
			ops[len(ops)-1]++
			if ops[len(ops)-1] > maxOperators {
				return nestingDiag(tok.Range, fmt.Sprintf("One expression holds more than %d operators.", maxOperators))
			}
		}
	}
	return nil
}

func nestingDiag(rng hcl.Range, detail string) *hcl.Diagnostic {
	return &hcl.Diagnostic{
		Severity: hcl.DiagError,
		Summary:  "Input nested too deeply",
		Detail:   detail + " The file was not parsed.",
		Subject:  rng.Ptr(),
	}
}
