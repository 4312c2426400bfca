package engine

import (
	"context"
	"fmt"
	"io/fs"
	"time"

	"github.com/hashicorp/hcl/v2"

	"github.com/ripple-ops/ripple/definitions"
)

// Commits of the ops repo: what people recognise one by, reading and
// loading its definitions, and reverting one.

// CommitInfo is what people recognise a commit by: the first line of its
// message, its author and when it was made.
type CommitInfo struct {
	SHA     string    `json:"sha"`
	Subject string    `json:"subject"`
	Author  string    `json:"author"`
	When    time.Time `json:"when,omitzero"`
}

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

// RevertBranchPrefix starts the name of every branch a revert makes:
// ripple/revert-<first 12 hex digits of the reverted commit>.
const RevertBranchPrefix = "ripple/revert-"

// RevertBranch is the branch a revert of commit is proposed on.
func RevertBranch(commit string) string { return RevertBranchPrefix + ShortCommit(commit) }

// RevertResult is what a revert made: a commit on a new branch of the ops
// repo that undoes Reverted's changes, and the pull request proposing it
// when one was opened. Nothing on a host changes until someone merges it.
type RevertResult struct {
	Reverted string   `json:"reverted"` // the reverted commit, full sha
	Subject  string   `json:"subject"`  // its first line
	Branch   string   `json:"branch"`   // ripple/revert-<12 hex>
	Commit   string   `json:"commit"`   // the revert commit, the branch's head
	Base     string   `json:"base"`     // the tracked branch's head the revert commit is made on
	Into     string   `json:"into"`     // the tracked branch, where the branch is to be merged
	Repo     string   `json:"repo"`     // the ops repo, credentials redacted
	Paths    []string `json:"paths"`    // the files the revert changes, sorted
	// Local is true when the ops repo is a local path: the branch was
	// written into it directly instead of being pushed.
	Local bool `json:"local"`
	// PullRequestURL is the pull request opened from Branch into Into;
	// "" when none was (no GitHub reporting, or PullRequestError).
	PullRequestURL string `json:"pull_request_url,omitempty"`
	// PullRequestError says why opening the pull request failed; the
	// branch exists all the same.
	PullRequestError string `json:"pull_request_error,omitempty"`
}

// RevertPullRequest is a revert branch to propose as a pull request.
type RevertPullRequest struct {
	Branch   string // head: the revert branch
	Into     string // base: the tracked branch
	Reverted string // the reverted commit, full sha
	Subject  string // its first line
	Commit   string // the revert commit
	Paths    []string
	RunID    int64  // the failed run the revert was asked from; 0 when none
	RunURL   string // that run's page; "" when none
	Actor    string
	Reason   string
}

// RevertPullRequestOpener opens the pull request of a revert branch
// (webhooks.GitHubReporter on GitHub). It returns the pull request's web
// URL. When a pull request from the branch into the tracked branch is
// already open, it returns that one.
type RevertPullRequestOpener interface {
	OpenRevertPullRequest(ctx context.Context, pr RevertPullRequest) (url string, err error)
}
