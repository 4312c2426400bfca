package source

import (
	"errors"
	"fmt"
	"io/fs"
	"strings"
	"sync"
	"time"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"

	"github.com/ripple-ops/ripple/engine"
)

// Repo is an open git repository, bare or with a work tree. Its methods and
// the file systems it returns are safe for concurrent use.
type Repo struct {
	mu   sync.Mutex // guards repo: go-git is not goroutine-safe
	repo *git.Repository
}

// Open opens the repository at path: a bare repository, a work tree, or any
// directory inside a work tree.
func Open(path string) (*Repo, error) {
	r, err := git.PlainOpen(path)
	if errors.Is(err, git.ErrRepositoryNotExists) {
		r, err = git.PlainOpenWithOptions(path, &git.PlainOpenOptions{DetectDotGit: true})
	}
	if err != nil {
		return nil, fmt.Errorf("open git repository %s: %w", path, err)
	}
	return &Repo{repo: r}, nil
}

// Resolve turns a revision into a full commit id. It accepts what operators
// type: HEAD, a branch or tag name (annotated tags are peeled to their
// commit), a full or abbreviated commit id, and suffixes such as "~1", "^"
// and "^2".
func (r *Repo) Resolve(rev string) (string, error) {
	rev = strings.TrimSpace(rev)
	if rev == "" {
		return "", errors.New("resolve revision: empty revision")
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	h, err := r.repo.ResolveRevision(plumbing.Revision(rev))
	if errors.Is(err, plumbing.ErrReferenceNotFound) {
		return "", fmt.Errorf("resolve revision %q: no commit, branch or tag of that name in the repository", rev)
	}
	if err != nil {
		return "", fmt.Errorf("resolve revision %q: %w", rev, err)
	}
	if _, err := r.repo.CommitObject(*h); err != nil {
		return "", fmt.Errorf("resolve revision %q: %s is not a commit: %w", rev, h, err)
	}
	return h.String(), nil
}

// HeadBranch names the branch HEAD is on, or def when HEAD is detached
// or unreadable.
func (r *Repo) HeadBranch(def string) string {
	r.mu.Lock()
	defer r.mu.Unlock()
	ref, err := r.repo.Head()
	if err != nil || !ref.Name().IsBranch() {
		return def
	}
	return ref.Name().Short()
}

// Parent returns the first parent of the commit hash, or "" for a root
// commit.
func (r *Repo) Parent(hash string) (string, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	c, err := r.commit(hash)
	if err != nil {
		return "", err
	}
	if len(c.ParentHashes) == 0 {
		return "", nil
	}
	return c.ParentHashes[0].String(), nil
}

// CommitFS returns the tree of commit hash as an fs.FS; it is FS for
// engine.CommitFS.
func (r *Repo) CommitFS(hash string) (fs.FS, error) { return r.FS(hash) }

// FS returns the tree of commit hash as a read-only file system. It reads
// from the object store on demand and stays valid while the repository is
// not garbage-collected under it.
func (r *Repo) FS(hash string) (*TreeFS, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	c, err := r.commit(hash)
	if err != nil {
		return nil, err
	}
	t, err := c.Tree()
	if err != nil {
		return nil, fmt.Errorf("tree of commit %s: %w", hash, err)
	}
	return &TreeFS{repo: r, root: t, commit: c.Hash.String(), modTime: c.Committer.When}, nil
}

// HasCommit reports whether the repository holds commit h.
func (r *Repo) HasCommit(h plumbing.Hash) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	_, err := r.repo.CommitObject(h)
	return err == nil
}

// IsAncestor reports whether old is an ancestor of (or equal to) head. A
// commit the repository does not hold is not an ancestor.
func (r *Repo) IsAncestor(old, head plumbing.Hash) (bool, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if old == head {
		return true, nil
	}
	oc, err := r.repo.CommitObject(old)
	if errors.Is(err, plumbing.ErrObjectNotFound) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("read commit %s: %w", old, err)
	}
	hc, err := r.repo.CommitObject(head)
	if err != nil {
		return false, fmt.Errorf("read commit %s: %w", head, err)
	}
	ok, err := oc.IsAncestor(hc)
	if err != nil {
		return false, fmt.Errorf("ancestry of %s: %w", old, err)
	}
	return ok, nil
}

// CommitTime is the committer time of h.
func (r *Repo) CommitTime(h plumbing.Hash) (time.Time, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	c, err := r.repo.CommitObject(h)
	if err != nil {
		return time.Time{}, fmt.Errorf("read commit %s: %w", h, err)
	}
	return c.Committer.When, nil
}

// CommitInfo is the subject (the first line of the message), the author
// and the author time of commit hash (a full id).
func (r *Repo) CommitInfo(hash string) (engine.CommitInfo, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	c, err := r.commit(hash)
	if err != nil {
		return engine.CommitInfo{}, err
	}
	subject, _, _ := strings.Cut(strings.TrimSpace(c.Message), "\n")
	return engine.CommitInfo{SHA: c.Hash.String(), Subject: strings.TrimSpace(subject), Author: c.Author.Name, When: c.Author.When}, nil
}

// commit looks up a commit by its full id. The caller holds r.mu.
func (r *Repo) commit(hash string) (*object.Commit, error) {
	if !plumbing.IsHash(hash) {
		return nil, fmt.Errorf("commit %q: not a full commit id", hash)
	}
	c, err := r.repo.CommitObject(plumbing.NewHash(hash))
	if err != nil {
		return nil, fmt.Errorf("commit %s: %w", hash, err)
	}
	return c, nil
}
