package httpapi

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/fstest"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/rs/zerolog"

	"github.com/ripple-ops/ripple/definitions"
	"github.com/ripple-ops/ripple/engine"
	"github.com/ripple-ops/ripple/engine/sqlstore"
)

const (
	viewerToken   = "viewer-token-0123456789"
	operatorToken = "operator-token-0123456789"
	commitA       = "0123456789abcdef0123456789abcdef01234567"
)

const tokensFile = `
# comment
viewer-token-0123456789   viewer   wall-screen
operator-token-0123456789 operator alice
`

const defsHCL = `
credential "default" {
  user             = "deploy"
  private_key_file = "/etc/ripple/key"
  known_hosts_file = "/etc/ripple/known_hosts"
}
host "web-01" {
  address = "10.0.0.1"
  groups  = ["web"]
  labels  = { os = "debian12" }
}
host "db-01" { address = "10.0.0.2" }
job "nginx" {
  description = "nginx config"
  targets { groups = ["web"] }
  step "reload" { run = "true" }
}
`

// fakeBackend records what the API asked of the daemon.
type fakeBackend struct {
	mu    sync.Mutex
	ready bool
	defs  *definitions.Definitions
	calls []string
	err   error // returned by actions when set
	store *sqlstore.Store
	// storeHealth and lastError are reported by Status.
	storeHealth *engine.StoreHealth
	lastError   string
}

func (b *fakeBackend) record(s string) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.calls = append(b.calls, s)
	return b.err
}

func (b *fakeBackend) lastCall() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.calls) == 0 {
		return ""
	}
	return b.calls[len(b.calls)-1]
}

func (b *fakeBackend) Status() engine.DaemonStatus {
	b.mu.Lock()
	defer b.mu.Unlock()
	return engine.DaemonStatus{Branch: "main", Head: commitA, Ready: b.ready, Store: b.storeHealth, LastError: b.lastError}
}

func (b *fakeBackend) Ready() bool                           { return b.Status().Ready }
func (b *fakeBackend) Definitions() *definitions.Definitions { return b.defs }

func (b *fakeBackend) Approve(_ context.Context, id int64, actor, reason string) error {
	return b.record(fmt.Sprintf("approve %d %s %q", id, actor, reason))
}

func (b *fakeBackend) Abort(_ context.Context, id int64, actor, reason string) error {
	return b.record(fmt.Sprintf("abort %d %s %q", id, actor, reason))
}

func (b *fakeBackend) Accept(_ context.Context, head, actor, reason string) error {
	return b.record(fmt.Sprintf("accept %s %s %q", head, actor, reason))
}

func (b *fakeBackend) Trigger(source string) { _ = b.record("trigger " + source) }

func (b *fakeBackend) StartRun(ctx context.Context, job string, hosts []string, actor, reason string) (*engine.Run, error) {
	if err := b.record(fmt.Sprintf("run %s %v %s %q", job, hosts, actor, reason)); err != nil {
		return nil, err
	}
	r := &engine.Run{Job: job, Commit: commitA, Trigger: "manual", Actor: actor, Reason: reason, State: engine.RunQueued, Waves: [][]string{{"web-01"}}}
	return r, b.store.CreateRun(ctx, r)
}

func (b *fakeBackend) Revert(_ context.Context, commit string, runID int64, actor, reason string) (engine.RevertResult, error) {
	if err := b.record(fmt.Sprintf("revert %s %d %s %q", commit, runID, actor, reason)); err != nil {
		return engine.RevertResult{}, err
	}
	return engine.RevertResult{Reverted: commitA, Branch: engine.RevertBranch(commitA), Into: "main", PullRequestURL: "https://github.example/o/r/pull/1"}, nil
}

type fixture struct {
	srv     *httptest.Server
	h       *Handler
	backend *fakeBackend
	store   *sqlstore.Store
}

func newFixture(t *testing.T, webhook http.Handler) *fixture {
	t.Helper()
	ctx := context.Background()
	store, err := sqlstore.Open(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	defs, diags := definitions.Load(fstest.MapFS{"main.hcl": {Data: []byte(defsHCL)}}, commitA, definitions.Limits{})
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	tokens, err := ParseTokens(strings.NewReader(tokensFile))
	if err != nil {
		t.Fatal(err)
	}
	b := &fakeBackend{ready: true, defs: defs, store: store}
	h := New(Options{Backend: b, Store: store, Revert: b, Tokens: tokens, Webhook: webhook, Registry: NewRegistry("test"), PublicURL: "https://ripple.example/", Logger: zerolog.New(zerolog.NewTestWriter(t))})
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)

	run := &engine.Run{Job: "nginx", Commit: commitA, Branch: "main", Trigger: "commit", Actor: "ripple", State: engine.RunRunning, Waves: [][]string{{"web-01"}}}
	if err := store.CreateRun(ctx, run); err != nil {
		t.Fatal(err)
	}
	if err := store.PlanHostSteps(ctx, []engine.HostStep{{RunID: run.ID, Wave: 0, Host: "web-01", Step: "reload", Phase: engine.PhasePlanned}}); err != nil {
		t.Fatal(err)
	}
	if err := store.FinishHostStep(ctx, engine.HostStep{RunID: run.ID, Wave: 0, Host: "web-01", Step: "reload", Phase: engine.PhaseFinished,
		Result: engine.StepResult{Status: engine.StepFailed, ExitCode: 1, Stderr: "boom", Started: time.Now(), Duration: time.Second}}); err != nil {
		t.Fatal(err)
	}
	if err := store.SetStatus(ctx, engine.CommitStatus{Commit: commitA, Context: "ripple/validate", State: "success", Description: "valid"}); err != nil {
		t.Fatal(err)
	}
	return &fixture{srv: srv, h: h, backend: b, store: store}
}

func (f *fixture) do(t *testing.T, method, path, token, body string) (int, string) {
	t.Helper()
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, f.srv.URL+path, r)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := f.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// TestEndpointsAndRoles calls every API endpoint without a token, with an
// unknown token, as a viewer and as an operator.
func TestEndpointsAndRoles(t *testing.T) {
	f := newFixture(t, nil)
	endpoints := []struct {
		method, path, body string
		operatorOnly       bool
		want               int // for a role that may call it
	}{
		{"GET", "/api/v1/status", "", false, 200},
		{"GET", "/api/v1/runs", "", false, 200},
		{"GET", "/api/v1/runs?job=nginx&state=running,failed&limit=5", "", false, 200},
		{"GET", "/api/v1/runs/1", "", false, 200},
		{"GET", "/api/v1/jobs", "", false, 200},
		{"GET", "/api/v1/jobs/nginx", "", false, 200},
		{"GET", "/api/v1/hosts", "", false, 200},
		{"GET", "/api/v1/commits/" + commitA, "", false, 200},
		{"POST", "/api/v1/runs/1/approve", `{"reason":"looks good"}`, true, 200},
		{"POST", "/api/v1/runs/1/abort", `{"reason":"stop"}`, true, 200},
		{"POST", "/api/v1/jobs/nginx/runs", `{"reason":"by hand","hosts":["web-01"]}`, true, 202},
		{"POST", "/api/v1/reconcile", ``, true, 202},
		{"POST", "/api/v1/reconcile?accept=" + commitA, `{"reason":"reviewed"}`, true, 202},
		{"POST", "/api/v1/commits/" + commitA[:7] + "/revert", `{"reason":"v2 breaks nginx","run":1}`, true, 201},
	}
	for _, ep := range endpoints {
		t.Run(ep.method+" "+ep.path, func(t *testing.T) {
			if code, body := f.do(t, ep.method, ep.path, "", ep.body); code != 401 || !strings.Contains(body, `"error"`) {
				t.Errorf("no token: %d %s", code, body)
			}
			if code, _ := f.do(t, ep.method, ep.path, "not-a-known-token-at-all", ep.body); code != 401 {
				t.Errorf("unknown token: %d", code)
			}
			wantViewer := ep.want
			if ep.operatorOnly {
				wantViewer = 403
			}
			if code, body := f.do(t, ep.method, ep.path, viewerToken, ep.body); code != wantViewer {
				t.Errorf("viewer: %d, want %d: %s", code, wantViewer, body)
			}
			if code, body := f.do(t, ep.method, ep.path, operatorToken, ep.body); code != ep.want {
				t.Errorf("operator: %d, want %d: %s", code, ep.want, body)
			}
		})
	}
}

func TestActionsRecordWhoAndWhy(t *testing.T) {
	f := newFixture(t, nil)
	f.do(t, "POST", "/api/v1/runs/1/approve", operatorToken, `{"reason":"canary ok"}`)
	if got, want := f.backend.lastCall(), `approve 1 alice "canary ok"`; got != want {
		t.Errorf("approve call = %s, want %s", got, want)
	}
	code, body := f.do(t, "POST", "/api/v1/jobs/nginx/runs", operatorToken, `{"reason":"rotate logs","hosts":["web-01"]}`)
	if code != 202 {
		t.Fatalf("start run: %d %s", code, body)
	}
	var run Run
	if err := json.Unmarshal([]byte(body), &run); err != nil {
		t.Fatal(err)
	}
	if run.Actor != "alice" || run.Reason != "rotate logs" || run.ID == 0 || run.URL != "https://ripple.example/runs/"+fmt.Sprint(run.ID) {
		t.Errorf("run = %+v", run)
	}
	f.do(t, "POST", "/api/v1/reconcile", operatorToken, `{"accept":"`+commitA+`","reason":"force-push reviewed"}`)
	if got, want := f.backend.lastCall(), `accept `+commitA+` alice "force-push reviewed"`; got != want {
		t.Errorf("accept call = %s, want %s", got, want)
	}
}

func TestRunDetail(t *testing.T) {
	f := newFixture(t, nil)
	code, body := f.do(t, "GET", "/api/v1/runs/1", viewerToken, "")
	if code != 200 {
		t.Fatalf("%d %s", code, body)
	}
	var d RunDetail
	if err := json.Unmarshal([]byte(body), &d); err != nil {
		t.Fatal(err)
	}
	if len(d.WaveDetails) != 1 || len(d.WaveDetails[0].Hosts) != 1 {
		t.Fatalf("waves = %+v", d.WaveDetails)
	}
	h := d.WaveDetails[0].Hosts[0]
	if h.Host != "web-01" || h.State != "failed" || len(h.Steps) != 1 || h.Steps[0].Stderr != "boom" || h.Steps[0].ExitCode != 1 {
		t.Errorf("host = %+v", h)
	}
	if d.WaveDetails[0].Counts.Failed != 1 {
		t.Errorf("counts = %+v", d.WaveDetails[0].Counts)
	}
}

func TestBadRequests(t *testing.T) {
	f := newFixture(t, nil)
	tests := []struct {
		method, path, body string
		want               int
	}{
		{"POST", "/api/v1/runs/1/approve", `{"reason":`, 400},
		{"POST", "/api/v1/runs/1/approve", `["reason"]`, 400},
		{"POST", "/api/v1/runs/1/approve", `{"reason":"x","extra":1}`, 400},
		{"POST", "/api/v1/runs/1/abort", `{"reason":"x"} {"reason":"y"}`, 400},
		{"POST", "/api/v1/runs/abc/approve", `{}`, 400},
		{"POST", "/api/v1/runs/-1/abort", `{}`, 400},
		{"POST", "/api/v1/jobs/nginx/runs", `{"hosts":"web-01"}`, 400},
		{"POST", "/api/v1/jobs/nginx/runs", `{"hosts":[""]}`, 400},
		{"POST", "/api/v1/jobs/nginx/runs", strings.Repeat(" ", 2<<20), 413},
		{"GET", "/api/v1/runs?limit=0", "", 400},
		{"GET", "/api/v1/runs?limit=ten", "", 400},
		{"GET", "/api/v1/runs?state=exploded", "", 400},
		{"GET", "/api/v1/commits/main", "", 400},
		{"GET", "/api/v1/runs/999", "", 404},
		{"GET", "/api/v1/jobs/nope", "", 404},
		{"GET", "/api/v1/nothing", "", 404},
		{"DELETE", "/api/v1/runs/1", "", 404},
	}
	for _, tc := range tests {
		t.Run(tc.method+" "+tc.path+" "+tc.body[:min(len(tc.body), 20)], func(t *testing.T) {
			code, body := f.do(t, tc.method, tc.path, operatorToken, tc.body)
			if code != tc.want {
				t.Errorf("status %d, want %d: %s", code, tc.want, body)
			}
			{
				var e Error
				if err := json.Unmarshal([]byte(body), &e); err != nil || e.Error == "" {
					t.Errorf("body %q is not a JSON error", body)
				}
			}
		})
	}
}

func TestRevertEndpoint(t *testing.T) {
	f := newFixture(t, nil)
	code, body := f.do(t, "POST", "/api/v1/commits/"+commitA[:9]+"/revert", operatorToken, `{"reason":" v2 breaks nginx ","run":1}`)
	if code != 201 || f.backend.lastCall() != `revert `+commitA[:9]+` 1 alice "v2 breaks nginx"` {
		t.Fatalf("revert: %d %s, call %s", code, body, f.backend.lastCall())
	}
	var res engine.RevertResult
	if err := json.Unmarshal([]byte(body), &res); err != nil || res.Branch != "ripple/revert-"+commitA[:12] || res.PullRequestURL == "" {
		t.Errorf("answer %s: %+v %v", body, res, err)
	}
	if code, body := f.do(t, "POST", "/api/v1/commits/"+commitA+"/revert", operatorToken, `{"reason":"x","runs":1}`); code != 400 {
		t.Errorf("unknown field: %d %s", code, body)
	}
	f.backend.err = fmt.Errorf("cannot revert: 1 file it changed was changed again on main since: a.hcl: %w", engine.ErrConflict)
	if code, body := f.do(t, "POST", "/api/v1/commits/"+commitA+"/revert", operatorToken, `{"reason":"x"}`); code != 409 || !strings.Contains(body, "a.hcl") {
		t.Errorf("conflict: %d %s", code, body)
	}
	f.h.opts.Revert = nil
	if code, _ := f.do(t, "POST", "/api/v1/commits/"+commitA+"/revert", operatorToken, `{"reason":"x"}`); code != 501 {
		t.Errorf("without a revert backend: %d", code)
	}
}

func TestBackendErrorsMapToStatus(t *testing.T) {
	f := newFixture(t, nil)
	for _, tc := range []struct {
		err  error
		want int
	}{
		{fmt.Errorf("approve run 1: %w", engine.ErrNotWaiting), 409},
		{fmt.Errorf("abort: %w", engine.ErrRunFinished), 409},
		{fmt.Errorf("run 5: %w", engine.ErrNotFound), 404},
		{fmt.Errorf("host x: %w", engine.ErrInvalidRequest), 400},
		{fmt.Errorf("paused at abc: %w", engine.ErrConflict), 409},
		{fmt.Errorf("create run: %w: ripple.db: database or disk is full (13)", engine.ErrStoreUnwritable), 503},
	} {
		f.backend.err = tc.err
		if code, body := f.do(t, "POST", "/api/v1/runs/1/approve", operatorToken, `{}`); code != tc.want || !strings.Contains(body, tc.err.Error()) {
			t.Errorf("%v: %d %s", tc.err, code, body)
		}
	}
}

// TestReadyzWhileTheStoreCannotWrite: /readyz is 503 while the store
// cannot write and says why in its verbose and JSON forms; the status
// carries the same error; it is ready again once the store writes.
func TestReadyzWhileTheStoreCannotWrite(t *testing.T) {
	f := newFixture(t, nil)
	const why = "store cannot write: /var/lib/ripple/ripple.db: commit: database or disk is full (13) (since 2026-11-29T10:00:00Z; run 7 stopped and resumes once it writes again)"
	f.backend.mu.Lock()
	f.backend.storeHealth = &engine.StoreHealth{Error: "store cannot write: ...", Since: time.Date(2026, 11, 29, 10, 0, 0, 0, time.UTC), StoppedRuns: []int64{7}}
	f.backend.lastError = why
	f.backend.mu.Unlock()

	if code, body := f.do(t, "GET", "/readyz", "", ""); code != 503 || body != "not ready\n" {
		t.Errorf("readyz = %d %q, want 503 not ready", code, body)
	}
	if code, body := f.do(t, "GET", "/readyz?verbose", "", ""); code != 503 || !strings.Contains(body, "[-]store: "+why+"\n") || !strings.Contains(body, "[+]repository\n") {
		t.Errorf("readyz?verbose = %d %q", code, body)
	}
	code, body := f.do(t, "GET", "/readyz?format=json", "", "")
	var rd Readiness
	if err := json.Unmarshal([]byte(body), &rd); err != nil || code != 503 {
		t.Fatalf("readyz?format=json = %d %q (%v)", code, body, err)
	}
	want := Readiness{Checks: []ReadyCheck{{Name: "store", Reason: why}, {Name: "repository", OK: true}, {Name: "shutdown", OK: true}}}
	if diff := cmp.Diff(want, rd); diff != "" {
		t.Errorf("readyz JSON (-want +got):\n%s", diff)
	}
	code, body = f.do(t, "GET", "/api/v1/status", viewerToken, "")
	var st engine.DaemonStatus
	if err := json.Unmarshal([]byte(body), &st); err != nil || code != 200 {
		t.Fatalf("status = %d %q (%v)", code, body, err)
	}
	if st.LastError != why || st.Store == nil || st.Store.Writable || !slices.Equal(st.Store.StoppedRuns, []int64{7}) {
		t.Errorf("status = %+v (store %+v)", st, st.Store)
	}

	f.backend.mu.Lock()
	f.backend.storeHealth = &engine.StoreHealth{Writable: true}
	f.backend.lastError = ""
	f.backend.mu.Unlock()
	if code, body := f.do(t, "GET", "/readyz?format=json", "", ""); code != 200 || !strings.Contains(body, `"ready": true`) {
		t.Errorf("readyz once the store writes = %d %s", code, body)
	}
}

func TestHealthReadinessAndMetrics(t *testing.T) {
	f := newFixture(t, nil)
	for _, p := range []string{"/livez", "/healthz"} {
		if code, _ := f.do(t, "GET", p, "", ""); code != 200 {
			t.Errorf("%s = %d", p, code)
		}
	}
	if code, _ := f.do(t, "GET", "/readyz", "", ""); code != 200 {
		t.Errorf("readyz when ready = %d", code)
	}
	f.backend.mu.Lock()
	f.backend.ready = false
	f.backend.mu.Unlock()
	if code, body := f.do(t, "GET", "/readyz?verbose", "", ""); code != 503 || !strings.Contains(body, "[-]repository: the repository has not been fetched yet") {
		t.Errorf("readyz before fetch = %d %s", code, body)
	}
	f.backend.mu.Lock()
	f.backend.ready = true
	f.backend.mu.Unlock()
	f.h.SetStopping()
	if code, _ := f.do(t, "GET", "/readyz", "", ""); code != 503 {
		t.Errorf("readyz while stopping = %d", code)
	}
	code, body := f.do(t, "GET", "/metrics", "", "")
	if code != 200 {
		t.Fatalf("metrics = %d", code)
	}
	for _, want := range []string{`ripple_build_info{version="test"} 1`, `ripple_webhook_deliveries_total{event="push"} 0`, "go_goroutines", "process_"} {
		if !strings.Contains(body, want) {
			t.Errorf("metrics lack %q", want)
		}
	}
	if code, _ := f.do(t, "POST", "/webhooks/github", "", "{}"); code != 404 && code != 405 {
		t.Errorf("webhook without a secret answered %d, want no route", code)
	}
}

func TestWebhookMountedAndCounted(t *testing.T) {
	hook := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusAccepted) })
	f := newFixture(t, hook)
	req, _ := http.NewRequest("POST", f.srv.URL+"/webhooks/github", strings.NewReader("{}"))
	req.Header.Set("X-GitHub-Event", "push")
	resp, err := f.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 202 {
		t.Fatalf("webhook = %d", resp.StatusCode)
	}
	_, body := f.do(t, "GET", "/metrics", "", "")
	if !strings.Contains(body, `ripple_webhook_deliveries_total{event="push"} 1`) {
		t.Errorf("delivery not counted:\n%s", body)
	}
}

func TestParseTokens(t *testing.T) {
	for _, tc := range []struct {
		name, in, wantErr string
	}{
		{"bad role", "0123456789abcdefgh admin", "line 1: role"},
		{"short token", "short viewer", "shorter than 16"},
		{"missing role", "0123456789abcdefgh", "want TOKEN ROLE"},
		{"duplicate", "0123456789abcdefgh viewer a\n0123456789abcdefgh operator b", "line 2: duplicate"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseTokens(strings.NewReader(tc.in))
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("err = %v, want %q", err, tc.wantErr)
			}
			if err != nil && strings.Contains(err.Error(), "0123456789abcdefgh") {
				t.Errorf("error echoes the token: %v", err)
			}
		})
	}
	tok, err := ParseTokens(strings.NewReader("0123456789abcdefgh viewer\n"))
	if err != nil {
		t.Fatal(err)
	}
	if id, ok := tok.lookup("0123456789abcdefgh"); !ok || id.Name != "viewer-1" || id.Role != RoleViewer {
		t.Errorf("lookup = %+v %v", id, ok)
	}
	if _, ok := tok.lookup("0123456789abcdefgX"); ok {
		t.Error("a different token matched")
	}
}

// TestRunDetailTellsTheTruth: a wave whose gate failed reads failed with
// its reason; its hosts are gate_failed or rolled_back, an unreachable
// host says so, and the waves the failed run never reached are not
// started.
func TestRunDetailTellsTheTruth(t *testing.T) {
	ok := func(wave int, host, step string, rollback bool) engine.HostStep {
		return engine.HostStep{Wave: wave, Host: host, Step: step, Rollback: rollback, Phase: engine.PhaseFinished, Result: engine.StepResult{Status: engine.StepOK}}
	}
	run := &engine.Run{ID: 1, Job: "app", State: engine.RunFailed, Waves: [][]string{{"web-01"}, {"web-02", "web-03", "web-04"}, {"web-05"}}}
	steps := []engine.HostStep{
		ok(0, "web-01", "deploy", false),
		ok(1, "web-02", "deploy", false), ok(1, "web-02", "undo", true),
		ok(1, "web-03", "deploy", false), ok(1, "web-03", "undo", true),
		{Wave: 1, Host: "web-04", Step: "deploy", Phase: engine.PhaseFinished, Result: engine.StepResult{Status: engine.StepUnreachable, Error: "dial tcp: connection refused"}},
	}
	events := []engine.Event{
		{Action: engine.EventGateFailed, Reason: "wave 2/3: 1 host not healthy by the deadline\nweb-03: web-http@web-03 CRITICAL: 503"},
		{Action: engine.EventRollback, Reason: "wave 2/3 failed: 2/3 hosts failed (max_failures 0), 1 by the health gate\nweb-03: health gate: web-http@web-03 CRITICAL: 503"},
		{Action: engine.EventFinish, Reason: "failed: wave 2/3 failed: 2/3 hosts failed (max_failures 0), 1 by the health gate; ..."},
	}
	d := runDetail(run, steps, events, "")
	states := func(w Wave) []string {
		var out []string
		for _, h := range w.Hosts {
			out = append(out, h.Host+"="+h.State)
		}
		return out
	}
	if w := d.WaveDetails[0]; w.State != "done" || states(w)[0] != "web-01=ok" {
		t.Errorf("wave 1: %s %v", w.State, states(w))
	}
	w := d.WaveDetails[1]
	if w.State != "failed" || !strings.Contains(w.Reason, "1 by the health gate") {
		t.Errorf("wave 2: %s %q", w.State, w.Reason)
	}
	if got := strings.Join(states(w), " "); got != "web-02=rolled_back web-03=gate_failed web-04=unreachable" {
		t.Errorf("wave 2 hosts: %s", got)
	}
	if w.Hosts[1].Reason != "health gate: web-http@web-03 CRITICAL: 503" || w.Counts.OK != 0 || w.Counts.Failed != 3 {
		t.Errorf("wave 2: %+v", w)
	}
	if w := d.WaveDetails[2]; w.State != "not_started" || w.Hosts[0].State != "not_started" {
		t.Errorf("wave 3: %s %v", w.State, states(w))
	}
}

type fakeCluster Cluster

func (c fakeCluster) Cluster(context.Context) (Cluster, error) { return Cluster(c), nil }

// TestClusterEndpoint: GET /api/v1/cluster describes the nodes for
// viewers; one daemon on SQLite answers 501, saying why.
func TestClusterEndpoint(t *testing.T) {
	f := newFixture(t, nil)
	if code, body := f.do(t, "GET", "/api/v1/cluster", viewerToken, ""); code != 501 || !strings.Contains(body, "not part of a cluster") {
		t.Errorf("one daemon: %d %s", code, body)
	}
	f.h.opts.Cluster = fakeCluster{Node: "b", Leader: "a", Epoch: 3, Lease: "10s",
		Nodes: []ClusterNode{{Name: "a", Live: true, Leader: true, Checks: 5}, {Name: "b", Live: true, Checks: 4}}}
	code, body := f.do(t, "GET", "/api/v1/cluster", viewerToken, "")
	var c Cluster
	if err := json.Unmarshal([]byte(body), &c); code != 200 || err != nil || c.Leader != "a" || c.Epoch != 3 || len(c.Nodes) != 2 || c.Nodes[1].Checks != 4 {
		t.Errorf("cluster: %d %s %v", code, body, err)
	}
	if code, _ := f.do(t, "GET", "/api/v1/cluster", "", ""); code != 401 {
		t.Errorf("without a token: %d", code)
	}
}
