package webhooks

import (
	"errors"
	"fmt"
	"strings"

	"github.com/google/go-github/v60/github"

	"github.com/ripple-ops/ripple/engine"
)

// GitHub event names (X-GitHub-Event) the handler acts on.
const (
	eventPush        = "push"
	eventPullRequest = "pull_request"
	eventPing        = "ping"
	// eventOther labels every other event in metrics.
	eventOther = "other"
)

// planActions are the pull_request actions that change what a plan shows.
var planActions = map[string]bool{
	"opened":      true,
	"synchronize": true,
	"reopened":    true,
}

// errMalformed marks a payload that verified but does not decode into the
// event its header names, or lacks a field the engine relies on.
var errMalformed = errors.New("malformed payload")

// parsed is one decoded delivery: the repository it concerns (owner/name,
// "" when the payload names none, e.g. an organization ping) and exactly one
// of push, pr or ping set. ignored is set for pull_request actions ripple
// does not plan on.
type parsed struct {
	repo    string
	push    *engine.PushEvent
	pr      *engine.PullRequestEvent
	ping    bool
	ignored string
}

// parseEvent decodes a verified body for one of the handled event names.
// go-github is used for decoding only; the signature was checked before.
func parseEvent(event, deliveryID string, body []byte) (parsed, error) {
	raw, err := github.ParseWebHook(event, body)
	if err != nil {
		return parsed{}, fmt.Errorf("%w: %w", errMalformed, err)
	}
	switch e := raw.(type) {
	case *github.PushEvent:
		return parsePush(e, deliveryID)
	case *github.PullRequestEvent:
		return parsePullRequest(e, deliveryID)
	case *github.PingEvent:
		return parsed{repo: e.GetRepo().GetFullName(), ping: true}, nil
	default:
		return parsed{}, fmt.Errorf("%w: unexpected type %T for event %q", errMalformed, raw, event)
	}
}

func parsePush(e *github.PushEvent, deliveryID string) (parsed, error) {
	repo := e.GetRepo().GetFullName()
	ref := e.GetRef()
	if repo == "" || ref == "" {
		return parsed{}, fmt.Errorf("%w: push without repository or ref", errMalformed)
	}
	ev := &engine.PushEvent{
		DeliveryID: deliveryID,
		Repo:       repo,
		Ref:        ref,
		Before:     e.GetBefore(),
		After:      e.GetAfter(),
		Forced:     e.GetForced(),
		Deleted:    e.GetDeleted() || isZeroSHA(e.GetAfter()),
		Created:    e.GetCreated(),
		Tag:        strings.HasPrefix(ref, "refs/tags/"),
		Sender:     e.GetSender().GetLogin(),
	}
	return parsed{repo: repo, push: ev}, nil
}

func parsePullRequest(e *github.PullRequestEvent, deliveryID string) (parsed, error) {
	repo := e.GetRepo().GetFullName()
	if repo == "" {
		return parsed{}, fmt.Errorf("%w: pull_request without repository", errMalformed)
	}
	action := e.GetAction()
	if !planActions[action] {
		return parsed{repo: repo, ignored: "pull_request action " + action}, nil
	}
	pr := e.GetPullRequest()
	number := e.GetNumber()
	if number == 0 {
		number = pr.GetNumber()
	}
	headSHA := pr.GetHead().GetSHA()
	if number <= 0 || !isHexSHA(headSHA) {
		return parsed{}, fmt.Errorf("%w: pull_request without number or full head sha", errMalformed)
	}
	headRepo := pr.GetHead().GetRepo().GetFullName()
	baseRepo := pr.GetBase().GetRepo().GetFullName()
	if baseRepo == "" {
		baseRepo = repo
	}
	ev := &engine.PullRequestEvent{
		DeliveryID: deliveryID,
		Repo:       repo,
		Number:     number,
		Action:     action,
		HeadSHA:    headSHA,
		HeadRef:    pr.GetHead().GetRef(),
		BaseRef:    pr.GetBase().GetRef(),
		HeadRepo:   headRepo,
		// A deleted fork has no head repository; treat it as a fork so it
		// gets no more trust than one.
		Fork:   headRepo == "" || !strings.EqualFold(headRepo, baseRepo),
		Sender: e.GetSender().GetLogin(),
	}
	return parsed{repo: repo, pr: ev}, nil
}

// isHexSHA accepts a full SHA-1 (40) or SHA-256 (64) object name.
func isHexSHA(s string) bool {
	if len(s) != 40 && len(s) != 64 {
		return false
	}
	for _, c := range s {
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

func isZeroSHA(sha string) bool {
	return sha != "" && strings.Trim(sha, "0") == ""
}
