package webhooks

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/rs/zerolog"

	"github.com/ripple-ops/ripple/engine"
	"github.com/ripple-ops/ripple/test/githubfake"
)

const (
	sha1Commit = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	sha2Commit = "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
	token      = "ghp_testtoken_never_logged"
)

// fakeClock advances only when slept on. It starts two hours in the past so
// that rate-limit resets computed from it are already over in real time and
// go-github's own client-side rate-limit memory never short-circuits calls.
type fakeClock struct {
	mu     sync.Mutex
	t      time.Time
	sleeps []time.Duration
}

func newFakeClock() *fakeClock {
	return &fakeClock{t: time.Now().Add(-2 * time.Hour).Truncate(time.Second)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Sleep(ctx context.Context, d time.Duration) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.sleeps = append(c.sleeps, d)
	if d > 0 {
		c.t = c.t.Add(d)
	}
	return ctx.Err()
}

// memOutbox is an in-memory StatusOutbox with the store's coalescing: one
// entry per (commit, context), the latest state wins, and delivering an
// older state leaves a newer one queued.
type memOutbox struct {
	mu      sync.Mutex
	seq     int
	entries map[[2]string]*outboxEntry
	failGet error
	// failStats, when set, is OutboxStats' error.
	failStats error
	// afterPending, when set, runs once after PendingStatuses returned
	// (outside the lock), to simulate a state queued mid-delivery.
	afterPending func()
}

type outboxEntry struct {
	status    engine.CommitStatus
	seq       int
	delivered bool
}

func (o *memOutbox) SetStatus(s engine.CommitStatus) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.entries == nil {
		o.entries = map[[2]string]*outboxEntry{}
	}
	o.seq++
	o.entries[[2]string{s.Commit, s.Context}] = &outboxEntry{status: s, seq: o.seq}
}

func (o *memOutbox) PendingStatuses(_ context.Context, limit int) ([]engine.CommitStatus, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.failGet != nil {
		return nil, o.failGet
	}
	var pending []*outboxEntry
	for _, e := range o.entries {
		if !e.delivered {
			pending = append(pending, e)
		}
	}
	for i := 1; i < len(pending); i++ {
		for j := i; j > 0 && pending[j].seq < pending[j-1].seq; j-- {
			pending[j], pending[j-1] = pending[j-1], pending[j]
		}
	}
	var out []engine.CommitStatus
	for _, e := range pending {
		if len(out) == limit {
			break
		}
		out = append(out, e.status)
	}
	if f := o.afterPending; f != nil {
		o.afterPending = nil
		defer func() { go f() }()
	}
	return out, nil
}

func (o *memOutbox) MarkStatusDelivered(_ context.Context, s engine.CommitStatus) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	if e := o.entries[[2]string{s.Commit, s.Context}]; e != nil && e.status == s {
		e.delivered = true
	}
	return nil
}

// OutboxStats counts the undelivered entries and returns the oldest
// Updated among them, as the store does.
func (o *memOutbox) OutboxStats(context.Context) (int, time.Time, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.failStats != nil {
		return 0, time.Time{}, o.failStats
	}
	var depth int
	var oldest time.Time
	for _, e := range o.entries {
		if e.delivered {
			continue
		}
		depth++
		if oldest.IsZero() || e.status.Updated.Before(oldest) {
			oldest = e.status.Updated
		}
	}
	return depth, oldest, nil
}

func (o *memOutbox) pending() int {
	n, _ := o.PendingStatuses(context.Background(), 1000)
	return len(n)
}

type reporterEnv struct {
	gh     *githubfake.Server
	clock  *fakeClock
	outbox *memOutbox
	r      *GitHubReporter
	logs   *bytes.Buffer
}

// newReporterEnv builds a reporter on a fake GitHub, an in-memory outbox
// and a fake clock; mods change its options first.
func newReporterEnv(t *testing.T, mods ...func(*GitHubReporterOptions)) *reporterEnv {
	t.Helper()
	env := &reporterEnv{gh: githubfake.New(t), clock: newFakeClock(), outbox: &memOutbox{}, logs: &bytes.Buffer{}}
	env.gh.RequireToken(token)
	env.gh.SetNow(env.clock.Now)
	opts := GitHubReporterOptions{
		Client: env.gh.Client(token),
		Owner:  "ops", Repo: "fleet",
		Store:  env.outbox,
		Logger: zerolog.New(zerolog.SyncWriter(env.logs)).Level(zerolog.DebugLevel),
		Now:    env.clock.Now,
		Sleep:  env.clock.Sleep,
	}
	for _, mod := range mods {
		mod(&opts)
	}
	r, err := NewGitHubReporter(opts)
	if err != nil {
		t.Fatal(err)
	}
	env.r = r
	t.Cleanup(func() {
		if strings.Contains(env.logs.String(), token) {
			t.Errorf("the token reached the logs:\n%s", env.logs.String())
		}
	})
	return env
}

func status(commit, ctx, state, desc string) engine.CommitStatus {
	return engine.CommitStatus{Commit: commit, Context: ctx, State: state, Description: desc, TargetURL: "https://ripple.example/runs/1"}
}

// posts returns the status POSTs the fake received, in order.
func (env *reporterEnv) posts() []githubfake.Request {
	var out []githubfake.Request
	for _, r := range env.gh.Requests() {
		if r.Method == http.MethodPost && strings.Contains(r.Path, "/statuses/") {
			out = append(out, r)
		}
	}
	return out
}

func flush(t *testing.T, r *GitHubReporter) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := r.Flush(ctx); err != nil {
		t.Fatalf("Flush: %v", err)
	}
}

func TestReporterDeliversInOrderWithSpacing(t *testing.T) {
	env := newReporterEnv(t)
	env.outbox.SetStatus(status(sha1Commit, "ripple/validate", "success", "valid: 12 files"))
	env.outbox.SetStatus(status(sha1Commit, "ripple/job/web", "pending", "queued"))
	env.outbox.SetStatus(status(sha2Commit, "ripple/validate", "failure", "2 errors; first at jobs/web.hcl:14"))
	flush(t, env.r)

	type got struct{ SHA, Context, State, Description string }
	var delivered []got
	for _, sha := range []string{sha1Commit, sha2Commit} {
		for _, s := range env.gh.Statuses(sha) {
			delivered = append(delivered, got{s.SHA, s.Context, s.State, s.Description})
			if s.Repo != "ops/fleet" || s.TargetURL != "https://ripple.example/runs/1" {
				t.Errorf("status %+v", s)
			}
		}
	}
	want := []got{
		{sha1Commit, "ripple/validate", "success", "valid: 12 files"},
		{sha1Commit, "ripple/job/web", "pending", "queued"},
		{sha2Commit, "ripple/validate", "failure", "2 errors; first at jobs/web.hcl:14"},
	}
	if diff := cmp.Diff(want, delivered); diff != "" {
		t.Fatalf("delivered (-want +got):\n%s", diff)
	}
	posts := env.posts()
	if len(posts) != 3 {
		t.Fatalf("%d POSTs, want 3", len(posts))
	}
	for i := 1; i < len(posts); i++ {
		if gap := posts[i].At.Sub(posts[i-1].At); gap < DefaultMinInterval {
			t.Errorf("POST %d came %v after the previous one, want >= %v", i, gap, DefaultMinInterval)
		}
	}
	if n := env.outbox.pending(); n != 0 {
		t.Fatalf("%d statuses still pending", n)
	}
	// Nothing left: a second flush makes no request.
	before := len(env.gh.Requests())
	flush(t, env.r)
	if len(env.gh.Requests()) != before {
		t.Fatal("an empty outbox caused requests")
	}
}

func TestReporterSendsOnlyLatestQueuedState(t *testing.T) {
	env := newReporterEnv(t)
	env.outbox.SetStatus(status(sha1Commit, "ripple/job/web", "pending", "queued"))
	env.outbox.SetStatus(status(sha1Commit, "ripple/job/web", "pending", "wave 1/3: 1/20 hosts ok"))
	env.outbox.SetStatus(status(sha1Commit, "ripple/job/web", "success", "20/20 hosts ok in 3 waves"))
	flush(t, env.r)
	got := env.gh.Statuses(sha1Commit)
	if len(got) != 1 || got[0].State != "success" || got[0].Description != "20/20 hosts ok in 3 waves" {
		t.Fatalf("statuses = %+v, want only the final success", got)
	}
}

func TestReporterKeepsStateQueuedDuringDelivery(t *testing.T) {
	env := newReporterEnv(t)
	env.outbox.SetStatus(status(sha1Commit, "ripple/job/web", "pending", "wave 1/2"))
	queued := make(chan struct{})
	env.outbox.afterPending = func() {
		env.outbox.SetStatus(status(sha1Commit, "ripple/job/web", "success", "2/2 waves ok"))
		close(queued)
	}
	flush(t, env.r)
	<-queued
	flush(t, env.r) // in case the newer state landed after the first pass read the outbox
	got, _ := env.gh.LatestStatus(sha1Commit, "ripple/job/web")
	if got.State != "success" || env.outbox.pending() != 0 {
		t.Fatalf("latest = %+v, pending %d; the state queued during delivery was lost", got, env.outbox.pending())
	}
}

func TestReporterDropsRejectedStatus(t *testing.T) {
	env := newReporterEnv(t)
	env.outbox.SetStatus(status(sha1Commit, "ripple/job/web", "done", "not a GitHub state"))
	env.outbox.SetStatus(status(sha2Commit, "ripple/job/web", "success", "ok"))
	flush(t, env.r)
	if env.outbox.pending() != 0 || len(env.gh.Statuses(sha2Commit)) != 1 || len(env.posts()) != 2 {
		t.Fatalf("pending %d, posts %d", env.outbox.pending(), len(env.posts()))
	}
	if !strings.Contains(env.logs.String(), "GitHub rejected the status") {
		t.Fatal("rejection not logged")
	}
}

func TestReporterRateLimits(t *testing.T) {
	tests := []struct {
		name     string
		failure  func(now time.Time) githubfake.Failure
		minDelay time.Duration
	}{
		{
			name: "403 primary limit waits for x-ratelimit-reset",
			failure: func(now time.Time) githubfake.Failure {
				return githubfake.Failure{Kind: githubfake.RateLimit, Reset: now.Add(5 * time.Minute)}
			},
			minDelay: 5 * time.Minute,
		},
		{
			name: "403 secondary limit without Retry-After waits a minute",
			failure: func(time.Time) githubfake.Failure {
				return githubfake.Failure{Kind: githubfake.SecondaryRateLimit}
			},
			minDelay: time.Minute,
		},
		{
			name: "429 with Retry-After",
			failure: func(time.Time) githubfake.Failure {
				return githubfake.Failure{Kind: githubfake.TooManyRequests, RetryAfter: 90 * time.Second}
			},
			minDelay: 90 * time.Second,
		},
		{
			name: "429 with x-ratelimit-reset",
			failure: func(now time.Time) githubfake.Failure {
				return githubfake.Failure{Kind: githubfake.TooManyRequests, Reset: now.Add(3 * time.Minute)}
			},
			minDelay: 3 * time.Minute,
		},
		{
			name: "429 without headers waits a minute",
			failure: func(time.Time) githubfake.Failure {
				return githubfake.Failure{Kind: githubfake.TooManyRequests}
			},
			minDelay: time.Minute,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := newReporterEnv(t)
			env.outbox.SetStatus(status(sha1Commit, "ripple/job/web", "success", "ok"))
			env.outbox.SetStatus(status(sha2Commit, "ripple/job/web", "success", "ok"))
			start := env.clock.Now()
			env.gh.FailNext(tt.failure(start))
			flush(t, env.r)

			posts := env.posts()
			if len(posts) != 3 || posts[0].Status < 400 || posts[1].Status != 201 || posts[2].Status != 201 {
				t.Fatalf("POSTs = %+v, want one refused then two delivered", posts)
			}
			if delay := posts[1].At.Sub(posts[0].At); delay < tt.minDelay {
				t.Fatalf("retry came %v after the limit, want >= %v", delay, tt.minDelay)
			}
			// The hold applies to the next status too, and spacing resumes.
			if gap := posts[2].At.Sub(posts[1].At); gap < DefaultMinInterval {
				t.Fatalf("gap after the limit %v", gap)
			}
			if len(env.gh.Statuses(sha1Commit)) != 1 || len(env.gh.Statuses(sha2Commit)) != 1 || env.outbox.pending() != 0 {
				t.Fatal("statuses not all delivered after the rate limit")
			}
		})
	}
}

func TestReporterDropsVanishedCommit(t *testing.T) {
	env := newReporterEnv(t)
	env.gh.Vanish(sha1Commit)
	env.outbox.SetStatus(status(sha1Commit, "ripple/validate", "success", "ok"))
	env.outbox.SetStatus(status(sha1Commit, "ripple/job/web", "success", "ok"))
	env.outbox.SetStatus(status(sha2Commit, "ripple/validate", "success", "ok"))
	flush(t, env.r)
	if env.outbox.pending() != 0 {
		t.Fatal("statuses of a vanished commit stay pending")
	}
	if n := len(env.gh.Statuses(sha2Commit)); n != 1 {
		t.Fatalf("other commit got %d statuses", n)
	}
	if n := len(env.posts()); n != 2 {
		t.Fatalf("%d POSTs, want 2 (the second status of the vanished commit is not sent)", n)
	}
	if n := strings.Count(env.logs.String(), "commit vanished on GitHub (force-push?)"); n != 1 {
		t.Fatalf("vanished commit logged %d times, want once:\n%s", n, env.logs.String())
	}
}

func TestReporterBacksOffOnServerErrors(t *testing.T) {
	env := newReporterEnv(t)
	env.gh.FailNext(githubfake.Failure{Kind: githubfake.ServerError, Times: 3})
	env.outbox.SetStatus(status(sha1Commit, "ripple/validate", "success", "ok"))
	flush(t, env.r)
	if len(env.gh.Statuses(sha1Commit)) != 1 {
		t.Fatal("not delivered after transient errors")
	}
	posts := env.posts()
	if len(posts) != 4 {
		t.Fatalf("%d POSTs, want 4", len(posts))
	}
	var gaps []time.Duration
	for i := 1; i < len(posts); i++ {
		gaps = append(gaps, posts[i].At.Sub(posts[i-1].At))
	}
	// Equal jitter: retry n waits within the upper half of 2s·2^(n-1).
	for i, gap := range gaps {
		ceiling := firstBackoff << i
		if gap < ceiling/2 || gap > ceiling {
			t.Errorf("retry %d came %v after the failure, want within [%v, %v] (gaps %v)", i+1, gap, ceiling/2, ceiling, gaps)
		}
	}
}

func TestReporterCutsDescriptionTo140Runes(t *testing.T) {
	env := newReporterEnv(t)
	long := "12/40 hosts ok; " + strings.Repeat("wave ü ", 40)
	env.outbox.SetStatus(status(sha1Commit, "ripple/job/web", "failure", long))
	flush(t, env.r)
	got, ok := env.gh.LatestStatus(sha1Commit, "ripple/job/web")
	if !ok {
		t.Fatal("status refused")
	}
	if n := len([]rune(got.Description)); n != 140 || !strings.HasPrefix(got.Description, "12/40 hosts ok; wave ü") || !strings.HasSuffix(got.Description, "…") {
		t.Fatalf("description %q (%d runes)", got.Description, n)
	}
	if cutDescription("short") != "short" || cutDescription("\xff") != "\uFFFD" {
		t.Fatal("cutDescription changed a short or repaired an invalid string wrongly")
	}
}

func TestReporterRunWakesOnNotifyAndStops(t *testing.T) {
	env := newReporterEnv(t)
	env.r.poll = time.Hour // only Notify can wake it
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- env.r.Run(ctx) }()

	env.outbox.SetStatus(status(sha1Commit, "ripple/validate", "pending", "validating"))
	env.r.Notify()
	env.r.Notify() // coalesced; never blocks
	deadline := time.Now().Add(5 * time.Second)
	for env.outbox.pending() != 0 {
		if time.Now().After(deadline) {
			t.Fatal("Run did not deliver after Notify")
		}
		time.Sleep(5 * time.Millisecond)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Run = %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not stop on cancel")
	}
}

func TestReporterRunSurvivesStoreErrors(t *testing.T) {
	env := newReporterEnv(t)
	env.outbox.failGet = errors.New("database is locked")
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	if err := env.r.Run(ctx); err != nil {
		t.Fatalf("Run = %v", err)
	}
	if !strings.Contains(env.logs.String(), "database is locked") {
		t.Fatal("store error not logged")
	}
}

func TestUpsertPlanCommentCreatesThenEdits(t *testing.T) {
	env := newReporterEnv(t)
	ctx := context.Background()
	for i := range 120 { // more than one page of human comments
		env.gh.AddComment("ops/fleet", 7, "alice", "LGTM "+strings.Repeat("!", i%3))
	}
	env.gh.AddComment("ops/fleet", 8, "ripple-bot", PlanMarker+"\nplan of another PR")

	if err := env.r.UpsertPlanComment(ctx, 7, "3 jobs, 214 hosts in 5 waves"); err != nil {
		t.Fatal(err)
	}
	if err := env.r.UpsertPlanComment(ctx, 7, "3 jobs, 220 hosts in 5 waves"); err != nil {
		t.Fatal(err)
	}
	mine := planComments(env.gh.Comments(7))
	if len(mine) != 1 || mine[0].Body != PlanMarker+"\n3 jobs, 220 hosts in 5 waves" || mine[0].Edits != 1 {
		t.Fatalf("plan comments = %+v, want one, edited once", mine)
	}
	if n := len(env.gh.Comments(7)); n != 121 {
		t.Fatalf("%d comments on #7, want 121", n)
	}

	// A restarted reporter finds the comment by its marker instead of
	// posting a second one.
	fresh, err := NewGitHubReporter(GitHubReporterOptions{
		Client: env.gh.Client(token), Owner: "ops", Repo: "fleet", Store: env.outbox,
		Now: env.clock.Now, Sleep: env.clock.Sleep,
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := fresh.UpsertPlanComment(ctx, 7, "after restart"); err != nil {
		t.Fatal(err)
	}
	mine = planComments(env.gh.Comments(7))
	if len(mine) != 1 || !strings.HasSuffix(mine[0].Body, "after restart") || mine[0].Edits != 2 {
		t.Fatalf("after restart: %+v", mine)
	}
	if other := env.gh.Comments(8); len(other) != 1 || other[0].Edits != 0 {
		t.Fatal("another PR's plan comment was touched")
	}
}

func TestUpsertPlanCommentRecreatesDeletedAndWaitsOutLimits(t *testing.T) {
	env := newReporterEnv(t)
	ctx := context.Background()
	env.r.comments[9] = 999999 // remembered, but deleted on GitHub
	env.gh.FailNext(githubfake.Failure{Kind: githubfake.TooManyRequests, RetryAfter: 2 * time.Minute, Method: http.MethodPost})
	start := env.clock.Now()
	if err := env.r.UpsertPlanComment(ctx, 9, "plan"); err != nil {
		t.Fatal(err)
	}
	if mine := planComments(env.gh.Comments(9)); len(mine) != 1 {
		t.Fatalf("plan comments = %+v", mine)
	}
	if waited := env.clock.Now().Sub(start); waited < 2*time.Minute {
		t.Fatalf("waited %v after a 429 with Retry-After 120", waited)
	}
	// The hold carried over to statuses: a status right after is paced.
	env.outbox.SetStatus(status(sha1Commit, "ripple/plan", "success", "3 jobs"))
	flush(t, env.r)
	if len(env.gh.Statuses(sha1Commit)) != 1 {
		t.Fatal("status after the comment not delivered")
	}
}

func TestUpsertPlanCommentCutsHugeBodies(t *testing.T) {
	env := newReporterEnv(t)
	if err := env.r.UpsertPlanComment(context.Background(), 3, strings.Repeat("ä", 70000)); err != nil {
		t.Fatal(err)
	}
	c := env.gh.Comments(3)
	if len(c) != 1 || !strings.HasSuffix(c[0].Body, truncatedNote) || len([]rune(c[0].Body)) != maxCommentRunes {
		t.Fatalf("comment of %d runes", len([]rune(c[0].Body)))
	}
}

func TestNewGitHubReporterRefusesIncompleteOptions(t *testing.T) {
	gh := githubfake.New(t)
	good := GitHubReporterOptions{Client: gh.Client("t"), Owner: "o", Repo: "r", Store: &memOutbox{}}
	for name, mod := range map[string]func(*GitHubReporterOptions){
		"no client":  func(o *GitHubReporterOptions) { o.Client = nil },
		"no owner":   func(o *GitHubReporterOptions) { o.Owner = "" },
		"slash repo": func(o *GitHubReporterOptions) { o.Repo = "r/x" },
		"no store":   func(o *GitHubReporterOptions) { o.Store = nil },
	} {
		o := good
		mod(&o)
		if _, err := NewGitHubReporter(o); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func planComments(all []githubfake.Comment) []githubfake.Comment {
	var out []githubfake.Comment
	for _, c := range all {
		if strings.HasPrefix(c.Body, PlanMarker) {
			out = append(out, c)
		}
	}
	return out
}
