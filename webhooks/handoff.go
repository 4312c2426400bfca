package webhooks

import (
	"context"

	"golang.org/x/sync/errgroup"
)

// recordConcurrency is how many delivery ids are recorded at once. The
// SQLite store commits concurrent writes together (one fsync per batch), so
// recording a burst in parallel costs a few commits rather than one each.
const recordConcurrency = 64

// Run hands queued events to the sink and records their delivery ids,
// until ctx ends; it is the handler's only goroutine and must run for
// accepted events to reach the sink. When ctx ends it hands over what is
// still queued (each call bounded by DispatchTimeout) and returns nil, so
// stop it after the HTTP server has stopped answering deliveries.
func (h *Handler) Run(ctx context.Context) error {
	// A hand-over is not cut short by ctx: each call in it is bounded by
	// DispatchTimeout, and an event answered 202 should reach the engine.
	hctx := context.WithoutCancel(ctx)
	for {
		select {
		case <-ctx.Done():
			h.handOver(hctx)
			return nil
		case <-h.queue.wake:
			h.handOver(hctx)
		}
	}
}

// handOver empties the queue: each pending event goes to the sink, then
// every delivery coalesced into an accepted one is recorded. An event the
// sink refuses is logged and its deliveries are not recorded, so a manual
// redelivery from GitHub is acted on.
func (h *Handler) handOver(ctx context.Context) {
	for {
		items := h.queue.take()
		if len(items) == 0 {
			return
		}
		var accepted, refused []acceptedDelivery
		for _, it := range items {
			if err := h.toSink(ctx, it); err != nil {
				refused = append(refused, it.deliveries...)
				continue
			}
			accepted = append(accepted, it.deliveries...)
		}
		h.queue.done(refused)
		h.record(ctx, accepted)
		h.queue.done(accepted)
	}
}

// toSink hands one coalesced event to the sink.
func (h *Handler) toSink(ctx context.Context, it *queued) error {
	ctx, cancel := context.WithTimeout(ctx, h.timeout)
	defer cancel()
	last := it.deliveries[len(it.deliveries)-1]
	log := h.log.With().Str("delivery", last.id).Str("event", last.event).Int("coalesced", len(it.deliveries)).Logger()
	var err error
	switch {
	case it.push != nil:
		log = log.With().Str("repo", it.push.Repo).Str("ref", it.push.Ref).Str("after", it.push.After).Logger()
		err = h.sink.Push(ctx, *it.push)
	case it.pr != nil:
		log = log.With().Str("repo", it.pr.Repo).Int("pr", it.pr.Number).Str("action", it.pr.Action).Str("head", it.pr.HeadSHA).Logger()
		err = h.sink.PullRequest(ctx, *it.pr)
	}
	if err != nil {
		// Not recorded: a redelivery of any of these ids is acted on.
		log.Error().Err(err).Msg("webhook event not accepted by the engine")
		return err
	}
	log.Debug().Msg("webhook event handed to the engine")
	return nil
}

// record stores the ids of deliveries the sink accepted, concurrently.
func (h *Handler) record(ctx context.Context, ds []acceptedDelivery) {
	var g errgroup.Group
	g.SetLimit(recordConcurrency)
	for _, d := range ds {
		g.Go(func() error {
			rctx, cancel := context.WithTimeout(ctx, h.timeout)
			defer cancel()
			if _, err := h.deliveries.RecordDelivery(rctx, d.id, d.event); err != nil {
				// The event reached the engine; at worst a redelivery
				// wakes it again, which it tolerates.
				h.log.Warn().Str("delivery", d.id).Str("event", d.event).Err(err).Msg("webhook delivery handed over but not recorded")
			}
			return nil
		})
	}
	_ = g.Wait()
}
