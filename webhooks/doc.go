// Package webhooks is ripple's edge to GitHub (and to alert receivers). It
// implements interfaces the engine declares and imports engine and
// definitions for types only, never jobs.
//
// Inbound: Handler serves POST /webhooks/github. It verifies
// X-Hub-Signature-256 (HMAC-SHA256 over the raw body, constant-time; the
// SHA-1 header is never accepted) with its own check, using go-github only
// to decode; caps the body at 25 MiB and reads it under a deadline of its
// own, holding its bytes against a shared body buffer as they arrive (so
// slow clients hold little); accepts only application/json and
// repositories on its allowlist; dedupes X-GitHub-Delivery through an
// engine.DeliveryStore and its own in-memory claims; and queues push and
// pull_request (opened/synchronize/reopened) events in a bounded queue that
// keeps one pending event per ref and per pull request, answering 202 at
// once. Beyond a bound (queue or body buffer) it answers 503 with
// Retry-After and counts the delivery as shed (HandlerMetrics).
//
// Handler.Run is the handler's one goroutine, owned by the caller (cmd),
// which starts it and stops it by cancelling ctx after the HTTP server has
// stopped: it hands queued events to an engine.TriggerSink, which only
// enqueues, and records each delivery id only after the sink accepted its
// event, so one the sink refused is processed when GitHub redelivers it.
// Requests run on the HTTP server's goroutines.
//
// Outbound: GitHubReporter is the one rate-aware outbox to GitHub. Its Run
// method is the outbox worker, the only goroutine it needs; the caller (cmd)
// starts it and stops it by cancelling ctx. The worker reads coalesced
// pending statuses from the store, posts them one at a time at least
// MinInterval apart, waits out 403 and 429 rate limits (Retry-After,
// x-ratelimit-reset, else a minute), backs off exponentially with jitter on
// other transient errors (engine/backoff), drops statuses for commits GitHub no longer has (422 "No
// commit found", logged once) and marks each delivered in the store, so a
// status queued before a crash is still sent after the restart. Notify wakes
// it early. UpsertPlanComment runs on the caller's goroutine but takes the
// same lock, pacing and rate-limit hold as the worker, and keeps a single
// plan comment per pull request (found by PlanMarker, edited in place).
// OpenRevertPullRequest, likewise on the caller's goroutine and through the
// same hold, opens the pull request of a revert branch (or finds the one
// already open).
// Metrics (metrics.go) counts the reporter's requests; its outbox gauges
// query the store on the scraping goroutine, with a short timeout.
//
// Alert notifiers (Notifiers: webhook, Slack, email) live here too; their
// delivery goroutine is Notifiers.Run, likewise owned by the caller.
//
// Tokens and the webhook secret never reach a log.
package webhooks
