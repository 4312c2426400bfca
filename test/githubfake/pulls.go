package githubfake

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/go-github/v60/github"
)

// GitHub's limits on a pull request's title and body.
const (
	maxTitleRunes = 256
	maxBodyRunes  = 65536
)

// PullRequest is one pull request opened through the API.
type PullRequest struct {
	Number  int
	Repo    string // owner/name as created
	Title   string
	Body    string
	Head    string // branch name
	Base    string
	Draft   bool
	State   string // "open"
	User    string
	Created time.Time
	HTMLURL string
}

// PullRequests returns copies of every pull request opened, in any
// repository, in the order they were opened.
func (s *Server) PullRequests() []PullRequest {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]PullRequest, 0, len(s.pulls))
	for _, p := range s.pulls {
		out = append(out, *p)
	}
	return out
}

// CheckBranches makes POST /pulls refuse a head branch that exists
// reports missing (as GitHub does: 422 with field "head" invalid), e.g.
// to check that a test's repository really holds a pushed branch. nil
// accepts every branch.
func (s *Server) CheckBranches(exists func(repo, branch string) bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.branchExists = exists
}

func (s *Server) pullJSON(p *PullRequest) *github.PullRequest {
	created := github.Timestamp{Time: p.Created}
	owner, _, _ := strings.Cut(p.Repo, "/")
	return &github.PullRequest{
		Number:    github.Int(p.Number),
		State:     github.String(p.State),
		Title:     github.String(p.Title),
		Body:      github.String(p.Body),
		Draft:     github.Bool(p.Draft),
		User:      &github.User{Login: github.String(p.User)},
		CreatedAt: &created,
		HTMLURL:   github.String(p.HTMLURL),
		URL:       github.String(fmt.Sprintf("%s%s/repos/%s/pulls/%d", s.srv.URL, Prefix, p.Repo, p.Number)),
		Head:      &github.PullRequestBranch{Ref: github.String(p.Head), Label: github.String(owner + ":" + p.Head)},
		Base:      &github.PullRequestBranch{Ref: github.String(p.Base), Label: github.String(owner + ":" + p.Base)},
	}
}

// createPull: POST /repos/{owner}/{repo}/pulls, validated like GitHub.
func (s *Server) createPull(w http.ResponseWriter, r *http.Request) {
	owner, repo := r.PathValue("owner"), r.PathValue("repo")
	var in github.NewPullRequest
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
		writeError(w, http.StatusBadRequest, "Problems parsing JSON")
		return
	}
	head, base := in.GetHead(), in.GetBase()
	if h, ok := strings.CutPrefix(head, owner+":"); ok {
		head = h
	}
	switch {
	case in.Issue != nil:
		writeError(w, http.StatusUnprocessableEntity, "the fake does not turn issues into pull requests")
		return
	case in.GetTitle() == "":
		writeFieldError(w, "title", "missing_field", "")
		return
	case head == "":
		writeFieldError(w, "head", "missing_field", "")
		return
	case base == "":
		writeFieldError(w, "base", "missing_field", "")
		return
	case head == base:
		writeFieldError(w, "", "custom", fmt.Sprintf("No commits between %s and %s", base, head))
		return
	case utf8.RuneCountInString(in.GetTitle()) > maxTitleRunes:
		writeFieldError(w, "title", "custom", "title is too long (maximum is 256 characters)")
		return
	case utf8.RuneCountInString(in.GetBody()) > maxBodyRunes:
		writeFieldError(w, "body", "custom", "body is too long (maximum is 65536 characters)")
		return
	}
	s.mu.Lock()
	exists := s.branchExists
	s.mu.Unlock()
	if exists != nil && !exists(owner+"/"+repo, head) {
		writeFieldError(w, "head", "invalid", "")
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	key := repoKey(owner, repo)
	for _, p := range s.pulls {
		if repoKey(p.Repo, "") == key && p.State == "open" && p.Head == head && p.Base == base {
			writeFieldError(w, "", "custom", fmt.Sprintf("A pull request already exists for %s:%s.", owner, head))
			return
		}
	}
	s.pullSeq[key]++
	n := s.pullSeq[key]
	p := &PullRequest{
		Number: n, Repo: owner + "/" + repo, Title: in.GetTitle(), Body: in.GetBody(), Head: head, Base: base,
		Draft: in.GetDraft(), State: "open", User: "ripple-bot", Created: s.now().UTC(),
		HTMLURL: fmt.Sprintf("%s/%s/%s/pull/%d", s.srv.URL, owner, repo, n),
	}
	s.pulls = append(s.pulls, p)
	writeJSON(w, http.StatusCreated, s.pullJSON(p))
}

// listPulls: GET /repos/{owner}/{repo}/pulls with state (default open),
// head ("owner:branch") and base filters; one page.
func (s *Server) listPulls(w http.ResponseWriter, r *http.Request) {
	owner, repo := r.PathValue("owner"), r.PathValue("repo")
	q := r.URL.Query()
	state := q.Get("state")
	if state == "" {
		state = "open"
	}
	head := q.Get("head")
	if head != "" {
		h, ok := strings.CutPrefix(head, owner+":")
		if !ok {
			writeJSON(w, http.StatusOK, []*github.PullRequest{}) // another owner's fork
			return
		}
		head = h
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	out := []*github.PullRequest{}
	for _, p := range slices.Backward(s.pulls) { // newest first, as GitHub sorts by default
		if repoKey(p.Repo, "") != repoKey(owner, repo) || (state != "all" && p.State != state) ||
			(head != "" && p.Head != head) || (q.Get("base") != "" && p.Base != q.Get("base")) {
			continue
		}
		out = append(out, s.pullJSON(p))
	}
	writeJSON(w, http.StatusOK, out)
}

// getPull: GET /repos/{owner}/{repo}/pulls/{number}.
func (s *Server) getPull(w http.ResponseWriter, r *http.Request) {
	n, err := strconv.Atoi(r.PathValue("number"))
	if err != nil {
		writeError(w, http.StatusNotFound, "Not Found")
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, p := range s.pulls {
		if repoKey(p.Repo, "") == repoKey(r.PathValue("owner"), r.PathValue("repo")) && p.Number == n {
			writeJSON(w, http.StatusOK, s.pullJSON(p))
			return
		}
	}
	writeError(w, http.StatusNotFound, "Not Found")
}

// writeFieldError is GitHub's 422 for a pull request that fails
// validation.
func writeFieldError(w http.ResponseWriter, field, code, msg string) {
	writeJSON(w, http.StatusUnprocessableEntity, errorBody{
		Message:          "Validation Failed",
		Errors:           []errorDetail{{Resource: "PullRequest", Code: code, Field: field, Message: msg}},
		DocumentationURL: "https://docs.github.com/rest/pulls/pulls#create-a-pull-request",
	})
}
