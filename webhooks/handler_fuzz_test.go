package webhooks

import (
	"bytes"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/rs/zerolog"
)

// FuzzHandlerParse feeds validly signed random bodies through the whole
// handler; it must never panic and must answer with one of the documented
// codes.
func FuzzHandlerParse(f *testing.F) {
	for _, name := range []string{
		"push/payload.json", "push/with-new-branch.payload.json",
		"pull_request/opened.payload.json", "pull_request/synchronize.payload.json",
		"ping/payload.json",
	} {
		b := fixture(f, name)
		f.Add(uint8(0), b)
		f.Add(uint8(1), b)
		f.Add(uint8(2), b)
	}
	f.Add(uint8(0), []byte(`{"ref":"refs/heads/main","repository":{"full_name":"Codertocat/Hello-World"}}`))
	f.Add(uint8(1), []byte(`{"action":"opened","repository":{"full_name":"Codertocat/Hello-World"},"pull_request":{"head":{"sha":"x","repo":null}}}`))
	f.Add(uint8(1), []byte(`null`))
	events := []string{"push", "pull_request", "ping", "issues"}
	sink := &fakeSink{}
	h, err := NewHandler(HandlerOptions{
		Secret: []byte(testSecret), Repos: []string{"Codertocat/Hello-World"},
		Sink: sink, Deliveries: &fakeDeliveries{}, Logger: zerolog.Nop(),
	})
	if err != nil {
		f.Fatal(err)
	}
	startHandler(f, h) // so that accepted events never fill the queue
	allowed := map[int]bool{200: true, 202: true, 400: true, 403: true}
	f.Fuzz(func(t *testing.T, which uint8, body []byte) {
		req := httptest.NewRequest(http.MethodPost, "/webhooks/github", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-GitHub-Event", events[int(which)%len(events)])
		req.Header.Set("X-GitHub-Delivery", fmt.Sprintf("fuzz-%d", time.Now().UnixNano()))
		req.Header.Set("X-Hub-Signature-256", Sign([]byte(testSecret), body))
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if !allowed[rec.Code] {
			t.Fatalf("code %d for %q", rec.Code, body)
		}
	})
}
