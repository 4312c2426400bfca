package webhooks

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/ripple-ops/ripple/test/githubfake"
)

// newMetricsEnv is a reporter env whose reporter counts into metrics
// registered on a pedantic registry, with the outbox gauges on the fake
// clock.
func newMetricsEnv(t *testing.T) (*reporterEnv, *Metrics, *prometheus.Registry) {
	t.Helper()
	reg := prometheus.NewPedanticRegistry()
	var m *Metrics
	env := newReporterEnv(t, func(o *GitHubReporterOptions) {
		m = NewMetrics(reg, o.Store, o.Logger)
		o.Metrics = m
	})
	m.outbox.now = env.clock.Now
	return env, m, reg
}

const outboxGaugesHelp = `
# HELP ripple_github_outbox_depth Commit statuses waiting to be delivered to GitHub (the latest state per commit and context).
# TYPE ripple_github_outbox_depth gauge
# HELP ripple_github_outbox_oldest_age_seconds Seconds since the oldest waiting commit status was set; 0 when none waits.
# TYPE ripple_github_outbox_oldest_age_seconds gauge
`

func wantOutbox(depth int, age float64) string {
	return outboxGaugesHelp + fmt.Sprintf("ripple_github_outbox_depth %d\nripple_github_outbox_oldest_age_seconds %g\n", depth, age)
}

func TestMetricsOutboxGaugesFollowTheOutbox(t *testing.T) {
	env, _, reg := newMetricsEnv(t)
	names := []string{"ripple_github_outbox_depth", "ripple_github_outbox_oldest_age_seconds"}
	if err := testutil.GatherAndCompare(reg, strings.NewReader(wantOutbox(0, 0)), names...); err != nil {
		t.Fatalf("empty outbox: %v", err)
	}

	now := env.clock.Now()
	for _, st := range []struct {
		commit, context string
		ago             time.Duration
	}{
		{sha1Commit, "ripple/validate", 90 * time.Second},
		{sha1Commit, "ripple/job/web", 30 * time.Second},
		{sha2Commit, "ripple/validate", 0},
	} {
		s := status(st.commit, st.context, "pending", "queued")
		s.Updated = now.Add(-st.ago)
		env.outbox.SetStatus(s)
	}
	if err := testutil.GatherAndCompare(reg, strings.NewReader(wantOutbox(3, 90)), names...); err != nil {
		t.Fatalf("three queued, the oldest 90s ago: %v", err)
	}

	flush(t, env.r)
	if len(env.posts()) != 3 {
		t.Fatalf("%d POSTs, want 3", len(env.posts()))
	}
	if err := testutil.GatherAndCompare(reg, strings.NewReader(wantOutbox(0, 0)), names...); err != nil {
		t.Fatalf("all delivered: %v", err)
	}
}

func TestMetricsCountRequestsByKindAndResult(t *testing.T) {
	env, m, reg := newMetricsEnv(t)
	env.gh.FailNext(githubfake.Failure{Kind: githubfake.TooManyRequests, RetryAfter: time.Minute, Method: "POST"})
	env.gh.FailNext(githubfake.Failure{Kind: githubfake.ServerError, Method: "POST"})
	env.outbox.SetStatus(status(sha1Commit, "ripple/validate", "success", "ok"))
	env.outbox.SetStatus(status(sha2Commit, "ripple/validate", "success", "ok"))
	flush(t, env.r)
	if err := env.r.UpsertPlanComment(context.Background(), 4, "1 job, 3 hosts"); err != nil { // list, then create
		t.Fatal(err)
	}

	want := map[[2]string]float64{
		{requestStatus, resultOK}:           2,
		{requestStatus, resultRateLimited}:  1,
		{requestStatus, resultError}:        1,
		{requestComment, resultOK}:          2,
		{requestComment, resultRateLimited}: 0,
		{requestComment, resultError}:       0,
		{requestPullRequest, resultOK}:      0,
	}
	for labels, v := range want {
		if got := testutil.ToFloat64(m.requests.WithLabelValues(labels[0], labels[1])); got != v {
			t.Errorf("ripple_github_requests_total{kind=%q,result=%q} = %v, want %v", labels[0], labels[1], got, v)
		}
	}
	if n := testutil.CollectAndCount(m.requests); n != 9 {
		t.Errorf("%d request series, want all 9 (kind x result) from the start", n)
	}
	if problems, err := testutil.GatherAndLint(reg); err != nil || len(problems) > 0 {
		t.Fatalf("lint: %v %+v", err, problems)
	}
	for _, c := range []prometheus.Collector{m.requests, m.outbox} {
		if problems, err := testutil.CollectAndLint(c); err != nil || len(problems) > 0 {
			t.Fatalf("lint: %v %+v", err, problems)
		}
	}
}

// A store that cannot answer leaves the gauges out of the scrape (an
// absent series, not a misleading 0), and says why in the log.
func TestMetricsOutboxGaugesLeftOutWhenTheStoreFails(t *testing.T) {
	env, m, _ := newMetricsEnv(t)
	env.outbox.failStats = errors.New("database is locked")
	if n := testutil.CollectAndCount(m.outbox); n != 0 {
		t.Fatalf("%d outbox series while the store fails, want none", n)
	}
	if !strings.Contains(env.logs.String(), "database is locked") {
		t.Fatalf("store error not logged:\n%s", env.logs.String())
	}
}

// A nil *Metrics counts nothing and does not panic.
func TestNilMetricsRecordsNothing(t *testing.T) {
	var m *Metrics
	m.request(requestStatus, outcomeOK)
}
