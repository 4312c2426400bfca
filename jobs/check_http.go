package jobs

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"time"

	"github.com/ripple-ops/ripple/definitions"
	"github.com/ripple-ops/ripple/engine"
)

// maxCheckBody is how much of a response body an http check reads (and
// matches BodyMatch against).
const maxCheckBody = 1 << 20

// newCheckHTTPClient returns the client shared by all http checks. It is
// sized for many hosts with a few requests each per minute: a small idle pool
// per host (kept 90s, so a host checked every 30s reuses its connection), a
// cap of 32 connections per host, a global idle cap, no proxy (checks probe
// the host itself), and
// no redirects followed, so Status is the status the URL itself answers.
// Per-request deadlines come from the check's context.
func newCheckHTTPClient(insecure bool) *http.Client {
	dialer := &net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}
	tr := &http.Transport{
		Proxy:                  nil,
		DialContext:            dialer.DialContext,
		ForceAttemptHTTP2:      true,
		MaxIdleConns:           2048,
		MaxIdleConnsPerHost:    4,
		MaxConnsPerHost:        32,
		IdleConnTimeout:        90 * time.Second,
		TLSHandshakeTimeout:    10 * time.Second,
		ResponseHeaderTimeout:  0, // bounded by the check's context
		ExpectContinueTimeout:  time.Second,
		MaxResponseHeaderBytes: 64 << 10,
	}
	if insecure {
		tr.TLSClientConfig = &tls.Config{InsecureSkipVerify: true} //nolint:gosec // only for checks with insecure = true
	}
	return &http.Client{
		Transport: tr,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
}

// checkHTTP GETs check.URL. OK when the status equals check.Status (default
// 200) and, if BodyMatch is set, the first MiB of the body matches it;
// CRITICAL otherwise or on any request error, UNKNOWN for a bad URL or
// pattern. Metric "time" is the latency to the end of the read body, in
// seconds.
func (c *Checker) checkHTTP(ctx context.Context, check *definitions.HostCheck, timeout time.Duration) engine.CheckResult {
	want := check.Status
	if want == 0 {
		want = http.StatusOK
	}
	u, err := url.Parse(check.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return unknownf("invalid http check URL %q", check.URL)
	}
	var re *regexp.Regexp
	if check.BodyMatch != "" {
		if re, err = c.bodyPattern(check.BodyMatch); err != nil {
			return unknownf("%v", err)
		}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return unknownf("build request: %v", err)
	}
	req.Header.Set("User-Agent", "ripple-check/1")
	client := c.httpClient
	if check.Insecure {
		client = c.insecureClient
	}
	start := time.Now()
	resp, err := client.Do(req)
	if err != nil {
		return criticalf("GET %s: %s", u.Redacted(), httpErrorText(ctx, err, timeout))
	}
	body, readErr := io.ReadAll(io.LimitReader(resp.Body, maxCheckBody))
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxCheckBody)) // let the connection be reused
	_ = resp.Body.Close()
	elapsed := time.Since(start)
	metrics := []engine.Metric{{Name: "time", Value: elapsed.Seconds(), Unit: "s"}}
	switch {
	case readErr != nil:
		r := criticalf("GET %s: status %d, reading body: %s", u.Redacted(), resp.StatusCode, httpErrorText(ctx, readErr, timeout))
		r.Metrics = metrics
		return r
	case resp.StatusCode != want:
		r := criticalf("GET %s: status %d, want %d", u.Redacted(), resp.StatusCode, want)
		r.Metrics = metrics
		return r
	case re != nil && !re.Match(body):
		r := criticalf("GET %s: status %d, body does not match %q", u.Redacted(), resp.StatusCode, check.BodyMatch)
		r.Metrics = metrics
		return r
	}
	return engine.CheckResult{
		State:   engine.StateOK,
		Output:  fmt.Sprintf("HTTP OK: status %d, %d bytes in %s", resp.StatusCode, len(body), roundDuration(elapsed)),
		Metrics: metrics,
	}
}

// httpErrorText describes a request error, naming timeouts plainly.
func httpErrorText(ctx context.Context, err error, timeout time.Duration) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err // the URL is already in the message
	}
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return "timed out after " + roundDuration(timeout)
	}
	return err.Error()
}
