package webui

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"testing/fstest"
	"time"

	"github.com/rs/zerolog"

	"github.com/ripple-ops/ripple/definitions"
	"github.com/ripple-ops/ripple/engine"
	"github.com/ripple-ops/ripple/engine/httpapi"
	"github.com/ripple-ops/ripple/engine/sqlstore"
)

const (
	viewerToken   = "viewer-token-0123456789"
	operatorToken = "operator-token-0123456789"
	commitA       = "0123456789abcdef0123456789abcdef01234567"
	tokensFile    = viewerToken + " viewer wall\n" + operatorToken + " operator alice\n"
)

// fleetHCL has 12 web hosts, a job over them and two monitors. The job's
// description carries markup, which every page must escape.
func fleetHCL() string {
	var b strings.Builder
	b.WriteString(`
credential "default" {
  user             = "deploy"
  private_key_file = "/etc/ripple/key"
  known_hosts_file = "/etc/ripple/known_hosts"
}
job "nginx-config" {
  description = "nginx <script>alert(1)</script> config"
  targets { groups = ["web"] }
  step "config" { run = "true" }
  step "reload" { run = "systemctl reload nginx" }
  rollout {
    waves         = [1, 3, 4, 4]
    approve_after = 1
  }
}
monitor "web-http" {
  targets { groups = ["web"] }
  check "http" { url = "http://${host.address}/" }
  alert_after = 3
}
monitor "disk-root" {
  targets { groups = ["web"] }
  check "command" { run = "check_disk -p /" }
  limits = { "/" = 100 }
}
`)
	for i := 1; i <= 12; i++ {
		fmt.Fprintf(&b, "host \"web-%02d\" {\n  address = \"10.0.0.%d\"\n  groups = [\"web\"]\n}\n", i, i)
	}
	return b.String()
}

// fakeBackend stands in for the daemon: approvals and aborts are recorded
// as run events in the real store and move the run's state, as the
// rollout would.
type fakeBackend struct {
	mu    sync.Mutex
	defs  *definitions.Definitions
	store *sqlstore.Store
	calls []string
	// storeHealth and lastError are reported by Status.
	storeHealth *engine.StoreHealth
	lastError   string
}

func (b *fakeBackend) Status() engine.DaemonStatus {
	b.mu.Lock()
	defer b.mu.Unlock()
	return engine.DaemonStatus{Branch: "main", Repo: "git@github.com:acme/ops.git", Head: commitA, LastApplied: commitA, Base: commitA, Ready: true, LastFetch: time.Now(),
		Store: b.storeHealth, LastError: b.lastError}
}
func (b *fakeBackend) Ready() bool                                          { return true }
func (b *fakeBackend) Definitions() *definitions.Definitions                { return b.defs }
func (b *fakeBackend) Accept(context.Context, string, string, string) error { return nil }
func (b *fakeBackend) Trigger(string)                                       {}

func (b *fakeBackend) act(ctx context.Context, action string, id int64, actor, reason string, to engine.RunState) error {
	b.mu.Lock()
	b.calls = append(b.calls, fmt.Sprintf("%s %d %s %q", action, id, actor, reason))
	b.mu.Unlock()
	run, err := b.store.GetRun(ctx, id)
	if err != nil {
		return err
	}
	if action == "approve" && run.State != engine.RunWaitingApproval {
		return fmt.Errorf("approve run %d: %w", id, engine.ErrNotWaiting)
	}
	run.State = to
	if err := b.store.UpdateRun(ctx, run); err != nil {
		return err
	}
	return b.store.AddEvent(ctx, engine.Event{RunID: id, At: time.Now(), Actor: actor, Action: action, Reason: reason})
}

func (b *fakeBackend) Approve(ctx context.Context, id int64, actor, reason string) error {
	return b.act(ctx, "approve", id, actor, reason, engine.RunRunning)
}

func (b *fakeBackend) Abort(ctx context.Context, id int64, actor, reason string) error {
	return b.act(ctx, "abort", id, actor, reason, engine.RunAborted)
}

func (b *fakeBackend) StartRun(ctx context.Context, job string, hosts []string, actor, reason string) (*engine.Run, error) {
	b.mu.Lock()
	b.calls = append(b.calls, fmt.Sprintf("run %s %v %s %q", job, hosts, actor, reason))
	b.mu.Unlock()
	r := &engine.Run{Job: job, Commit: commitA, Trigger: "manual", Actor: actor, Reason: reason, State: engine.RunQueued, Waves: [][]string{{"web-01"}}}
	return r, b.store.CreateRun(ctx, r)
}

func (b *fakeBackend) Revert(_ context.Context, commit string, runID int64, actor, reason string) (engine.RevertResult, error) {
	b.mu.Lock()
	b.calls = append(b.calls, fmt.Sprintf("revert %s %d %s %q", commit, runID, actor, reason))
	b.mu.Unlock()
	return engine.RevertResult{
		Reverted: commit, Subject: "nginx <b>1.27</b>", Branch: engine.RevertBranch(commit), Commit: strings.Repeat("f", 40), Into: "main",
		Repo: "git@github.com:acme/ops.git", Paths: []string{"jobs/nginx.hcl"}, PullRequestURL: "https://github.example/acme/ops/pull/7",
	}, nil
}

func (b *fakeBackend) lastCall() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.calls) == 0 {
		return ""
	}
	return b.calls[len(b.calls)-1]
}

type fakeMonitors []engine.MonitorHostState

func (f fakeMonitors) States() []engine.MonitorHostState { return f }

type fixture struct {
	srv     *httptest.Server
	store   *sqlstore.Store
	backend *fakeBackend
}

// newFixture serves the UI and the API on one handler, as ripple serve
// does, over a real SQLite store. Each option edits the UI's Options
// before New.
func newFixture(t *testing.T, options ...func(*Options)) *fixture {
	t.Helper()
	ctx := context.Background()
	store, err := sqlstore.Open(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	defs, diags := definitions.Load(fstest.MapFS{"ops/main.hcl": {Data: []byte(fleetHCL())}}, commitA, definitions.Limits{})
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	tokens, err := httpapi.ParseTokens(strings.NewReader(tokensFile))
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	var mons fakeMonitors
	var samples []engine.MetricSample
	for i := 1; i <= 12; i++ {
		h := fmt.Sprintf("web-%02d", i)
		st := engine.MonitorHostState{State: engine.StateOK, Since: now.Add(-3 * time.Hour), LastOutput: "HTTP OK 200 in 0.004s"}
		switch i {
		case 4:
			st = engine.MonitorHostState{State: engine.StateCritical, Since: now.Add(-20 * time.Minute), Consecutive: 5, Firing: true, LastOutput: "HTTP CRITICAL 503 <b>Service Unavailable</b>",
				Pending: &engine.PendingNotification{
					Notification: engine.Notification{Kind: engine.NotifyAlert, Monitor: "web-http", Host: h, At: now.Add(-18 * time.Minute)},
					Undelivered:  map[string]string{"pager": "notifier answered 503 Service Unavailable"},
				}}
		case 7:
			st = engine.MonitorHostState{State: engine.StateWarning, Since: now.Add(-5 * time.Minute), Consecutive: 1, Flapping: true, FlapPercent: 34.2, LastOutput: "HTTP WARNING slow"}
		}
		st.LastAt = now.Add(-10 * time.Second) // every fixture host has a result
		st.Monitor, st.Host, st.Held = "web-http", h, i == 2
		mons = append(mons, st)
		for k := 0; k < 72; k++ {
			at := now.Add(-6*time.Hour + time.Duration(k)*5*time.Minute)
			v := 0.004 + 0.002*float64((k*7+i)%10)/10
			if i == 4 && k > 60 {
				v = 0.05
			}
			samples = append(samples, engine.MetricSample{Monitor: "web-http", Host: h, Metric: "time", At: at, Value: v})
		}
		for k := 0; k <= 20; k++ {
			at := now.Add(-10*24*time.Hour + time.Duration(k)*12*time.Hour)
			samples = append(samples, engine.MetricSample{Monitor: "disk-root", Host: h, Metric: "/", At: at, Value: 40 + float64(i)*2 + float64(k)*float64(i%3)})
		}
	}
	if err := store.AppendMetrics(ctx, samples); err != nil {
		t.Fatal(err)
	}
	b := &fakeBackend{defs: defs, store: store}
	log := zerolog.New(zerolog.NewTestWriter(t)).Level(zerolog.WarnLevel)
	api := httpapi.New(httpapi.Options{Backend: b, Store: store, Tokens: tokens, Monitors: mons, Metrics: store, EventPoll: 100 * time.Millisecond, Logger: log})
	opts := Options{Backend: b, Store: store, Revert: b, Tokens: tokens, Monitors: mons, Metrics: store, EventPoll: 100 * time.Millisecond, Stopping: api.Stopping, Logger: log}
	for _, o := range options {
		o(&opts)
	}
	ui, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(httpapi.Mount(api, ui))
	t.Cleanup(srv.Close)
	return &fixture{srv: srv, store: store, backend: b}
}

// simRun drives a run through the store the way the rollout writes it.
type simRun struct {
	t     *testing.T
	store *sqlstore.Store
	run   *engine.Run
}

func (f *fixture) newRun(t *testing.T, state engine.RunState) *simRun {
	t.Helper()
	var waves [][]string
	n := 1
	for _, size := range []int{1, 3, 4, 4} {
		var w []string
		for range size {
			w = append(w, fmt.Sprintf("web-%02d", n))
			n++
		}
		waves = append(waves, w)
	}
	run := &engine.Run{Job: "nginx-config", Commit: commitA, Branch: "main", Trigger: "commit", Actor: "ripple", Reason: "merge of #42", State: state, Waves: waves, Created: time.Now(), Started: time.Now()}
	if err := f.store.CreateRun(context.Background(), run); err != nil {
		t.Fatal(err)
	}
	return &simRun{t: t, store: f.store, run: run}
}

// host records a host's two steps; fail makes the reload step fail.
func (s *simRun) host(wave int, host string, fail bool) {
	s.t.Helper()
	ctx := context.Background()
	for _, step := range []string{"config", "reload"} {
		res := engine.StepResult{Status: engine.StepOK, Stdout: step + " done on " + host, Started: time.Now(), Duration: 120 * time.Millisecond}
		if step == "reload" && fail {
			res = engine.StepResult{Status: engine.StepFailed, ExitCode: 1, Stderr: "nginx: [emerg] unknown directive \"gzip_typo\" in /etc/nginx/nginx.conf:31\nnginx: configuration file test failed", Started: time.Now(), Duration: 80 * time.Millisecond}
		}
		hs := engine.HostStep{RunID: s.run.ID, Wave: wave, Host: host, Step: step, Phase: engine.PhaseFinished, Result: res}
		if err := s.store.FinishHostStep(ctx, hs); err != nil {
			s.t.Fatal(err)
		}
		if res.Status == engine.StepFailed {
			return
		}
	}
}

func (s *simRun) set(state engine.RunState, wave int, summary string) {
	s.t.Helper()
	s.run.State, s.run.CurrentWave, s.run.Summary = state, wave, summary
	if state.Final() {
		s.run.Finished = time.Now()
	}
	if err := s.store.UpdateRun(context.Background(), s.run); err != nil {
		s.t.Fatal(err)
	}
}

// get fetches a page with a session cookie (no redirects followed).
func (f *fixture) get(t *testing.T, path, token string) (int, string, http.Header) {
	t.Helper()
	req, _ := http.NewRequest("GET", f.srv.URL+path, nil)
	if token != "" {
		req.AddCookie(&http.Cookie{Name: CookieName, Value: token})
	}
	return f.send(t, req)
}

func (f *fixture) send(t *testing.T, req *http.Request) (int, string, http.Header) {
	t.Helper()
	c := *f.srv.Client()
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var b strings.Builder
	buf := make([]byte, 32<<10)
	for {
		n, err := resp.Body.Read(buf)
		b.Write(buf[:n])
		if err != nil {
			break
		}
	}
	return resp.StatusCode, b.String(), resp.Header
}
