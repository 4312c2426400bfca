package githubfake

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/go-github/v60/github"
)

// maxCommentRunes is GitHub's limit on a comment body.
const maxCommentRunes = 65536

// Comment is one issue (pull request conversation) comment.
type Comment struct {
	ID      int64
	Repo    string
	Number  int
	User    string
	Body    string
	Created time.Time
	Updated time.Time
	Edits   int // times edited through PATCH
}

// Comments returns copies of the comments on pull request (issue) number
// in any repository, oldest first.
func (s *Server) Comments(number int) []Comment {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Comment
	for _, list := range s.comments {
		for _, c := range list {
			if c.Number == number {
				out = append(out, *c)
			}
		}
	}
	for i := 1; i < len(out); i++ {
		for j := i; j > 0 && out[j].ID < out[j-1].ID; j-- {
			out[j], out[j-1] = out[j-1], out[j]
		}
	}
	return out
}

// AddComment adds a comment as if user had written it (e.g. a human's
// comment that ripple must leave alone) and returns its id.
func (s *Server) AddComment(repo string, number int, user, body string) int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	owner, name, _ := strings.Cut(repo, "/")
	return s.addComment(owner, name, number, user, body).ID
}

// addComment stores a comment. Callers hold mu.
func (s *Server) addComment(owner, repo string, number int, user, body string) *Comment {
	s.nextID++
	now := s.now().UTC()
	c := &Comment{ID: s.nextID, Repo: owner + "/" + repo, Number: number, User: user, Body: body, Created: now, Updated: now}
	key := commentKey(owner, repo, number)
	s.comments[key] = append(s.comments[key], c)
	return c
}

func commentKey(owner, repo string, number int) string {
	return repoKey(owner, repo) + "#" + strconv.Itoa(number)
}

func (s *Server) issueComment(c *Comment) *github.IssueComment {
	created, updated := github.Timestamp{Time: c.Created}, github.Timestamp{Time: c.Updated}
	return &github.IssueComment{
		ID:        github.Int64(c.ID),
		Body:      github.String(c.Body),
		User:      &github.User{Login: github.String(c.User)},
		CreatedAt: &created,
		UpdatedAt: &updated,
		URL:       github.String(fmt.Sprintf("%s%s/repos/%s/issues/comments/%d", s.srv.URL, Prefix, c.Repo, c.ID)),
		IssueURL:  github.String(fmt.Sprintf("%s%s/repos/%s/issues/%d", s.srv.URL, Prefix, c.Repo, c.Number)),
	}
}

// issueComments routes /repos/{owner}/{repo}/issues/{a}/{b}.
func (s *Server) issueComments(w http.ResponseWriter, r *http.Request) {
	a, b := r.PathValue("a"), r.PathValue("b")
	switch {
	case a == "comments" && r.Method == http.MethodGet:
		s.getComment(w, r, b)
	case a == "comments" && r.Method == http.MethodPatch:
		s.editComment(w, r, b)
	case b != "comments":
		writeError(w, http.StatusNotFound, "Not Found")
	case r.Method == http.MethodGet:
		s.listComments(w, r, a)
	case r.Method == http.MethodPost:
		s.createComment(w, r, a)
	default:
		writeError(w, http.StatusNotFound, "Not Found")
	}
}

func (s *Server) listComments(w http.ResponseWriter, r *http.Request, num string) {
	owner, repo := r.PathValue("owner"), r.PathValue("repo")
	number, err := strconv.Atoi(num)
	if err != nil {
		writeError(w, http.StatusNotFound, "Not Found")
		return
	}
	perPage, page := 30, 1
	if v, err := strconv.Atoi(r.URL.Query().Get("per_page")); err == nil && v > 0 {
		perPage = min(v, 100)
	}
	if v, err := strconv.Atoi(r.URL.Query().Get("page")); err == nil && v > 0 {
		page = v
	}
	s.mu.Lock()
	list := s.comments[commentKey(owner, repo, number)]
	from := min((page-1)*perPage, len(list))
	to := min(from+perPage, len(list))
	out := make([]*github.IssueComment, 0, to-from)
	for _, c := range list[from:to] {
		out = append(out, s.issueComment(c))
	}
	s.mu.Unlock()
	if to < len(list) {
		next := *r.URL
		q := next.Query()
		q.Set("page", strconv.Itoa(page+1))
		q.Set("per_page", strconv.Itoa(perPage))
		next.RawQuery = q.Encode()
		w.Header().Set("Link", fmt.Sprintf(`<%s%s%s>; rel="next"`, s.srv.URL, Prefix, next.String()))
	}
	writeJSON(w, http.StatusOK, out)
}

func decodeCommentBody(w http.ResponseWriter, r *http.Request) (string, bool) {
	var in struct {
		Body *string `json:"body"`
	}
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
		writeError(w, http.StatusBadRequest, "Problems parsing JSON")
		return "", false
	}
	if in.Body == nil || *in.Body == "" {
		writeValidation(w, "IssueComment", "body", "body cannot be blank")
		return "", false
	}
	if utf8.RuneCountInString(*in.Body) > maxCommentRunes {
		writeValidation(w, "IssueComment", "body", "body is too long (maximum is 65536 characters)")
		return "", false
	}
	return *in.Body, true
}

func (s *Server) createComment(w http.ResponseWriter, r *http.Request, num string) {
	owner, repo := r.PathValue("owner"), r.PathValue("repo")
	number, err := strconv.Atoi(num)
	if err != nil || number <= 0 {
		writeError(w, http.StatusNotFound, "Not Found")
		return
	}
	body, ok := decodeCommentBody(w, r)
	if !ok {
		return
	}
	s.mu.Lock()
	c := s.addComment(owner, repo, number, "ripple-bot", body)
	out := s.issueComment(c)
	s.mu.Unlock()
	writeJSON(w, http.StatusCreated, out)
}

// findComment looks a comment up by id within a repository. Callers hold mu.
func (s *Server) findComment(owner, repo string, id int64) *Comment {
	prefix := repoKey(owner, repo) + "#"
	for key, list := range s.comments {
		if !strings.HasPrefix(key, prefix) {
			continue
		}
		for _, c := range list {
			if c.ID == id {
				return c
			}
		}
	}
	return nil
}

func (s *Server) getComment(w http.ResponseWriter, r *http.Request, rawID string) {
	id, _ := strconv.ParseInt(rawID, 10, 64)
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.findComment(r.PathValue("owner"), r.PathValue("repo"), id)
	if c == nil {
		writeError(w, http.StatusNotFound, "Not Found")
		return
	}
	writeJSON(w, http.StatusOK, s.issueComment(c))
}

func (s *Server) editComment(w http.ResponseWriter, r *http.Request, rawID string) {
	id, _ := strconv.ParseInt(rawID, 10, 64)
	body, ok := decodeCommentBody(w, r)
	if !ok {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.findComment(r.PathValue("owner"), r.PathValue("repo"), id)
	if c == nil {
		writeError(w, http.StatusNotFound, "Not Found")
		return
	}
	c.Body = body
	c.Updated = s.now().UTC()
	c.Edits++
	writeJSON(w, http.StatusOK, s.issueComment(c))
}
