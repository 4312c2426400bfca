package source

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/go-git/go-git/v5/plumbing/storer"

	"github.com/ripple-ops/ripple/engine"
)

// The author and committer of a revert commit unless RevertRequest says
// otherwise.
const (
	DefaultRevertName  = "ripple"
	DefaultRevertEmail = "ripple@localhost"
)

// RevertRequest asks for the revert of one commit of the tracked branch.
type RevertRequest struct {
	// Commit is what to revert: a full or abbreviated sha (or any revision
	// Resolve takes), resolved after the branch is fetched. It must be in
	// the tracked branch's history.
	Commit string
	// Actor and Reason say who asked and why; they go into the commit
	// message.
	Actor, Reason string
	// AuthorName and AuthorEmail sign the commit (author and committer);
	// empty means DefaultRevertName and DefaultRevertEmail.
	AuthorName, AuthorEmail string
	// When dates the commit; zero means now.
	When time.Time
}

// RevertConflictError refuses a revert because the tracked branch changed
// again, after the reverted commit, files that commit changed: putting the
// commit's parent's version back would silently undo the later change too.
type RevertConflictError struct {
	Commit string   // the commit asked to be reverted
	Branch string   // the tracked branch
	Paths  []string // the files changed since, sorted
}

func (e *RevertConflictError) Error() string {
	verb := "were"
	if len(e.Paths) == 1 {
		verb = "was"
	}
	return fmt.Sprintf("cannot revert %s: %s it changed %s changed again on %s since: %s (revert by hand)",
		engine.ShortCommit(e.Commit), engine.Plural(len(e.Paths), "file"), verb, e.Branch, strings.Join(e.Paths, ", "))
}

// Unwrap makes the refusal an engine.ErrConflict.
func (e *RevertConflictError) Unwrap() error { return engine.ErrConflict }

// Revert makes, on a new branch ripple/revert-<12 hex>, a commit on top of
// the tracked branch's head that undoes req.Commit's changes (against its
// first parent, so a merge is reverted as a whole), and delivers the
// branch to the ops repo: pushed to a remote with the mirror's
// credentials, or written into a local repository. It never moves the
// tracked branch, and refuses, creating nothing, when:
//   - the commit is not in the tracked branch's history (ErrInvalidRequest)
//     or cannot be resolved (ErrNotFound);
//   - the branch changed again since a file the commit changed
//     (*RevertConflictError, an ErrConflict);
//   - nothing is left to revert (ErrConflict), or the commit changed
//     nothing (ErrInvalidRequest);
//   - the branch already exists in the ops repo (ErrConflict): an earlier
//     revert made it.
//
// The result's pull request fields are left empty. Revert holds the
// repository's lock throughout (fetch, resolve, commit, push), like every
// other git access.
func (m *Mirror) Revert(ctx context.Context, req RevertRequest) (engine.RevertResult, error) {
	rev := strings.TrimSpace(req.Commit)
	if rev == "" {
		return engine.RevertResult{}, fmt.Errorf("revert: no commit named: %w", engine.ErrInvalidRequest)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	tracked := plumbing.NewBranchReferenceName(m.opts.Branch)
	tipHash, err := m.fetchRef(ctx, tracked)
	if err != nil {
		return engine.RevertResult{}, fmt.Errorf("revert %s: %w", rev, err)
	}
	h, err := m.repo.ResolveRevision(plumbing.Revision(rev))
	if err != nil {
		return engine.RevertResult{}, fmt.Errorf("revert %s: no such commit in the history of %s: %w", rev, m.opts.Branch, engine.ErrNotFound)
	}
	c, err := m.repo.CommitObject(*h)
	if err != nil {
		return engine.RevertResult{}, fmt.Errorf("revert %s: %s is not a commit: %w", rev, h, engine.ErrNotFound)
	}
	tip, err := m.repo.CommitObject(tipHash)
	if err != nil {
		return engine.RevertResult{}, fmt.Errorf("revert %s: read the head of %s: %w", rev, m.opts.Branch, err)
	}
	if c.Hash != tip.Hash {
		ok, err := c.IsAncestor(tip)
		if err != nil {
			return engine.RevertResult{}, fmt.Errorf("revert %s: history of %s: %w", rev, m.opts.Branch, err)
		}
		if !ok {
			return engine.RevertResult{}, fmt.Errorf("revert %s: commit %s is not in the history of branch %s: %w",
				rev, engine.ShortCommit(c.Hash.String()), m.opts.Branch, engine.ErrInvalidRequest)
		}
	}

	sha := c.Hash.String()
	res := engine.RevertResult{
		Reverted: sha,
		Subject:  engine.FirstLine(c.Message, 0),
		Branch:   engine.RevertBranch(sha),
		Base:     tip.Hash.String(),
		Into:     m.opts.Branch,
		Repo:     RedactURL(m.opts.URL),
		Local:    localRepoPath(m.opts.URL) != "",
	}
	branch := plumbing.NewBranchReferenceName(res.Branch)
	if err := m.refuseExistingBranch(ctx, branch); err != nil {
		return engine.RevertResult{}, err
	}
	tree, paths, err := revertTree(ctx, m.repo.Storer, c, tip, m.opts.Branch)
	if _, conflict := errors.AsType[*RevertConflictError](err); conflict {
		return engine.RevertResult{}, err // says which commit
	}
	if err != nil {
		return engine.RevertResult{}, fmt.Errorf("revert %s: %w", engine.ShortCommit(sha), err)
	}
	res.Paths = paths
	commit, err := writeRevertCommit(m.repo.Storer, c, tip.Hash, tree, req)
	if err != nil {
		return engine.RevertResult{}, fmt.Errorf("revert %s: %w", engine.ShortCommit(sha), err)
	}
	res.Commit = commit.String()
	if src := localRepoPath(m.opts.URL); src != "" {
		err = deliverLocal(ctx, m.repo.Storer, src, branch, commit, tip.Hash)
	} else {
		err = m.push(ctx, branch, commit)
	}
	if err != nil {
		return engine.RevertResult{}, err
	}
	return res, nil
}

// revertTree is tip's tree with c's changes undone: for each file c
// changed (against its first parent), where tip still has c's version the
// parent's goes back (a file c added is removed, one it deleted comes
// back); where tip already has the parent's version nothing changes; any
// other version is a conflict. It returns the new tree and the files it
// changes, or a *RevertConflictError naming every conflicting file.
func revertTree(ctx context.Context, s storer.EncodedObjectStorer, c, tip *object.Commit, branch string) (plumbing.Hash, []string, error) {
	cTree, err := c.Tree()
	if err != nil {
		return plumbing.ZeroHash, nil, fmt.Errorf("tree of %s: %w", c.Hash, err)
	}
	parentTree := &object.Tree{} // a root commit is reverted to nothing
	if c.NumParents() > 0 {
		p, err := c.Parent(0)
		if err != nil {
			return plumbing.ZeroHash, nil, fmt.Errorf("first parent of %s: %w", c.Hash, err)
		}
		if parentTree, err = p.Tree(); err != nil {
			return plumbing.ZeroHash, nil, fmt.Errorf("tree of %s: %w", p.Hash, err)
		}
	}
	changes, err := object.DiffTreeWithOptions(ctx, parentTree, cTree, nil)
	if err != nil {
		return plumbing.ZeroHash, nil, fmt.Errorf("diff %s against its first parent: %w", c.Hash, err)
	}
	if len(changes) == 0 {
		return plumbing.ZeroHash, nil, fmt.Errorf("commit %s changes no file, there is nothing to revert: %w", engine.ShortCommit(c.Hash.String()), engine.ErrInvalidRequest)
	}
	tipTree, err := tip.Tree()
	if err != nil {
		return plumbing.ZeroHash, nil, fmt.Errorf("tree of %s: %w", tip.Hash, err)
	}
	edits := map[string]treeEdit{}
	var paths, conflicts []string
	for _, ch := range changes {
		path := ch.To.Name
		if path == "" {
			path = ch.From.Name
		}
		parentVersion, cVersion := changeEntry(ch.From), changeEntry(ch.To)
		tipVersion, err := lookupEntry(s, tipTree, path)
		if err != nil {
			return plumbing.ZeroHash, nil, err
		}
		switch {
		case sameEntry(tipVersion, cVersion):
			if parentVersion == nil {
				edits[path] = treeEdit{remove: true}
			} else {
				edits[path] = treeEdit{mode: parentVersion.Mode, hash: parentVersion.Hash}
			}
			paths = append(paths, path)
		case sameEntry(tipVersion, parentVersion):
			// Already as before c (reverted by hand, or changed back).
		default:
			conflicts = append(conflicts, path)
		}
	}
	if len(conflicts) > 0 {
		slices.Sort(conflicts)
		return plumbing.ZeroHash, nil, &RevertConflictError{Commit: c.Hash.String(), Branch: branch, Paths: conflicts}
	}
	if len(paths) == 0 {
		return plumbing.ZeroHash, nil, fmt.Errorf("%s already has every file %s changed as it was before: nothing to revert: %w",
			branch, engine.ShortCommit(c.Hash.String()), engine.ErrConflict)
	}
	slices.Sort(paths)
	tree, err := editTree(s, tipTree, edits)
	if errors.Is(err, errFileDirectory) {
		return plumbing.ZeroHash, nil, fmt.Errorf("%w: %w", err, engine.ErrConflict)
	}
	if err != nil {
		return plumbing.ZeroHash, nil, err
	}
	return tree, paths, nil
}

// changeEntry is one side of a change, nil when the file is absent there.
func changeEntry(e object.ChangeEntry) *object.TreeEntry {
	if e.Name == "" {
		return nil
	}
	return &e.TreeEntry
}

// sameEntry compares two versions of a file by content and mode; nil is
// an absent file.
func sameEntry(a, b *object.TreeEntry) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	return a.Hash == b.Hash && a.Mode == b.Mode
}

// writeRevertCommit stores the revert commit of c: tree on top of parent,
// with git's revert message and who asked for it and why.
func writeRevertCommit(s storer.EncodedObjectStorer, c *object.Commit, parent, tree plumbing.Hash, req RevertRequest) (plumbing.Hash, error) {
	sig := object.Signature{Name: req.AuthorName, Email: req.AuthorEmail, When: req.When}
	if sig.Name == "" {
		sig.Name = DefaultRevertName
	}
	if sig.Email == "" {
		sig.Email = DefaultRevertEmail
	}
	if sig.When.IsZero() {
		sig.When = time.Now()
	}
	commit := &object.Commit{
		Author:       sig,
		Committer:    sig,
		Message:      RevertMessage(c.Hash.String(), c.Message, req.Actor, req.Reason),
		TreeHash:     tree,
		ParentHashes: []plumbing.Hash{parent},
	}
	obj := s.NewEncodedObject()
	if err := commit.Encode(obj); err != nil {
		return plumbing.ZeroHash, fmt.Errorf("encode the revert commit: %w", err)
	}
	h, err := s.SetEncodedObject(obj)
	if err != nil {
		return plumbing.ZeroHash, fmt.Errorf("store the revert commit: %w", err)
	}
	return h, nil
}

// RevertMessage is the message of the commit reverting sha, whose own
// message is msg: git's ("Revert "<subject>"", "This reverts commit
// <sha>.") followed by why and who asked.
func RevertMessage(sha, msg, actor, reason string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Revert \"%s\"\n\nThis reverts commit %s.\n", engine.FirstLine(msg, 0), sha)
	if reason = strings.TrimSpace(reason); reason != "" {
		b.WriteString("\n" + reason + "\n")
	} else {
		b.WriteString("\n")
	}
	if actor = strings.TrimSpace(actor); actor == "" {
		actor = "an operator"
	}
	fmt.Fprintf(&b, "Requested by %s through ripple.\n", actor)
	return b.String()
}
