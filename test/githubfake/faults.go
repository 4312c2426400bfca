package githubfake

import (
	"net/http"
	"strconv"
	"time"
)

// FailureKind is what an injected failure answers.
type FailureKind int

// Failure kinds.
const (
	// RateLimit is a primary rate limit: 403 with X-RateLimit-Remaining: 0
	// and X-RateLimit-Reset (go-github: *RateLimitError).
	RateLimit FailureKind = iota
	// SecondaryRateLimit is 403 with the secondary-rate-limits documentation
	// URL and, when RetryAfter is set, Retry-After (go-github:
	// *AbuseRateLimitError).
	SecondaryRateLimit
	// TooManyRequests is 429 with Retry-After when RetryAfter is set, and
	// the X-RateLimit headers when Reset is set. go-github v60 does not
	// classify it.
	TooManyRequests
	// NoCommit is 422 "No commit found for SHA: ..." (vanished commit).
	NoCommit
	// ServerError is 500.
	ServerError
)

// Failure is an injected answer for the next matching requests.
type Failure struct {
	Kind FailureKind
	// Times is how many responses fail; 0 means 1.
	Times int
	// Method restricts the failure to requests with this method ("" = any).
	Method string
	// RetryAfter sets Retry-After in seconds (rounded up) when > 0.
	RetryAfter time.Duration
	// Reset is X-RateLimit-Reset; zero means one minute from the server's
	// clock (RateLimit only; for TooManyRequests, zero omits the headers).
	Reset time.Time
}

// FailNext queues f; queued failures are used in order.
func (s *Server) FailNext(f Failure) {
	if f.Times <= 0 {
		f.Times = 1
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = append(s.faults, f)
}

// takeFault pops the first queued failure that matches r. Callers hold mu.
func (s *Server) takeFault(r *http.Request) (Failure, bool) {
	for i := range s.faults {
		f := &s.faults[i]
		if f.Method != "" && f.Method != r.Method {
			continue
		}
		got := *f
		f.Times--
		if f.Times == 0 {
			s.faults = append(s.faults[:i], s.faults[i+1:]...)
		}
		return got, true
	}
	return Failure{}, false
}

func (f Failure) write(w http.ResponseWriter, now time.Time) {
	h := w.Header()
	if f.RetryAfter > 0 {
		secs := int64((f.RetryAfter + time.Second - 1) / time.Second)
		h.Set("Retry-After", strconv.FormatInt(secs, 10))
	}
	setReset := func(reset time.Time) {
		h.Set("X-RateLimit-Remaining", "0")
		h.Set("X-RateLimit-Used", "5000")
		h.Set("X-RateLimit-Reset", strconv.FormatInt(reset.Unix(), 10))
	}
	switch f.Kind {
	case RateLimit:
		reset := f.Reset
		if reset.IsZero() {
			reset = now.Add(time.Minute)
		}
		setReset(reset)
		writeJSON(w, http.StatusForbidden, errorBody{
			Message:          "API rate limit exceeded for user ID 1.",
			DocumentationURL: "https://docs.github.com/rest/overview/resources-in-the-rest-api#rate-limiting",
		})
	case SecondaryRateLimit:
		writeJSON(w, http.StatusForbidden, errorBody{
			Message:          "You have exceeded a secondary rate limit. Please wait a few minutes before you try again.",
			DocumentationURL: "https://docs.github.com/rest/using-the-rest-api/rate-limits-for-the-rest-api#about-secondary-rate-limits",
		})
	case TooManyRequests:
		if !f.Reset.IsZero() {
			setReset(f.Reset)
		}
		writeJSON(w, http.StatusTooManyRequests, errorBody{
			Message:          "API rate limit exceeded.",
			DocumentationURL: "https://docs.github.com/rest/using-the-rest-api/rate-limits-for-the-rest-api",
		})
	case NoCommit:
		writeJSON(w, http.StatusUnprocessableEntity, errorBody{
			Message:          "No commit found for SHA: (injected)",
			DocumentationURL: "https://docs.github.com/rest/commits/statuses#create-a-commit-status",
		})
	default:
		writeError(w, http.StatusInternalServerError, "Server Error")
	}
}
