package definitions

import (
	"errors"
	"fmt"
	"io/fs"
	"runtime"
	"slices"
	"strings"
	"sync"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
)

// The definitions files of one load are read and parsed within its
// limits (see Limits), each limit checked before the work it bounds:
//
//  1. walk the tree for *.hcl files, summing their sizes from the
//     directory entries: over Bytes, or more files than Blocks, stops
//     the load before any file is read;
//  2. read the files and scan each (nesting, top-level blocks, hosts,
//     tokens): over Blocks, Hosts or Tokens stops it before any file is
//     parsed;
//  3. parse them, and count the blocks the parser found against the same
//     limits before anything is decoded.

// defFile is one definitions file of a load.
type defFile struct {
	path  string
	src   []byte // nil when it could not be read
	key   cacheKey
	scan  scanResult
	file  *hcl.File // nil when it was not parsed
	diags hcl.Diagnostics
}

// parseFiles finds, reads and parses every definitions file. ok is false
// when the load is over a limit; its one error is then in l.diags.
func (l *loader) parseFiles() (parsed []*hcl.File, ok bool) {
	files, ok := l.findFiles()
	if !ok || !l.readFiles(files) {
		return nil, false
	}

	// Reading (from a git object store, inflating) is done by now; parse
	// on all cores. The cache is keyed by content, so it cannot hand back
	// a stale file.
	var wg sync.WaitGroup
	sem := make(chan struct{}, runtime.GOMAXPROCS(0))
	for _, f := range files {
		if f.src == nil || f.scan.diag != nil {
			continue
		}
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			f.file, f.diags = l.cache.parse(f.key, f.src, l.gen)
		})
	}
	wg.Wait()

	blocks, hosts := 0, 0
	for _, f := range files {
		if f.file == nil {
			continue
		}
		if body, ok := f.file.Body.(*hclsyntax.Body); ok {
			blocks += len(body.Blocks)
			for _, b := range body.Blocks {
				if b.Type == "host" {
					hosts++
				}
			}
		}
	}
	if !l.withinCounts(blocks, hosts, 0) {
		return nil, false
	}

	for _, f := range files {
		l.diags = append(l.diags, f.diags...)
		l.noteParse(f.file, f.diags)
		switch {
		case f.file != nil:
			parsed = append(parsed, f.file)
			l.defs.Files[f.path] = f.file
		case f.src != nil:
			l.defs.Files[f.path] = &hcl.File{Bytes: f.src}
		}
	}
	return parsed, true
}

// findFiles lists the definitions files in path order, summing their sizes
// as it goes; it stops with an error at the size or file limit.
func (l *loader) findFiles() ([]*defFile, bool) {
	var files []*defFile
	var size int64
	over := ""
	err := fs.WalkDir(l.fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			l.incomplete = true // files may be missing: see followon.go
			l.diags = append(l.diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Cannot read definitions",
				Detail:   err.Error(),
				Subject:  fileStart(p),
			})
			if d != nil && d.IsDir() {
				return fs.SkipDir
			}
			return nil
		}
		if d.IsDir() {
			if p != "." && strings.HasPrefix(d.Name(), ".") {
				return fs.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(p, ".hcl") || strings.HasPrefix(d.Name(), ".") {
			return nil
		}
		files = append(files, &defFile{path: p})
		size += entrySize(l.fsys, p, d)
		switch {
		case size > l.limits.Bytes:
			over = "bytes"
			return fs.SkipAll
		case len(files) > l.limits.Blocks:
			over = "files"
			return fs.SkipAll
		}
		return nil
	})
	if err != nil {
		l.incomplete = true
		l.diags = append(l.diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Cannot read definitions", Detail: err.Error()})
	}
	switch over {
	case "bytes":
		l.diags = append(l.diags, l.overBytes(nil, "The *.hcl files under the root hold more than that; nothing was read or parsed."))
		return nil, false
	case "files":
		l.diags = append(l.diags, limitError(fmt.Sprintf("Too many definitions files (over %d)", l.limits.Blocks),
			fmt.Sprintf("There are more than %d *.hcl files under the root, more than the limit on blocks allows (each file holds at least one); nothing was read or parsed.", l.limits.Blocks), nil))
		return nil, false
	}
	slices.SortFunc(files, func(a, b *defFile) int { return strings.Compare(a.path, b.path) })
	return files, true
}

// entrySize is the size of the file at p, which d names: from the
// directory entry, or for a symbolic link from what it leads to inside
// the repo. 0 when that cannot be known; reading the file then reports why.
func entrySize(fsys fs.FS, p string, d fs.DirEntry) int64 {
	if d.Type()&fs.ModeSymlink == 0 {
		if fi, err := d.Info(); err == nil {
			return fi.Size()
		}
		return 0
	}
	real, err := resolveInRepo(fsys, p)
	if err != nil {
		return 0
	}
	fi, err := fs.Stat(fsys, real)
	if err != nil || !fi.Mode().IsRegular() {
		return 0
	}
	return fi.Size()
}

// readFiles reads and scans files; it stops with an error when the bytes
// read or the blocks and hosts scanned are over the limits.
func (l *loader) readFiles(files []*defFile) bool {
	var wg sync.WaitGroup
	sem := make(chan struct{}, runtime.GOMAXPROCS(0))
	for _, f := range files {
		_, src, err := readRepoFile(l.fsys, f.path)
		if err != nil {
			summary := "Cannot read definitions file"
			switch {
			case errors.Is(err, errTooLarge):
				summary = "File too large"
			case errors.Is(err, errEscapes):
				summary = "File outside the repository"
			}
			f.diags = hcl.Diagnostics{{Severity: hcl.DiagError, Summary: summary, Detail: fmt.Sprintf("%v; the file was not loaded.", err), Subject: fileStart(f.path)}}
			continue
		}
		if l.bytes += int64(len(src)); l.bytes > l.limits.Bytes {
			// Sizes changed since the walk (a file system being written).
			wg.Wait()
			l.diags = append(l.diags, l.overBytes(nil, "The *.hcl files under the root hold more than that; nothing was parsed."))
			return false
		}
		f.src = src
		f.key = cacheKey{path: f.path}
		if l.cache != nil {
			f.key.content = string(src)
		}
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			f.scan = l.cache.scan(f.key, f.src, l.gen)
			if f.scan.diag != nil {
				f.diags = hcl.Diagnostics{f.scan.diag}
			}
		})
	}
	wg.Wait()
	blocks, hosts, tokens := 0, 0, 0
	for _, f := range files {
		blocks += f.scan.blocks
		hosts += f.scan.hosts
		tokens += f.scan.tokens
	}
	return l.withinCounts(blocks, hosts, tokens)
}

// withinCounts checks counts of top-level blocks, host blocks and tokens
// against the limits, adding the error when one is over.
func (l *loader) withinCounts(blocks, hosts, tokens int) bool {
	switch {
	case tokens > l.limits.Tokens:
		l.diags = append(l.diags, limitError(fmt.Sprintf("Too many tokens (over %d)", l.limits.Tokens),
			fmt.Sprintf("The definitions hold about %d tokens (words, numbers, punctuation, newlines and pieces of strings), more than the limit of %d; nothing was parsed. Parsing takes memory per token, whatever its length.", tokens, l.limits.Tokens), nil))
	case hosts > l.limits.Hosts:
		l.diags = append(l.diags, limitError(fmt.Sprintf("Too many hosts (over %d)", l.limits.Hosts),
			fmt.Sprintf("The definitions hold %d host blocks, more than the limit of %d; nothing was parsed or decoded.", hosts, l.limits.Hosts), nil))
	case blocks > l.limits.Blocks:
		l.diags = append(l.diags, limitError(fmt.Sprintf("Too many blocks (over %d)", l.limits.Blocks),
			fmt.Sprintf("The definitions hold %d top-level blocks, more than the limit of %d; nothing was parsed or decoded.", blocks, l.limits.Blocks), nil))
	default:
		return true
	}
	return false
}

// overBytes is the error of a load over limits.Bytes, at rng (nil for
// none), with what happened in detail.
func (l *loader) overBytes(rng *hcl.Range, detail string) *hcl.Diagnostic {
	limit := SizeText(l.limits.Bytes)
	return limitError(fmt.Sprintf("Definitions over the size limit (%s)", limit),
		fmt.Sprintf("A load reads at most %s of definitions, templates and scripts. %s", limit, detail), rng)
}

// fileStart is a range at the first byte of a file.
func fileStart(name string) *hcl.Range {
	return &hcl.Range{Filename: name, Start: hcl.InitialPos, End: hcl.InitialPos}
}
