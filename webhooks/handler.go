package webhooks

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/rs/zerolog"
	"golang.org/x/sync/semaphore"

	"github.com/ripple-ops/ripple/engine"
)

// Defaults for HandlerOptions.
const (
	// DefaultMaxBodyBytes is GitHub's own cap on webhook payloads (25 MiB).
	DefaultMaxBodyBytes = 25 << 20
	// DefaultMaxBodyBuffer bounds the bytes held by all bodies being read
	// at once: room for two payloads of GitHub's maximum size, or
	// thousands of ordinary ones.
	DefaultMaxBodyBuffer = 64 << 20
	// DefaultBodyTimeout bounds reading one body; GitHub.com counts a
	// delivery not answered within 10 s as failed.
	DefaultBodyTimeout = 10 * time.Second
	// DefaultQueueSize bounds the deliveries accepted and not yet handed
	// to the engine and recorded. A burst drains at thousands per second
	// (the sink only enqueues; ids are recorded in group commits), so this
	// is only reached when the engine or the store is stuck.
	DefaultQueueSize = 4096
	// DefaultDispatchTimeout bounds each sink and delivery-store call.
	DefaultDispatchTimeout = 5 * time.Second
	// maxDeliveryIDLen rejects absurd X-GitHub-Delivery values (GitHub
	// sends a GUID).
	maxDeliveryIDLen = 128
	// maxEventLen bounds X-GitHub-Event (the longest real name is ~40).
	maxEventLen = 64
	// retryAfter is the Retry-After of a shed delivery, in seconds.
	retryAfter = "5"
)

// Response status strings, the value of {"status": ...} in every answer.
const (
	StatusQueued        = "queued"
	StatusDuplicate     = "duplicate delivery"
	StatusPong          = "pong"
	StatusIgnored       = "ignored"
	StatusBadSignature  = "bad signature"
	StatusNotAllowed    = "repository not allowed"
	StatusTooLarge      = "payload too large"
	StatusUnsupported   = "unsupported content type"
	StatusBadRequest    = "bad request"
	StatusTimeout       = "request timeout"
	StatusUnavailable   = "unavailable"
	StatusMethodInvalid = "method not allowed"
)

// HandlerOptions configures NewHandler.
type HandlerOptions struct {
	// Secret is the webhook secret; required and non-empty.
	Secret []byte
	// Repos is the allowlist of repositories ("owner/name", compared
	// case-insensitively). Required: an empty list is an error, so that a
	// misconfigured daemon fails closed rather than accepting every
	// repository that shares the secret.
	Repos []string
	// Sink receives accepted push and pull_request events, from Run.
	// Required.
	Sink engine.TriggerSink
	// Deliveries dedupes X-GitHub-Delivery ids. Required.
	Deliveries engine.DeliveryStore
	// Logger gets one line per delivery; never the secret or signature.
	Logger zerolog.Logger
	// Metrics counts shed deliveries and the queue depth; nil records
	// nothing.
	Metrics *HandlerMetrics
	// MaxBodyBytes caps one body; 0 means DefaultMaxBodyBytes.
	MaxBodyBytes int64
	// MaxBodyBuffer caps the bytes of all bodies being read at once (503
	// beyond it); 0 means DefaultMaxBodyBuffer. It is raised to
	// MaxBodyBytes+1 if smaller, so one body of the maximum size fits.
	MaxBodyBuffer int64
	// BodyTimeout bounds reading one body (408 beyond it); 0 means
	// DefaultBodyTimeout.
	BodyTimeout time.Duration
	// QueueSize caps the deliveries accepted and not yet handed to the
	// sink and recorded (503 beyond it); 0 means DefaultQueueSize.
	QueueSize int
	// DispatchTimeout bounds each sink and store call; 0 means
	// DefaultDispatchTimeout.
	DispatchTimeout time.Duration
}

// Handler serves POST /webhooks/github. It verifies, dedupes and queues,
// and answers at once; Run hands the queued events to the sink. It never
// does slow work inline.
//
// Answers (always a small JSON object {"status": "..."}):
//
//	202 queued                 push or pull_request queued for the sink
//	200 duplicate delivery     X-GitHub-Delivery seen before (recorded or still queued); not acted on
//	200 pong                   ping
//	200 ignored                any other event or pull_request action
//	400 bad request            missing headers or a payload that does not decode
//	401 bad signature          missing/invalid X-Hub-Signature-256 (SHA-1 alone is refused)
//	403 repository not allowed repository outside the allowlist; nothing recorded
//	405 method not allowed     not POST
//	408 request timeout        the body did not arrive within BodyTimeout
//	413 payload too large      body over MaxBodyBytes
//	415 unsupported content type anything but application/json
//	503 unavailable            shed: the queue holds QueueSize deliveries, or the bodies
//	                           being read hold MaxBodyBuffer bytes (with Retry-After; counted
//	                           in ripple_webhook_shed_total); or the delivery store failed.
//	                           Nothing is recorded, so a redelivery is processed.
//
// A repository outside the allowlist gets 403 rather than a silent 2xx so
// that a misconfigured hook shows up as failed in GitHub's delivery log.
type Handler struct {
	secret      []byte
	allowed     map[string]bool
	sink        engine.TriggerSink
	deliveries  engine.DeliveryStore
	log         zerolog.Logger
	metrics     *HandlerMetrics
	maxBody     int64
	bodyBuffer  *semaphore.Weighted
	bodyTimeout time.Duration
	timeout     time.Duration
	queue       *queue
}

// NewHandler validates opts and returns a Handler. It refuses to build one
// without a secret, an allowlist, a sink or a delivery store.
func NewHandler(opts HandlerOptions) (*Handler, error) {
	if len(opts.Secret) == 0 {
		return nil, errors.New("webhook handler: a secret is required")
	}
	if opts.Sink == nil {
		return nil, errors.New("webhook handler: a trigger sink is required")
	}
	if opts.Deliveries == nil {
		return nil, errors.New("webhook handler: a delivery store is required")
	}
	allowed := make(map[string]bool, len(opts.Repos))
	for _, r := range opts.Repos {
		owner, name, ok := strings.Cut(strings.TrimSpace(r), "/")
		if !ok || owner == "" || name == "" || strings.Contains(name, "/") {
			return nil, fmt.Errorf("webhook handler: repository %q is not owner/name", r)
		}
		allowed[strings.ToLower(owner+"/"+name)] = true
	}
	if len(allowed) == 0 {
		return nil, errors.New("webhook handler: at least one allowed repository (owner/name) is required")
	}
	h := &Handler{
		secret:      append([]byte(nil), opts.Secret...),
		allowed:     allowed,
		sink:        opts.Sink,
		deliveries:  opts.Deliveries,
		log:         opts.Logger.With().Str("component", "webhooks").Logger(),
		metrics:     opts.Metrics,
		maxBody:     cmp.Or(max(opts.MaxBodyBytes, 0), DefaultMaxBodyBytes),
		bodyTimeout: cmp.Or(max(opts.BodyTimeout, 0), DefaultBodyTimeout),
		timeout:     cmp.Or(max(opts.DispatchTimeout, 0), DefaultDispatchTimeout),
	}
	buffer := max(cmp.Or(max(opts.MaxBodyBuffer, 0), DefaultMaxBodyBuffer), h.maxBody+1)
	h.bodyBuffer = semaphore.NewWeighted(buffer)
	h.queue = newQueue(cmp.Or(max(opts.QueueSize, 0), DefaultQueueSize), h.metrics.queueDepth)
	return h, nil
}

// ServeHTTP implements http.Handler.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	code, status := h.serve(w, r)
	writeStatus(w, code, status)
}

// serve does the work and returns the answer, so every path goes through
// one writer.
func (h *Handler) serve(w http.ResponseWriter, r *http.Request) (int, string) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		return http.StatusMethodNotAllowed, StatusMethodInvalid
	}
	if !isJSON(r.Header.Get("Content-Type")) {
		return http.StatusUnsupportedMediaType, StatusUnsupported
	}
	event := r.Header.Get("X-GitHub-Event")
	delivery := r.Header.Get("X-GitHub-Delivery")
	if event == "" || len(event) > maxEventLen || delivery == "" || len(delivery) > maxDeliveryIDLen {
		return http.StatusBadRequest, StatusBadRequest
	}
	sig := r.Header.Get("X-Hub-Signature-256")
	if sig == "" {
		// Also when only the SHA-1 X-Hub-Signature is present.
		h.log.Warn().Str("delivery", delivery).Str("event", event).Msg("webhook without X-Hub-Signature-256 refused")
		return http.StatusUnauthorized, StatusBadSignature
	}
	if r.ContentLength > h.maxBody {
		return http.StatusRequestEntityTooLarge, StatusTooLarge
	}

	body, release, err := readBody(w, r, h.maxBody, h.bodyBuffer, time.Now().Add(h.bodyTimeout))
	defer release()
	switch {
	case errors.Is(err, errBodyBuffer):
		h.log.Warn().Str("delivery", delivery).Str("event", event).Msg("webhook shed: the body buffer is full")
		return h.shed(w, event, shedBodyBuffer)
	case errors.Is(err, os.ErrDeadlineExceeded):
		h.log.Warn().Str("delivery", delivery).Str("event", event).Stringer("limit", h.bodyTimeout).Msg("webhook body too slow")
		return http.StatusRequestTimeout, StatusTimeout
	case err != nil:
		if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
			return http.StatusRequestEntityTooLarge, StatusTooLarge
		}
		return http.StatusBadRequest, StatusBadRequest
	}
	if err := verifySignature(h.secret, body, sig); err != nil {
		h.log.Warn().Str("delivery", delivery).Str("event", event).Err(err).Msg("webhook signature refused")
		return http.StatusUnauthorized, StatusBadSignature
	}

	switch event {
	case eventPush, eventPullRequest, eventPing:
	default:
		h.log.Debug().Str("delivery", delivery).Str("event", event).Msg("webhook event ignored")
		return http.StatusOK, StatusIgnored
	}
	p, err := parseEvent(event, delivery, body)
	if err != nil {
		h.log.Warn().Str("delivery", delivery).Str("event", event).Err(err).Msg("webhook payload refused")
		return http.StatusBadRequest, StatusBadRequest
	}
	if p.repo != "" && !h.allowed[strings.ToLower(p.repo)] {
		h.log.Warn().Str("delivery", delivery).Str("event", event).Str("repo", p.repo).Msg("webhook for a repository outside the allowlist refused")
		return http.StatusForbidden, StatusNotAllowed
	}
	switch {
	case p.ping:
		h.log.Info().Str("delivery", delivery).Str("repo", p.repo).Msg("webhook ping")
		return http.StatusOK, StatusPong
	case p.ignored != "":
		h.log.Debug().Str("delivery", delivery).Str("repo", p.repo).Str("reason", p.ignored).Msg("webhook event ignored")
		return http.StatusOK, StatusIgnored
	case p.repo == "":
		// push and pull_request always name their repository.
		return http.StatusBadRequest, StatusBadRequest
	}
	// The body is decoded; give its bytes back before waiting on anything.
	release()

	ctx, cancel := context.WithTimeout(r.Context(), h.timeout)
	defer cancel()
	return h.enqueue(ctx, w, event, delivery, p)
}

// enqueue accepts an event once per delivery id: an id recorded in the
// store or still in the queue is a duplicate. Deliveries with the same id
// are decided one at a time in-process; across processes the
// check-then-record order gives at-least-once (see engine.DeliveryStore).
func (h *Handler) enqueue(ctx context.Context, w http.ResponseWriter, event, delivery string, p parsed) (int, string) {
	log := h.log.With().Str("delivery", delivery).Str("event", event).Str("repo", p.repo).Logger()
	queued, err := h.queue.claim(ctx, delivery)
	switch {
	case err != nil:
		log.Error().Err(err).Msg("webhook delivery not queued")
		return http.StatusServiceUnavailable, StatusUnavailable
	case queued:
		log.Info().Msg("webhook duplicate delivery not acted on (still queued)")
		return http.StatusOK, StatusDuplicate
	}
	seen, err := h.deliveries.DeliverySeen(ctx, delivery)
	switch {
	case err != nil:
		h.queue.release(delivery)
		log.Error().Err(err).Msg("webhook delivery lookup")
		return http.StatusServiceUnavailable, StatusUnavailable
	case seen:
		h.queue.release(delivery)
		log.Info().Msg("webhook duplicate delivery not acted on")
		return http.StatusOK, StatusDuplicate
	}
	if !h.queue.add(delivery, event, p) {
		h.queue.release(delivery)
		log.Warn().Int("queue", h.queue.limit).Msg("webhook shed: the queue is full")
		return h.shed(w, event, shedQueueFull)
	}
	switch {
	case p.push != nil:
		log = log.With().Str("ref", p.push.Ref).Str("after", p.push.After).Logger()
	case p.pr != nil:
		log = log.With().Int("pr", p.pr.Number).Str("action", p.pr.Action).Str("head", p.pr.HeadSHA).Logger()
	}
	log.Info().Msg("webhook event queued")
	return http.StatusAccepted, StatusQueued
}

// shed answers 503 with Retry-After and counts the delivery.
func (h *Handler) shed(w http.ResponseWriter, event, reason string) (int, string) {
	h.metrics.shedDelivery(event, reason)
	w.Header().Set("Retry-After", retryAfter)
	return http.StatusServiceUnavailable, StatusUnavailable
}

// isJSON reports whether a Content-Type names application/json.
func isJSON(contentType string) bool {
	mt, _, err := mime.ParseMediaType(contentType)
	return err == nil && mt == "application/json"
}

func writeStatus(w http.ResponseWriter, code int, status string) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(struct {
		Status string `json:"status"`
	}{status})
}
