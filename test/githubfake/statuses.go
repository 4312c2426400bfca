package githubfake

import (
	"encoding/json"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/go-github/v60/github"
)

// maxStatusesPerContext is GitHub's cap per (sha, context).
const maxStatusesPerContext = 1000

// Status is one posted commit status.
type Status struct {
	ID          int64
	Repo        string // owner/name as posted
	SHA         string
	State       string
	Context     string
	Description string
	TargetURL   string
	Created     time.Time
}

var validStates = map[string]bool{"error": true, "failure": true, "pending": true, "success": true}

// Statuses returns every status posted for sha (in any repository), oldest
// first.
func (s *Server) Statuses(sha string) []Status {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Status
	for key, list := range s.statuses {
		if strings.HasSuffix(key, "@"+sha) {
			out = append(out, list...)
		}
	}
	sortStatuses(out)
	return out
}

// LatestStatus returns the newest status for (sha, context).
func (s *Server) LatestStatus(sha, context string) (Status, bool) {
	list := s.Statuses(sha)
	for i := len(list) - 1; i >= 0; i-- {
		if list[i].Context == context {
			return list[i], true
		}
	}
	return Status{}, false
}

func sortStatuses(list []Status) {
	// IDs are assigned in posting order.
	for i := 1; i < len(list); i++ {
		for j := i; j > 0 && list[j].ID < list[j-1].ID; j-- {
			list[j], list[j-1] = list[j-1], list[j]
		}
	}
}

func (s *Server) createStatus(w http.ResponseWriter, r *http.Request) {
	owner, repo, sha := r.PathValue("owner"), r.PathValue("repo"), r.PathValue("sha")
	var in struct {
		State       *string `json:"state"`
		TargetURL   *string `json:"target_url"`
		Description *string `json:"description"`
		Context     *string `json:"context"`
	}
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
		writeError(w, http.StatusBadRequest, "Problems parsing JSON")
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.vanished[sha] || sha == "" {
		writeJSON(w, http.StatusUnprocessableEntity, errorBody{
			Message:          "No commit found for SHA: " + sha,
			DocumentationURL: "https://docs.github.com/rest/commits/statuses#create-a-commit-status",
		})
		return
	}
	st := Status{Repo: owner + "/" + repo, SHA: sha, Context: "default", Created: s.now().UTC()}
	if in.State != nil {
		st.State = *in.State
	}
	if !validStates[st.State] {
		writeValidation(w, "Status", "state", "state is not included in the list")
		return
	}
	if in.Description != nil {
		st.Description = *in.Description
	}
	if utf8.RuneCountInString(st.Description) > 140 {
		writeValidation(w, "Status", "description", "description is too long (maximum is 140 characters)")
		return
	}
	if in.Context != nil && *in.Context != "" {
		st.Context = *in.Context
	}
	if in.TargetURL != nil {
		st.TargetURL = *in.TargetURL
	}
	key := repoKey(owner, repo) + "@" + sha
	n := 0
	for _, old := range s.statuses[key] {
		if old.Context == st.Context {
			n++
		}
	}
	if n >= maxStatusesPerContext {
		writeValidation(w, "Status", "", "This SHA and context has reached the maximum number of statuses.")
		return
	}
	s.nextID++
	st.ID = s.nextID
	s.statuses[key] = append(s.statuses[key], st)
	w.Header().Set("Location", s.srv.URL+Prefix+r.URL.Path)
	writeJSON(w, http.StatusCreated, s.repoStatus(st))
}

func (s *Server) repoStatus(st Status) *github.RepoStatus {
	ts := github.Timestamp{Time: st.Created}
	return &github.RepoStatus{
		ID:          github.Int64(st.ID),
		URL:         github.String(s.srv.URL + Prefix + "/repos/" + st.Repo + "/statuses/" + st.SHA),
		State:       github.String(st.State),
		Description: github.String(st.Description),
		TargetURL:   github.String(st.TargetURL),
		Context:     github.String(st.Context),
		CreatedAt:   &ts,
		UpdatedAt:   &ts,
		Creator:     &github.User{Login: github.String("ripple-bot")},
	}
}

// listStatuses answers newest first, like GitHub.
func (s *Server) listStatuses(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	list := s.statuses[repoKey(r.PathValue("owner"), r.PathValue("repo"))+"@"+r.PathValue("ref")]
	out := make([]*github.RepoStatus, 0, len(list))
	for i := len(list) - 1; i >= 0; i-- {
		out = append(out, s.repoStatus(list[i]))
	}
	writeJSON(w, http.StatusOK, out)
}

// combinedStatus follows GitHub's rule: failure if any latest context is
// error or failure, pending if none or any is pending, else success.
func (s *Server) combinedStatus(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	owner, repo, ref := r.PathValue("owner"), r.PathValue("repo"), r.PathValue("ref")
	list := s.statuses[repoKey(owner, repo)+"@"+ref]
	latest := map[string]Status{}
	var order []string
	for _, st := range list {
		if _, ok := latest[st.Context]; !ok {
			order = append(order, st.Context)
		}
		latest[st.Context] = st
	}
	state := "success"
	if len(order) == 0 {
		state = "pending"
	}
	var statuses []*github.RepoStatus
	for _, c := range order {
		st := latest[c]
		switch {
		case st.State == "error" || st.State == "failure":
			state = "failure"
		case st.State == "pending" && state != "failure":
			state = "pending"
		}
		statuses = append(statuses, s.repoStatus(st))
	}
	writeJSON(w, http.StatusOK, &github.CombinedStatus{
		State:      github.String(state),
		Name:       github.String(owner + "/" + repo),
		SHA:        github.String(ref),
		TotalCount: github.Int(len(statuses)),
		Statuses:   statuses,
	})
}
