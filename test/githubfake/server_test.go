package githubfake

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-github/v60/github"
)

const sha = "ec26c3e57ca3a959ca5aad62de7213c562f8c821"

func TestStatusesRoundTrip(t *testing.T) {
	s := New(t)
	s.RequireToken("tok")
	c := s.Client("tok")
	ctx := context.Background()
	for _, st := range []string{"pending", "success"} {
		_, resp, err := c.Repositories.CreateStatus(ctx, "o", "r", sha, &github.RepoStatus{
			State: github.String(st), Context: github.String("ripple/validate"), Description: github.String("ok"),
		})
		if err != nil || resp.StatusCode != http.StatusCreated {
			t.Fatalf("CreateStatus(%s) = %v, %v", st, resp, err)
		}
	}
	if _, _, err := c.Repositories.CreateStatus(ctx, "o", "r", sha, &github.RepoStatus{
		State: github.String("pending"), Context: github.String("ripple/job/web"),
	}); err != nil {
		t.Fatal(err)
	}
	if got := len(s.Statuses(sha)); got != 3 {
		t.Fatalf("Statuses = %d, want 3", got)
	}
	if st, ok := s.LatestStatus(sha, "ripple/validate"); !ok || st.State != "success" {
		t.Fatalf("LatestStatus = %+v, %v", st, ok)
	}
	combined, _, err := c.Repositories.GetCombinedStatus(ctx, "o", "r", sha, nil)
	if err != nil || combined.GetState() != "pending" || combined.GetTotalCount() != 2 {
		t.Fatalf("combined = %+v, %v", combined, err)
	}
	list, _, err := c.Repositories.ListStatuses(ctx, "o", "r", sha, nil)
	if err != nil || len(list) != 3 || list[0].GetContext() != "ripple/job/web" {
		t.Fatalf("list = %v, %v", list, err)
	}
	if _, _, err := s.Client("wrong").Repositories.ListStatuses(ctx, "o", "r", sha, nil); !isStatus(err, 401) {
		t.Fatalf("wrong token: %v", err)
	}
	for _, r := range s.Requests() {
		if !strings.HasPrefix(r.Path, "/repos/") {
			t.Errorf("request path %q not relative to %s", r.Path, Prefix)
		}
	}
}

func TestStatusValidation(t *testing.T) {
	s := New(t)
	c := s.Client("tok")
	ctx := context.Background()
	for name, st := range map[string]*github.RepoStatus{
		"bad state":        {State: github.String("done")},
		"141 runes":        {State: github.String("success"), Description: github.String(strings.Repeat("é", 141))},
		"no state at all":  {Description: github.String("x")},
		"vanished (empty)": nil,
	} {
		if st == nil {
			continue
		}
		_, _, err := c.Repositories.CreateStatus(ctx, "o", "r", sha, st)
		if !isStatus(err, 422) {
			t.Errorf("%s: err = %v, want 422", name, err)
		}
	}
	if _, _, err := c.Repositories.CreateStatus(ctx, "o", "r", sha, &github.RepoStatus{
		State: github.String("success"), Description: github.String(strings.Repeat("é", 140)),
	}); err != nil {
		t.Errorf("140 runes refused: %v", err)
	}
	s.Vanish("dead")
	_, _, err := c.Repositories.CreateStatus(ctx, "o", "r", "dead", &github.RepoStatus{State: github.String("success")})
	var er *github.ErrorResponse
	if !errors.As(err, &er) || er.Response.StatusCode != 422 || !strings.Contains(er.Message, "No commit found") {
		t.Errorf("vanished: %v", err)
	}
}

func TestFailureInjection(t *testing.T) {
	s := New(t)
	ctx := context.Background()
	post := func(c *github.Client) error {
		_, _, err := c.Repositories.CreateStatus(ctx, "o", "r", sha, &github.RepoStatus{State: github.String("success")})
		return err
	}
	// A reset in the past keeps go-github from short-circuiting later calls.
	s.FailNext(Failure{Kind: RateLimit, Reset: time.Now().Add(-time.Second)})
	var rl *github.RateLimitError
	if err := post(s.Client("a")); !errors.As(err, &rl) {
		t.Errorf("RateLimit: %T %v", err, err)
	}
	s.FailNext(Failure{Kind: SecondaryRateLimit})
	var ab *github.AbuseRateLimitError
	if err := post(s.Client("b")); !errors.As(err, &ab) {
		t.Errorf("SecondaryRateLimit: %T %v", err, err)
	}
	s.FailNext(Failure{Kind: TooManyRequests, RetryAfter: 3 * time.Second})
	err := post(s.Client("c"))
	var er *github.ErrorResponse
	if !errors.As(err, &er) || er.Response.StatusCode != 429 || er.Response.Header.Get("Retry-After") != "3" {
		t.Errorf("TooManyRequests: %T %v", err, err)
	}
	s.FailNext(Failure{Kind: ServerError, Times: 2, Method: http.MethodPost})
	c := s.Client("d")
	if _, _, err := c.Repositories.ListStatuses(ctx, "o", "r", sha, nil); err != nil {
		t.Errorf("GET hit a POST-only failure: %v", err)
	}
	for range 2 {
		if err := post(c); !isStatus(err, 500) {
			t.Errorf("ServerError: %v", err)
		}
	}
	s.FailNext(Failure{Kind: NoCommit})
	if err := post(c); !isStatus(err, 422) {
		t.Errorf("NoCommit: %v", err)
	}
	if err := post(c); err != nil {
		t.Errorf("after failures: %v", err)
	}
	if got := len(s.Statuses(sha)); got != 1 {
		t.Errorf("statuses recorded = %d, want 1 (failed requests record nothing)", got)
	}
}

func TestComments(t *testing.T) {
	s := New(t)
	c := s.Client("tok")
	ctx := context.Background()
	for i := range 35 {
		s.AddComment("o/r", 7, "human", strings.Repeat("x", i+1))
	}
	created, _, err := c.Issues.CreateComment(ctx, "o", "r", 7, &github.IssueComment{Body: github.String("plan v1")})
	if err != nil {
		t.Fatal(err)
	}
	var all []*github.IssueComment
	opts := &github.IssueListCommentsOptions{ListOptions: github.ListOptions{PerPage: 10}}
	for {
		page, resp, err := c.Issues.ListComments(ctx, "o", "r", 7, opts)
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, page...)
		if resp.NextPage == 0 {
			break
		}
		opts.Page = resp.NextPage
	}
	if len(all) != 36 || all[35].GetID() != created.GetID() {
		t.Fatalf("listed %d comments", len(all))
	}
	if _, _, err := c.Issues.EditComment(ctx, "o", "r", created.GetID(), &github.IssueComment{Body: github.String("plan v2")}); err != nil {
		t.Fatal(err)
	}
	got := s.Comments(7)
	if last := got[len(got)-1]; last.Body != "plan v2" || last.Edits != 1 || last.User != "ripple-bot" {
		t.Fatalf("edited comment = %+v", last)
	}
	if _, _, err := c.Issues.EditComment(ctx, "o", "other", created.GetID(), &github.IssueComment{Body: github.String("x")}); !isStatus(err, 404) {
		t.Fatalf("edit in another repo: %v", err)
	}
}

func TestPullRequests(t *testing.T) {
	s := New(t)
	s.RequireToken("tok")
	s.CheckBranches(func(repo, branch string) bool { return repo == "o/r" && branch != "ghost" })
	c := s.Client("tok")
	ctx := context.Background()
	newPR := func(title, head, base string) *github.NewPullRequest {
		return &github.NewPullRequest{Title: github.String(title), Head: github.String(head), Base: github.String(base), Body: github.String("why")}
	}
	pr, resp, err := c.PullRequests.Create(ctx, "o", "r", newPR("Revert x", "ripple/revert-x", "main"))
	if err != nil || resp.StatusCode != http.StatusCreated {
		t.Fatalf("Create = %v, %v", resp, err)
	}
	if pr.GetNumber() != 1 || pr.GetHTMLURL() != s.URL()+"o/r/pull/1" || pr.GetHead().GetRef() != "ripple/revert-x" || pr.GetState() != "open" {
		t.Errorf("created = %+v", pr)
	}
	for name, tc := range map[string]struct {
		in   *github.NewPullRequest
		want string
	}{
		"no title":         {newPR("", "b", "main"), "missing_field"},
		"to itself":        {newPR("t", "main", "main"), "No commits between main and main"},
		"already open":     {newPR("again", "o:ripple/revert-x", "main"), "A pull request already exists for o:ripple/revert-x."},
		"no such branch":   {newPR("t", "ghost", "main"), "invalid"},
		"title of 257":     {newPR(strings.Repeat("é", 257), "b", "main"), "title is too long"},
		"body over 65536":  {&github.NewPullRequest{Title: github.String("t"), Head: github.String("b"), Base: github.String("main"), Body: github.String(strings.Repeat("x", 65537))}, "body is too long"},
		"issue conversion": {&github.NewPullRequest{Issue: github.Int(3), Head: github.String("b"), Base: github.String("main")}, "issues"},
	} {
		_, _, err := c.PullRequests.Create(ctx, "o", "r", tc.in)
		if !isStatus(err, 422) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err = %v, want 422 with %q", name, err, tc.want)
		}
	}
	if _, _, err := c.PullRequests.Create(ctx, "o", "r", newPR("second", "feature", "main")); err != nil {
		t.Fatal(err)
	}
	list, _, err := c.PullRequests.List(ctx, "o", "r", &github.PullRequestListOptions{Head: "o:ripple/revert-x", Base: "main"})
	if err != nil || len(list) != 1 || list[0].GetNumber() != 1 {
		t.Fatalf("List(head) = %v, %v", list, err)
	}
	if list, _, _ := c.PullRequests.List(ctx, "o", "r", nil); len(list) != 2 || list[0].GetNumber() != 2 {
		t.Errorf("List = %d pull requests, newest first: %v", len(list), list)
	}
	if got, _, err := c.PullRequests.Get(ctx, "o", "r", 2); err != nil || got.GetTitle() != "second" {
		t.Errorf("Get = %v, %v", got, err)
	}
	if _, _, err := c.PullRequests.Get(ctx, "o", "other", 2); !isStatus(err, 404) {
		t.Errorf("Get in another repo: %v", err)
	}
	if got := s.PullRequests(); len(got) != 2 || got[0].Body != "why" || got[0].Repo != "o/r" {
		t.Errorf("recorded = %+v", got)
	}
}

func isStatus(err error, code int) bool {
	var er *github.ErrorResponse
	return errors.As(err, &er) && er.Response.StatusCode == code
}
