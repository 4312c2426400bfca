package source

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/config"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/revlist"
	"github.com/go-git/go-git/v5/plumbing/storer"
)

// A local --repo (a path or a file:// URL) is mirrored in-process: go-git
// would run git-upload-pack for it, which a host without git (the
// distroless image) does not have, and the only alternative, go-git's
// process-wide protocol table, would change every fetch of the process.
// The mirror copies the objects the tracked ref needs straight from the
// source repository's storage instead.

// localRepoPath returns the directory of a local repository URL (already
// normalized: an absolute path or file://), or "" for a remote one.
func localRepoPath(url string) string {
	if p, ok := strings.CutPrefix(url, "file://"); ok {
		return p
	}
	if strings.HasPrefix(url, "/") {
		return url
	}
	return ""
}

// cloneLocal creates the bare mirror at opts.Dir with origin pointing at
// opts.URL, and copies the tracked branch into it.
func cloneLocal(ctx context.Context, opts MirrorOptions, src string) (*git.Repository, error) {
	repo, err := git.PlainInit(opts.Dir, true)
	if err != nil {
		return nil, fmt.Errorf("init mirror: %w", err)
	}
	branch := plumbing.NewBranchReferenceName(opts.Branch)
	if _, err := repo.CreateRemote(&config.RemoteConfig{
		Name:  "origin",
		URLs:  []string{opts.URL},
		Fetch: []config.RefSpec{config.RefSpec("+" + branch.String() + ":" + branch.String())},
	}); err != nil {
		return nil, fmt.Errorf("configure mirror remote: %w", err)
	}
	if err := repo.Storer.SetReference(plumbing.NewSymbolicReference(plumbing.HEAD, branch)); err != nil {
		return nil, fmt.Errorf("set mirror HEAD: %w", err)
	}
	if _, err := fetchLocal(ctx, repo, src, branch); err != nil {
		return nil, err
	}
	return repo, nil
}

// fetchLocal makes ref in dst what it is in the repository at src (a work
// tree or a bare repository), copying the objects dst lacks. Like a forced
// fetch, it follows a rewritten ref.
func fetchLocal(ctx context.Context, dst *git.Repository, src string, ref plumbing.ReferenceName) (plumbing.Hash, error) {
	from, err := git.PlainOpen(src)
	if err != nil {
		return plumbing.ZeroHash, fmt.Errorf("open %s: %w", src, err)
	}
	r, err := from.Reference(ref, true)
	if err != nil {
		return plumbing.ZeroHash, fmt.Errorf("fetch %s from %s: %w", ref, src, err)
	}
	head := r.Hash()
	var have []plumbing.Hash
	if cur, err := dst.Reference(ref, true); err == nil {
		if cur.Hash() == head {
			return head, nil
		}
		have = append(have, cur.Hash())
	} else if !errors.Is(err, plumbing.ErrReferenceNotFound) {
		return plumbing.ZeroHash, fmt.Errorf("resolve %s in the mirror: %w", ref, err)
	}
	hashes, err := revlist.ObjectsWithStorageForIgnores(from.Storer, dst.Storer, []plumbing.Hash{head}, have)
	if err != nil {
		return plumbing.ZeroHash, fmt.Errorf("fetch %s from %s: %w", ref, src, err)
	}
	if err := copyObjects(ctx, from.Storer, dst.Storer, hashes); err != nil {
		return plumbing.ZeroHash, fmt.Errorf("fetch %s from %s: %w", ref, src, err)
	}
	// The ref moves only once every object it needs is stored.
	if err := dst.Storer.SetReference(plumbing.NewHashReference(ref, head)); err != nil {
		return plumbing.ZeroHash, fmt.Errorf("update %s in the mirror: %w", ref, err)
	}
	return head, nil
}

// copyObjects stores in dst each of hashes it lacks, read from src.
func copyObjects(ctx context.Context, src, dst storer.EncodedObjectStorer, hashes []plumbing.Hash) error {
	for _, h := range hashes {
		if err := ctx.Err(); err != nil {
			return err
		}
		if dst.HasEncodedObject(h) == nil {
			continue
		}
		obj, err := src.EncodedObject(plumbing.AnyObject, h)
		if err != nil {
			return fmt.Errorf("read object %s: %w", h, err)
		}
		if _, err := dst.SetEncodedObject(obj); err != nil {
			return fmt.Errorf("store object %s: %w", h, err)
		}
	}
	return nil
}
