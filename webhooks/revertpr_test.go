package webhooks

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/rs/zerolog"

	"github.com/ripple-ops/ripple/engine"
	"github.com/ripple-ops/ripple/test/githubfake"
)

func revertPR() engine.RevertPullRequest {
	return engine.RevertPullRequest{
		Branch: "ripple/revert-" + sha1Commit[:12], Into: "main", Reverted: sha1Commit, Subject: "nginx 1.27\n\nbody",
		Commit: sha2Commit, Paths: []string{"jobs/nginx.hcl", "files/nginx.conf"},
		RunID: 42, RunURL: "https://ripple.example/runs/42", Actor: "alice", Reason: "1.27 drops gzip_typo\nsee OPS-7",
	}
}

func TestOpenRevertPullRequest(t *testing.T) {
	reg := prometheus.NewRegistry()
	m := NewMetrics(reg, &memOutbox{}, zerolog.Nop())
	env := newReporterEnv(t, func(o *GitHubReporterOptions) { o.Metrics = m })
	env.gh.CheckBranches(func(repo, branch string) bool {
		return repo == "ops/fleet" && strings.HasPrefix(branch, "ripple/revert-")
	})
	url, err := env.r.OpenRevertPullRequest(context.Background(), revertPR())
	if err != nil {
		t.Fatal(err)
	}
	prs := env.gh.PullRequests()
	if len(prs) != 1 || url != prs[0].HTMLURL {
		t.Fatalf("pull requests = %+v, url %q", prs, url)
	}
	pr := prs[0]
	if pr.Title != "Revert "+sha1Commit[:12]+": nginx 1.27" || pr.Head != "ripple/revert-"+sha1Commit[:12] || pr.Base != "main" || pr.Repo != "ops/fleet" {
		t.Errorf("pull request = %+v", pr)
	}
	for _, want := range []string{
		"This reverts commit " + sha1Commit + ` ("nginx 1.27") on ` + "`main`",
		"**alice**", "after run 42 failed: https://ripple.example/runs/42",
		"> 1.27 drops gzip_typo\n> see OPS-7\n",
		"2 files as they were before that commit: `jobs/nginx.hcl`, `files/nginx.conf`.",
		"Nothing changes on a host until this pull request is merged",
	} {
		if !strings.Contains(pr.Body, want) {
			t.Errorf("body lacks %q:\n%s", want, pr.Body)
		}
	}
	if got := testutil.ToFloat64(m.requests.WithLabelValues(requestPullRequest, resultOK)); got != 1 {
		t.Errorf("pull_request requests ok = %v", got)
	}

	// Asked again (a retry whose answer was lost), the open one is it.
	again, err := env.r.OpenRevertPullRequest(context.Background(), revertPR())
	if err != nil || again != url || len(env.gh.PullRequests()) != 1 {
		t.Errorf("second open = %q, %v; %d pull requests", again, err, len(env.gh.PullRequests()))
	}

	// A branch GitHub does not have is refused, and said so.
	bad := revertPR()
	bad.Branch = "feature"
	if _, err := env.r.OpenRevertPullRequest(context.Background(), bad); err == nil || !strings.Contains(err.Error(), "from feature into main on ops/fleet") || !strings.Contains(err.Error(), "422") {
		t.Errorf("unknown branch: %v", err)
	}
}

func TestOpenRevertPullRequestWaitsOutLimitsAndRetries(t *testing.T) {
	env := newReporterEnv(t)
	env.gh.FailNext(githubfake.Failure{Kind: githubfake.TooManyRequests, RetryAfter: 90 * time.Second, Method: http.MethodPost})
	env.gh.FailNext(githubfake.Failure{Kind: githubfake.ServerError, Method: http.MethodPost})
	start := env.clock.Now()
	pr := revertPR()
	pr.RunID, pr.RunURL, pr.Actor = 0, "", ""
	url, err := env.r.OpenRevertPullRequest(context.Background(), pr)
	if err != nil {
		t.Fatal(err)
	}
	if waited := env.clock.Now().Sub(start); waited < 90*time.Second {
		t.Errorf("waited %v after a 429 with Retry-After 90", waited)
	}
	prs := env.gh.PullRequests()
	if len(prs) != 1 || prs[0].HTMLURL != url || !strings.Contains(prs[0].Body, "Asked for by an operator through ripple.\n") || strings.Contains(prs[0].Body, "run ") {
		t.Errorf("pull requests = %+v", prs)
	}
	// The hold carries over to statuses.
	env.outbox.SetStatus(status(sha1Commit, "ripple/validate", "success", "ok"))
	flush(t, env.r)
	if len(env.gh.Statuses(sha1Commit)) != 1 {
		t.Error("status after the pull request not delivered")
	}
}

func TestRevertTitleFits(t *testing.T) {
	pr := revertPR()
	pr.Subject = strings.Repeat("ü", 300)
	if got := revertTitle(pr); len([]rune(got)) != maxTitleRunes || !strings.HasSuffix(got, "…") {
		t.Errorf("title of %d runes: %q", len([]rune(got)), got)
	}
	pr.Actor = "mallory*[x](http://evil)"
	if b := revertBody(pr); strings.Contains(b, "[x](http://evil)") {
		t.Errorf("the actor's name became a link:\n%s", b)
	}
}
