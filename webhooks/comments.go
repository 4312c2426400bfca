package webhooks

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/google/go-github/v60/github"
)

// PlanMarker starts every plan comment ripple writes; it is how ripple finds
// its own comment again (after a restart, among human comments).
const PlanMarker = "<!-- ripple:plan -->"

const (
	// maxCommentRunes is GitHub's limit on a comment body.
	maxCommentRunes = 65536
	// truncatedNote ends a plan that had to be cut to fit.
	truncatedNote = "\n\n… (plan truncated to fit a GitHub comment)"
	// commentAttempts bounds retries of one comment or pull request call
	// on transient errors; rate limits are waited out without counting.
	commentAttempts = 5
	// listPageSize is the largest page GitHub serves.
	listPageSize = 100
)

// UpsertPlanComment makes body the content of ripple's single plan comment
// on pull request prNumber: it edits the comment in place when one exists
// (remembered, or found by PlanMarker) and creates it otherwise. Calls go
// through the same pacing and rate-limit hold as statuses and are retried;
// an error means the comment could not be written (ctx ended, GitHub
// rejected it, or transient errors persisted).
func (r *GitHubReporter) UpsertPlanComment(ctx context.Context, prNumber int, body string) error {
	if prNumber <= 0 {
		return fmt.Errorf("plan comment: invalid pull request number %d", prNumber)
	}
	text := planCommentBody(body)
	r.mu.Lock()
	defer r.mu.Unlock()

	id, known := r.comments[prNumber]
	if !known {
		found, err := r.findPlanComment(ctx, prNumber)
		if err != nil {
			return fmt.Errorf("plan comment on #%d: %w", prNumber, err)
		}
		id = found
	}
	if id != 0 {
		err := r.call(ctx, requestComment, true, func() (*github.Response, error) {
			_, resp, err := r.client.Issues.EditComment(ctx, r.owner, r.repo, id, &github.IssueComment{Body: github.String(text)})
			return resp, err
		})
		if err == nil {
			r.comments[prNumber] = id
			return nil
		}
		if !isNotFound(err) {
			return fmt.Errorf("edit plan comment %d on #%d: %w", id, prNumber, err)
		}
		// Deleted by someone: write a new one.
		delete(r.comments, prNumber)
	}
	var created *github.IssueComment
	err := r.call(ctx, requestComment, true, func() (*github.Response, error) {
		c, resp, err := r.client.Issues.CreateComment(ctx, r.owner, r.repo, prNumber, &github.IssueComment{Body: github.String(text)})
		created = c
		return resp, err
	})
	if err != nil {
		return fmt.Errorf("create plan comment on #%d: %w", prNumber, err)
	}
	r.comments[prNumber] = created.GetID()
	return nil
}

// findPlanComment pages through the pull request's comments for one that
// starts with PlanMarker; 0 means none. Callers hold mu.
func (r *GitHubReporter) findPlanComment(ctx context.Context, prNumber int) (int64, error) {
	opts := &github.IssueListCommentsOptions{ListOptions: github.ListOptions{PerPage: listPageSize}}
	for {
		var page []*github.IssueComment
		var next int
		err := r.call(ctx, requestComment, false, func() (*github.Response, error) {
			p, resp, err := r.client.Issues.ListComments(ctx, r.owner, r.repo, prNumber, opts)
			page = p
			if resp != nil {
				next = resp.NextPage
			}
			return resp, err
		})
		if err != nil {
			return 0, fmt.Errorf("list comments: %w", err)
		}
		for _, c := range page {
			if strings.HasPrefix(c.GetBody(), PlanMarker) {
				return c.GetID(), nil
			}
		}
		if next == 0 {
			return 0, nil
		}
		opts.Page = next
	}
}

// call runs one GitHub request with pacing (for writes), waiting out rate
// limits and retrying transient errors a few times; kind labels it in the
// request metrics. Callers hold mu.
func (r *GitHubReporter) call(ctx context.Context, kind string, write bool, do func() (*github.Response, error)) error {
	for attempt := 1; ; {
		if write {
			if err := r.waitTurn(ctx); err != nil {
				return err
			}
		} else if d := r.blockedUntil.Sub(r.now()); d > 0 {
			if err := r.sleep(ctx, d); err != nil {
				return err
			}
		}
		resp, err := do()
		now := r.now()
		if write {
			r.lastWrite = now
		}
		out, wait := classify(ctx, now, resp, err)
		r.metrics.request(kind, out)
		switch out {
		case outcomeOK:
			return nil
		case outcomeRateLimited:
			r.rateLimited(wait, err)
			continue
		case outcomeTransient:
			if attempt >= commentAttempts {
				return err
			}
			r.log.Warn().Err(err).Str("kind", kind).Int("attempt", attempt).Msg("GitHub call failed; will retry")
			if err := r.sleep(ctx, r.retry.Delay(attempt)); err != nil {
				return err
			}
			attempt++
		default:
			return err
		}
	}
}

func isNotFound(err error) bool {
	er, ok := errors.AsType[*github.ErrorResponse](err)
	return ok && er.Response != nil && er.Response.StatusCode == http.StatusNotFound
}

// planCommentBody prefixes the marker and cuts the body to GitHub's limit.
func planCommentBody(body string) string {
	body = strings.ToValidUTF8(body, "\uFFFD")
	text := PlanMarker + "\n" + body
	if utf8.RuneCountInString(text) <= maxCommentRunes {
		return text
	}
	keep := maxCommentRunes - utf8.RuneCountInString(truncatedNote)
	return string([]rune(text)[:keep]) + truncatedNote
}
