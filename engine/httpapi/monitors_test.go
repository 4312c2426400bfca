package httpapi

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/rs/zerolog"

	"github.com/ripple-ops/ripple/definitions"
	"github.com/ripple-ops/ripple/engine"
)

const monitorDefsHCL = defsHCL + `
monitor "disk-root" {
  targets { groups = ["web"] }
  interval = "5m"
  check "command" { run = "check_disk -p /" }
  limits = { "/" = 100 }
}
monitor "web-http" {
  targets { groups = ["web"] }
  check "http" { url = "http://${host.address}/" }
  alert_after = 3
}
host "web-02" {
  address = "10.0.0.3"
  groups  = ["web"]
}
`

type fakeMonitors []engine.MonitorHostState

func (f fakeMonitors) States() []engine.MonitorHostState { return f }

// newMonitorFixture is newFixture with monitors, live states and a
// seeded metric history: disk "/" on web-01 grows 2 a day from 60 over
// the last 10 days (100 is reached in about 10 days); web-02 stays flat.
func newMonitorFixture(t *testing.T) *fixture {
	t.Helper()
	ctx := context.Background()
	f := newFixture(t, nil)
	defs, diags := definitions.Load(fstest.MapFS{"main.hcl": {Data: []byte(monitorDefsHCL)}}, commitA, definitions.Limits{})
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	f.backend.defs = defs
	now := time.Now()
	var samples []engine.MetricSample
	for i := 0; i <= 40; i++ {
		at := now.Add(-10*24*time.Hour + time.Duration(i)*6*time.Hour)
		days := at.Sub(now.Add(-10*24*time.Hour)).Hours() / 24
		samples = append(samples,
			engine.MetricSample{Monitor: "disk-root", Host: "web-01", Metric: "/", At: at, Value: 60 + 2*days},
			engine.MetricSample{Monitor: "disk-root", Host: "web-02", Metric: "/", At: at, Value: 40})
	}
	samples = append(samples, engine.MetricSample{Monitor: "web-http", Host: "web-01", Metric: "time", At: now.Add(-time.Minute), Value: 0.012})
	if err := f.store.AppendMetrics(ctx, samples); err != nil {
		t.Fatal(err)
	}
	// Run 2 is final, so its event stream ends at once.
	done := &engine.Run{Job: "nginx", Commit: commitA, Trigger: "manual", State: engine.RunSucceeded, Waves: [][]string{{"web-01"}}}
	if err := f.store.CreateRun(ctx, done); err != nil || done.ID != 2 {
		t.Fatal(done.ID, err)
	}
	live := fakeMonitors{
		{Monitor: "web-http", Host: "web-01", State: engine.StateCritical, Since: now.Add(-time.Hour), Consecutive: 4, Firing: true, Flapping: true, FlapPercent: 31.5, LastOutput: "HTTP 503", LastAt: now},
		{Monitor: "web-http", Host: "web-02", Held: true, State: engine.StateOK, Since: now.Add(-2 * time.Hour), LastOutput: "HTTP 200", LastAt: now},
	}
	tokens, err := ParseTokens(strings.NewReader(tokensFile))
	if err != nil {
		t.Fatal(err)
	}
	f.h = New(Options{Backend: f.backend, Store: f.store, Tokens: tokens, Monitors: live, Metrics: f.store,
		EventPoll: 20 * time.Millisecond, PublicURL: "https://ripple.example", Logger: zerolog.New(zerolog.NewTestWriter(t))})
	f.srv = httptest.NewServer(f.h)
	t.Cleanup(f.srv.Close)
	return f
}

func TestMonitorEndpointsAndRoles(t *testing.T) {
	f := newMonitorFixture(t)
	for _, path := range []string{"/api/v1/monitors", "/api/v1/monitors/web-http", "/api/v1/capacity", "/api/v1/capacity?horizon=2w", "/api/v1/runs/2/events"} {
		t.Run(path, func(t *testing.T) {
			if code, body := f.do(t, "GET", path, "", ""); code != 401 || !strings.Contains(body, `"error"`) {
				t.Errorf("no token: %d %s", code, body)
			}
			if code, _ := f.do(t, "GET", path, "not-a-known-token-at-all", ""); code != 401 {
				t.Errorf("unknown token: %d", code)
			}
			for _, tok := range []string{viewerToken, operatorToken} {
				if code, body := f.do(t, "GET", path, tok, ""); code != 200 {
					t.Errorf("%s: %d %s", tok, code, body)
				}
			}
		})
	}
}

func TestMonitorsList(t *testing.T) {
	f := newMonitorFixture(t)
	code, body := f.do(t, "GET", "/api/v1/monitors", viewerToken, "")
	if code != 200 {
		t.Fatalf("%d %s", code, body)
	}
	var ms []Monitor
	if err := json.Unmarshal([]byte(body), &ms); err != nil {
		t.Fatal(err)
	}
	if len(ms) != 2 || ms[0].Name != "disk-root" || ms[1].Name != "web-http" {
		t.Fatalf("monitors = %+v", ms)
	}
	disk := ms[0]
	if disk.Kind != "command" || disk.Limits["/"] != 100 || len(disk.Hosts) != 2 || disk.Hosts[0].State != StatePending || disk.Counts[StatePending] != 2 {
		t.Errorf("disk-root = %+v", disk)
	}
	web := ms[1]
	h0, h1 := web.Hosts[0], web.Hosts[1]
	if h0.Host != "web-01" || h0.State != "CRITICAL" || !h0.Flapping || h0.FlapPercent != 31.5 || h0.Consecutive != 4 || !h0.Firing || h0.LastOutput != "HTTP 503" {
		t.Errorf("web-01 = %+v", h0)
	}
	if h1.Host != "web-02" || h1.State != "OK" || !h1.Held || h1.Muted {
		t.Errorf("web-02 = %+v", h1)
	}
	if web.Counts["CRITICAL"] != 1 || web.Counts["OK"] != 1 || web.AlertAfter != 3 {
		t.Errorf("web-http = %+v", web)
	}
}

func TestMonitorDetailSeries(t *testing.T) {
	f := newMonitorFixture(t)
	code, body := f.do(t, "GET", "/api/v1/monitors/disk-root?window=3d", viewerToken, "")
	if code != 200 {
		t.Fatalf("%d %s", code, body)
	}
	var m Monitor
	if err := json.Unmarshal([]byte(body), &m); err != nil {
		t.Fatal(err)
	}
	if len(m.Series) != 2 || m.Series[0].Host != "web-01" || m.Series[0].Metric != "/" {
		t.Fatalf("series = %+v", m.Series)
	}
	if n := len(m.Series[0].Points); n < 11 || n > 13 {
		t.Errorf("3 days of 6-hourly points = %d", n)
	}
	// The default window is 6h: only web-http's recent value.
	_, body = f.do(t, "GET", "/api/v1/monitors/web-http", viewerToken, "")
	if err := json.Unmarshal([]byte(body), &m); err != nil {
		t.Fatal(err)
	}
	if len(m.Series) != 1 || m.Series[0].Metric != "time" || m.Series[0].Points[0].Value != 0.012 {
		t.Errorf("web-http series = %+v", m.Series)
	}
	for _, tc := range []struct {
		path string
		want int
	}{
		{"/api/v1/monitors/nope", 404},
		{"/api/v1/monitors/disk-root?window=forever", 400},
		{"/api/v1/monitors/disk-root?window=1000d", 400},
		{"/api/v1/runs/abc/events", 400},
		{"/api/v1/runs/0/events", 400},
	} {
		if code, body := f.do(t, "GET", tc.path, viewerToken, ""); code != tc.want || !strings.Contains(body, `"error"`) {
			t.Errorf("%s: %d %s", tc.path, code, body)
		}
	}
}

func TestMonitorsFallBackToStoredState(t *testing.T) {
	f := newMonitorFixture(t)
	if err := f.store.SaveMonitorState(context.Background(), engine.MonitorRecord{Monitor: "web-http", Host: "web-02", State: engine.StateWarning, Consecutive: 2, LastOutput: "slow"}); err != nil {
		t.Fatal(err)
	}
	ms, err := MonitorStates(context.Background(), f.backend.defs, nil, f.store)
	if err != nil {
		t.Fatal(err)
	}
	if h := ms[1].Hosts[1]; h.Host != "web-02" || h.State != "WARNING" || h.LastOutput != "slow" {
		t.Errorf("stored state = %+v", h)
	}
}

func TestCapacity(t *testing.T) {
	f := newMonitorFixture(t)
	code, body := f.do(t, "GET", "/api/v1/capacity", viewerToken, "")
	if code != 200 {
		t.Fatalf("%d %s", code, body)
	}
	var c Capacity
	if err := json.Unmarshal([]byte(body), &c); err != nil {
		t.Fatal(err)
	}
	if c.Horizon != "30d" || len(c.Forecasts) != 2 {
		t.Fatalf("capacity = %+v", c)
	}
	first := c.Forecasts[0]
	if first.Host != "web-01" || first.Metric != "/" || !first.Within || first.Limit != 100 {
		t.Fatalf("first = %+v", first)
	}
	if want := c.Now.Add(10 * 24 * time.Hour); first.Crossing.Sub(want).Abs() > 24*time.Hour {
		t.Errorf("crossing %v, want about %v", first.Crossing, want)
	}
	if first.PerDay < 1.9 || first.PerDay > 2.1 || first.Current < 79 || first.Current > 81 {
		t.Errorf("fit = %+v", first)
	}
	if flat := c.Forecasts[1]; flat.Host != "web-02" || flat.Within || !flat.Crossing.IsZero() {
		t.Errorf("flat = %+v", flat)
	}
	_, body = f.do(t, "GET", "/api/v1/capacity?horizon=7d", viewerToken, "")
	if err := json.Unmarshal([]byte(body), &c); err != nil {
		t.Fatal(err)
	}
	if c.Forecasts[0].Within {
		t.Errorf("a crossing in 10 days is within 7d: %+v", c.Forecasts[0])
	}
	for _, h := range []string{"soon", "-3d", "0d", "100000d", "3x"} {
		if code, _ := f.do(t, "GET", "/api/v1/capacity?horizon="+h, viewerToken, ""); code != 400 {
			t.Errorf("horizon=%s: %d", h, code)
		}
	}
}

type sseEvent struct{ name, data string }

// readEvents reads a stream's events until "end", EOF, or n events.
func readEvents(t *testing.T, resp *http.Response, each func(sseEvent)) {
	t.Helper()
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	var ev sseEvent
	for sc.Scan() {
		line := sc.Text()
		switch {
		case line == "":
			if ev.name != "" {
				each(ev)
				if ev.name == "end" {
					return
				}
			}
			ev = sseEvent{}
		case strings.HasPrefix(line, "event: "):
			ev.name = strings.TrimPrefix(line, "event: ")
		case strings.HasPrefix(line, "data: "):
			ev.data += strings.TrimPrefix(line, "data: ")
		}
	}
}

func TestRunEventsStreamUntilFinal(t *testing.T) {
	f := newMonitorFixture(t)
	ctx := context.Background()
	run := &engine.Run{Job: "nginx", Commit: commitA, Trigger: "manual", State: engine.RunRunning, Waves: [][]string{{"web-01"}, {"web-02"}}}
	if err := f.store.CreateRun(ctx, run); err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest("GET", f.srv.URL+"/api/v1/runs/"+itoa(run.ID)+"/events", nil)
	req.Header.Set("Authorization", "Bearer "+viewerToken)
	resp, err := f.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); resp.StatusCode != 200 || ct != "text/event-stream" {
		t.Fatalf("%d %s", resp.StatusCode, ct)
	}
	var states []string
	var ended bool
	step := 0
	readEvents(t, resp, func(ev sseEvent) {
		switch ev.name {
		case "end":
			ended = true
			return
		case "run":
		default:
			t.Fatalf("event %q: %s", ev.name, ev.data)
		}
		var d RunDetail
		if err := json.Unmarshal([]byte(ev.data), &d); err != nil {
			t.Fatalf("data %q: %v", ev.data, err)
		}
		states = append(states, d.State+":"+d.WaveDetails[0].State)
		// Move the run on after each event, as the rollout would.
		switch step {
		case 0:
			hs := engine.HostStep{RunID: run.ID, Wave: 0, Host: "web-01", Step: "reload", Phase: engine.PhaseFinished, Result: engine.StepResult{Status: engine.StepOK}}
			if err := f.store.FinishHostStep(ctx, hs); err != nil {
				t.Fatal(err)
			}
		case 1:
			run.State = engine.RunSucceeded
			if err := f.store.UpdateRun(ctx, run); err != nil {
				t.Fatal(err)
			}
		}
		step++
	})
	if !ended || strings.Join(states, " ") != "running:pending running:done succeeded:done" {
		t.Errorf("ended %v, states %v", ended, states)
	}
}

func TestRunEventsRespectDisconnect(t *testing.T) {
	f := newMonitorFixture(t)
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, "GET", f.srv.URL+"/api/v1/runs/1/events", nil)
	req.Header.Set("Authorization", "Bearer "+viewerToken)
	resp, err := f.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	got := make(chan string, 4)
	go func() {
		defer close(got)
		readEvents(t, resp, func(ev sseEvent) { got <- ev.name })
	}()
	if ev := <-got; ev != "run" {
		t.Fatalf("first event %q", ev)
	}
	cancel()
	resp.Body.Close()
	for range got {
	}
	// httptest.Server.Close waits for every handler: a stream that ignored
	// the disconnect would hang the test here.
	done := make(chan struct{})
	go func() { f.srv.Close(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("stream still running after the client left")
	}
	if code, _ := newMonitorFixture(t).do(t, "GET", "/api/v1/runs/999/events", viewerToken, ""); code != 404 {
		t.Errorf("missing run stream: %d", code)
	}
}

func TestMount(t *testing.T) {
	api := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Header().Set("X-Who", "api") })
	ui := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Header().Set("X-Who", "ui") })
	h := Mount(api, ui)
	for path, want := range map[string]string{
		"/": "ui", "/runs/1": "ui", "/apiary": "ui", "/metricsx": "ui",
		"/api/v1/runs": "api", "/livez": "api", "/readyz": "api", "/healthz": "api", "/metrics": "api", "/webhooks/github": "api",
	} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("GET", path, nil))
		if got := rec.Header().Get("X-Who"); got != want {
			t.Errorf("%s went to %s, want %s", path, got, want)
		}
	}
}

func TestHostsCarryMonitorStates(t *testing.T) {
	f := newMonitorFixture(t)
	code, body := f.do(t, "GET", "/api/v1/hosts", viewerToken, "")
	if code != 200 {
		t.Fatalf("%d %s", code, body)
	}
	var hosts []Host
	if err := json.Unmarshal([]byte(body), &hosts); err != nil {
		t.Fatal(err)
	}
	got := map[string]map[string]string{}
	for _, h := range hosts {
		got[h.Name] = h.Monitors
	}
	if got["web-01"]["web-http"] != "CRITICAL" || got["web-01"]["disk-root"] != StatePending || got["web-02"]["web-http"] != "OK" {
		t.Fatalf("host monitor states = %v", got)
	}
}
