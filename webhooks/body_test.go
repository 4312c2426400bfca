package webhooks

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/ripple-ops/ripple/engine/httpapi"
)

func TestHandlerShedsBeyondTheBodyBuffer(t *testing.T) {
	reg := prometheus.NewPedanticRegistry()
	env := newHandlerEnv(t, func(o *HandlerOptions) {
		o.MaxBodyBytes = 64 << 10
		o.MaxBodyBuffer = 128 << 10
		o.Metrics = NewHandlerMetrics(reg)
	})
	body := ordinaryPush(t)
	// Other bodies being read hold all but a few KiB of the buffer.
	held := int64(128<<10) - 2<<10
	if !env.h.bodyBuffer.TryAcquire(held) {
		t.Fatal("buffer not free")
	}
	code, status, hdr := env.send(t, request{event: "push", id: "b-1", body: body})
	if code != http.StatusServiceUnavailable || status != StatusUnavailable || hdr.Get("Retry-After") == "" {
		t.Fatalf("full buffer: %d %q Retry-After %q, want 503 with Retry-After", code, status, hdr.Get("Retry-After"))
	}
	if got := testutil.ToFloat64(env.h.metrics.shed.WithLabelValues("push", shedBodyBuffer)); got != 1 {
		t.Errorf("shed{push,body_buffer} = %v, want 1", got)
	}
	env.h.bodyBuffer.Release(held)
	if code, _ := env.do(t, request{event: "push", id: "b-1", body: body}); code != http.StatusAccepted {
		t.Fatalf("with room: %d, want 202", code)
	}
	// Every byte went back.
	if !env.h.bodyBuffer.TryAcquire(128 << 10) {
		t.Fatal("the handler kept part of the body buffer")
	}
}

// TestHandlerCutsSlowBodies: a client that trickles its body is answered
// 408 after BodyTimeout (not the server's 60 s ReadTimeout), and meanwhile
// holds only the bytes it sent.
func TestHandlerCutsSlowBodies(t *testing.T) {
	env := newHandlerEnv(t, func(o *HandlerOptions) { o.BodyTimeout = 300 * time.Millisecond })
	handler := httpapi.New(httpapi.Options{Backend: newBurstDaemon(), Webhook: env.h, Registry: prometheus.NewRegistry()})
	srv := httptest.NewUnstartedServer(handler)
	srv.Config = httpapi.NewServer("", handler)
	srv.Start()
	t.Cleanup(srv.Close)

	conn, err := net.Dial("tcp", srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	start := time.Now()
	_, err = io.WriteString(conn, "POST /webhooks/github HTTP/1.1\r\nHost: ripple\r\nContent-Type: application/json\r\n"+
		"X-GitHub-Event: push\r\nX-GitHub-Delivery: slow\r\nX-Hub-Signature-256: sha256=00\r\n"+
		"Content-Length: 20000000\r\n\r\n{\"ref\":")
	if err != nil {
		t.Fatal(err)
	}
	stop := make(chan struct{})
	defer close(stop)
	go func() {
		for {
			select {
			case <-stop:
				return
			case <-time.After(20 * time.Millisecond):
				if _, err := conn.Write([]byte(" ")); err != nil {
					return
				}
			}
		}
	}()
	_ = conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusRequestTimeout {
		t.Fatalf("slow body answered %s, want 408", resp.Status)
	}
	if took := time.Since(start); took > 5*time.Second {
		t.Errorf("slow body cut after %v", took)
	}
	if !env.h.bodyBuffer.TryAcquire(DefaultMaxBodyBuffer) {
		t.Fatal("the slow body's bytes were not given back")
	}
	env.h.bodyBuffer.Release(DefaultMaxBodyBuffer)
}
