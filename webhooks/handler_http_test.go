package webhooks

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

// TestHandlerOverHTTP drives the handler through a real HTTP server and
// client, as GitHub would: a signed push is answered 202 quickly, a
// redelivery 200, and an oversize chunked body 413.
func TestHandlerOverHTTP(t *testing.T) {
	env := newHandlerEnv(t, func(o *HandlerOptions) { o.MaxBodyBytes = 64 << 10 })
	mux := http.NewServeMux()
	mux.Handle("POST /webhooks/github", env.h)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)

	post := func(id string, body []byte, chunked bool) *http.Response {
		t.Helper()
		var rd interface{ Read([]byte) (int, error) } = bytes.NewReader(body)
		if chunked {
			rd = struct{ *bytes.Reader }{bytes.NewReader(body)} // hides the length
		}
		req, err := http.NewRequest(http.MethodPost, srv.URL+"/webhooks/github", rd)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-GitHub-Event", "push")
		req.Header.Set("X-GitHub-Delivery", id)
		req.Header.Set("X-Hub-Signature-256", Sign([]byte(testSecret), body))
		resp, err := srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}

	body := ordinaryPush(t)
	start := time.Now()
	if resp := post("h-1", body, false); resp.StatusCode != http.StatusAccepted {
		t.Fatalf("push: %s", resp.Status)
	}
	// Generous bound for a loaded CI machine; GitHub allows 10 s.
	if took := time.Since(start); took > 2*time.Second {
		t.Fatalf("answer took %v", took)
	}
	if resp := post("h-1", body, false); resp.StatusCode != http.StatusOK {
		t.Fatalf("redelivery: %s", resp.Status)
	}
	if resp := post("h-2", bytes.Repeat([]byte("x"), 65<<10), true); resp.StatusCode != http.StatusRequestEntityTooLarge {
		t.Fatalf("oversize chunked: %s", resp.Status)
	}
	settle(t, env.h)
	if p, _ := env.sink.counts(); p != 1 {
		t.Fatalf("sink got %d pushes, want 1", p)
	}
}
