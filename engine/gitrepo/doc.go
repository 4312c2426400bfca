// Package gitrepo reads an ops repository straight from its git object
// store with go-git: it resolves revisions, walks parents, and exposes the
// tree of any commit as an fs.FS without checking anything out. `ripple
// plan` uses it on the operator's clone; the daemon uses it on its bare
// mirror.
//
// go-git is not safe for concurrent use, so a Repo serializes every access
// to the object store (including reads through the file systems it hands
// out) with one mutex. The package runs no goroutines.
//
// A commit's file system shows symbolic links as links (fs.ModeSymlink via
// Lstat and ReadLink). Open, Stat, ReadFile and ReadDir follow links only
// while they stay inside the tree: an absolute target, or one that climbs
// above the root, gives an error wrapping ErrOutsideRepo, so no path can
// reach the host's file system.
package gitrepo
