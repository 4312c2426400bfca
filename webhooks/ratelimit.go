package webhooks

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/google/go-github/v60/github"
)

// Waits for rate limits and retries.
const (
	// unknownRateLimitWait is how long to wait when GitHub says "rate
	// limited" without saying until when (GitHub's own guidance: at least
	// a minute).
	unknownRateLimitWait = time.Minute
	// maxRateLimitWait caps a wait taken from headers; a primary limit
	// resets within the hour.
	maxRateLimitWait = time.Hour + time.Minute
	// resetSlack is added to x-ratelimit-reset, which has one-second
	// resolution.
	resetSlack = time.Second
	// firstBackoff is the ceiling of the first retry delay after a
	// transient error (see backoff.Policy).
	firstBackoff = 2 * time.Second
	// DefaultMaxBackoff caps the exponential backoff.
	DefaultMaxBackoff = 5 * time.Minute
)

// outcome is what the caller of a GitHub request should do next.
type outcome int

const (
	outcomeOK          outcome = iota
	outcomeRateLimited         // wait the returned duration, then retry
	outcomeVanished            // 422 "No commit found": drop, retrying cannot help
	outcomeRejected            // other 400/410/422: drop, retrying cannot help
	outcomeTransient           // 5xx, network, 401/403/404...: back off and retry
	outcomeCanceled            // ctx ended
)

// classify maps a go-github result to an outcome, and for rate limits the
// wait. It treats 403 and 429 alike: go-github v60 only recognises 403
// limits (*RateLimitError, *AbuseRateLimitError); a 429 arrives as a plain
// *ErrorResponse and is read from the raw response here.
func classify(ctx context.Context, now time.Time, resp *github.Response, err error) (outcome, time.Duration) {
	if err == nil {
		return outcomeOK, 0
	}
	if ctx.Err() != nil || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return outcomeCanceled, 0
	}
	if rl, ok := errors.AsType[*github.RateLimitError](err); ok {
		return outcomeRateLimited, untilReset(now, rl.Rate.Reset.Time)
	}
	if ab, ok := errors.AsType[*github.AbuseRateLimitError](err); ok {
		if ab.RetryAfter != nil && *ab.RetryAfter > 0 {
			return outcomeRateLimited, min(*ab.RetryAfter, maxRateLimitWait)
		}
		return outcomeRateLimited, unknownRateLimitWait
	}
	var httpResp *http.Response
	var message string
	if er, ok := errors.AsType[*github.ErrorResponse](err); ok {
		httpResp, message = er.Response, er.Message
	} else if resp != nil {
		httpResp = resp.Response
	}
	if httpResp == nil {
		return outcomeTransient, 0 // network error
	}
	switch code := httpResp.StatusCode; {
	case code == http.StatusTooManyRequests,
		code == http.StatusForbidden && looksRateLimited(httpResp, message):
		return outcomeRateLimited, rateLimitWait(now, httpResp.Header)
	case code == http.StatusUnprocessableEntity && strings.Contains(message, "No commit found"):
		return outcomeVanished, 0
	case code == http.StatusBadRequest || code == http.StatusGone || code == http.StatusUnprocessableEntity:
		return outcomeRejected, 0
	default:
		return outcomeTransient, 0
	}
}

// looksRateLimited recognises a 403 that go-github did not classify (its
// documentation URL differs) but that GitHub means as a limit.
func looksRateLimited(r *http.Response, message string) bool {
	return r.Header.Get("Retry-After") != "" ||
		r.Header.Get("X-RateLimit-Remaining") == "0" ||
		strings.Contains(strings.ToLower(message), "rate limit")
}

// rateLimitWait reads the wait from headers: Retry-After (seconds or an
// HTTP date), else X-RateLimit-Reset when X-RateLimit-Remaining is 0, else
// a minute.
func rateLimitWait(now time.Time, h http.Header) time.Duration {
	if v := strings.TrimSpace(h.Get("Retry-After")); v != "" {
		if secs, err := strconv.ParseInt(v, 10, 64); err == nil && secs > 0 {
			return min(time.Duration(secs)*time.Second, maxRateLimitWait)
		}
		if t, err := http.ParseTime(v); err == nil && t.After(now) {
			return min(t.Sub(now), maxRateLimitWait)
		}
	}
	if h.Get("X-RateLimit-Remaining") == "0" {
		if secs, err := strconv.ParseInt(h.Get("X-RateLimit-Reset"), 10, 64); err == nil && secs > 0 {
			return untilReset(now, time.Unix(secs, 0))
		}
	}
	return unknownRateLimitWait
}

// untilReset is the wait until a primary limit resets. A reset that is
// unknown gets the minute GitHub asks for; one already past gets the slack
// only (the limit has been lifted).
func untilReset(now, reset time.Time) time.Duration {
	if reset.IsZero() {
		return unknownRateLimitWait
	}
	d := reset.Sub(now) + resetSlack
	if d < resetSlack {
		d = resetSlack
	}
	return min(d, maxRateLimitWait)
}

// sleepCtx waits d or until ctx ends.
func sleepCtx(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
