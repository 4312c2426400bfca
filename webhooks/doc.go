// Package webhooks is ripple's edge to GitHub (and to alert receivers). It
// implements interfaces the engine declares and imports engine and
// definitions for types only, never jobs.
//
// Inbound: Handler serves POST /webhooks/github. It verifies
// X-Hub-Signature-256 (HMAC-SHA256 over the raw body, constant-time; the
// SHA-1 header is never accepted) with its own check, using go-github only
// to decode; caps the body at 25 MiB; accepts only application/json and
// repositories on its allowlist; dedupes X-GitHub-Delivery through an
// engine.DeliveryStore; and hands push and pull_request
// (opened/synchronize/reopened) events to an engine.TriggerSink, which only
// enqueues. A delivery is recorded only after the sink accepted it, so one
// whose enqueue failed is processed when GitHub redelivers it. Handler runs
// no goroutines of its own; each request runs on the HTTP server's.
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
// Metrics (metrics.go) counts the reporter's requests; its outbox gauges
// query the store on the scraping goroutine, with a short timeout.
//
// Alert notifiers (Notifiers: webhook, Slack, email) live here too; their
// delivery goroutine is Notifiers.Run, likewise owned by the caller.
//
// Tokens and the webhook secret never reach a log.
package webhooks
