// Package source is ripple's one reader of the ops repo. It reads a
// repository straight from its git object store with go-git: it resolves
// revisions, walks parents, and exposes the tree of any commit as an fs.FS
// (TreeFS) read lazily from the object store, without checking anything
// out or copying files. `ripple plan` and `ripple apply` open the
// operator's clone with Open; the daemon keeps a bare, single-branch
// mirror of the remote with OpenMirror and Fetch, and reads its commits
// the same way.
//
// The mirror writes only on an operator's request: Mirror.Revert
// makes a commit that undoes a commit of the tracked branch on a new
// branch ripple/revert-<sha>, building its trees straight in the object
// store (no work tree, no index, no git binary), and delivers that branch
// to the ops repo: pushed with the mirror's credentials, or written into a
// local repository. It never moves the tracked branch and never replaces
// an existing branch.
//
// go-git is not safe for concurrent use, so a Repo serializes every access
// to the object store (fetches, and reads through the file systems it hands
// out) with one mutex. The package runs no goroutines.
//
// A commit's file system shows symbolic links as links (fs.ModeSymlink via
// Lstat and ReadLink). Open, Stat, ReadFile and ReadDir follow links only
// while they stay inside the tree: an absolute target, or one that climbs
// above the root, gives an error wrapping ErrOutsideRepo, so no path can
// reach the host's file system.
package source
