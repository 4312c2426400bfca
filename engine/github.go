package engine

import (
	"context"
	"time"
	"unicode/utf8"
)

// What ripple exchanges with GitHub: verified webhook deliveries in
// (triggers of reconciles and pull request plans), commit statuses, plan
// comments out. webhooks implements the outbound side.

// PushEvent is a verified GitHub push delivery, reduced to what the engine
// needs to decide whether to reconcile. The engine never trusts the commit
// list of a payload: it only uses the event as a wake-up for the branch in
// Ref and always diffs last-applied..branch-head from git.
type PushEvent struct {
	DeliveryID string // X-GitHub-Delivery
	Repo       string // owner/name as GitHub spells it
	Ref        string // full ref, e.g. "refs/heads/main" or "refs/tags/v1"
	Before     string // 40 hex; all zeros when the ref was created
	After      string // 40 hex; all zeros when the ref was deleted
	Forced     bool   // force-push: Before may not be an ancestor of After
	Deleted    bool   // the ref was deleted; never a trigger
	Created    bool   // the ref was created
	Tag        bool   // Ref is under refs/tags/; never a trigger
	Sender     string // login of the user who pushed
}

// PullRequestEvent is a verified GitHub pull_request delivery for one of the
// actions that change what a plan would show (opened, synchronize,
// reopened). A pull request only ever gets a plan, never a rollout.
type PullRequestEvent struct {
	DeliveryID string
	Repo       string // base repository, owner/name
	Number     int
	Action     string // "opened", "synchronize" or "reopened"
	HeadSHA    string // 40 hex; statuses go on this commit
	HeadRef    string // branch name in HeadRepo, not a full ref
	BaseRef    string // branch name in Repo, not a full ref
	HeadRepo   string // owner/name of the head repository; "" if it was deleted
	Fork       bool   // HeadRepo differs from Repo (or is gone)
	Sender     string
}

// TriggerSink receives verified webhook events. Implementations must only
// enqueue (durably or into a coalescing trigger) and return quickly: the
// webhook handler's one hand-over goroutine makes these calls one at a
// time, and queued deliveries wait behind a slow one. A non-nil error means
// the event was not accepted; the delivery is then not recorded, so a
// redelivery is processed again.
type TriggerSink interface {
	Push(ctx context.Context, ev PushEvent) error
	PullRequest(ctx context.Context, ev PullRequestEvent) error
}

// StatusNotifier is woken after SetStatus queued a commit status, so the
// outbox worker delivers it without waiting for its next poll. Notify never
// blocks.
type StatusNotifier interface {
	Notify()
}

// PlanCommenter keeps one plan comment on a pull request, edited in place
// on every new plan. body is Markdown.
type PlanCommenter interface {
	UpsertPlanComment(ctx context.Context, prNumber int, body string) error
}

// Status contexts ripple reports on commits.
const (
	StatusValidate  = "ripple/validate"
	StatusPlan      = "ripple/plan"
	StatusJobPrefix = "ripple/job/"
)

// StatusContext is the commit status context of a job's runs.
func StatusContext(job string) string { return StatusJobPrefix + job }

// MaxStatusDescription is GitHub's limit on a commit status description,
// in characters.
const MaxStatusDescription = 140

// CommitStatus is a status ripple reports on a commit (ripple/validate,
// ripple/plan, ripple/job/<job>). The outbox keeps only the latest state per
// (commit, context) until it is delivered.
type CommitStatus struct {
	Commit      string
	Context     string
	State       string // "pending", "success", "failure", "error"
	Description string
	TargetURL   string
	Updated     time.Time
}

// TruncateDescription cuts s to the status description limit on a rune
// boundary, marking the cut.
func TruncateDescription(s string) string {
	if utf8.RuneCountInString(s) <= MaxStatusDescription {
		return s
	}
	r := []rune(s)
	return string(r[:MaxStatusDescription-1]) + "…"
}
