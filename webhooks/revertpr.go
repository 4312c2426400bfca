package webhooks

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/google/go-github/v60/github"

	"github.com/ripple-ops/ripple/engine"
)

var _ engine.RevertPullRequestOpener = (*GitHubReporter)(nil)

const (
	// maxTitleRunes is GitHub's limit on a pull request title.
	maxTitleRunes = 256
	// maxRevertPaths is how many changed files a revert pull request's
	// body names; GitHub shows them all in its diff anyway.
	maxRevertPaths = 20
)

// OpenRevertPullRequest opens the pull request of a revert branch (pushed
// already) into the tracked branch: "Revert <sha>: <subject>", with a body
// that links the failed run, names who asked and why, and says that
// nothing happens on a host before the merge. It goes through the same
// pacing and rate-limit hold as statuses and comments, and is retried on
// transient errors; when a pull request of that branch is already open
// (a retry whose first answer was lost), that one's URL is returned.
func (r *GitHubReporter) OpenRevertPullRequest(ctx context.Context, pr engine.RevertPullRequest) (string, error) {
	if pr.Branch == "" || pr.Into == "" {
		return "", errors.New("revert pull request: no branch or no base branch")
	}
	title, body := revertTitle(pr), revertBody(pr)
	r.mu.Lock()
	defer r.mu.Unlock()
	var created *github.PullRequest
	err := r.call(ctx, requestPullRequest, true, func() (*github.Response, error) {
		p, resp, err := r.client.PullRequests.Create(ctx, r.owner, r.repo, &github.NewPullRequest{
			Title: github.String(title), Head: github.String(pr.Branch), Base: github.String(pr.Into), Body: github.String(body),
		})
		created = p
		return resp, err
	})
	if err == nil {
		r.log.Info().Str("branch", pr.Branch).Str("commit", shortSHA(pr.Reverted)).Str("url", created.GetHTMLURL()).Msg("revert pull request opened")
		return created.GetHTMLURL(), nil
	}
	if !pullRequestExists(err) {
		return "", fmt.Errorf("open a pull request from %s into %s on %s/%s: %w", pr.Branch, pr.Into, r.owner, r.repo, err)
	}
	url, ferr := r.findOpenPullRequest(ctx, pr.Branch, pr.Into)
	if ferr != nil {
		return "", fmt.Errorf("open a pull request from %s into %s on %s/%s: one is open already, but: %w", pr.Branch, pr.Into, r.owner, r.repo, ferr)
	}
	return url, nil
}

// findOpenPullRequest is the URL of the open pull request from branch into
// base. Callers hold mu.
func (r *GitHubReporter) findOpenPullRequest(ctx context.Context, branch, base string) (string, error) {
	var found []*github.PullRequest
	err := r.call(ctx, requestPullRequest, false, func() (*github.Response, error) {
		l, resp, err := r.client.PullRequests.List(ctx, r.owner, r.repo, &github.PullRequestListOptions{
			State: "open", Head: r.owner + ":" + branch, Base: base,
		})
		found = l
		return resp, err
	})
	if err != nil {
		return "", fmt.Errorf("list pull requests of %s: %w", branch, err)
	}
	if len(found) == 0 {
		return "", fmt.Errorf("no open pull request from %s into %s", branch, base)
	}
	return found[0].GetHTMLURL(), nil
}

// pullRequestExists recognises GitHub's 422 "A pull request already
// exists for owner:branch".
func pullRequestExists(err error) bool {
	er, ok := errors.AsType[*github.ErrorResponse](err)
	if !ok || er.Response == nil || er.Response.StatusCode != http.StatusUnprocessableEntity {
		return false
	}
	if strings.Contains(er.Message, "already exists") {
		return true
	}
	for _, e := range er.Errors {
		if strings.Contains(e.Message, "already exists") {
			return true
		}
	}
	return false
}

// revertTitle is "Revert <12 hex>: <subject>", cut to GitHub's limit.
func revertTitle(pr engine.RevertPullRequest) string {
	t := strings.ToValidUTF8("Revert "+shortSHA(pr.Reverted)+": "+engine.FirstLine(pr.Subject, 0), "\uFFFD")
	if utf8.RuneCountInString(t) > maxTitleRunes {
		t = string([]rune(t)[:maxTitleRunes-1]) + "…"
	}
	return t
}

// revertBody says what the pull request undoes, which failed run it comes
// from, who asked and why, in Markdown. It holds nothing but what the
// operator and the repository said: no secret reaches it.
func revertBody(pr engine.RevertPullRequest) string {
	var b strings.Builder
	fmt.Fprintf(&b, "This reverts commit %s (\"%s\") on `%s`.\n\n", pr.Reverted, markdownText(engine.FirstLine(pr.Subject, 0)), pr.Into)
	who := "**" + markdownText(pr.Actor) + "**"
	if pr.Actor == "" {
		who = "an operator"
	}
	switch {
	case pr.RunURL != "":
		fmt.Fprintf(&b, "Asked for by %s through ripple after run %d failed: %s\n\n", who, pr.RunID, pr.RunURL)
	case pr.RunID != 0:
		fmt.Fprintf(&b, "Asked for by %s through ripple after run %d failed.\n\n", who, pr.RunID)
	default:
		fmt.Fprintf(&b, "Asked for by %s through ripple.\n\n", who)
	}
	if reason := strings.TrimSpace(pr.Reason); reason != "" {
		for line := range strings.SplitSeq(reason, "\n") {
			b.WriteString("> " + strings.TrimRight(line, "\r") + "\n")
		}
		b.WriteString("\n")
	}
	if len(pr.Paths) > 0 {
		names := make([]string, 0, min(len(pr.Paths), maxRevertPaths))
		for _, p := range pr.Paths[:min(len(pr.Paths), maxRevertPaths)] {
			names = append(names, "`"+strings.ReplaceAll(p, "`", "'")+"`")
		}
		fmt.Fprintf(&b, "It puts back %s as they were before that commit: %s", engine.Plural(len(pr.Paths), "file"), strings.Join(names, ", "))
		if more := len(pr.Paths) - len(names); more > 0 {
			fmt.Fprintf(&b, " and %d more", more)
		}
		b.WriteString(".\n\n")
	}
	b.WriteString("Nothing changes on a host until this pull request is merged; ripple then plans and rolls out the merge like any other, through each job's waves and health gates.\n")
	return strings.ToValidUTF8(b.String(), "\uFFFD") // short: the reason is capped, the paths too
}

// markdownText keeps a name from turning into Markdown markup.
func markdownText(s string) string {
	return strings.NewReplacer("*", `\*`, "_", `\_`, "`", "'", "[", `\[`, "]", `\]`, "<", "&lt;", ">", "&gt;").Replace(s)
}
