package engine

import "context"

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
