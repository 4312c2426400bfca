// Package githubfake is a GitHub-shaped REST server for tests. It serves the
// commit-status, issue-comment and pull-request endpoints ripple uses, under
// the GitHub Enterprise prefix /api/v3/ (so clients must be built with
// WithEnterpriseURLs, which catches code that uses absolute paths), records
// everything it is sent, validates like GitHub does (422 for a bad state or a
// description over 140 characters, for a pull request without a title, from
// a branch to itself, or that is already open), and can be told to fail the
// next responses with rate limits (403, 429), 422 "No commit found for SHA"
// or 500.
//
// All accessors are safe for concurrent use.
package githubfake

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-github/v60/github"
)

// Prefix is where the REST API is mounted, as on GitHub Enterprise Server.
const Prefix = "/api/v3"

// Request is one request the server received (after the prefix).
type Request struct {
	Method string
	Path   string // without Prefix, e.g. /repos/o/r/statuses/<sha>
	Status int    // the status code answered
	Token  string // bearer token sent, "" if none
	At     time.Time
}

// Server is the fake. Create it with New.
type Server struct {
	srv *httptest.Server

	mu       sync.Mutex
	now      func() time.Time
	token    string // required token; "" accepts any
	nextID   int64
	statuses map[string][]Status // key repoKey(owner, repo) + "@" + sha, in posting order
	comments map[string][]*Comment
	vanished map[string]bool // sha -> 422 No commit found for SHA
	pulls    []*PullRequest  // in the order opened
	pullSeq  map[string]int  // repoKey -> last pull request number
	// branchExists, when set, is asked whether a new pull request's head
	// branch exists.
	branchExists func(repo, branch string) bool
	faults       []Failure
	requests     []Request
}

// New starts a server and closes it when the test ends.
func New(tb testing.TB) *Server {
	tb.Helper()
	s := &Server{
		now:      time.Now,
		statuses: map[string][]Status{},
		comments: map[string][]*Comment{},
		vanished: map[string]bool{},
		pullSeq:  map[string]int{},
	}
	api := http.NewServeMux()
	api.HandleFunc("POST /repos/{owner}/{repo}/statuses/{sha}", s.createStatus)
	api.HandleFunc("GET /repos/{owner}/{repo}/commits/{ref}/statuses", s.listStatuses)
	api.HandleFunc("GET /repos/{owner}/{repo}/commits/{ref}/status", s.combinedStatus)
	// issues/{number}/comments and issues/comments/{id} overlap as
	// ServeMux patterns, so one route dispatches both.
	api.HandleFunc("/repos/{owner}/{repo}/issues/{a}/{b}", s.issueComments)
	api.HandleFunc("POST /repos/{owner}/{repo}/pulls", s.createPull)
	api.HandleFunc("GET /repos/{owner}/{repo}/pulls", s.listPulls)
	api.HandleFunc("GET /repos/{owner}/{repo}/pulls/{number}", s.getPull)
	api.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, "Not Found")
	})
	root := http.NewServeMux()
	root.Handle(Prefix+"/", http.StripPrefix(Prefix, s.middleware(api)))
	root.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		// Outside the prefix: a client built without WithEnterpriseURLs.
		writeError(w, http.StatusNotFound, "Not Found (outside "+Prefix+")")
	})
	s.srv = httptest.NewServer(root)
	tb.Cleanup(s.srv.Close)
	return s
}

// URL is the server's base URL (without Prefix); pass it as
// --github-api-url.
func (s *Server) URL() string { return s.srv.URL + "/" }

// Client returns a go-github client for this server authenticating with
// token, built the way ripple's cmd builds one for GitHub Enterprise.
func (s *Server) Client(token string) *github.Client {
	c, err := github.NewClient(s.srv.Client()).WithAuthToken(token).WithEnterpriseURLs(s.URL(), s.URL())
	if err != nil {
		panic(fmt.Sprintf("githubfake: enterprise URLs: %v", err)) // cannot happen for an httptest URL
	}
	return c
}

// RequireToken makes every request without "Authorization: Bearer token"
// fail with 401 Bad credentials.
func (s *Server) RequireToken(token string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.token = token
}

// SetNow sets the clock used for timestamps and default rate-limit resets.
func (s *Server) SetNow(now func() time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.now = now
}

// Vanish makes every status for sha fail with 422 "No commit found for SHA",
// as after a force-push removed the commit.
func (s *Server) Vanish(sha string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.vanished[sha] = true
}

// Requests returns a copy of every request received so far, in order.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.requests...)
}

// statusRecorder captures the status code for the request log.
type statusRecorder struct {
	http.ResponseWriter
	code int
}

func (r *statusRecorder) WriteHeader(code int) {
	r.code = code
	r.ResponseWriter.WriteHeader(code)
}

// middleware logs requests, checks the token, answers injected failures and
// sets the rate-limit headers GitHub sends on every response.
func (s *Server) middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec := &statusRecorder{ResponseWriter: w, code: http.StatusOK}
		token := bearer(r.Header.Get("Authorization"))
		s.mu.Lock()
		now := s.now()
		want := s.token
		fault, faulted := s.takeFault(r)
		s.mu.Unlock()
		defer func() {
			s.mu.Lock()
			s.requests = append(s.requests, Request{Method: r.Method, Path: r.URL.Path, Status: rec.code, Token: token, At: now})
			s.mu.Unlock()
		}()

		h := w.Header()
		h.Set("X-RateLimit-Limit", "5000")
		h.Set("X-RateLimit-Remaining", "4999")
		h.Set("X-RateLimit-Used", "1")
		h.Set("X-RateLimit-Reset", strconv.FormatInt(now.Add(time.Hour).Unix(), 10))
		h.Set("X-RateLimit-Resource", "core")
		h.Set("X-GitHub-Api-Version-Selected", "2022-11-28")
		if want != "" && token != want {
			writeError(rec, http.StatusUnauthorized, "Bad credentials")
			return
		}
		if faulted {
			fault.write(rec, now)
			return
		}
		next.ServeHTTP(rec, r)
	})
}

func bearer(auth string) string {
	for _, p := range []string{"Bearer ", "bearer ", "token "} {
		if t, ok := strings.CutPrefix(auth, p); ok {
			return t
		}
	}
	return ""
}

// errorBody is GitHub's error shape.
type errorBody struct {
	Message          string        `json:"message"`
	Errors           []errorDetail `json:"errors,omitempty"`
	DocumentationURL string        `json:"documentation_url,omitempty"`
}

type errorDetail struct {
	Resource string `json:"resource"`
	Code     string `json:"code"`
	Field    string `json:"field,omitempty"`
	Message  string `json:"message,omitempty"`
}

func writeError(w http.ResponseWriter, code int, msg string) {
	writeJSON(w, code, errorBody{Message: msg, DocumentationURL: "https://docs.github.com/rest"})
}

func writeValidation(w http.ResponseWriter, resource, field, msg string) {
	writeJSON(w, http.StatusUnprocessableEntity, errorBody{
		Message:          "Validation Failed",
		Errors:           []errorDetail{{Resource: resource, Code: "custom", Field: field, Message: msg}},
		DocumentationURL: "https://docs.github.com/rest/commits/statuses#create-a-commit-status",
	})
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}

// repoKey is a repository's key in the fake's maps: owner/name in lower
// case. repoKey("o/r", "") is that of a full name.
func repoKey(owner, repo string) string {
	if repo == "" {
		return strings.ToLower(owner)
	}
	return strings.ToLower(owner + "/" + repo)
}
