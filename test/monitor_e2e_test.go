package test

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ripple-ops/ripple/engine/httpapi"
)

// The monitoring end-to-end test (issue 6, "Done when"): `ripple serve`
// (built by TestMain) polls a real git repository every second, runs the
// monitors of the applied commit against an HTTP service the test starts
// and breaks, and over SSH against a real sshd fleet, and delivers alerts
// to a webhook receiver the test runs. Everything stays on loopback.

const (
	monToken   = "monitor-e2e-operator-token-0123456789"
	monHookEnv = "RIPPLE_E2E_HOOK_URL"
)

// monService is the monitored HTTP service. It answers 200 while healthy
// and 503 while broken; a script, when set, decides the next answers one
// request at a time, so the test controls exactly what each check sees.
type monService struct {
	url string

	mu          sync.Mutex
	healthy     bool
	script      []bool
	served      int
	failed      int
	firstFailAt time.Time
}

func newMonService(t *testing.T) *monService {
	t.Helper()
	s := &monService{healthy: true}
	srv := httptest.NewServer(s) // loopback; closed at cleanup
	t.Cleanup(srv.Close)
	s.url = srv.URL
	return s
}

func (s *monService) ServeHTTP(w http.ResponseWriter, _ *http.Request) {
	s.mu.Lock()
	ok := s.healthy
	if len(s.script) > 0 {
		ok, s.script = s.script[0], s.script[1:]
	}
	s.served++
	if !ok {
		if s.failed == 0 {
			s.firstFailAt = time.Now()
		}
		s.failed++
	}
	s.mu.Unlock()
	if !ok {
		http.Error(w, "service unavailable", http.StatusServiceUnavailable)
		return
	}
	_, _ = io.WriteString(w, "ok\n")
}

func (s *monService) setHealthy(v bool) {
	s.mu.Lock()
	s.healthy = v
	s.mu.Unlock()
}

func (s *monService) setScript(answers []bool) {
	s.mu.Lock()
	s.script = answers
	s.mu.Unlock()
}

// counts returns requests served, failing answers given, the script left
// and when the first failing answer went out.
func (s *monService) counts() (served, failed, scriptLeft int, firstFail time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.served, s.failed, len(s.script), s.firstFailAt
}

// monDelivery is one notification the receiver got, in the webhook
// notifier's JSON, with when it arrived and how many failing answers the
// service had given by then.
type monDelivery struct {
	Kind          string   `json:"kind"`
	Monitor       string   `json:"monitor"`
	Host          string   `json:"host"`
	State         string   `json:"state"`
	PreviousState string   `json:"previous_state"`
	Value         *float64 `json:"value"`
	Message       string   `json:"message"`
	Since         string   `json:"since"`
	URL           string   `json:"url"`
	// What alerts carry since issue 14: severity, labels, the runbook and
	// its run form; a group's summary, count and per-host alerts.
	Severity   string            `json:"severity"`
	Labels     map[string]string `json:"labels"`
	Runbook    string            `json:"runbook"`
	RunbookURL string            `json:"runbook_url"`
	Repeat     bool              `json:"repeat"`
	Summary    string            `json:"summary"`
	Count      int               `json:"count"`
	Alerts     []struct {
		Host       string `json:"host"`
		State      string `json:"state"`
		Message    string `json:"message"`
		URL        string `json:"url"`
		RunbookURL string `json:"runbook_url"`
	} `json:"alerts"`

	at        time.Time
	svcFailed int
	keys      []string
}

func (d monDelivery) String() string {
	return fmt.Sprintf("%s %s@%s %s (previous %s) %q at %s", d.Kind, d.Monitor, d.Host, d.State, d.PreviousState, d.Message, d.at.Format("15:04:05.000"))
}

// monReceiver is the webhook receiver the notifier posts to.
type monReceiver struct {
	url string
	svc *monService

	mu  sync.Mutex
	got []monDelivery
	bad []string
}

func newMonReceiver(t *testing.T, svc *monService) *monReceiver {
	t.Helper()
	r := &monReceiver{svc: svc}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, err := io.ReadAll(req.Body)
		var d monDelivery
		var raw map[string]any
		if err == nil {
			err = json.Unmarshal(body, &d)
		}
		if err == nil {
			err = json.Unmarshal(body, &raw)
		}
		_, failed, _, _ := svc.counts()
		r.mu.Lock()
		defer r.mu.Unlock()
		if err != nil || req.Method != http.MethodPost || !strings.HasPrefix(req.Header.Get("Content-Type"), "application/json") {
			r.bad = append(r.bad, fmt.Sprintf("%s %s %q: %v: %s", req.Method, req.URL, req.Header.Get("Content-Type"), err, body))
			http.Error(w, "bad delivery", http.StatusBadRequest)
			return
		}
		d.at, d.svcFailed = time.Now(), failed
		for k := range raw {
			d.keys = append(d.keys, k)
		}
		r.got = append(r.got, d)
	}))
	t.Cleanup(srv.Close)
	r.url = srv.URL + "/hooks/ripple"
	return r
}

// of lists the deliveries for monitor (and host, when not empty).
func (r *monReceiver) of(monitor, host string) []monDelivery {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []monDelivery
	for _, d := range r.got {
		if d.Monitor == monitor && (host == "" || d.Host == host) {
			out = append(out, d)
		}
	}
	return out
}

func (r *monReceiver) all() []monDelivery {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]monDelivery(nil), r.got...)
}

// monEnv is one `ripple serve` over an ops repo, a fleet, the service and
// the receiver.
type monEnv struct {
	serveEnv
	svc  *monService
	hook *monReceiver

	// serveArgs are added to the serve command line; env to its
	// environment (NAME=value).
	serveArgs []string
	env       []string
}

func newMonEnv(t *testing.T, hosts int) *monEnv {
	t.Helper()
	e := &monEnv{serveEnv: newServeEnv(t, hosts)}
	e.svc = newMonService(t)
	e.hook = newMonReceiver(t, e.svc)
	if err := os.WriteFile(filepath.Join(e.dir, "tokens"), []byte(monToken+" operator e2e\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(e.stop)
	return e
}

// start runs `ripple serve` on a new port polling the repo every second,
// with the receiver's URL in the environment the notifier's env() reads.
func (e *monEnv) start() {
	e.t.Helper()
	e.pickAddr()
	logf, err := os.OpenFile(filepath.Join(e.dir, "serve.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		e.t.Fatal(err)
	}
	cmd := exec.Command(rippleBin, "serve",
		"--repo", e.repo, "--data", e.data, "--listen", e.addr, "--poll", "1s",
		"--api-tokens-file", filepath.Join(e.dir, "tokens"),
		"--log-format", "json", "--log-level", "debug", "--shutdown-timeout", "5s")
	cmd.Args = append(cmd.Args, e.serveArgs...)
	cmd.Env = append(os.Environ(), "HOME="+e.dir, monHookEnv+"="+e.hook.url)
	cmd.Env = append(cmd.Env, e.env...)
	e.launch(cmd, logf)
	monWait(e.t, "daemon ready", 20*time.Second, e.ready)
}

// stop ends the daemon this test started (SIGTERM, SIGKILL after 15s) and
// shows its log and the deliveries when the test failed.
func (e *monEnv) stop() {
	e.terminate()
	if e.t.Failed() {
		b, _ := os.ReadFile(filepath.Join(e.dir, "serve.log"))
		e.t.Logf("serve log:\n%s", lastLinesOf(string(b), 80))
		for _, d := range e.hook.all() {
			e.t.Logf("delivery: %s", d)
		}
	}
}

// get decodes GET path of the API into out.
func (e *monEnv) get(path string, out any) {
	e.t.Helper()
	req, err := http.NewRequest(http.MethodGet, "http://"+e.addr+path, nil)
	if err != nil {
		e.t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+monToken)
	resp, err := e.client.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(resp.Body)
		e.t.Fatalf("GET %s: %s: %s", path, resp.Status, b)
	}
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		e.t.Fatalf("GET %s: %v", path, err)
	}
}

// monitor is (monitor, host) as GET /api/v1/monitors shows it; ok is false
// when the applied commit has no such monitor or host.
func (e *monEnv) monitor(name, host string) (httpapi.MonitorHost, bool) {
	e.t.Helper()
	var ms []httpapi.Monitor
	e.get("/api/v1/monitors", &ms)
	for _, m := range ms {
		if m.Name != name {
			continue
		}
		for _, h := range m.Hosts {
			if h.Host == host {
				return h, true
			}
		}
	}
	return httpapi.MonitorHost{}, false
}

func (e *monEnv) lastApplied() string {
	e.t.Helper()
	var st map[string]any
	e.get("/api/v1/status", &st)
	s, _ := st["last_applied"].(string)
	return s
}

// monWait polls cond every 100ms until it holds, failing the test after
// timeout.
func monWait(t *testing.T, what string, timeout time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", timeout, what)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// hostsHCL is the fleet (group "fleet", vars.dir its private directory)
// plus svc-01, the loopback machine running the monitored HTTP service,
// and the webhook notifier whose URL comes from the daemon's environment.
func (e *monEnv) hostsHCL() string {
	f := e.fleet
	var b strings.Builder
	fmt.Fprintf(&b, "credential \"default\" {\n  user             = %q\n  private_key_file = %q\n  known_hosts_file = %q\n}\n", f.User, f.KeyFile, f.KnownHostsFile)
	for _, h := range f.Hosts {
		fmt.Fprintf(&b, "\nhost %q {\n  address = %q\n  port    = %d\n  groups  = [\"fleet\"]\n  vars    = { dir = %q }\n}\n", h.Name, h.Address, h.Port, h.Dir)
	}
	b.WriteString("\nhost \"svc-01\" {\n  address = \"127.0.0.1\"\n  groups  = [\"svc\"]\n}\n")
	// group_wait 0s: these tests time each alert against the results
	// that raised it (grouping has its own test, alerts_e2e_test.go).
	fmt.Fprintf(&b, "\nnotifier \"webhook\" \"pager\" {\n  url        = env(%q)\n  group_wait = \"0s\"\n}\n", monHookEnv)
	return b.String()
}

// monMonitors: "web" checks the HTTP service of svc-01 (alert after 3
// results); "app" is a Nagios-style command check over SSH on every fleet
// host, OK while the file "healthy" exists in the host's directory.
const monMonitors = `
monitor "web" {
  targets { groups = ["svc"] }
  interval    = "1s"
  timeout     = "900ms"
  alert_after = 3
  notify      = ["pager"]
  check "http" {
    url    = "http://${host.address}:%s/healthz"
    status = 200
  }
}

monitor "app" {
  targets { groups = ["fleet"] }
  interval    = "1s"
  alert_after = 2
  notify      = ["pager"]
  check "command" {
    run = "if test -f ${host.vars.dir}/healthy; then echo 'APP OK'; else echo 'APP CRITICAL: no healthy marker'; exit 2; fi"
  }
}
`

// monJob is a release whose step breaks the app on each host it reaches
// (it removes the healthy marker), gated on the "app" monitor: wave 1 must
// fail its gate and the run halt there.
const monJob = `
job "release" {
  targets { groups = ["fleet"] }
  step "deploy" {
    run = "echo v2 > ${host.vars.dir}/version && rm -f ${host.vars.dir}/healthy"
  }
  rollout {
    waves      = [1, "100%"]
    on_failure = "halt"
    health_gate {
      monitors         = ["app"]
      min_healthy_time = "2s"
      healthy_deadline = "8s"
    }
  }
}
`

// TestMonitorE2E: a merged commit adds monitors; breaking the service
// alerts exactly once after alert_after results and recovers once; a
// flapping service does not storm; a rollout wave holds its hosts' alerts
// while its health gate still sees the failure and fails the wave, and the
// held alert is delivered once the wave is over.
func TestMonitorE2E(t *testing.T) {
	if testing.Short() {
		t.Skip("monitor end-to-end test takes about a minute")
	}
	e := newMonEnv(t, 3)
	for _, h := range e.fleet.Hosts {
		if err := os.WriteFile(filepath.Join(h.Dir, "healthy"), []byte("yes\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	base := e.commit("inventory and notifier", map[string]string{"hosts.hcl": e.hostsHCL()})
	e.start()
	monWait(t, "the inventory commit applied", 20*time.Second, func() bool { return e.lastApplied() == base })
	if _, ok := e.monitor("web", "svc-01"); ok {
		t.Fatal("monitor web exists before the commit that adds it")
	}

	// 1. A merged commit adds the monitors; with the service up, web is OK.
	_, port, err := net.SplitHostPort(strings.TrimPrefix(e.svc.url, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	added := e.commit("add monitors web and app", map[string]string{"monitors.hcl": fmt.Sprintf(monMonitors, port)})
	monWait(t, "the monitor commit applied", 20*time.Second, func() bool { return e.lastApplied() == added })
	monWait(t, "web OK on svc-01", 10*time.Second, func() bool {
		m, ok := e.monitor("web", "svc-01")
		return ok && m.State == "OK"
	})
	for _, h := range e.fleet.Hosts {
		monWait(t, "app OK on "+h.Name, 15*time.Second, func() bool {
			m, ok := e.monitor("app", h.Name)
			return ok && m.State == "OK"
		})
	}
	if got := e.hook.all(); len(got) != 0 {
		t.Fatalf("deliveries while everything is healthy: %v", got)
	}
	// The same states are on /metrics for teams that already run Grafana,
	// beside the SSH transport's dials.
	resp, err := e.client.Get("http://" + e.addr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	metrics, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, want := range []string{`ripple_monitor_state{host="svc-01",monitor="web"} 0`, `ripple_monitor_check_duration_seconds{host="svc-01",monitor="web"}`,
		`ripple_ssh_dial_failures_total{reason="host_key_changed"} 0`, `ripple_ssh_dial_duration_seconds_count `} {
		if !strings.Contains(string(metrics), want) {
			t.Errorf("/metrics (%s) lacks %s; it has:\n%s", resp.Status, want, grepLines(string(metrics), "ripple_"))
		}
	}

	t.Run("service breaks: one alert after alert_after results, one recovery", func(t *testing.T) {
		monBreakAndRecover(t, e)
	})
	t.Run("flapping service: no alert storm", func(t *testing.T) {
		monFlapping(t, e)
	})
	t.Run("rollout wave holds alerts, gate fails the wave", func(t *testing.T) {
		monWaveHold(t, e)
	})
	e.hook.mu.Lock()
	bad := e.hook.bad
	e.hook.mu.Unlock()
	if len(bad) > 0 {
		t.Errorf("malformed deliveries: %v", bad)
	}
}

func monBreakAndRecover(t *testing.T, e *monEnv) {
	e.svc.setHealthy(false)
	// CRITICAL shows in the API at the first failing result, before any
	// alert: alert_after is 3.
	monWait(t, "web CRITICAL", 10*time.Second, func() bool {
		m, _ := e.monitor("web", "svc-01")
		return m.State == "CRITICAL"
	})
	if m, _ := e.monitor("web", "svc-01"); m.Consecutive < 3 {
		if got := e.hook.of("web", ""); len(got) != 0 {
			t.Errorf("alert before alert_after results (consecutive %d): %v", m.Consecutive, got)
		}
		if m.Firing {
			t.Errorf("firing after %d results, alert_after is 3", m.Consecutive)
		}
	}
	monWait(t, "the web alert", 15*time.Second, func() bool { return len(e.hook.of("web", "")) > 0 })
	e.svc.setHealthy(true)
	alert := e.hook.of("web", "")[0]
	t.Logf("alert: %s after %d failing results", alert, alert.svcFailed)
	if alert.Kind != "alert" || alert.Monitor != "web" || alert.Host != "svc-01" || alert.State != "CRITICAL" {
		t.Errorf("alert = %s, want kind alert, web@svc-01, CRITICAL", alert)
	}
	for _, k := range []string{"kind", "monitor", "host", "state", "previous_state", "value", "message", "since", "url"} {
		if !strings.Contains(" "+strings.Join(alert.keys, " ")+" ", " "+k+" ") {
			t.Errorf("alert payload lacks %q (has %v)", k, alert.keys)
		}
	}
	// previous_state is only checked for presence: with alert_after > 1
	// the product reports the state of the previous result, which is the
	// alert's own state (see the report on issue 6).
	if !strings.Contains(alert.Message, "503") {
		t.Errorf("alert message %q does not say what the check saw (503)", alert.Message)
	}
	if alert.Value == nil {
		t.Error("alert carries no value (the HTTP check's latency)")
	}
	if want := "http://" + e.addr + "/monitors/web?host=svc-01"; alert.URL != want {
		t.Errorf("alert url %q, want %q", alert.URL, want)
	}
	_, _, _, firstFail := e.svc.counts()
	if since, err := time.Parse(time.RFC3339, alert.Since); err != nil || since.Before(firstFail.Add(-2*time.Second)) || since.After(alert.at) {
		t.Errorf("alert since %q (%v): the first failing answer was at %s", alert.Since, err, firstFail.Format(time.RFC3339))
	}
	// Only after alert_after results: at least 3 failing answers had gone
	// out, spread over at least two intervals; and not needlessly late.
	if alert.svcFailed < 3 || alert.svcFailed > 4 {
		t.Errorf("alert arrived after %d failing results, want 3 (alert_after)", alert.svcFailed)
	}
	if gap := alert.at.Sub(firstFail); gap < 1800*time.Millisecond {
		t.Errorf("alert arrived %s after the first failing result: sooner than 3 results 1s apart", gap)
	}

	monWait(t, "the web recovery", 10*time.Second, func() bool { return len(e.hook.of("web", "")) >= 2 })
	rec := e.hook.of("web", "")[1]
	t.Logf("recovery: %s", rec)
	if rec.Kind != "recovery" || rec.Host != "svc-01" || rec.State != "OK" || rec.PreviousState != "CRITICAL" {
		t.Errorf("recovery = %s, want kind recovery, svc-01, OK after CRITICAL", rec)
	}
	// Nothing more while it stays up: watch three more results.
	served, _, _, _ := e.svc.counts()
	monWait(t, "three more results", 10*time.Second, func() bool { s, _, _, _ := e.svc.counts(); return s >= served+3 })
	if got := e.hook.of("web", ""); len(got) != 2 {
		t.Errorf("deliveries for web = %d, want exactly one alert and one recovery: %v", len(got), got)
	}
	if m, _ := e.monitor("web", "svc-01"); m.State != "OK" || m.Firing || m.Consecutive != 0 {
		t.Errorf("web after recovery: %+v", m)
	}
}

func monFlapping(t *testing.T, e *monEnv) {
	before := len(e.hook.of("web", ""))
	// Six rounds of three failing results and one good one: without flap
	// detection each round reaches alert_after (3) and recovers, twelve
	// deliveries in all.
	var script []bool
	for range 6 {
		script = append(script, false, false, false, true)
	}
	e.svc.setScript(script)
	sawFlapping := false
	var maxFlap float64
	monWait(t, "the flapping script to be played", 45*time.Second, func() bool {
		m, _ := e.monitor("web", "svc-01")
		sawFlapping = sawFlapping || m.Flapping
		maxFlap = max(maxFlap, m.FlapPercent)
		_, _, left, _ := e.svc.counts()
		return left == 0
	})
	// Let the last scripted result be observed and anything it triggers
	// be delivered.
	served, _, _, _ := e.svc.counts()
	monWait(t, "one more result", 5*time.Second, func() bool { s, _, _, _ := e.svc.counts(); return s > served })
	time.Sleep(300 * time.Millisecond)
	m, _ := e.monitor("web", "svc-01")
	sawFlapping = sawFlapping || m.Flapping
	got := e.hook.of("web", "")[before:]
	t.Logf("flapping phase: %d deliveries %v; API flapping=%v flap_percent=%.1f (max %.1f)", len(got), got, m.Flapping, m.FlapPercent, maxFlap)
	if len(got) > 2 {
		t.Errorf("a flapping service produced %d deliveries, want at most 2: %v", len(got), got)
	}
	if !sawFlapping {
		t.Errorf("the API never showed web@svc-01 flapping (max flap_percent %.1f)", maxFlap)
	}
	if !m.Flapping {
		t.Errorf("web@svc-01 not flapping right after 24 flapping results: %+v", m)
	}
}

func monWaveHold(t *testing.T, e *monEnv) {
	sha := e.commit("release v2", map[string]string{"jobs/release.hcl": monJob})
	var run httpapi.Run
	monWait(t, "the release run", 20*time.Second, func() bool {
		var runs []httpapi.Run
		e.get("/api/v1/runs?job=release", &runs)
		if len(runs) == 0 {
			return false
		}
		run = runs[0]
		return len(run.Waves) > 0
	})
	if run.Commit != sha || len(run.Waves) != 2 || len(run.Waves[0]) != 1 {
		t.Fatalf("run %+v, want commit %.12s with waves of 1 and 2 hosts", run, sha)
	}
	waveHost := run.Waves[0][0]
	hostDir := ""
	for _, h := range e.fleet.Hosts {
		if h.Name == waveHost {
			hostDir = h.Dir
		}
	}

	// While the wave runs its gate, the app check fails on its host: the
	// API shows it CRITICAL, firing and held, and nothing is delivered.
	sawHeld := false
	monWait(t, "the release run to end", 40*time.Second, func() bool {
		e.get(fmt.Sprintf("/api/v1/runs/%d", run.ID), &run)
		if run.State == "running" {
			if m, _ := e.monitor("app", waveHost); m.State == "CRITICAL" && m.Firing && m.Held {
				sawHeld = true
			}
		}
		return run.State != "running" && run.State != "queued" && run.State != "pending"
	})
	t.Logf("run %d: %s: %s", run.ID, run.State, run.Error)
	if run.State != "failed" || !strings.Contains(run.Error, "health gate") || !strings.Contains(run.Error, "app@"+waveHost) {
		t.Errorf("run %d %s (%s), want failed at the health gate on app@%s", run.ID, run.State, run.Error, waveHost)
	}
	if !sawHeld {
		t.Errorf("the API never showed app@%s CRITICAL, firing and held during the wave", waveHost)
	}
	var commit httpapi.Commit
	e.get("/api/v1/commits/"+sha, &commit)
	found := false
	for _, st := range commit.Statuses {
		if st.Context == "ripple/job/release" {
			found = true
			if st.State != "failure" {
				t.Errorf("status ripple/job/release = %s %q, want failure", st.State, st.Description)
			}
		}
	}
	if !found {
		t.Errorf("no ripple/job/release status on %.12s: %+v", sha, commit.Statuses)
	}
	for _, h := range e.fleet.Hosts {
		if h.Name != waveHost && exists(filepath.Join(h.Dir, "version")) {
			t.Errorf("%s (wave 2) was deployed after wave 1 failed", h.Name)
		}
	}

	// The held alert goes out once the wave is over, and only then.
	monWait(t, "the held app alert", 10*time.Second, func() bool { return len(e.hook.of("app", waveHost)) > 0 })
	alert := e.hook.of("app", waveHost)[0]
	t.Logf("held alert: %s; run finished %s", alert, run.Finished.Format("15:04:05.000"))
	if alert.Kind != "alert" || alert.State != "CRITICAL" || !strings.Contains(alert.Message, "no healthy marker") {
		t.Errorf("held alert = %s, want a CRITICAL alert with the check's output", alert)
	}
	if run.Finished.IsZero() || alert.at.Before(run.Finished) {
		t.Errorf("app alert for %s delivered at %s, while the wave was active (run finished %s)", waveHost, alert.at.Format(time.RFC3339Nano), run.Finished.Format(time.RFC3339Nano))
	}
	if m, _ := e.monitor("app", waveHost); m.Held {
		t.Errorf("app@%s still held after the run ended: %+v", waveHost, m)
	}

	// Restore the app: one recovery, and never more than one alert.
	if err := os.WriteFile(filepath.Join(hostDir, "healthy"), []byte("yes\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	monWait(t, "the app recovery", 10*time.Second, func() bool { return len(e.hook.of("app", waveHost)) >= 2 })
	// And nothing more while it stays healthy: watch two more results.
	recAt := time.Now()
	monWait(t, "two more app results", 10*time.Second, func() bool {
		m, _ := e.monitor("app", waveHost)
		return m.LastAt.After(recAt.Add(1500 * time.Millisecond))
	})
	got := e.hook.of("app", waveHost)
	if len(got) != 2 || got[1].Kind != "recovery" || got[1].State != "OK" {
		t.Errorf("app deliveries for %s: %v, want one alert then one recovery", waveHost, got)
	}
	if other := len(e.hook.of("app", "")) - len(e.hook.of("app", waveHost)); other != 0 {
		t.Errorf("%d app deliveries for hosts outside the wave, which stayed healthy: %v", other, e.hook.of("app", ""))
	}
}

// grepLines returns the lines of s that contain sub.
func grepLines(s, sub string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}
