package httpapi

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/ripple-ops/ripple/engine"
)

// DefaultEventPoll is how often a run's event stream reads the store.
const DefaultEventPoll = 500 * time.Millisecond

// sseKeepalive is how long a stream stays silent before a comment line
// keeps proxies from closing it.
const sseKeepalive = 15 * time.Second

// LoadRunDetail reads a run with its journal and audit events.
func LoadRunDetail(ctx context.Context, store Store, id int64, publicURL string) (RunDetail, error) {
	run, err := store.GetRun(ctx, id)
	if err != nil {
		return RunDetail{}, err
	}
	steps, err := store.HostSteps(ctx, id)
	if err != nil {
		return RunDetail{}, err
	}
	events, err := store.Events(ctx, id)
	if err != nil {
		return RunDetail{}, err
	}
	return runDetail(run, steps, events, publicURL), nil
}

// Stopping reports whether SetStopping was called; long-lived streams end
// when it turns true so that shutdown is not held up by them.
func (h *Handler) Stopping() bool { return h.stopping.Load() }

// runEvents is GET /api/v1/runs/{id}/events: a Server-Sent Events stream
// of the run's detail, an event each time it changes, ending once the run
// is final.
func (h *Handler) runEvents(w http.ResponseWriter, r *http.Request, _ Identity) {
	id, ok := runID(w, r)
	if !ok {
		return
	}
	poll := h.opts.EventPoll
	if poll <= 0 {
		poll = DefaultEventPoll
	}
	StreamEvents(w, r, StreamOptions{Event: "run", Poll: poll, Stopping: h.Stopping},
		func(ctx context.Context) ([]byte, bool, error) {
			d, err := LoadRunDetail(ctx, h.opts.Store, id, h.opts.PublicURL)
			if err != nil {
				return nil, false, err
			}
			b, err := json.Marshal(d)
			if err != nil {
				return nil, false, fmt.Errorf("encode run %d: %w", id, err)
			}
			return b, engine.RunState(d.State).Final(), nil
		})
}

// StreamOptions configure StreamEvents.
type StreamOptions struct {
	Event string        // the event name of each update
	Poll  time.Duration // how often next is called
	// Stopping, when set, ends the stream once it reports true (the daemon
	// is shutting down; clients reconnect to the next one).
	Stopping func() bool
}

// StreamEvents answers r with a text/event-stream. It calls next every
// Poll and sends its data as an event named opts.Event whenever it differs
// from the last one sent; after data with final set it sends
// "event: end" and returns. It also returns when the client goes away, the
// handler is stopping, or next fails (a failure before anything was sent
// is answered as a JSON error, so a missing run is a 404).
func StreamEvents(w http.ResponseWriter, r *http.Request, opts StreamOptions, next func(ctx context.Context) (data []byte, final bool, err error)) {
	ctx := r.Context()
	data, final, err := next(ctx)
	if err != nil {
		writeBackendError(w, err)
		return
	}
	rc := http.NewResponseController(w)
	hdr := w.Header()
	hdr.Set("Content-Type", "text/event-stream")
	hdr.Set("Cache-Control", "no-store")
	hdr.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)

	seq := 0
	write := func(chunk []byte) bool {
		// The server's write timeout suits ordinary requests; a stream
		// extends it before each write instead.
		_ = rc.SetWriteDeadline(time.Now().Add(opts.Poll + 30*time.Second))
		if _, err := w.Write(chunk); err != nil {
			return false
		}
		return rc.Flush() == nil
	}
	if !write([]byte("retry: 2000\n\n")) {
		return
	}
	var last []byte
	send := func(data []byte) bool {
		if bytes.Equal(data, last) {
			return true
		}
		last = data
		seq++
		return write(sseFrame(opts.Event, seq, data))
	}
	if !send(data) {
		return
	}
	tick := time.NewTicker(opts.Poll)
	defer tick.Stop()
	quiet := time.Now()
	for !final {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		if opts.Stopping != nil && opts.Stopping() {
			return
		}
		if data, final, err = next(ctx); err != nil {
			b, _ := json.Marshal(Error{Error: err.Error()})
			write(sseFrame("error", seq+1, b))
			return
		}
		sent := !bytes.Equal(data, last)
		if !send(data) {
			return
		}
		switch {
		case sent:
			quiet = time.Now()
		case time.Since(quiet) >= sseKeepalive:
			if !write([]byte(": keepalive\n\n")) {
				return
			}
			quiet = time.Now()
		}
	}
	write(sseFrame("end", seq+1, []byte("{}")))
}

// sseFrame formats one event; every line of data gets its own "data:"
// field, as the SSE format requires.
func sseFrame(event string, id int, data []byte) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "event: %s\nid: %d\n", event, id)
	data = bytes.ReplaceAll(data, []byte("\r"), nil)
	for _, line := range bytes.Split(data, []byte("\n")) {
		b.WriteString("data: ")
		b.Write(line)
		b.WriteByte('\n')
	}
	b.WriteByte('\n')
	return b.Bytes()
}
