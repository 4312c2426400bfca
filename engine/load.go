package engine

import (
	"context"
	"fmt"
	"io/fs"

	"github.com/hashicorp/hcl/v2"

	"github.com/ripple-ops/ripple/definitions"
)

// CommitReader reads the ops repo's tree at a commit (engine/source
// provides it, lazily from the git object store).
type CommitReader interface {
	CommitFS(commit string) (fs.FS, error)
}

// DefinitionsLoader returns the valid definitions of the ops repo at
// commit; a commit that cannot be read, or whose definitions have errors, is
// an error.
type DefinitionsLoader func(ctx context.Context, commit string) (*definitions.Definitions, error)

// LoadCommit loads the definitions at commit through the parse cache
// (shared between the commits one process loads), within limits (zero:
// the defaults). Diagnostics are about the repo's content, a commit over
// a limit included; the error is about reading it. Secrets are never read
// here: definitions evaluates env() and file() only when a run renders.
func LoadCommit(parsed *definitions.Cache, repo CommitReader, commit string, limits definitions.Limits) (*definitions.Definitions, hcl.Diagnostics, error) {
	fsys, err := repo.CommitFS(commit)
	if err != nil {
		return nil, nil, fmt.Errorf("read commit %s: %w", ShortCommit(commit), err)
	}
	d, diags := parsed.Load(fsys, commit, limits)
	return d, diags, nil
}

// LoadValid is LoadCommit for a commit that must be valid (it was when its
// runs were recorded): error diagnostics become the error.
func LoadValid(parsed *definitions.Cache, repo CommitReader, commit string, limits definitions.Limits) (*definitions.Definitions, error) {
	d, diags, err := LoadCommit(parsed, repo, commit, limits)
	if err != nil {
		return nil, err
	}
	if diags.HasErrors() {
		return nil, fmt.Errorf("definitions at %s do not load: %w", ShortCommit(commit), DiagError(diags))
	}
	return d, nil
}
