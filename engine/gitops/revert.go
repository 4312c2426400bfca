package gitops

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/ripple-ops/ripple/engine"
	"github.com/ripple-ops/ripple/engine/source"
)

// revertTimeout bounds a revert (fetch, commit, push, pull request), so
// that its answer fits the API server's 60 s write timeout. A revert is
// not cut short when the client that asked goes away: once the branch is
// pushed, its pull request is opened too.
const revertTimeout = 45 * time.Second

// Revert proposes undoing commit rev (a full or abbreviated sha of the
// tracked branch's history) the GitOps way: a commit on a new branch
// ripple/revert-<sha> in the ops repo (source.Mirror.Revert says when it is
// refused), and, when the daemon reports to GitHub (Options.Reverts), a pull
// request from it into the tracked branch. Nothing on a host changes: the
// fleet follows only when someone merges the branch, through the normal
// reconcile.
//
// runID, when not 0, is the failed run the revert is asked from: the pull
// request links its page and the run's audit records the revert. actor and
// reason (required) go into the commit message and the pull request.
//
// A pull request that cannot be opened does not undo the branch: the result
// says why in PullRequestError, and the error is nil. The git work holds
// the mirror's lock, like the loop's fetches, so it is serialized with
// every other git access.
func (d *Daemon) Revert(ctx context.Context, rev string, runID int64, actor, reason string) (engine.RevertResult, error) {
	rev, reason = strings.TrimSpace(rev), strings.TrimSpace(reason)
	switch {
	case rev == "":
		return engine.RevertResult{}, fmt.Errorf("revert: no commit named: %w", engine.ErrInvalidRequest)
	case reason == "":
		return engine.RevertResult{}, fmt.Errorf("revert %s: a reason is required: it goes into the commit and the pull request: %w", rev, engine.ErrInvalidRequest)
	case runID < 0:
		return engine.RevertResult{}, fmt.Errorf("revert %s: run id %d out of range: %w", rev, runID, engine.ErrInvalidRequest)
	}
	d.mu.Lock()
	m := d.mirror
	d.mu.Unlock()
	if m == nil {
		return engine.RevertResult{}, fmt.Errorf("revert %s: %w", rev, engine.ErrNotRunning)
	}
	if runID != 0 {
		if _, err := d.opts.Store.GetRun(ctx, runID); err != nil {
			return engine.RevertResult{}, fmt.Errorf("revert %s: %w", rev, err)
		}
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), revertTimeout)
	defer cancel()

	res, err := m.Revert(ctx, source.RevertRequest{
		Commit: rev, Actor: actor, Reason: reason,
		AuthorName: d.opts.RevertAuthorName, AuthorEmail: d.opts.RevertAuthorEmail,
	})
	if err != nil {
		return engine.RevertResult{}, err
	}
	l := d.log.With().Str("commit", engine.ShortCommit(res.Reverted)).Str("branch", res.Branch).
		Str("revert_commit", engine.ShortCommit(res.Commit)).Str("actor", actor).Str("reason", reason).Logger()
	if runID != 0 {
		l = l.With().Int64("run", runID).Logger()
	}
	if d.opts.Reverts != nil {
		pr := engine.RevertPullRequest{
			Branch: res.Branch, Into: res.Into, Reverted: res.Reverted, Subject: res.Subject, Commit: res.Commit,
			Paths: res.Paths, RunID: runID, Actor: actor, Reason: reason,
		}
		if runID != 0 && d.opts.RunURL != nil {
			pr.RunURL = d.opts.RunURL(runID)
		}
		url, err := d.opts.Reverts.OpenRevertPullRequest(ctx, pr)
		if err != nil {
			res.PullRequestError = err.Error()
			l.Error().Err(err).Msg("revert branch made, but its pull request could not be opened")
		}
		res.PullRequestURL = url
	}
	if runID != 0 {
		ev := engine.Event{RunID: runID, At: time.Now(), Actor: actor, Action: engine.EventRevert, Reason: revertOutcome(res) + "\n" + reason}
		if err := d.opts.Store.AddEvent(ctx, ev); err != nil {
			l.Warn().Err(err).Msg("the revert is not in the run's audit")
		}
	}
	l.Info().Str("pull_request", res.PullRequestURL).Bool("local", res.Local).Msg("revert proposed: " + revertOutcome(res))
	return res, nil
}

// revertOutcome says in one line where the revert is and what to do with
// it: the audit event's first line and the log message.
func revertOutcome(res engine.RevertResult) string {
	switch {
	case res.PullRequestURL != "":
		return "branch " + res.Branch + ", pull request " + res.PullRequestURL
	case res.PullRequestError != "":
		return "branch " + res.Branch + " pushed; its pull request could not be opened"
	case res.Local:
		return "branch " + res.Branch + " in " + res.Repo + ", to merge into " + res.Into
	default:
		return "branch " + res.Branch + " pushed, to merge into " + res.Into
	}
}
