package webhooks

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/google/go-github/v60/github"
	"github.com/rs/zerolog"

	"github.com/ripple-ops/ripple/engine"
	"github.com/ripple-ops/ripple/engine/backoff"
)

// Defaults for GitHubReporterOptions.
const (
	// DefaultMinInterval is GitHub's guidance for mutating requests.
	DefaultMinInterval = time.Second
	// DefaultPollInterval is how often an idle worker re-reads the outbox
	// without a Notify (e.g. statuses left by a previous process).
	DefaultPollInterval = 30 * time.Second
	// maxDescriptionRunes is GitHub's limit on a status description.
	maxDescriptionRunes = 140
	// outboxBatch is how many pending statuses are read at once.
	outboxBatch = 50
	// maxVanished bounds the set of commits known to be gone.
	maxVanished = 1024
)

// StatusOutbox is the part of the store the reporter and its metrics use:
// the statuses waiting to be delivered (engine/sqlstore implements it).
type StatusOutbox interface {
	PendingStatuses(ctx context.Context, limit int) ([]engine.CommitStatus, error)
	MarkStatusDelivered(ctx context.Context, s engine.CommitStatus) error
	// OutboxStats is how many statuses wait and when the oldest of them
	// was set (the zero time when none waits). It runs at every metrics
	// scrape, so it must be cheap.
	OutboxStats(ctx context.Context) (depth int, oldest time.Time, err error)
}

var (
	_ engine.StatusNotifier = (*GitHubReporter)(nil)
	_ engine.PlanCommenter  = (*GitHubReporter)(nil)
)

// GitHubReporterOptions configures NewGitHubReporter.
type GitHubReporterOptions struct {
	// Client is built by cmd (token auth; WithEnterpriseURLs for
	// --github-api-url). Use one client per token: go-github remembers
	// rate limits per client. Required.
	Client *github.Client
	// Owner and Repo name the repository statuses and comments go to.
	// Required.
	Owner, Repo string
	// Store is the durable outbox (already coalesced per commit and
	// context). Required.
	Store StatusOutbox
	// Logger gets delivery problems; never tokens.
	Logger zerolog.Logger
	// MinInterval is the least time between two writes; 0 means
	// DefaultMinInterval.
	MinInterval time.Duration
	// PollInterval is how often an idle Run re-reads the outbox; 0 means
	// DefaultPollInterval.
	PollInterval time.Duration
	// MaxBackoff caps retry delays after transient errors; 0 means
	// DefaultMaxBackoff. The delays start at most 2 s and double, each drawn
	// from the upper half of its ceiling (backoff.Policy); rate limits are
	// waited out as GitHub says instead.
	MaxBackoff time.Duration
	// Metrics, when set, counts GitHub requests (see NewMetrics).
	Metrics *Metrics
	// Now and Sleep replace the clock in tests. Sleep must return ctx's
	// error when ctx ends first.
	Now   func() time.Time
	Sleep func(ctx context.Context, d time.Duration) error
}

// GitHubReporter is the one rate-aware outbox to GitHub: it delivers commit
// statuses from the store (Run) and keeps the plan comment on pull requests
// (UpsertPlanComment). All writes are serialized and spaced by MinInterval;
// a rate limit seen by either path holds back both.
type GitHubReporter struct {
	client      *github.Client
	owner, repo string
	store       StatusOutbox
	log         zerolog.Logger
	minInterval time.Duration
	poll        time.Duration
	retry       backoff.Policy // transient errors; never rate limits
	now         func() time.Time
	sleep       func(context.Context, time.Duration) error
	metrics     *Metrics      // nil: not counted
	notify      chan struct{} // one slot: coalesced wake-ups
	flushMu     sync.Mutex    // one Flush at a time (Run's and any caller's)

	mu           sync.Mutex // serializes GitHub calls; guards the fields below
	lastWrite    time.Time
	blockedUntil time.Time       // rate limited until
	vanished     map[string]bool // commits GitHub no longer knows
	comments     map[int]int64   // pull request -> plan comment id
}

// NewGitHubReporter validates opts and returns a reporter. Nothing runs
// until Run is called.
func NewGitHubReporter(opts GitHubReporterOptions) (*GitHubReporter, error) {
	switch {
	case opts.Client == nil:
		return nil, errors.New("github reporter: a client is required")
	case opts.Owner == "" || opts.Repo == "" || strings.Contains(opts.Owner+opts.Repo, "/"):
		return nil, fmt.Errorf("github reporter: repository %q/%q is not owner and name", opts.Owner, opts.Repo)
	case opts.Store == nil:
		return nil, errors.New("github reporter: a status store is required")
	}
	r := &GitHubReporter{
		client:      opts.Client,
		owner:       opts.Owner,
		repo:        opts.Repo,
		store:       opts.Store,
		log:         opts.Logger.With().Str("component", "github").Str("repo", opts.Owner+"/"+opts.Repo).Logger(),
		minInterval: opts.MinInterval,
		poll:        opts.PollInterval,
		now:         opts.Now,
		sleep:       opts.Sleep,
		metrics:     opts.Metrics,
		notify:      make(chan struct{}, 1),
		vanished:    map[string]bool{},
		comments:    map[int]int64{},
	}
	if r.minInterval <= 0 {
		r.minInterval = DefaultMinInterval
	}
	if r.poll <= 0 {
		r.poll = DefaultPollInterval
	}
	r.retry = backoff.Policy{Base: firstBackoff, Max: opts.MaxBackoff}
	if r.retry.Max <= 0 {
		r.retry.Max = DefaultMaxBackoff
	}
	if r.now == nil {
		r.now = time.Now
	}
	if r.sleep == nil {
		r.sleep = sleepCtx
	}
	return r, nil
}

// Notify wakes Run early, e.g. right after SetStatus. It never blocks;
// several calls before the worker wakes count as one.
func (r *GitHubReporter) Notify() {
	select {
	case r.notify <- struct{}{}:
	default:
	}
}

// Run is the outbox worker: it delivers pending statuses, then waits for
// Notify or PollInterval, until ctx ends. It is the only goroutine the
// reporter needs; the caller owns it. Run returns nil when ctx ends.
func (r *GitHubReporter) Run(ctx context.Context) error {
	failures := 0
	for {
		if err := r.Flush(ctx); err != nil {
			if ctx.Err() != nil {
				return nil
			}
			failures++
			wait := r.retry.Delay(failures)
			r.log.Error().Err(err).Stringer("retry_in", wait).Msg("status outbox")
			if err := r.sleep(ctx, wait); err != nil {
				return nil
			}
			continue
		}
		failures = 0
		t := time.NewTimer(r.poll)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil
		case <-r.notify:
		case <-t.C:
		}
		t.Stop()
	}
}

// Flush delivers pending statuses until the outbox is empty. Rate limits
// and transient errors are waited out and retried (the outbox is re-read
// after each wait, so a state that was superseded meanwhile is not sent);
// it returns early only when ctx ends or the store fails. Concurrent calls
// (e.g. a final Flush at shutdown while Run is busy) take turns.
func (r *GitHubReporter) Flush(ctx context.Context) error {
	r.flushMu.Lock()
	defer r.flushMu.Unlock()
	failures := 0
	for {
		pending, err := r.store.PendingStatuses(ctx, outboxBatch)
		if err != nil {
			return fmt.Errorf("read status outbox: %w", err)
		}
		if len(pending) == 0 {
			return nil
		}
		for _, s := range pending {
			out, err := r.deliver(ctx, s)
			if err != nil {
				return err
			}
			if out == outcomeOK || out == outcomeVanished || out == outcomeRejected {
				failures = 0
				if err := r.store.MarkStatusDelivered(ctx, s); err != nil {
					return fmt.Errorf("mark status %s %s delivered: %w", shortSHA(s.Commit), s.Context, err)
				}
				continue
			}
			if out != outcomeRateLimited { // a rate limit already moved blockedUntil
				failures++
				if err := r.sleep(ctx, r.retry.Delay(failures)); err != nil {
					return fmt.Errorf("back off: %w", err)
				}
			}
			break // re-read the outbox before retrying
		}
	}
}

// deliver posts one status. It returns a non-nil error only when ctx ended.
func (r *GitHubReporter) deliver(ctx context.Context, s engine.CommitStatus) (outcome, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	log := r.log.With().Str("commit", shortSHA(s.Commit)).Str("context", s.Context).Str("state", s.State).Logger()
	if r.vanished[s.Commit] {
		log.Debug().Msg("commit vanished on GitHub; status dropped")
		return outcomeVanished, nil
	}
	if err := r.waitTurn(ctx); err != nil {
		return outcomeCanceled, err
	}
	st := &github.RepoStatus{
		State:       github.String(s.State),
		Context:     github.String(s.Context),
		Description: github.String(cutDescription(s.Description)),
	}
	if s.TargetURL != "" {
		st.TargetURL = github.String(s.TargetURL)
	}
	_, resp, err := r.client.Repositories.CreateStatus(ctx, r.owner, r.repo, s.Commit, st)
	r.lastWrite = r.now()
	out, wait := classify(ctx, r.lastWrite, resp, err)
	r.metrics.request(requestStatus, out)
	switch out {
	case outcomeOK:
		log.Debug().Msg("commit status delivered")
	case outcomeCanceled:
		return out, fmt.Errorf("post status: %w", err)
	case outcomeRateLimited:
		r.rateLimited(wait, err)
	case outcomeVanished:
		if len(r.vanished) >= maxVanished {
			clear(r.vanished)
		}
		r.vanished[s.Commit] = true
		log.Warn().Err(err).Msg("commit vanished on GitHub (force-push?); its statuses are dropped")
	case outcomeRejected:
		log.Error().Err(err).Msg("GitHub rejected the status; dropped")
	default:
		log.Warn().Err(err).Msg("status not delivered; will retry")
	}
	return out, nil
}

// waitTurn sleeps until the next write is allowed: MinInterval after the
// last write and not before a rate limit lifts. Callers hold mu.
func (r *GitHubReporter) waitTurn(ctx context.Context) error {
	next := r.lastWrite.Add(r.minInterval)
	if r.blockedUntil.After(next) {
		next = r.blockedUntil
	}
	if d := next.Sub(r.now()); d > 0 {
		return r.sleep(ctx, d)
	}
	return ctx.Err()
}

// rateLimited holds back every write for wait. Callers hold mu.
func (r *GitHubReporter) rateLimited(wait time.Duration, err error) {
	until := r.now().Add(wait)
	if until.After(r.blockedUntil) {
		r.blockedUntil = until
	}
	r.log.Warn().Err(err).Stringer("wait", wait).Time("until", r.blockedUntil).Msg("GitHub rate limit; writes held back")
}

// cutDescription makes s valid UTF-8 of at most 140 runes, ending in an
// ellipsis when cut. Putting the counts first is the caller's job.
func cutDescription(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	if utf8.RuneCountInString(s) <= maxDescriptionRunes {
		return s
	}
	runes := []rune(s)
	return string(runes[:maxDescriptionRunes-1]) + "…"
}

func shortSHA(sha string) string {
	if len(sha) > 12 {
		return sha[:12]
	}
	return sha
}
