package definitions

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"strings"

	"github.com/hashicorp/hcl/v2"
)

// errEscapes reports a path that leaves the repository.
var errEscapes = errors.New("path leaves the repository")

// maxSymlinkHops bounds symlink chains, like the kernel's ELOOP limit.
const maxSymlinkHops = 40

// resolveInRepo follows symbolic links in name, component by component,
// without ever leaving fsys, and returns the path of the file they lead to.
// A link that is absolute or climbs above the root yields errEscapes. When
// fsys cannot report links (it does not implement fs.ReadLinkFS), name is
// returned unchanged: such a file system has no links to follow.
func resolveInRepo(fsys fs.FS, name string) (string, error) {
	rl, ok := fsys.(fs.ReadLinkFS)
	if !ok {
		return name, nil
	}
	parts := strings.Split(name, "/")
	resolved := "."
	hops := 0
	for i := 0; i < len(parts); i++ {
		next := path.Join(resolved, parts[i])
		fi, err := rl.Lstat(next)
		if err != nil {
			return "", fmt.Errorf("lstat %s: %w", next, err)
		}
		if fi.Mode()&fs.ModeSymlink == 0 {
			resolved = next
			continue
		}
		hops++
		if hops > maxSymlinkHops {
			return "", fmt.Errorf("%s: too many levels of symbolic links", name)
		}
		target, err := rl.ReadLink(next)
		if err != nil {
			return "", fmt.Errorf("readlink %s: %w", next, err)
		}
		if path.IsAbs(target) || strings.Contains(target, `\`) || (len(target) > 1 && target[1] == ':') {
			return "", fmt.Errorf("%s links to %s: %w", next, target, errEscapes)
		}
		joined := path.Join(resolved, target)
		if leavesRoot(joined) {
			return "", fmt.Errorf("%s links to %s: %w", next, target, errEscapes)
		}
		parts = append(strings.Split(joined, "/"), parts[i+1:]...)
		resolved = "."
		i = -1
	}
	return resolved, nil
}

// leavesRoot reports whether a cleaned relative path climbs above ".".
func leavesRoot(p string) bool {
	return p == ".." || strings.HasPrefix(p, "../")
}

// readRepoFile reads a regular file of the repo, following symlinks only
// inside it, and refuses files over MaxFileSize.
func readRepoFile(fsys fs.FS, name string) (real string, data []byte, err error) {
	real, err = resolveInRepo(fsys, name)
	if err != nil {
		return "", nil, err
	}
	f, err := fsys.Open(real)
	if err != nil {
		return "", nil, fmt.Errorf("open %s: %w", name, err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return "", nil, fmt.Errorf("stat %s: %w", name, err)
	}
	if !fi.Mode().IsRegular() {
		return "", nil, fmt.Errorf("%s is not a regular file", name)
	}
	data, err = io.ReadAll(io.LimitReader(f, MaxFileSize+1))
	if err != nil {
		return "", nil, fmt.Errorf("read %s: %w", name, err)
	}
	if len(data) > MaxFileSize {
		return "", nil, errTooLarge
	}
	return real, data, nil
}

var errTooLarge = fmt.Errorf("file is larger than %d bytes", MaxFileSize)

// sourcePath resolves src, written in the definitions file declFile, to a
// repo path and checks that it names a regular file inside the repo. It
// returns the path to read (symlinks resolved) and the file's contents.
func (l *loader) sourcePath(declFile, src string, rng hcl.Range) (string, []byte, bool) {
	if src == "" {
		l.errorf(rng, "Invalid source path", "The path is empty.")
		return "", nil, false
	}
	if path.IsAbs(src) || strings.Contains(src, `\`) {
		l.errorf(rng, "Source outside the repository", fmt.Sprintf("%q must be a path relative to %s, inside the repository: sources are read from the commit, never from the daemon's disk.", src, declFile))
		return "", nil, false
	}
	p := path.Join(path.Dir(declFile), src)
	if leavesRoot(p) || !fs.ValidPath(p) {
		l.errorf(rng, "Source outside the repository", fmt.Sprintf("%q resolves to %s, which is outside the repository.", src, p))
		return "", nil, false
	}
	if c, ok := l.sources[p]; ok {
		if c.err != "" {
			l.errorf(rng, c.summary, c.err)
			return "", nil, false
		}
		return c.real, c.data, true
	}
	// Sources count toward the load's size limit before they are read.
	if real, err := resolveInRepo(l.fsys, p); err == nil {
		if fi, err := fs.Stat(l.fsys, real); err == nil && fi.Mode().IsRegular() && l.bytes+fi.Size() > l.limits.Bytes {
			c := cachedSource{summary: l.overBytes(nil, "").Summary, err: fmt.Sprintf("Reading %s would take this load past its limit of %s for definitions, templates and scripts together; it was not read. The limits are set on ripple serve, apply, validate and plan (see Input limits in docs/hcl.md).", p, SizeText(l.limits.Bytes))}
			l.sources[p] = c
			l.errorf(rng, c.summary, c.err)
			return "", nil, false
		}
	}
	real, data, err := readRepoFile(l.fsys, p)
	l.bytes += int64(len(data))
	c := cachedSource{real: real, data: data}
	switch {
	case errors.Is(err, errEscapes):
		c.summary, c.err = "Source outside the repository", fmt.Sprintf("%q is a symbolic link that leaves the repository: %v.", src, err)
	case errors.Is(err, fs.ErrNotExist):
		c.summary, c.err = "Source file not found", fmt.Sprintf("There is no file %s in the repository (paths are relative to %s).", p, declFile)
	case errors.Is(err, errTooLarge):
		c.summary, c.err = "File too large", fmt.Sprintf("%s is larger than %d bytes.", p, MaxFileSize)
	case err != nil:
		c.summary, c.err = "Invalid source file", err.Error()
	}
	l.sources[p] = c
	if c.err != "" {
		l.errorf(rng, c.summary, c.err)
		return "", nil, false
	}
	return real, data, true
}

// cachedSource remembers one source's outcome, so a template shared by 500
// jobs is read and checked once.
type cachedSource struct {
	real, summary, err string
	data               []byte
}
