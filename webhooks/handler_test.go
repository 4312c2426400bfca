package webhooks

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/rs/zerolog"

	"github.com/ripple-ops/ripple/engine"
)

const testSecret = "s3cr3t-webhook-value"

type handlerEnv struct {
	h    *Handler
	sink *fakeSink
	dels *fakeDeliveries
	logs *bytes.Buffer
}

func newHandlerEnv(t *testing.T, mod func(*HandlerOptions)) *handlerEnv {
	t.Helper()
	env := &handlerEnv{sink: &fakeSink{}, dels: &fakeDeliveries{}, logs: &bytes.Buffer{}}
	opts := HandlerOptions{
		Secret:     []byte(testSecret),
		Repos:      []string{"codertocat/hello-world", "octocoders/hello-world"},
		Sink:       env.sink,
		Deliveries: env.dels,
		Logger:     zerolog.New(zerolog.SyncWriter(env.logs)),
	}
	if mod != nil {
		mod(&opts)
	}
	h, err := NewHandler(opts)
	if err != nil {
		t.Fatalf("NewHandler: %v", err)
	}
	env.h = h
	startHandler(t, h)
	return env
}

// startHandler runs h's hand-over until the test ends.
func startHandler(t testing.TB, h *Handler) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = h.Run(ctx)
	}()
	t.Cleanup(func() {
		cancel()
		<-done
	})
}

// settle waits until every accepted delivery was handed to the sink and
// recorded (or given up).
func settle(t testing.TB, h *Handler) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for h.queue.depth() > 0 {
		if time.Now().After(deadline) {
			t.Fatalf("queue still holds %d deliveries", h.queue.depth())
		}
		time.Sleep(time.Millisecond)
	}
}

// delivery is one request to the handler.
type request struct {
	event, id   string
	body        []byte
	sig         string // "" = sign with testSecret
	contentType string // "" = application/json
	noSig       bool
}

// do sends r and waits until the handler has handed what it accepted to
// the sink and recorded it.
func (env *handlerEnv) do(t *testing.T, r request) (int, string) {
	t.Helper()
	code, status, _ := env.send(t, r)
	settle(t, env.h)
	return code, status
}

// send sends r and returns the answer without waiting for the hand-over.
func (env *handlerEnv) send(t *testing.T, r request) (int, string, http.Header) {
	t.Helper()
	req := httptest.NewRequest(http.MethodPost, "/webhooks/github", bytes.NewReader(r.body))
	ct := r.contentType
	if ct == "" {
		ct = "application/json"
	}
	req.Header.Set("Content-Type", ct)
	req.Header.Set("X-GitHub-Event", r.event)
	req.Header.Set("X-GitHub-Delivery", r.id)
	if !r.noSig {
		sig := r.sig
		if sig == "" {
			sig = Sign([]byte(testSecret), r.body)
		}
		req.Header.Set("X-Hub-Signature-256", sig)
	}
	rec := httptest.NewRecorder()
	env.h.ServeHTTP(rec, req)
	var resp struct{ Status string }
	if err := json.Unmarshal(rec.Body.Bytes(), &resp); err != nil {
		t.Fatalf("response %q is not {\"status\"}: %v", rec.Body.String(), err)
	}
	return rec.Code, resp.Status, rec.Header()
}

func TestSignMatchesGitHubDocsVector(t *testing.T) {
	secret, body := []byte("It's a Secret to Everybody"), []byte("Hello, World!")
	const want = "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"
	if got := Sign(secret, body); got != want {
		t.Fatalf("Sign = %s, want %s", got, want)
	}
	if err := verifySignature(secret, body, want); err != nil {
		t.Fatalf("verify docs vector: %v", err)
	}
	for _, bad := range []string{
		"", "sha256=", "sha1=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17",
		"sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e18",
		"sha256=757107ea", "sha256=zz7107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17",
		strings.ToUpper(want),
	} {
		if err := verifySignature(secret, body, bad); err == nil {
			t.Errorf("verifySignature accepted %q", bad)
		}
	}
	if err := verifySignature(secret, []byte("Hello, World?"), want); err == nil {
		t.Error("verifySignature accepted a changed body")
	}
}

func TestNewHandlerRefusesIncompleteOptions(t *testing.T) {
	good := func() HandlerOptions {
		return HandlerOptions{Secret: []byte("x"), Repos: []string{"o/r"}, Sink: &fakeSink{}, Deliveries: &fakeDeliveries{}}
	}
	for name, mod := range map[string]func(*HandlerOptions){
		"no secret":     func(o *HandlerOptions) { o.Secret = nil },
		"empty secret":  func(o *HandlerOptions) { o.Secret = []byte{} },
		"no repos":      func(o *HandlerOptions) { o.Repos = nil },
		"bad repo":      func(o *HandlerOptions) { o.Repos = []string{"just-a-name"} },
		"nested repo":   func(o *HandlerOptions) { o.Repos = []string{"o/r/x"} },
		"no sink":       func(o *HandlerOptions) { o.Sink = nil },
		"no deliveries": func(o *HandlerOptions) { o.Deliveries = nil },
	} {
		t.Run(name, func(t *testing.T) {
			o := good()
			mod(&o)
			if _, err := NewHandler(o); err == nil {
				t.Fatal("NewHandler accepted incomplete options")
			}
		})
	}
	if _, err := NewHandler(good()); err != nil {
		t.Fatalf("NewHandler(good) = %v", err)
	}
}

func TestHandlerForwardsEvents(t *testing.T) {
	tests := []struct {
		name       string
		event      string
		body       func(testing.TB) []byte
		wantCode   int
		wantStatus string
		wantPush   *engine.PushEvent
		wantPR     *engine.PullRequestEvent
	}{
		{
			name: "ordinary push to main", event: "push", body: ordinaryPush,
			wantCode: 202, wantStatus: StatusQueued,
			wantPush: &engine.PushEvent{Repo: "Codertocat/Hello-World", Ref: "refs/heads/main", Before: shaB, After: shaA, Sender: "Codertocat"},
		},
		{
			name: "force-push", event: "push", body: forcePush,
			wantCode: 202, wantStatus: StatusQueued,
			wantPush: &engine.PushEvent{Repo: "Codertocat/Hello-World", Ref: "refs/heads/main", Before: shaB, After: shaA, Forced: true, Sender: "Codertocat"},
		},
		{
			name: "branch deletion", event: "push", body: branchDeletion,
			wantCode: 202, wantStatus: StatusQueued,
			wantPush: &engine.PushEvent{Repo: "Codertocat/Hello-World", Ref: "refs/heads/feature", Before: shaA, After: zero, Deleted: true, Sender: "Codertocat"},
		},
		{
			name: "tag push", event: "push", body: tagPush,
			wantCode: 202, wantStatus: StatusQueued,
			wantPush: &engine.PushEvent{Repo: "Codertocat/Hello-World", Ref: "refs/tags/v1.0.0", Before: zero, After: shaA, Created: true, Tag: true, Sender: "Codertocat"},
		},
		{
			name: "tag deletion (unchanged fixture)", event: "push", body: func(t testing.TB) []byte { return fixture(t, "push/payload.json") },
			wantCode: 202, wantStatus: StatusQueued,
			wantPush: &engine.PushEvent{Repo: "Codertocat/Hello-World", Ref: "refs/tags/simple-tag", Before: shaA, After: zero, Deleted: true, Tag: true, Sender: "Codertocat"},
		},
		{
			name: "same-repo pull request opened", event: "pull_request",
			body:     func(t testing.TB) []byte { return fixture(t, "pull_request/opened.payload.json") },
			wantCode: 202, wantStatus: StatusQueued,
			wantPR: &engine.PullRequestEvent{Repo: "Codertocat/Hello-World", Number: 2, Action: "opened",
				HeadSHA: "ec26c3e57ca3a959ca5aad62de7213c562f8c821", HeadRef: "changes", BaseRef: "master",
				HeadRepo: "Codertocat/Hello-World", Sender: "Codertocat"},
		},
		{
			name: "fork pull request", event: "pull_request", body: forkPR,
			wantCode: 202, wantStatus: StatusQueued,
			wantPR: &engine.PullRequestEvent{Repo: "Codertocat/Hello-World", Number: 2, Action: "opened",
				HeadSHA: "ec26c3e57ca3a959ca5aad62de7213c562f8c821", HeadRef: "changes", BaseRef: "master",
				HeadRepo: "forker/Hello-World", Fork: true, Sender: "Codertocat"},
		},
		{
			name: "pull request synchronize", event: "pull_request",
			body:     func(t testing.TB) []byte { return fixture(t, "pull_request/synchronize.payload.json") },
			wantCode: 202, wantStatus: StatusQueued,
		},
		{
			name: "pull request closed is ignored", event: "pull_request",
			body:     func(t testing.TB) []byte { return fixture(t, "pull_request/closed.payload.json") },
			wantCode: 200, wantStatus: StatusIgnored,
		},
		{
			name: "ping", event: "ping", body: func(t testing.TB) []byte { return fixture(t, "ping/payload.json") },
			wantCode: 200, wantStatus: StatusPong,
		},
		{
			name: "organization ping without repository", event: "ping",
			body:     func(t testing.TB) []byte { return fixture(t, "ping/with-organization.payload.json") },
			wantCode: 200, wantStatus: StatusPong,
		},
		{
			name: "other event is ignored", event: "issues", body: func(testing.TB) []byte { return []byte(`{"action":"opened"}`) },
			wantCode: 200, wantStatus: StatusIgnored,
		},
		{
			name: "push that does not decode", event: "push", body: func(testing.TB) []byte { return []byte(`{"ref": 12}`) },
			wantCode: 400, wantStatus: StatusBadRequest,
		},
		{
			name: "pull request with a short head sha", event: "pull_request",
			body: func(t testing.TB) []byte {
				return edit(t, fixture(t, "pull_request/opened.payload.json"), `"sha": "ec26c3e57ca3a959ca5aad62de7213c562f8c821"`, `"sha": "ec26c3e"`)
			},
			wantCode: 400, wantStatus: StatusBadRequest,
		},
		{
			name: "push without repository", event: "push", body: func(testing.TB) []byte { return []byte(`{"ref": "refs/heads/main"}`) },
			wantCode: 400, wantStatus: StatusBadRequest,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := newHandlerEnv(t, nil)
			code, status := env.do(t, request{event: tt.event, id: "d-1", body: tt.body(t)})
			if code != tt.wantCode || status != tt.wantStatus {
				t.Fatalf("answer = %d %q, want %d %q", code, status, tt.wantCode, tt.wantStatus)
			}
			pushes, prs := env.sink.counts()
			queued := tt.wantStatus == StatusQueued
			if queued != (pushes+prs == 1) || pushes+prs > 1 {
				t.Fatalf("sink got %d pushes, %d PRs; queued=%v", pushes, prs, queued)
			}
			if want := map[bool]int{true: 1, false: 0}[queued]; env.dels.len() != want {
				t.Fatalf("recorded %d deliveries, want %d", env.dels.len(), want)
			}
			if tt.wantPush != nil {
				want := *tt.wantPush
				want.DeliveryID = "d-1"
				if diff := cmp.Diff(want, env.sink.pushes[0]); diff != "" {
					t.Errorf("push event (-want +got):\n%s", diff)
				}
			}
			if tt.wantPR != nil {
				want := *tt.wantPR
				want.DeliveryID = "d-1"
				if diff := cmp.Diff(want, env.sink.prs[0]); diff != "" {
					t.Errorf("pull request event (-want +got):\n%s", diff)
				}
			}
		})
	}
}

func TestHandlerRefusesBadSignatures(t *testing.T) {
	body := ordinaryPush(t)
	tests := map[string]func(*http.Request){
		"wrong secret": func(r *http.Request) { r.Header.Set("X-Hub-Signature-256", Sign([]byte("other"), body)) },
		"missing":      func(r *http.Request) {},
		"sha1 only": func(r *http.Request) {
			r.Header.Set("X-Hub-Signature", "sha1=0123456789abcdef0123456789abcdef01234567")
		},
		"sha1 scheme in the sha256 header": func(r *http.Request) {
			r.Header.Set("X-Hub-Signature-256", "sha1=0123456789abcdef0123456789abcdef01234567")
		},
		"signature of another body": func(r *http.Request) {
			r.Header.Set("X-Hub-Signature-256", Sign([]byte(testSecret), append(body, ' ')))
		},
	}
	for name, set := range tests {
		t.Run(name, func(t *testing.T) {
			env := newHandlerEnv(t, nil)
			req := httptest.NewRequest(http.MethodPost, "/webhooks/github", bytes.NewReader(body))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("X-GitHub-Event", "push")
			req.Header.Set("X-GitHub-Delivery", "d-1")
			set(req)
			rec := httptest.NewRecorder()
			env.h.ServeHTTP(rec, req)
			if rec.Code != http.StatusUnauthorized {
				t.Fatalf("code = %d, want 401", rec.Code)
			}
			if p, q := env.sink.counts(); p+q != 0 || env.dels.len() != 0 {
				t.Fatalf("bad signature acted on: sink %d/%d, recorded %d", p, q, env.dels.len())
			}
		})
	}
}

func TestHandlerDuplicateDeliveryActsOnce(t *testing.T) {
	env := newHandlerEnv(t, nil)
	body := ordinaryPush(t)
	if code, status := env.do(t, request{event: "push", id: "dup-1", body: body}); code != 202 {
		t.Fatalf("first = %d %q", code, status)
	}
	code, status := env.do(t, request{event: "push", id: "dup-1", body: body})
	if code != http.StatusOK || status != StatusDuplicate {
		t.Fatalf("second = %d %q, want 200 %q", code, status, StatusDuplicate)
	}
	if p, _ := env.sink.counts(); p != 1 {
		t.Fatalf("sink got %d pushes, want 1", p)
	}
	// A different delivery of the same payload is a new event.
	if code, _ := env.do(t, request{event: "push", id: "dup-2", body: body}); code != 202 {
		t.Fatalf("new id = %d", code)
	}
}

// An event the sink refuses was already answered 202 (GitHub would not
// retry a 503 either); it is not recorded, so a manual redelivery acts.
func TestHandlerRefusedEventIsProcessedOnRedelivery(t *testing.T) {
	env := newHandlerEnv(t, nil)
	env.sink.failNext = 1
	body := forcePush(t)
	code, status := env.do(t, request{event: "push", id: "re-1", body: body})
	if code != http.StatusAccepted || status != StatusQueued {
		t.Fatalf("first delivery = %d %q, want 202 queued", code, status)
	}
	if env.dels.len() != 0 {
		t.Fatal("a delivery the sink refused was recorded")
	}
	code, status = env.do(t, request{event: "push", id: "re-1", body: body})
	if code != http.StatusAccepted || status != StatusQueued {
		t.Fatalf("redelivery = %d %q, want 202 queued", code, status)
	}
	if p, _ := env.sink.counts(); p != 1 || env.dels.len() != 1 {
		t.Fatalf("after redelivery: %d pushes, %d recorded", p, env.dels.len())
	}
}

func TestHandlerConcurrentSameDeliveryActsOnce(t *testing.T) {
	env := newHandlerEnv(t, nil)
	// A slow lookup makes later requests wait on the first one's claim; a
	// blocked sink keeps the first queued while the rest arrive.
	env.dels.delay = 5 * time.Millisecond
	env.sink.block = make(chan struct{})
	body := ordinaryPush(t)
	const n = 20
	answers := make(chan string, n)
	start := make(chan struct{})
	for range n {
		go func() {
			<-start
			req := httptest.NewRequest(http.MethodPost, "/webhooks/github", bytes.NewReader(body))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("X-GitHub-Event", "push")
			req.Header.Set("X-GitHub-Delivery", "same")
			req.Header.Set("X-Hub-Signature-256", Sign([]byte(testSecret), body))
			rec := httptest.NewRecorder()
			env.h.ServeHTTP(rec, req)
			var r struct{ Status string }
			_ = json.Unmarshal(rec.Body.Bytes(), &r)
			answers <- fmt.Sprint(rec.Code, " ", r.Status)
		}()
	}
	close(start)
	got := map[string]int{}
	for range n {
		got[<-answers]++
	}
	close(env.sink.block)
	want := map[string]int{"202 " + StatusQueued: 1, "200 " + StatusDuplicate: n - 1}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("answers (-want +got):\n%s", diff)
	}
	settle(t, env.h)
	if p, _ := env.sink.counts(); p != 1 || env.dels.len() != 1 {
		t.Fatalf("sink got %d pushes and %d deliveries were recorded, want 1 and 1", p, env.dels.len())
	}
}

func TestHandlerBodyCap(t *testing.T) {
	t.Run("small cap with Content-Length", func(t *testing.T) {
		env := newHandlerEnv(t, func(o *HandlerOptions) { o.MaxBodyBytes = 1024 })
		code, status := env.do(t, request{event: "push", id: "big", body: ordinaryPush(t)})
		if code != http.StatusRequestEntityTooLarge || status != StatusTooLarge {
			t.Fatalf("answer = %d %q, want 413", code, status)
		}
	})
	t.Run("default 25 MiB cap without Content-Length", func(t *testing.T) {
		env := newHandlerEnv(t, nil)
		body := bytes.Repeat([]byte(" "), DefaultMaxBodyBytes+1)
		req := httptest.NewRequest(http.MethodPost, "/webhooks/github", struct{ *bytes.Reader }{bytes.NewReader(body)})
		req.ContentLength = -1 // as with chunked transfer encoding
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-GitHub-Event", "push")
		req.Header.Set("X-GitHub-Delivery", "huge")
		req.Header.Set("X-Hub-Signature-256", Sign([]byte(testSecret), body))
		rec := httptest.NewRecorder()
		env.h.ServeHTTP(rec, req)
		if rec.Code != http.StatusRequestEntityTooLarge {
			t.Fatalf("code = %d, want 413", rec.Code)
		}
		if env.dels.len() != 0 {
			t.Fatal("oversize body recorded")
		}
	})
}

func TestHandlerContentTypeAndMethod(t *testing.T) {
	env := newHandlerEnv(t, nil)
	body := ordinaryPush(t)
	for _, ct := range []string{"application/x-www-form-urlencoded", "text/plain", "application/jsonx", "garbage;;"} {
		code, status := env.do(t, request{event: "push", id: "ct", body: body, contentType: ct})
		if code != http.StatusUnsupportedMediaType || status != StatusUnsupported {
			t.Errorf("%q: answer = %d %q, want 415", ct, code, status)
		}
	}
	code, _ := env.do(t, request{event: "push", id: "ct-ok", body: body, contentType: "application/json; charset=utf-8"})
	if code != http.StatusAccepted {
		t.Errorf("application/json with charset: code = %d, want 202", code)
	}
	rec := httptest.NewRecorder()
	env.h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/webhooks/github", nil))
	if rec.Code != http.StatusMethodNotAllowed {
		t.Errorf("GET: code = %d, want 405", rec.Code)
	}
	code, _ = env.do(t, request{event: "push", id: "", body: body})
	if code != http.StatusBadRequest {
		t.Errorf("no delivery id: code = %d, want 400", code)
	}
}

func TestHandlerRepositoryAllowlist(t *testing.T) {
	env := newHandlerEnv(t, func(o *HandlerOptions) { o.Repos = []string{"ops/fleet"} })
	for _, ev := range []struct {
		event string
		body  []byte
	}{{"push", ordinaryPush(t)}, {"pull_request", forkPR(t)}, {"ping", fixture(t, "ping/payload.json")}} {
		code, status := env.do(t, request{event: ev.event, id: "x-" + ev.event, body: ev.body})
		if code != http.StatusForbidden || status != StatusNotAllowed {
			t.Errorf("%s: answer = %d %q, want 403", ev.event, code, status)
		}
	}
	if p, q := env.sink.counts(); p+q != 0 || env.dels.len() != 0 {
		t.Fatal("event outside the allowlist acted on")
	}
	// Matching is case-insensitive.
	env = newHandlerEnv(t, func(o *HandlerOptions) { o.Repos = []string{"CODERTOCAT/hello-WORLD"} })
	if code, _ := env.do(t, request{event: "push", id: "case", body: ordinaryPush(t)}); code != http.StatusAccepted {
		t.Fatalf("case-insensitive allowlist: code = %d", code)
	}
}

func TestHandlerNeverLogsSecretOrSignature(t *testing.T) {
	env := newHandlerEnv(t, func(o *HandlerOptions) { o.Logger = o.Logger.Level(zerolog.DebugLevel) })
	body := ordinaryPush(t)
	sig := Sign([]byte(testSecret), body)
	env.do(t, request{event: "push", id: "l-1", body: body})
	env.do(t, request{event: "push", id: "l-2", body: body, sig: Sign([]byte("wrong"), body)})
	env.do(t, request{event: "issues", id: "l-3", body: body})
	logs := env.logs.String()
	if logs == "" {
		t.Fatal("no logs written")
	}
	for _, s := range []string{testSecret, strings.TrimPrefix(sig, "sha256=")} {
		if strings.Contains(logs, s) {
			t.Fatalf("logs contain %q:\n%s", s, logs)
		}
	}
}
