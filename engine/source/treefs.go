package source

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"slices"
	"strings"
	"time"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/object"

	"github.com/ripple-ops/ripple/definitions"
)

// ErrOutsideRepo is wrapped by errors for symbolic links whose target is
// absolute or climbs above the root of the tree.
var ErrOutsideRepo = errors.New("symbolic link leads outside the repository")

// maxLinkHops bounds symbolic link chains, like the kernel's ELOOP limit.
const maxLinkHops = 40

// TreeFS is the tree of one commit as a read-only file system. It
// implements fs.ReadFileFS, fs.ReadDirFS, fs.StatFS and fs.ReadLinkFS.
// Every file's modification time is the commit's committer time.
type TreeFS struct {
	repo    *Repo
	root    *object.Tree
	commit  string
	modTime time.Time
	// trees keeps the subtrees decoded so far: every lookup walks from
	// the root, and a repo's files share their directories. Guarded by
	// repo.mu.
	trees map[plumbing.Hash]*object.Tree
}

var (
	_ fs.ReadFileFS = (*TreeFS)(nil)
	_ fs.ReadDirFS  = (*TreeFS)(nil)
	_ fs.StatFS     = (*TreeFS)(nil)
	_ fs.ReadLinkFS = (*TreeFS)(nil)
)

// Commit is the full id of the commit whose tree this is.
func (t *TreeFS) Commit() string { return t.commit }

// node is a resolved path: the entry it names, or the root (entry nil).
type node struct {
	name  string // cleaned path inside the tree; "." for the root
	entry *object.TreeEntry
}

func (n node) isDir() bool { return n.entry == nil || n.entry.Mode == filemode.Dir }

// lookup resolves name to a node, following symbolic links in every
// component except, when followLast is false, the last one. The caller
// holds t.repo.mu.
func (t *TreeFS) lookup(op, name string, followLast bool) (node, error) {
	if !fs.ValidPath(name) {
		return node{}, &fs.PathError{Op: op, Path: name, Err: fs.ErrInvalid}
	}
	if name == "." {
		return node{name: "."}, nil
	}
	parts := strings.Split(name, "/")
	dir, dirPath := t.root, "."
	hops := 0
	for i := 0; i < len(parts); i++ {
		e, err := dir.FindEntry(parts[i])
		if err != nil {
			return node{}, &fs.PathError{Op: op, Path: name, Err: fs.ErrNotExist}
		}
		full := path.Join(dirPath, parts[i])
		last := i == len(parts)-1
		switch {
		case e.Mode == filemode.Symlink && (!last || followLast):
			hops++
			if hops > maxLinkHops {
				return node{}, &fs.PathError{Op: op, Path: name, Err: errors.New("too many levels of symbolic links")}
			}
			target, err := t.blob(e.Hash)
			if err != nil {
				return node{}, &fs.PathError{Op: op, Path: name, Err: err}
			}
			joined, err := linkTarget(dirPath, string(target))
			if err != nil {
				return node{}, &fs.PathError{Op: op, Path: name, Err: fmt.Errorf("%s -> %s: %w", full, target, err)}
			}
			// Restart from the root with the link replaced by its target.
			rest := parts[i+1:]
			parts = nil
			if joined != "." {
				parts = strings.Split(joined, "/")
			}
			parts = append(parts, rest...)
			if len(parts) == 0 {
				return node{name: "."}, nil
			}
			dir, dirPath, i = t.root, ".", -1
		case last:
			return node{name: full, entry: e}, nil
		case e.Mode == filemode.Dir:
			sub, err := t.tree(e.Hash)
			if err != nil {
				return node{}, &fs.PathError{Op: op, Path: name, Err: err}
			}
			dir, dirPath = sub, full
		default:
			return node{}, &fs.PathError{Op: op, Path: name, Err: fs.ErrNotExist}
		}
	}
	panic("unreachable")
}

// linkTarget joins a link's target to the directory holding the link and
// refuses targets that leave the tree.
func linkTarget(dir, target string) (string, error) {
	if target == "" || path.IsAbs(target) || strings.Contains(target, `\`) || (len(target) > 1 && target[1] == ':') {
		return "", ErrOutsideRepo
	}
	joined := path.Join(dir, target)
	if joined == ".." || strings.HasPrefix(joined, "../") {
		return "", ErrOutsideRepo
	}
	return joined, nil
}

// tree returns the decoded tree h. The caller holds t.repo.mu.
func (t *TreeFS) tree(h plumbing.Hash) (*object.Tree, error) {
	if tr := t.trees[h]; tr != nil {
		return tr, nil
	}
	tr, err := t.repo.repo.TreeObject(h)
	if err != nil {
		return nil, err
	}
	if t.trees == nil {
		t.trees = map[plumbing.Hash]*object.Tree{}
	}
	t.trees[h] = tr
	return tr, nil
}

// MaxReadSize bounds what one read of a file takes into memory: a larger
// blob reads as its first MaxReadSize+1 bytes, so that a reader that caps
// its input (definitions refuses files over definitions.MaxFileSize) sees it
// is too large without a hostile commit's blob being loaded whole.
const MaxReadSize = definitions.MaxFileSize

// blob reads a blob's contents, at most MaxReadSize+1 bytes. The caller
// holds t.repo.mu.
func (t *TreeFS) blob(h plumbing.Hash) ([]byte, error) {
	b, err := t.repo.repo.BlobObject(h)
	if err != nil {
		return nil, err
	}
	rd, err := b.Reader()
	if err != nil {
		return nil, err
	}
	defer rd.Close()
	buf := bytes.NewBuffer(make([]byte, 0, min(b.Size, MaxReadSize+1)))
	if _, err := io.Copy(buf, io.LimitReader(rd, MaxReadSize+1)); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// info describes a node. The caller holds t.repo.mu.
func (t *TreeFS) info(n node) (*fileInfo, error) {
	fi := &fileInfo{name: path.Base(n.name), modTime: t.modTime}
	if n.entry == nil {
		fi.mode = fs.ModeDir | 0o755
		return fi, nil
	}
	fi.mode = entryMode(n.entry.Mode)
	if n.entry.Mode.IsFile() { // regular, executable and symlink entries are blobs
		// The size is read when asked for: a stat that only wants the
		// mode (symbolic link checks on every path component) opens no
		// object, and Open takes the size from the blob it reads.
		h := n.entry.Hash
		fi.sizeOf = func() int64 {
			t.repo.mu.Lock()
			defer t.repo.mu.Unlock()
			size, err := t.repo.repo.Storer.EncodedObjectSize(h)
			if err != nil {
				return 0 // the blob cannot be read: Open and ReadFile say why
			}
			return size
		}
	}
	return fi, nil
}

func entryMode(m filemode.FileMode) fs.FileMode {
	switch m {
	case filemode.Dir:
		return fs.ModeDir | 0o755
	case filemode.Executable:
		return 0o755
	case filemode.Symlink:
		return fs.ModeSymlink | 0o777
	case filemode.Submodule:
		return fs.ModeIrregular
	default:
		return 0o644
	}
}

// entries lists a directory node, sorted by name. The caller holds
// t.repo.mu.
func (t *TreeFS) entries(n node) ([]fs.DirEntry, error) {
	tree := t.root
	if n.entry != nil {
		var err error
		if tree, err = t.tree(n.entry.Hash); err != nil {
			return nil, err
		}
	}
	out := make([]fs.DirEntry, len(tree.Entries))
	for i := range tree.Entries {
		e := &tree.Entries[i]
		out[i] = &dirEntry{fs: t, node: node{name: path.Join(n.name, e.Name), entry: e}}
	}
	// Git orders a directory "a" as "a/", so "a.b" sorts before it; fs
	// requires plain name order.
	slices.SortFunc(out, func(a, b fs.DirEntry) int { return strings.Compare(a.Name(), b.Name()) })
	return out, nil
}

// Open opens a file or directory, following symbolic links inside the tree.
func (t *TreeFS) Open(name string) (fs.File, error) {
	t.repo.mu.Lock()
	defer t.repo.mu.Unlock()
	n, err := t.lookup("open", name, true)
	if err != nil {
		return nil, err
	}
	fi, err := t.info(n)
	if err != nil {
		return nil, &fs.PathError{Op: "open", Path: name, Err: err}
	}
	switch {
	case n.isDir():
		ents, err := t.entries(n)
		if err != nil {
			return nil, &fs.PathError{Op: "open", Path: name, Err: err}
		}
		return &dirFile{info: fi, entries: ents}, nil
	case n.entry.Mode == filemode.Submodule:
		return nil, &fs.PathError{Op: "open", Path: name, Err: errors.New("is a submodule; its contents are not in this repository")}
	}
	data, err := t.blob(n.entry.Hash)
	if err != nil {
		return nil, &fs.PathError{Op: "open", Path: name, Err: err}
	}
	fi.size, fi.sizeOf = int64(len(data)), nil
	return &file{info: fi, Reader: bytes.NewReader(data)}, nil
}

// ReadFile reads a whole file, following symbolic links inside the tree.
func (t *TreeFS) ReadFile(name string) ([]byte, error) {
	t.repo.mu.Lock()
	defer t.repo.mu.Unlock()
	n, err := t.lookup("readfile", name, true)
	if err != nil {
		return nil, err
	}
	if n.isDir() {
		return nil, &fs.PathError{Op: "readfile", Path: name, Err: errors.New("is a directory")}
	}
	if n.entry.Mode == filemode.Submodule {
		return nil, &fs.PathError{Op: "readfile", Path: name, Err: errors.New("is a submodule")}
	}
	data, err := t.blob(n.entry.Hash)
	if err != nil {
		return nil, &fs.PathError{Op: "readfile", Path: name, Err: err}
	}
	return data, nil
}

// ReadDir lists a directory sorted by name, following symbolic links inside
// the tree to reach it. Entries that are links are reported as links.
func (t *TreeFS) ReadDir(name string) ([]fs.DirEntry, error) {
	t.repo.mu.Lock()
	defer t.repo.mu.Unlock()
	n, err := t.lookup("readdir", name, true)
	if err != nil {
		return nil, err
	}
	if !n.isDir() {
		return nil, &fs.PathError{Op: "readdir", Path: name, Err: errors.New("not a directory")}
	}
	ents, err := t.entries(n)
	if err != nil {
		return nil, &fs.PathError{Op: "readdir", Path: name, Err: err}
	}
	return ents, nil
}

// Stat describes a file, following symbolic links inside the tree.
func (t *TreeFS) Stat(name string) (fs.FileInfo, error) { return t.stat("stat", name, true) }

// Lstat describes a file without following a final symbolic link.
func (t *TreeFS) Lstat(name string) (fs.FileInfo, error) { return t.stat("lstat", name, false) }

func (t *TreeFS) stat(op, name string, follow bool) (fs.FileInfo, error) {
	t.repo.mu.Lock()
	defer t.repo.mu.Unlock()
	n, err := t.lookup(op, name, follow)
	if err != nil {
		return nil, err
	}
	fi, err := t.info(n)
	if err != nil {
		return nil, &fs.PathError{Op: op, Path: name, Err: err}
	}
	return fi, nil
}

// ReadLink returns the target of a symbolic link as stored, without
// checking where it leads.
func (t *TreeFS) ReadLink(name string) (string, error) {
	t.repo.mu.Lock()
	defer t.repo.mu.Unlock()
	n, err := t.lookup("readlink", name, false)
	if err != nil {
		return "", err
	}
	if n.entry == nil || n.entry.Mode != filemode.Symlink {
		return "", &fs.PathError{Op: "readlink", Path: name, Err: fs.ErrInvalid}
	}
	target, err := t.blob(n.entry.Hash)
	if err != nil {
		return "", &fs.PathError{Op: "readlink", Path: name, Err: err}
	}
	return string(target), nil
}

// fileInfo implements fs.FileInfo for tree entries.
type fileInfo struct {
	name    string
	size    int64
	sizeOf  func() int64 // when set, the size is read on demand
	mode    fs.FileMode
	modTime time.Time
}

func (fi *fileInfo) Name() string { return fi.name }
func (fi *fileInfo) Size() int64 {
	if fi.sizeOf != nil {
		return fi.sizeOf()
	}
	return fi.size
}
func (fi *fileInfo) Mode() fs.FileMode  { return fi.mode }
func (fi *fileInfo) ModTime() time.Time { return fi.modTime }
func (fi *fileInfo) IsDir() bool        { return fi.mode.IsDir() }
func (fi *fileInfo) Sys() any           { return nil }

// dirEntry implements fs.DirEntry; Info reads the blob size lazily.
type dirEntry struct {
	fs   *TreeFS
	node node
}

func (d *dirEntry) Name() string      { return d.node.entry.Name }
func (d *dirEntry) IsDir() bool       { return d.node.isDir() }
func (d *dirEntry) Type() fs.FileMode { return entryMode(d.node.entry.Mode).Type() }
func (d *dirEntry) Info() (fs.FileInfo, error) {
	d.fs.repo.mu.Lock()
	defer d.fs.repo.mu.Unlock()
	fi, err := d.fs.info(d.node)
	if err != nil {
		return nil, &fs.PathError{Op: "stat", Path: d.node.name, Err: err}
	}
	return fi, nil
}
func (d *dirEntry) String() string { return fs.FormatDirEntry(d) }

// file is an open regular file (or link target), read into memory.
type file struct {
	info *fileInfo
	*bytes.Reader
}

func (f *file) Stat() (fs.FileInfo, error) { return f.info, nil }
func (f *file) Close() error               { return nil }

// dirFile is an open directory.
type dirFile struct {
	info    *fileInfo
	entries []fs.DirEntry
	off     int
}

func (d *dirFile) Stat() (fs.FileInfo, error) { return d.info, nil }
func (d *dirFile) Close() error               { return nil }
func (d *dirFile) Read([]byte) (int, error) {
	return 0, &fs.PathError{Op: "read", Path: d.info.name, Err: errors.New("is a directory")}
}

func (d *dirFile) ReadDir(n int) ([]fs.DirEntry, error) {
	rest := d.entries[d.off:]
	if n <= 0 {
		d.off = len(d.entries)
		return rest, nil
	}
	if len(rest) == 0 {
		return nil, io.EOF
	}
	rest = rest[:min(n, len(rest))]
	d.off += len(rest)
	return rest, nil
}
