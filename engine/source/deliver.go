package source

import (
	"context"
	"errors"
	"fmt"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/config"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/revlist"
	"github.com/go-git/go-git/v5/plumbing/storer"

	"github.com/ripple-ops/ripple/engine"
)

// A branch the mirror makes (a revert) is delivered to the ops repo the
// way the mirror reads it: pushed to a remote with the mirror's
// credentials, or, for a local repository, written into it in-process
// (objects copied, then the ref set), with no git binary. Neither ever
// replaces a branch that exists.

// branchExists is the refusal to replace branch in the ops repo.
func (m *Mirror) branchExists(branch plumbing.ReferenceName) error {
	return fmt.Errorf("branch %s already exists in %s (an earlier revert made it?): merge or delete it, then ask again: %w",
		branch.Short(), RedactURL(m.opts.URL), engine.ErrConflict)
}

// refuseExistingBranch fails when the ops repo has branch already. The
// caller holds mu.
func (m *Mirror) refuseExistingBranch(ctx context.Context, branch plumbing.ReferenceName) error {
	if src := localRepoPath(m.opts.URL); src != "" {
		to, err := git.PlainOpen(src)
		if err != nil {
			return fmt.Errorf("open %s: %w", src, err)
		}
		has, err := hasRef(to.Storer, branch)
		if err != nil {
			return fmt.Errorf("read %s in %s: %w", branch, src, err)
		}
		if has {
			return m.branchExists(branch)
		}
		return nil
	}
	remote, err := m.repo.Remote("origin")
	if err != nil {
		return fmt.Errorf("mirror remote: %w", err)
	}
	refs, err := remote.ListContext(ctx, &git.ListOptions{Auth: m.auth})
	if err != nil {
		return fmt.Errorf("list the branches of %s: %w", RedactURL(m.opts.URL), err)
	}
	for _, r := range refs {
		if r.Name() == branch {
			return m.branchExists(branch)
		}
	}
	return nil
}

// push sends commit to the remote as the new branch. The mirror holds the
// branch only while it pushes: it stays a mirror of the tracked branch.
// The caller holds mu.
func (m *Mirror) push(ctx context.Context, branch plumbing.ReferenceName, commit plumbing.Hash) error {
	if err := m.repo.Storer.SetReference(plumbing.NewHashReference(branch, commit)); err != nil {
		return fmt.Errorf("set %s in the mirror: %w", branch, err)
	}
	defer func() { _ = m.repo.Storer.RemoveReference(branch) }()
	// Not forced: a branch made meanwhile by someone else is refused by
	// the remote rather than replaced.
	err := m.repo.PushContext(ctx, &git.PushOptions{
		RemoteName: "origin",
		RefSpecs:   []config.RefSpec{config.RefSpec(branch.String() + ":" + branch.String())},
		Auth:       m.auth,
	})
	switch {
	case err == nil:
		return nil
	case errors.Is(err, git.ErrNonFastForwardUpdate), errors.Is(err, git.NoErrAlreadyUpToDate):
		return m.branchExists(branch)
	default:
		return fmt.Errorf("push %s to %s: %w", branch.Short(), RedactURL(m.opts.URL), err)
	}
}

// deliverLocal writes commit into the repository at dir as the new
// branch: it copies the objects dir lacks (everything new since tip, the
// tracked branch's head it was made on), then sets the ref.
func deliverLocal(ctx context.Context, from storer.EncodedObjectStorer, dir string, branch plumbing.ReferenceName, commit, tip plumbing.Hash) error {
	to, err := git.PlainOpen(dir)
	if err != nil {
		return fmt.Errorf("open %s: %w", dir, err)
	}
	var have []plumbing.Hash
	if to.Storer.HasEncodedObject(tip) == nil {
		have = append(have, tip)
	}
	hashes, err := revlist.ObjectsWithStorageForIgnores(from, to.Storer, []plumbing.Hash{commit}, have)
	if err != nil {
		return fmt.Errorf("objects of %s: %w", branch.Short(), err)
	}
	if err := copyObjects(ctx, from, to.Storer, hashes); err != nil {
		return fmt.Errorf("write %s into %s: %w", branch.Short(), dir, err)
	}
	// The ref is set only once every object it needs is stored, and never
	// over one made meanwhile.
	has, err := hasRef(to.Storer, branch)
	if err != nil {
		return fmt.Errorf("read %s in %s: %w", branch, dir, err)
	}
	if has {
		return fmt.Errorf("branch %s already exists in %s: %w", branch.Short(), dir, engine.ErrConflict)
	}
	if err := to.Storer.SetReference(plumbing.NewHashReference(branch, commit)); err != nil {
		return fmt.Errorf("create branch %s in %s: %w", branch.Short(), dir, err)
	}
	return nil
}

func hasRef(s storer.ReferenceStorer, name plumbing.ReferenceName) (bool, error) {
	_, err := s.Reference(name)
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, plumbing.ErrReferenceNotFound):
		return false, nil
	default:
		return false, err
	}
}
