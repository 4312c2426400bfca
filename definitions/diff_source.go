package definitions

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"io/fs"
	"maps"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
)

// digest identifies the normalized source of a block or a part of one.
type digest [sha256.Size]byte

// sourceIndex finds top-level blocks in the parsed files of a Definitions,
// so the diff can compare what was written rather than decoded values
// (expressions such as `run` or secrets are not comparable once decoded).
type sourceIndex struct {
	blocks map[string]map[string]*hclsyntax.Block // type -> name -> block
	files  map[string]*hcl.File
}

func newSourceIndex(d *Definitions) *sourceIndex {
	idx := &sourceIndex{blocks: map[string]map[string]*hclsyntax.Block{}, files: map[string]*hcl.File{}}
	if d == nil {
		return idx
	}
	for name, f := range d.Files {
		body, ok := f.Body.(*hclsyntax.Body)
		if !ok {
			continue
		}
		idx.files[name] = f
		for _, b := range body.Blocks {
			if len(b.Labels) == 0 {
				continue
			}
			byName := idx.blocks[b.Type]
			if byName == nil {
				byName = map[string]*hclsyntax.Block{}
				idx.blocks[b.Type] = byName
			}
			// The name is the last label, as in Load (blockName).
			// Duplicates are load errors; the first definition wins.
			name := b.Labels[len(b.Labels)-1]
			if prev, ok := byName[name]; !ok || before(b.Range(), prev.Range()) {
				byName[name] = b
			}
		}
	}
	return idx
}

func before(a, b hcl.Range) bool {
	if a.Filename != b.Filename {
		return a.Filename < b.Filename
	}
	return a.Start.Byte < b.Start.Byte
}

// block returns the source of block kind name, or nil when the definitions
// carry no source for it (built by hand, or not loaded).
func (idx *sourceIndex) block(kind, name string) *hclsyntax.Block {
	return idx.blocks[kind][name]
}

// source returns the bytes of rng, if the index has its file.
func (idx *sourceIndex) source(rng hcl.Range) ([]byte, bool) {
	f := idx.files[rng.Filename]
	if f == nil || rng.Start.Byte < 0 || rng.End.Byte > len(f.Bytes) || rng.Start.Byte > rng.End.Byte {
		return nil, false
	}
	return f.Bytes[rng.Start.Byte:rng.End.Byte], true
}

// digestOf normalizes the source text in rng and hashes it. Whitespace,
// newlines and comments do not count, so `ripple fmt` and a new comment
// never change a block; everything else does, including the text of
// strings and heredocs. ok is false when the source is not available.
func (idx *sourceIndex) digestOf(rng hcl.Range) (d digest, ok bool) {
	src, ok := idx.source(rng)
	if !ok {
		return d, false
	}
	toks, _ := hclsyntax.LexConfig(src, rng.Filename, rng.Start)
	h := sha256.New()
	var hdr [binary.MaxVarintLen64 * 2]byte
	for _, t := range toks {
		switch t.Type {
		case hclsyntax.TokenComment, hclsyntax.TokenNewline, hclsyntax.TokenEOF:
			continue
		}
		n := binary.PutUvarint(hdr[:], uint64(t.Type))
		n += binary.PutUvarint(hdr[n:], uint64(len(t.Bytes)))
		h.Write(hdr[:n])
		h.Write(t.Bytes)
	}
	h.Sum(d[:0])
	return d, true
}

// sameBlock reports whether block kind name has the same normalized source
// in both indexes. Without source on either side it reports false: the diff
// then errs on the side of running.
func sameBlock(oldIdx, newIdx *sourceIndex, kind, name string) bool {
	ob, nb := oldIdx.block(kind, name), newIdx.block(kind, name)
	if ob == nil || nb == nil {
		return false
	}
	if src, ok := oldIdx.source(ob.Range()); ok {
		if dst, ok := newIdx.source(nb.Range()); ok && bytes.Equal(src, dst) {
			return true // the usual case, without lexing
		}
	}
	od, ok1 := oldIdx.digestOf(ob.Range())
	nd, ok2 := newIdx.digestOf(nb.Range())
	return ok1 && ok2 && od == nd
}

// sameNotifier is sameBlock for notifiers, which name their kind in a label
// (notifier "webhook" "ops-chat") or, deprecated, in a type attribute: two
// notifiers of the same kind (decoded, oldKind and newKind) whose other
// attributes are written the same are the same, whichever form each uses.
func sameNotifier(oldIdx, newIdx *sourceIndex, name, oldKind, newKind string) bool {
	if sameBlock(oldIdx, newIdx, "notifier", name) {
		return true
	}
	ob, nb := oldIdx.block("notifier", name), newIdx.block("notifier", name)
	if ob == nil || nb == nil || oldKind == "" || oldKind != newKind {
		return false
	}
	op, ok1 := oldIdx.partsOf(ob)
	np, ok2 := newIdx.partsOf(nb)
	if !ok1 || !ok2 {
		return false
	}
	delete(op.parts, "type")
	delete(np.parts, "type")
	return maps.Equal(op.parts, np.parts)
}

// blockParts digests the attributes and nested blocks of a block body:
// attributes by name, nested blocks by type (all blocks of a type
// together, in order) and labelled blocks also as "type.label".
type blockParts struct {
	parts map[string]digest
	// order lists the labels of each nested block type in source order.
	order map[string][]string
}

func (idx *sourceIndex) partsOf(b *hclsyntax.Block) (blockParts, bool) {
	p := blockParts{parts: map[string]digest{}, order: map[string][]string{}}
	for name, a := range b.Body.Attributes {
		d, ok := idx.digestOf(a.SrcRange)
		if !ok {
			return p, false
		}
		p.parts[name] = d
	}
	all := map[string]*bytes.Buffer{}
	for _, nb := range b.Body.Blocks {
		d, ok := idx.digestOf(nb.Range())
		if !ok {
			return p, false
		}
		if all[nb.Type] == nil {
			all[nb.Type] = &bytes.Buffer{}
		}
		all[nb.Type].Write(d[:])
		if len(nb.Labels) > 0 {
			key := nb.Type + "." + nb.Labels[0]
			if _, dup := p.parts[key]; !dup {
				p.parts[key] = d
				p.order[nb.Type] = append(p.order[nb.Type], nb.Labels[0])
			}
		}
	}
	for typ, buf := range all {
		p.parts[typ] = sha256.Sum256(buf.Bytes())
	}
	return p, true
}

// sameFile reports whether path has the same content in both snapshots.
// A file missing or unreadable on either side counts as changed.
func sameFile(oldFS, newFS fs.FS, path string) bool {
	if oldFS == nil || newFS == nil {
		return false
	}
	_, a, err := readRepoFile(oldFS, path)
	if err != nil {
		return false
	}
	_, b, err := readRepoFile(newFS, path)
	return err == nil && bytes.Equal(a, b)
}
