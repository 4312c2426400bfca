package source

import (
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/go-git/go-git/v5/plumbing/storer"
)

// Trees are edited without a work tree or an index: the trees along each
// edited path are rewritten bottom-up and stored as new objects; every
// other subtree is shared with the tree edited.

// treeEdit puts an entry at a path, or removes it (remove). A path is
// slash-separated from the root, as object.DiffTree names changes.
type treeEdit struct {
	remove bool
	mode   filemode.FileMode
	hash   plumbing.Hash
}

// errFileDirectory is an edit that would need a file and a directory at
// the same path.
var errFileDirectory = errors.New("a file and a directory at the same path")

// editTree writes base with edits applied into s and returns the new root
// tree's hash. A directory left empty disappears, as git keeps none. base
// may be nil (an empty tree).
func editTree(s storer.EncodedObjectStorer, base *object.Tree, edits map[string]treeEdit) (plumbing.Hash, error) {
	h, _, err := editSubtree(s, base, edits, "")
	return h, err
}

// editSubtree applies edits (relative to base, at dir) and stores the
// result; empty reports a tree with no entries, which the caller drops.
func editSubtree(s storer.EncodedObjectStorer, base *object.Tree, edits map[string]treeEdit, dir string) (h plumbing.Hash, empty bool, err error) {
	entries := map[string]object.TreeEntry{}
	if base != nil {
		for _, e := range base.Entries {
			entries[e.Name] = e
		}
	}
	leaf := map[string]treeEdit{}
	nested := map[string]map[string]treeEdit{}
	for p, e := range edits {
		name, rest, deeper := strings.Cut(p, "/")
		if !deeper {
			leaf[name] = e
			continue
		}
		if nested[name] == nil {
			nested[name] = map[string]treeEdit{}
		}
		nested[name][rest] = e
	}
	names := map[string]bool{}
	for n := range leaf {
		names[n] = true
	}
	for n := range nested {
		names[n] = true
	}
	for name := range names {
		path := strings.TrimPrefix(dir+"/"+name, "/")
		cur, has := entries[name]
		sub, subEmpty := plumbing.ZeroHash, true
		if es := nested[name]; es != nil {
			var subBase *object.Tree
			switch {
			case has && cur.Mode == filemode.Dir:
				if subBase, err = object.GetTree(s, cur.Hash); err != nil {
					return plumbing.ZeroHash, false, fmt.Errorf("read tree %s: %w", path, err)
				}
			case has:
				if e, ok := leaf[name]; !ok || !e.remove {
					return plumbing.ZeroHash, false, fmt.Errorf("%s: %w", path, errFileDirectory)
				}
			}
			if sub, subEmpty, err = editSubtree(s, subBase, es, path); err != nil {
				return plumbing.ZeroHash, false, err
			}
		}
		switch e, ok := leaf[name]; {
		case ok && !e.remove:
			if !subEmpty {
				return plumbing.ZeroHash, false, fmt.Errorf("%s: %w", path, errFileDirectory)
			}
			entries[name] = object.TreeEntry{Name: name, Mode: e.mode, Hash: e.hash}
		case !subEmpty:
			entries[name] = object.TreeEntry{Name: name, Mode: filemode.Dir, Hash: sub}
		default:
			delete(entries, name)
		}
	}
	t := &object.Tree{Entries: make([]object.TreeEntry, 0, len(entries))}
	for _, e := range entries {
		t.Entries = append(t.Entries, e)
	}
	sort.Sort(object.TreeEntrySorter(t.Entries))
	obj := s.NewEncodedObject()
	if err := t.Encode(obj); err != nil {
		return plumbing.ZeroHash, false, fmt.Errorf("encode tree %s: %w", dir, err)
	}
	h, err = s.SetEncodedObject(obj)
	if err != nil {
		return plumbing.ZeroHash, false, fmt.Errorf("store tree %s: %w", dir, err)
	}
	return h, len(t.Entries) == 0, nil
}

// lookupEntry finds the file (blob, link or submodule) at path in root;
// nil when there is none: no entry, a directory there, or a file on the
// way where a directory should be.
func lookupEntry(s storer.EncodedObjectStorer, root *object.Tree, path string) (*object.TreeEntry, error) {
	t := root
	parts := strings.Split(path, "/")
	for i, name := range parts {
		var found *object.TreeEntry
		for j := range t.Entries {
			if t.Entries[j].Name == name {
				found = &t.Entries[j]
				break
			}
		}
		if found == nil {
			return nil, nil
		}
		if i == len(parts)-1 {
			if found.Mode == filemode.Dir {
				return nil, nil
			}
			return found, nil
		}
		if found.Mode != filemode.Dir {
			return nil, nil
		}
		next, err := object.GetTree(s, found.Hash)
		if err != nil {
			return nil, fmt.Errorf("read tree %s: %w", strings.Join(parts[:i+1], "/"), err)
		}
		t = next
	}
	return nil, nil
}
