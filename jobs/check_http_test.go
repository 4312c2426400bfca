package jobs

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/ripple-ops/ripple/definitions"
	"github.com/ripple-ops/ripple/engine"
)

func newCheckTestMux() *http.ServeMux {
	mux := http.NewServeMux()
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) { fmt.Fprint(w, `{"status":"healthy"}`) })
	mux.HandleFunc("/fail", func(w http.ResponseWriter, _ *http.Request) { http.Error(w, "down", http.StatusServiceUnavailable) })
	mux.HandleFunc("/created", func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusCreated) })
	mux.HandleFunc("/redirect", func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, "/healthz", http.StatusFound) })
	mux.HandleFunc("/slow", func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-time.After(5 * time.Second):
		case <-r.Context().Done():
		}
	})
	return mux
}

func TestCheckHTTP(t *testing.T) {
	srv := httptest.NewServer(newCheckTestMux())
	defer srv.Close()
	c := NewChecker(CheckerOptions{})
	defer c.Close()
	tests := []struct {
		name    string
		check   definitions.HostCheck
		state   engine.CheckState
		output  string
		metrics bool
	}{
		{name: "ok", check: definitions.HostCheck{URL: srv.URL + "/healthz"}, state: engine.StateOK, output: "HTTP OK: status 200", metrics: true},
		{name: "body match", check: definitions.HostCheck{URL: srv.URL + "/healthz", BodyMatch: `"status":\s*"healthy"`}, state: engine.StateOK, metrics: true},
		{name: "body mismatch", check: definitions.HostCheck{URL: srv.URL + "/healthz", BodyMatch: `degraded`}, state: engine.StateCritical, output: "body does not match", metrics: true},
		{name: "status mismatch", check: definitions.HostCheck{URL: srv.URL + "/fail"}, state: engine.StateCritical, output: "status 503, want 200", metrics: true},
		{name: "custom status", check: definitions.HostCheck{URL: srv.URL + "/created", Status: 201}, state: engine.StateOK, metrics: true},
		{name: "redirect not followed", check: definitions.HostCheck{URL: srv.URL + "/redirect"}, state: engine.StateCritical, output: "status 302, want 200", metrics: true},
		{name: "timeout", check: definitions.HostCheck{URL: srv.URL + "/slow", Timeout: 200 * time.Millisecond}, state: engine.StateCritical, output: "timed out after 200ms"},
		{name: "bad regexp", check: definitions.HostCheck{URL: srv.URL + "/healthz", BodyMatch: `(`}, state: engine.StateUnknown, output: "body pattern"},
		{name: "bad url", check: definitions.HostCheck{URL: "ftp://x"}, state: engine.StateUnknown, output: "invalid http check URL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			hc := tt.check
			hc.Kind = definitions.CheckHTTP
			start := time.Now()
			res := c.Check(context.Background(), localEndpoint(), &hc)
			if res.State != tt.state || !strings.Contains(res.Output, tt.output) {
				t.Errorf("got %v %q, want %v containing %q", res.State, res.Output, tt.state, tt.output)
			}
			if tt.metrics && (len(res.Metrics) != 1 || res.Metrics[0].Name != "time" || res.Metrics[0].Unit != "s" || res.Metrics[0].Value <= 0) {
				t.Errorf("metrics = %+v, want one positive time in s", res.Metrics)
			}
			if time.Since(start) > 3*time.Second {
				t.Errorf("took %v", time.Since(start))
			}
		})
	}

	// A stopped server: connection refused is CRITICAL.
	url := srv.URL + "/healthz"
	srv.Close()
	res := c.Check(context.Background(), localEndpoint(), &definitions.HostCheck{Kind: definitions.CheckHTTP, URL: url})
	if res.State != engine.StateCritical || !strings.Contains(res.Output, "refused") {
		t.Errorf("stopped server: %v %q", res.State, res.Output)
	}
}

func TestCheckHTTPTLS(t *testing.T) {
	srv := httptest.NewTLSServer(newCheckTestMux())
	defer srv.Close()
	hc := &definitions.HostCheck{Kind: definitions.CheckHTTP, URL: srv.URL + "/healthz"}

	res := NewChecker(CheckerOptions{}).Check(context.Background(), localEndpoint(), hc)
	if res.State != engine.StateCritical || !strings.Contains(res.Output, "certificate") {
		t.Errorf("unverified certificate: %v %q, want CRITICAL naming the certificate", res.State, res.Output)
	}
	insecure := *hc
	insecure.Insecure = true
	res = NewChecker(CheckerOptions{}).Check(context.Background(), localEndpoint(), &insecure)
	if res.State != engine.StateOK {
		t.Errorf("insecure: %v %q", res.State, res.Output)
	}
	res = NewChecker(CheckerOptions{HTTPClient: srv.Client()}).Check(context.Background(), localEndpoint(), hc)
	if res.State != engine.StateOK {
		t.Errorf("trusted CA: %v %q", res.State, res.Output)
	}
}

func TestCheckHTTPRedactsURLSecrets(t *testing.T) {
	c := NewChecker(CheckerOptions{})
	res := c.Check(context.Background(), localEndpoint(), &definitions.HostCheck{
		Kind: definitions.CheckHTTP, URL: "http://127.0.0.1:1/health?token=hunter2", Secrets: []string{"hunter2"},
	})
	if res.State != engine.StateCritical || strings.Contains(res.Output, "hunter2") {
		t.Errorf("got %v %q", res.State, res.Output)
	}
}
