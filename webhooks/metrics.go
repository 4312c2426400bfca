package webhooks

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"
)

// outboxStatsTimeout bounds the store query behind the outbox gauges, so a
// stuck store delays a scrape by this much at most.
const outboxStatsTimeout = 2 * time.Second

// Request kinds and results of ripple_github_requests_total.
const (
	requestStatus  = "status"  // a commit status POST
	requestComment = "comment" // listing, creating or editing a plan comment
	// requestPullRequest is opening (or finding) a revert pull request.
	requestPullRequest = "pull_request"

	resultOK          = "ok"
	resultRateLimited = "rate_limited"
	resultError       = "error"
)

// Metrics are the GitHub outbox's Prometheus metrics:
//
//   - ripple_github_requests_total{kind,result}, counted by the reporter
//     given these Metrics (GitHubReporterOptions.Metrics);
//   - ripple_github_outbox_depth and ripple_github_outbox_oldest_age_seconds,
//     read from the store at each scrape.
//
// A nil *Metrics records nothing.
type Metrics struct {
	requests *prometheus.CounterVec
	outbox   *outboxCollector
}

// NewMetrics registers the GitHub metrics with reg. The outbox gauges call
// outbox.OutboxStats at each scrape, with a short timeout; when it fails
// they are left out of that scrape (and the error logged) rather than
// failing the whole scrape or reporting an empty outbox.
func NewMetrics(reg prometheus.Registerer, outbox StatusOutbox, log zerolog.Logger) *Metrics {
	m := &Metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "ripple_github_requests_total",
			Help: "GitHub API requests by kind (status: commit status; comment: plan comment list, create, edit; pull_request: revert pull request open, find) and result (ok; rate_limited: a 403 or 429 rate limit, waited out; error: anything else, retried or dropped).",
		}, []string{"kind", "result"}),
	}
	for _, kind := range []string{requestStatus, requestComment, requestPullRequest} {
		for _, result := range []string{resultOK, resultRateLimited, resultError} {
			m.requests.WithLabelValues(kind, result)
		}
	}
	m.outbox = newOutboxCollector(outbox, log)
	reg.MustRegister(m.requests, m.outbox)
	return m
}

// request counts one GitHub request by its outcome. A request cut short
// because ctx ended (shutdown) has no result and is not counted.
func (m *Metrics) request(kind string, out outcome) {
	if m == nil {
		return
	}
	var result string
	switch out {
	case outcomeOK:
		result = resultOK
	case outcomeRateLimited:
		result = resultRateLimited
	case outcomeCanceled:
		return
	default:
		result = resultError
	}
	m.requests.WithLabelValues(kind, result).Inc()
}

// outboxCollector reads the outbox gauges from the store at scrape time,
// so they cost nothing between scrapes and are never stale.
type outboxCollector struct {
	outbox StatusOutbox
	log    zerolog.Logger
	now    func() time.Time
	depth  *prometheus.Desc
	age    *prometheus.Desc
}

var _ prometheus.Collector = (*outboxCollector)(nil)

func newOutboxCollector(outbox StatusOutbox, log zerolog.Logger) *outboxCollector {
	return &outboxCollector{
		outbox: outbox,
		log:    log.With().Str("component", "github").Logger(),
		now:    time.Now,
		depth: prometheus.NewDesc("ripple_github_outbox_depth",
			"Commit statuses waiting to be delivered to GitHub (the latest state per commit and context).", nil, nil),
		age: prometheus.NewDesc("ripple_github_outbox_oldest_age_seconds",
			"Seconds since the oldest waiting commit status was set; 0 when none waits.", nil, nil),
	}
}

// Describe implements prometheus.Collector.
func (c *outboxCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.depth
	ch <- c.age
}

// Collect implements prometheus.Collector.
func (c *outboxCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), outboxStatsTimeout)
	defer cancel()
	depth, oldest, err := c.outbox.OutboxStats(ctx)
	if err != nil {
		c.log.Warn().Err(err).Msg("outbox metrics left out of this scrape")
		return
	}
	age := 0.0
	if depth > 0 && !oldest.IsZero() {
		age = max(c.now().Sub(oldest).Seconds(), 0)
	}
	ch <- prometheus.MustNewConstMetric(c.depth, prometheus.GaugeValue, float64(depth))
	ch <- prometheus.MustNewConstMetric(c.age, prometheus.GaugeValue, age)
}

// Reasons of ripple_webhook_shed_total.
const (
	shedQueueFull  = "queue_full"  // QueueSize deliveries held
	shedBodyBuffer = "body_buffer" // MaxBodyBuffer bytes of bodies being read
)

// HandlerMetrics are the webhook handler's Prometheus metrics:
//
//   - ripple_webhook_shed_total{event,reason}: deliveries answered 503
//     because a bound was reached (reason queue_full or body_buffer);
//   - ripple_webhook_queue_depth: deliveries accepted (answered 202) and
//     not yet handed to the engine and recorded.
//
// Deliveries answered 2xx are counted by the API as
// ripple_webhook_deliveries_total{event}. A nil *HandlerMetrics records
// nothing.
type HandlerMetrics struct {
	shed  *prometheus.CounterVec
	depth prometheus.Gauge
}

// NewHandlerMetrics registers the webhook handler's metrics with reg.
func NewHandlerMetrics(reg prometheus.Registerer) *HandlerMetrics {
	m := &HandlerMetrics{
		shed: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "ripple_webhook_shed_total",
			Help: "Webhook deliveries refused with 503 because a bound was reached, by GitHub event (push, pull_request, ping, other) and reason (queue_full: the queue held its maximum of deliveries; body_buffer: bodies being read held the whole body buffer). GitHub does not redeliver them by itself.",
		}, []string{"event", "reason"}),
		depth: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "ripple_webhook_queue_depth",
			Help: "Webhook deliveries accepted and not yet handed to the engine and recorded.",
		}),
	}
	for _, ev := range []string{eventPush, eventPullRequest, eventPing, eventOther} {
		for _, reason := range []string{shedQueueFull, shedBodyBuffer} {
			m.shed.WithLabelValues(ev, reason)
		}
	}
	reg.MustRegister(m.shed, m.depth)
	return m
}

func (m *HandlerMetrics) shedDelivery(event, reason string) {
	if m == nil {
		return
	}
	switch event {
	case eventPush, eventPullRequest, eventPing:
	default:
		event = eventOther
	}
	m.shed.WithLabelValues(event, reason).Inc()
}

func (m *HandlerMetrics) queueDepth(n int) {
	if m == nil {
		return
	}
	m.depth.Set(float64(n))
}
