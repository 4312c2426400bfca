package webhooks

import (
	"context"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

// pushTo is the ordinary push fixture moved to ref and head after.
func pushTo(t testing.TB, ref, after string) []byte {
	return edit(t, ordinaryPush(t), `"ref": "refs/heads/main"`, `"ref": "`+ref+`"`, `"after": "`+shaA+`"`, `"after": "`+after+`"`)
}

// prAt is the opened pull request fixture with head sha head.
func prAt(t testing.TB, head string) []byte {
	return edit(t, fixture(t, "pull_request/opened.payload.json"), `"sha": "`+prHeadSHA+`"`, `"sha": "`+head+`"`)
}

// waitTaken waits until the hand-over has taken every pending event.
func waitTaken(t *testing.T, h *Handler) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		h.queue.mu.Lock()
		n := len(h.queue.pending)
		h.queue.mu.Unlock()
		if n == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d events still pending", n)
		}
		time.Sleep(time.Millisecond)
	}
}

func head(n int) string { return fmt.Sprintf("%040x", n) }

func TestHandlerCoalescesPerRefAndPullRequest(t *testing.T) {
	env := newHandlerEnv(t, nil)
	env.sink.block = make(chan struct{})
	send := func(id, event string, body []byte) {
		t.Helper()
		if code, status, _ := env.send(t, request{event: event, id: id, body: body}); code != http.StatusAccepted {
			t.Fatalf("%s: answer %d %q, want 202", id, code, status)
		}
	}
	// The first push is taken and held in the sink; what follows queues
	// behind it and coalesces.
	send("c-1", "push", pushTo(t, "refs/heads/main", head(1)))
	waitTaken(t, env.h)
	send("c-2", "push", pushTo(t, "refs/heads/main", head(2)))
	send("c-3", "pull_request", prAt(t, head(3)))
	send("c-4", "push", pushTo(t, "refs/heads/feature", head(4)))
	send("c-5", "push", pushTo(t, "refs/heads/main", head(5)))
	send("c-6", "pull_request", prAt(t, head(6)))
	if got := env.h.queue.depth(); got != 6 {
		t.Errorf("queue depth = %d, want 6", got)
	}
	close(env.sink.block)
	settle(t, env.h)

	var pushes []string
	for _, p := range env.sink.pushes {
		pushes = append(pushes, p.Ref+"@"+p.After[len(p.After)-1:]+" "+p.DeliveryID)
	}
	// Oldest key first, latest event of each key.
	want := []string{"refs/heads/main@1 c-1", "refs/heads/main@5 c-5", "refs/heads/feature@4 c-4"}
	if diff := cmp.Diff(want, pushes); diff != "" {
		t.Errorf("pushes (-want +got):\n%s", diff)
	}
	if len(env.sink.prs) != 1 || env.sink.prs[0].HeadSHA != head(6) {
		t.Errorf("pull requests = %+v, want one at %s", env.sink.prs, head(6))
	}
	if env.dels.len() != 6 {
		t.Errorf("%d deliveries recorded, want all 6", env.dels.len())
	}
	// A redelivery of a coalesced id is a duplicate.
	if code, status := env.do(t, request{event: "push", id: "c-2", body: pushTo(t, "refs/heads/main", head(2))}); status != StatusDuplicate {
		t.Errorf("redelivery of a coalesced delivery = %d %q", code, status)
	}
}

func TestHandlerShedsBeyondTheQueueBound(t *testing.T) {
	reg := prometheus.NewPedanticRegistry()
	env := newHandlerEnv(t, func(o *HandlerOptions) {
		o.QueueSize = 2
		o.Metrics = NewHandlerMetrics(reg)
	})
	env.sink.block = make(chan struct{})
	if code, _, _ := env.send(t, request{event: "push", id: "q-1", body: pushTo(t, "refs/heads/main", head(1))}); code != http.StatusAccepted {
		t.Fatalf("q-1 = %d", code)
	}
	waitTaken(t, env.h)
	// Coalescing does not lift the bound: every delivery is held until
	// its id is recorded.
	if code, _, _ := env.send(t, request{event: "push", id: "q-2", body: pushTo(t, "refs/heads/main", head(2))}); code != http.StatusAccepted {
		t.Fatalf("q-2 = %d", code)
	}
	code, status, hdr := env.send(t, request{event: "pull_request", id: "q-3", body: prAt(t, head(3))})
	if code != http.StatusServiceUnavailable || status != StatusUnavailable || hdr.Get("Retry-After") == "" {
		t.Fatalf("beyond the bound: %d %q Retry-After %q, want 503 with Retry-After", code, status, hdr.Get("Retry-After"))
	}
	if got := testutil.ToFloat64(env.h.metrics.shed.WithLabelValues("pull_request", shedQueueFull)); got != 1 {
		t.Errorf("shed{pull_request,queue_full} = %v, want 1", got)
	}
	if got := testutil.ToFloat64(env.h.metrics.depth); got != 2 {
		t.Errorf("queue depth gauge = %v, want 2", got)
	}
	if n, err := testutil.GatherAndCount(reg, "ripple_webhook_shed_total"); err != nil || n != 8 {
		t.Errorf("ripple_webhook_shed_total has %d series (%v), want 4 events x 2 reasons", n, err)
	}

	close(env.sink.block)
	settle(t, env.h)
	if got := testutil.ToFloat64(env.h.metrics.depth); got != 0 {
		t.Errorf("queue depth gauge after the hand-over = %v, want 0", got)
	}
	if env.dels.len() != 2 {
		t.Fatalf("%d deliveries recorded, want q-1 and q-2", env.dels.len())
	}
	// The shed delivery was not recorded: sent again, it is acted on.
	if code, status := env.do(t, request{event: "pull_request", id: "q-3", body: prAt(t, head(3))}); code != http.StatusAccepted {
		t.Fatalf("q-3 again = %d %q, want 202", code, status)
	}
	if _, prs := env.sink.counts(); prs != 1 {
		t.Fatalf("sink got %d pull requests, want 1", prs)
	}
}

// TestHandlerRunHandsOverWhenStopped: what was answered 202 before Run's
// ctx ended still reaches the sink and is recorded.
func TestHandlerRunHandsOverWhenStopped(t *testing.T) {
	sink, dels := &fakeSink{}, &fakeDeliveries{}
	h, err := NewHandler(HandlerOptions{Secret: []byte(testSecret), Repos: []string{"codertocat/hello-world"}, Sink: sink, Deliveries: dels})
	if err != nil {
		t.Fatal(err)
	}
	env := &handlerEnv{h: h, sink: sink, dels: dels}
	if code, _, _ := env.send(t, request{event: "push", id: "s-1", body: ordinaryPush(t)}); code != http.StatusAccepted {
		t.Fatalf("answer %d", code)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := h.Run(ctx); err != nil {
		t.Fatalf("Run = %v", err)
	}
	if p, _ := sink.counts(); p != 1 || dels.len() != 1 || h.queue.depth() != 0 {
		t.Fatalf("after Run: %d pushes, %d recorded, %d held; want 1, 1, 0", p, dels.len(), h.queue.depth())
	}
}
