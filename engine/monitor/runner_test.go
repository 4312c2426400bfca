package monitor

import (
	"context"
	"strings"
	"sync"
	"testing"
	"testing/fstest"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/ripple-ops/ripple/definitions"
	"github.com/ripple-ops/ripple/engine"
)

const monitorRepo = `
credential "default" {
  user             = "ops"
  private_key_file = "/keys/ops"
  known_hosts_file = "/keys/known_hosts"
}
host "web-01" {
  address = "10.0.0.1"
  groups  = ["web"]
}
host "web-02" {
  address = "10.0.0.2"
  groups  = ["web"]
}
host "db-01" {
  address = "10.0.0.3"
  groups  = ["db"]
}
notifier "webhook" "ops" {
  url = env("OPS_URL")
}
monitor "web-http" {
  targets { groups = ["web"] }
  interval = "1s"
  check "http" { url = "http://${host.address}:8080/healthz" }
  alert_after = 2
  notify      = ["ops"]
}
monitor "db-tcp" {
  targets { groups = ["db"] }
  interval = "1s"
  check "tcp" { port = 5432 }
}
`

func loadMonitors(t *testing.T, src string, interval time.Duration) *definitions.Definitions {
	t.Helper()
	defs, diags := definitions.Load(fstest.MapFS{"main.hcl": {Data: []byte(src)}}, "", definitions.Limits{})
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	for _, m := range defs.Monitors {
		m.Interval = interval
	}
	return defs
}

// scriptedChecker returns the state set per host and counts calls.
type scriptedChecker struct {
	mu       sync.Mutex
	states   map[string]engine.CheckState
	calls    map[string]int
	inflight int
	peak     int
}

func (c *scriptedChecker) Check(_ context.Context, ep engine.Endpoint, hc *definitions.HostCheck) engine.CheckResult {
	c.mu.Lock()
	c.calls[hc.Monitor+"/"+ep.Host.Name]++
	c.inflight++
	if c.inflight > c.peak {
		c.peak = c.inflight
	}
	st := c.states[ep.Host.Name]
	c.mu.Unlock()
	time.Sleep(time.Millisecond)
	c.mu.Lock()
	c.inflight--
	c.mu.Unlock()
	return engine.CheckResult{State: st, Output: st.String(), At: time.Now()}
}

func (c *scriptedChecker) set(host string, s engine.CheckState) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.states[host] = s
}

func (c *scriptedChecker) count(key string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.calls[key]
}

type recordedNotes struct {
	mu    sync.Mutex
	notes []engine.Notification
}

func (r *recordedNotes) Notify(_ context.Context, _ []string, n engine.Notification) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.notes = append(r.notes, n)
}

func (r *recordedNotes) list() []engine.Notification {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]engine.Notification(nil), r.notes...)
}

func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func startRunner(t *testing.T, r *Runner) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = r.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
}

func TestMonitorRunnerRunsEveryTargetAndAlertsOnce(t *testing.T) {
	chk := &scriptedChecker{states: map[string]engine.CheckState{}, calls: map[string]int{}}
	notes := &recordedNotes{}
	r := New(Options{Checker: chk, Notifications: notes, Concurrency: 2})
	r.apply(loadMonitors(t, monitorRepo, 20*time.Millisecond))
	startRunner(t, r)

	for _, k := range []string{"web-http/web-01", "web-http/web-02", "db-tcp/db-01"} {
		eventually(t, k+" checked 3 times", func() bool { return chk.count(k) >= 3 })
	}
	if chk.count("web-http/db-01") != 0 || chk.count("db-tcp/web-01") != 0 {
		t.Fatal("a monitor ran on a host outside its targets")
	}

	chk.set("web-02", engine.StateCritical)
	eventually(t, "an alert", func() bool { return len(notes.list()) >= 1 })
	n0 := chk.count("web-http/web-02")
	eventually(t, "more checks", func() bool { return chk.count("web-http/web-02") >= n0+5 })
	if got := notes.list(); len(got) != 1 || got[0].Kind != engine.NotifyAlert || got[0].Host != "web-02" || got[0].State != engine.StateCritical {
		t.Fatalf("notifications = %+v, want one CRITICAL alert for web-02", got)
	}
	chk.set("web-02", engine.StateOK)
	eventually(t, "a recovery", func() bool { return len(notes.list()) == 2 })
	if got := notes.list()[1]; got.Kind != engine.NotifyRecovery {
		t.Fatalf("second notification = %+v, want recovery", got)
	}
	chk.mu.Lock()
	peak := chk.peak
	chk.mu.Unlock()
	if peak > 2 {
		t.Fatalf("%d checks in flight with Concurrency 2", peak)
	}
}

func TestMonitorRunnerReloadKeepsUnchangedState(t *testing.T) {
	chk := &scriptedChecker{states: map[string]engine.CheckState{"db-01": engine.StateCritical}, calls: map[string]int{}}
	r := New(Options{Checker: chk})
	r.apply(loadMonitors(t, monitorRepo, 20*time.Millisecond))
	startRunner(t, r)
	state := func(m, h string) engine.MonitorHostState {
		for _, s := range r.States() {
			if s.Monitor == m && s.Host == h {
				return s
			}
		}
		t.Fatalf("no state for %s/%s", m, h)
		return engine.MonitorHostState{}
	}
	eventually(t, "db-01 failing 3 times", func() bool { return state("db-tcp", "db-01").Consecutive >= 3 })

	// Same definitions again: the state carries on.
	r.apply(loadMonitors(t, monitorRepo, 20*time.Millisecond))
	if c := state("db-tcp", "db-01").Consecutive; c < 3 {
		t.Fatalf("unchanged monitor lost its state on reload (consecutive %d)", c)
	}

	// Changed check: starts afresh. Removed monitor: stops and is reported.
	changed := loadMonitors(t, monitorRepo, 20*time.Millisecond)
	changed.Monitors["db-tcp"].Check.Port = 5433
	delete(changed.Monitors, "web-http")
	removed := r.apply(changed)
	if len(removed) != 1 || removed[0] != "web-http" {
		t.Fatalf("removed = %v, want [web-http]", removed)
	}
	if c := state("db-tcp", "db-01").Consecutive; c >= 3 {
		t.Fatalf("changed monitor kept its old state (consecutive %d)", c)
	}
	before := chk.count("web-http/web-01")
	time.Sleep(100 * time.Millisecond)
	if after := chk.count("web-http/web-01"); after > before+1 {
		t.Fatalf("removed monitor still runs (%d -> %d)", before, after)
	}
}

func TestMonitorRunnerHoldsAlertsDuringWave(t *testing.T) {
	chk := &scriptedChecker{states: map[string]engine.CheckState{"web-01": engine.StateCritical}, calls: map[string]int{}}
	notes := &recordedNotes{}
	r := New(Options{Checker: chk, Notifications: notes})
	r.Hold([]string{"web-01"})
	r.apply(loadMonitors(t, monitorRepo, 20*time.Millisecond))
	startRunner(t, r)
	eventually(t, "checks while held", func() bool { return chk.count("web-http/web-01") >= 4 })
	if n := notes.list(); len(n) != 0 {
		t.Fatalf("held host alerted: %+v", n)
	}
	// The gate still sees the result.
	res, ok := r.CheckNow(context.Background(), "web-http", "web-01")
	if !ok || res.State != engine.StateCritical {
		t.Fatalf("CheckNow = %+v, %v", res, ok)
	}
	r.Release(context.Background(), []string{"web-01"})
	eventually(t, "held alert sent", func() bool { return len(notes.list()) == 1 })
}

func TestRestoredFiringAlertIsNotSentAgain(t *testing.T) {
	chk := &scriptedChecker{states: map[string]engine.CheckState{"web-01": engine.StateCritical}, calls: map[string]int{}}
	notes := &recordedNotes{}
	r := New(Options{Checker: chk, Notifications: notes})
	r.apply(loadMonitors(t, monitorRepo, 20*time.Millisecond))
	r.RestoreStates(context.Background(), []engine.MonitorRecord{{Monitor: "web-http", Host: "web-01", State: engine.StateCritical, Consecutive: 5, Firing: true, Notified: true}})
	startRunner(t, r)
	eventually(t, "checks", func() bool { return chk.count("web-http/web-01") >= 3 })
	if n := notes.list(); len(n) != 0 {
		t.Fatalf("restart re-sent an alert: %+v", n)
	}
	chk.set("web-01", engine.StateOK)
	eventually(t, "recovery after restart", func() bool { return len(notes.list()) == 1 && notes.list()[0].Kind == engine.NotifyRecovery })
}

func TestGateCheckerReadsThroughTheRunner(t *testing.T) {
	chk := &scriptedChecker{states: map[string]engine.CheckState{"web-01": engine.StateCritical}, calls: map[string]int{}}
	r := New(Options{Checker: chk})
	defs := loadMonitors(t, monitorRepo, time.Hour)
	r.apply(defs)
	fallback := &scriptedChecker{states: map[string]engine.CheckState{}, calls: map[string]int{}}
	g := GateChecker{Runner: r, Fallback: fallback}

	h := defs.Hosts["web-01"]
	hc, _ := defs.RenderCheck(defs.Monitors["web-http"], h, nil)
	res := g.Check(context.Background(), engine.Endpoint{Host: h}, hc)
	if res.State != engine.StateCritical || chk.count("web-http/web-01") != 1 || fallback.count("web-http/web-01") != 0 {
		t.Fatalf("gate result %v, runner calls %d, fallback calls %d", res.State, chk.count("web-http/web-01"), fallback.count("web-http/web-01"))
	}
	// The gate's result is part of the monitor's state.
	for _, s := range r.States() {
		if s.Monitor == "web-http" && s.Host == "web-01" && s.State != engine.StateCritical {
			t.Fatalf("monitor state after gate check = %v", s.State)
		}
	}
	// A monitor the runner does not know goes to the fallback.
	hc2 := *hc
	hc2.Monitor = "new-monitor"
	g.Check(context.Background(), engine.Endpoint{Host: h}, &hc2)
	if fallback.count("new-monitor/web-01") != 1 {
		t.Fatal("unknown monitor did not fall back")
	}
}

func TestMonitorCollectorExposesStates(t *testing.T) {
	chk := &scriptedChecker{states: map[string]engine.CheckState{"web-02": engine.StateCritical}, calls: map[string]int{}}
	r := New(Options{Checker: chk})
	r.apply(loadMonitors(t, monitorRepo, time.Hour))
	if _, ok := r.CheckNow(context.Background(), "web-http", "web-02"); !ok {
		t.Fatal("no entry for web-http/web-02")
	}
	r.CheckNow(context.Background(), "web-http", "web-01")
	want := `
# HELP ripple_monitor_check_state 1 for the latest check state of the monitor on the host (label state: OK, WARNING, CRITICAL, UNKNOWN); only the current state is exported.
# TYPE ripple_monitor_check_state gauge
ripple_monitor_check_state{host="web-01",monitor="web-http",state="OK"} 1
ripple_monitor_check_state{host="web-02",monitor="web-http",state="CRITICAL"} 1
# HELP ripple_monitor_state Deprecated, use ripple_monitor_check_state (removed in the next release): latest check state per monitor and host: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN.
# TYPE ripple_monitor_state gauge
ripple_monitor_state{host="web-01",monitor="web-http"} 0
ripple_monitor_state{host="web-02",monitor="web-http"} 2
`
	if err := testutil.CollectAndCompare(NewCollector(r), strings.NewReader(want), "ripple_monitor_check_state", "ripple_monitor_state"); err != nil {
		t.Fatal(err)
	}
	if problems, err := testutil.CollectAndLint(NewCollector(r)); err != nil || len(problems) > 0 {
		t.Fatalf("lint: %v %v", problems, err)
	}
}

// leakyChecker prints a secret it was never given.
type leakyChecker struct{ out string }

func (c leakyChecker) Check(context.Context, engine.Endpoint, *definitions.HostCheck) engine.CheckResult {
	return engine.CheckResult{State: engine.StateCritical, Output: c.out, At: time.Now()}
}

// recordingSink keeps the results the runner records.
type recordingSink struct {
	mu      sync.Mutex
	results []Result
}

func (s *recordingSink) RecordResult(_ context.Context, r Result) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.results = append(s.results, r)
	return nil
}

// TestRunnerRedactsLoadedSecrets: a check's output that holds a secret
// loaded anywhere in the process is redacted before it reaches the result,
// the alert state, the store or a notification.
func TestRunnerRedactsLoadedSecrets(t *testing.T) {
	const secret = "db-passw0rd-loaded-by-a-job"
	values := engine.NewSecretRegistry()
	values.Add(secret)
	notes := &recordedNotes{}
	sink := &recordingSink{}
	r := New(Options{Checker: leakyChecker{out: "CRITICAL: login as " + secret + " refused"}, Notifications: notes, Results: sink, Redact: values})
	defs := loadMonitors(t, monitorRepo, time.Hour)
	defs.Monitors["web-http"].AlertAfter = 1
	if err := r.ApplyConfig(context.Background(), defs); err != nil {
		t.Fatal(err)
	}
	res, ok := r.CheckNow(context.Background(), "web-http", "web-01")
	if !ok {
		t.Fatal("no such check")
	}
	var texts []string
	texts = append(texts, res.Output)
	for _, st := range r.States() {
		texts = append(texts, st.LastOutput)
	}
	for _, n := range notes.list() {
		texts = append(texts, n.Message)
	}
	sink.mu.Lock()
	for _, rec := range sink.results {
		texts = append(texts, rec.State.LastOutput)
	}
	sink.mu.Unlock()
	all := strings.Join(texts, "\n")
	if strings.Contains(all, secret) || !strings.Contains(res.Output, "login as [redacted] refused") || len(notes.list()) != 1 {
		t.Errorf("outputs and %d notifications:\n%s", len(notes.list()), all)
	}
}
