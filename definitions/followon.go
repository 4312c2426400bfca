package definitions

import (
	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
)

// Follow-on diagnostics. One slip should be reported once, not as every
// error that follows from it. Two kinds of diagnostics are held back:
//
//   - Inside a block with a syntax error (a top-level block whose text
//     holds the error), only the syntax errors are reported: the rest of
//     the block is what the parser recovered, not what was written.
//   - When a file has a syntax error, or could not be parsed at all, the
//     checks across blocks (references to names, targets that match no
//     host, credentials, host variables) are not run: the parser may have
//     dropped blocks that would satisfy them. They run once the syntax
//     errors are fixed.
//
// A block the loader leaves out for another reason (an unknown block type,
// an invalid name or wrong labels) is reported itself, and a reference to
// its name is not also reported as unknown.

// noteParse records what parsing path reported: diags, and file (nil when
// the file was not parsed). Any error makes the load incomplete; the
// top-level blocks that hold an error are damaged.
func (l *loader) noteParse(file *hcl.File, diags hcl.Diagnostics) {
	if !diags.HasErrors() {
		return
	}
	l.incomplete = true
	if l.syntax == nil {
		l.syntax = map[*hcl.Diagnostic]bool{}
	}
	for _, d := range diags {
		l.syntax[d] = true
	}
	if file == nil {
		return
	}
	body, ok := file.Body.(*hclsyntax.Body)
	if !ok {
		return
	}
	for _, b := range body.Blocks {
		rng := b.Range()
		for _, d := range diags {
			if d.Severity == hcl.DiagError && d.Subject != nil && within(*d.Subject, rng) {
				l.damaged = append(l.damaged, rng)
				break
			}
		}
	}
}

// within reports whether r starts inside outer.
func within(r, outer hcl.Range) bool {
	return r.Filename == outer.Filename && r.Start.Byte >= outer.Start.Byte && r.Start.Byte < max(outer.End.Byte, outer.Start.Byte+1)
}

// dropFollowOn removes the diagnostics of damaged blocks other than the
// syntax errors themselves.
func (l *loader) dropFollowOn() {
	if len(l.damaged) == 0 {
		return
	}
	kept := l.diags[:0]
	for _, d := range l.diags {
		if l.syntax[d] || d.Subject == nil || !l.inDamaged(*d.Subject) {
			kept = append(kept, d)
		}
	}
	clear(l.diags[len(kept):])
	l.diags = kept
}

func (l *loader) inDamaged(r hcl.Range) bool {
	for _, rng := range l.damaged {
		if within(r, rng) {
			return true
		}
	}
	return false
}

// leftOut reports whether a top-level block named name that could be of
// kind (a block type) is written in the repo, for a name the caller found
// no definition of: the block was left out (an unknown type, an invalid
// name or labels), and a reference to it is not reported as unknown.
func (l *loader) leftOut(kind, name string) bool {
	if l.written == nil {
		l.written = map[[2]string]bool{}
		known := map[string]bool{}
		for _, s := range rootSchema.Blocks {
			known[s.Type] = true
		}
		for _, f := range l.defs.Files {
			body, ok := f.Body.(*hclsyntax.Body)
			if !ok {
				continue
			}
			for _, b := range body.Blocks {
				if len(b.Labels) == 0 {
					continue
				}
				typ := b.Type
				if !known[typ] {
					typ = "" // could have been meant as any kind
				}
				l.written[[2]string{typ, b.Labels[len(b.Labels)-1]}] = true
			}
		}
	}
	return l.written[[2]string{kind, name}] || l.written[[2]string{"", name}]
}

// targetsLeftOut reports whether t names a host or group block that was
// left out: that it matches no host then follows from it.
func (l *loader) targetsLeftOut(t Targets) bool {
	for _, h := range t.Hosts {
		if l.defs.Hosts[h] == nil && l.leftOut("host", h) {
			return true
		}
	}
	for _, g := range t.Groups {
		if l.defs.Groups[g] == nil && l.leftOut("group", g) {
			return true
		}
	}
	return false
}
