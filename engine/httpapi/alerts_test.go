package httpapi

import (
	"context"
	"encoding/json"
	"net/http/httptest"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/rs/zerolog"

	"github.com/ripple-ops/ripple/definitions"
	"github.com/ripple-ops/ripple/engine"
	"github.com/ripple-ops/ripple/engine/monitor"
)

const alertDefsHCL = defsHCL + `
host "web-02" {
  address = "10.0.0.3"
  groups  = ["web"]
}
monitor "host-ssh" {
  targets { groups = ["web"] }
  check "command" { run = "true" }
  connectivity = true
}
monitor "app" {
  targets { groups = ["web"] }
  check "command" { run = "check_app" }
  severity   = "warning"
  labels     = { team = "app" }
  runbook    = "nginx"
  depends_on = ["host-ssh"]
}
`

// stateChecker answers each "monitor/host" as set, OK by default.
type stateChecker map[string]engine.CheckState

func (c stateChecker) Check(_ context.Context, ep engine.Endpoint, hc *definitions.HostCheck) engine.CheckResult {
	st := c[hc.Monitor+"/"+ep.Host.Name]
	return engine.CheckResult{State: st, Output: st.String(), At: time.Now()}
}

// newAlertFixture is the API over a real monitor runner and the SQLite
// store: app is CRITICAL on web-01 (alerting) and on web-02, where
// host-ssh is CRITICAL too (suppressed).
func newAlertFixture(t *testing.T) (*fixture, *monitor.Runner) {
	t.Helper()
	ctx := context.Background()
	f := newFixture(t, nil)
	defs, diags := definitions.Load(fstest.MapFS{"main.hcl": {Data: []byte(alertDefsHCL)}}, commitA, definitions.Limits{})
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	f.backend.defs = defs
	chk := stateChecker{"app/web-01": engine.StateCritical, "app/web-02": engine.StateCritical, "host-ssh/web-02": engine.StateCritical}
	r := monitor.New(monitor.Options{Checker: chk, Silences: f.store, Acks: f.store, States: f.store})
	if err := r.ApplyConfig(ctx, defs); err != nil {
		t.Fatal(err)
	}
	// host-ssh again after the app: an alert waits for a dependency
	// checked before it began.
	for _, k := range [][2]string{{"host-ssh", "web-01"}, {"host-ssh", "web-02"}, {"app", "web-01"}, {"app", "web-02"}, {"host-ssh", "web-01"}} {
		r.CheckNow(ctx, k[0], k[1])
	}
	tokens, err := ParseTokens(strings.NewReader(tokensFile))
	if err != nil {
		t.Fatal(err)
	}
	f.h = New(Options{Backend: f.backend, Store: f.store, Tokens: tokens, Monitors: r, Alerts: r, AlertAudit: f.store,
		PublicURL: "https://ripple.example", Logger: zerolog.New(zerolog.NewTestWriter(t))})
	f.srv = httptest.NewServer(f.h)
	t.Cleanup(f.srv.Close)
	return f, r
}

func monitorHost(t *testing.T, f *fixture, monitor, host string) MonitorHost {
	t.Helper()
	code, body := f.do(t, "GET", "/api/v1/monitors/"+monitor, viewerToken, "")
	if code != 200 {
		t.Fatalf("%d %s", code, body)
	}
	var m Monitor
	if err := json.Unmarshal([]byte(body), &m); err != nil {
		t.Fatal(err)
	}
	for _, h := range m.Hosts {
		if h.Host == host {
			return h
		}
	}
	t.Fatalf("no %s on %s in %s", monitor, host, body)
	return MonitorHost{}
}

// The monitor JSON shows what alerts carry and why a state is
// suppressed; an operator silences (and expires), acknowledges, and every
// action is in the audit with actor and reason; a viewer can read, not act.
func TestSilencesAcksAndTheirAudit(t *testing.T) {
	f, _ := newAlertFixture(t)
	code, body := f.do(t, "GET", "/api/v1/monitors/app", viewerToken, "")
	var m Monitor
	if err := json.Unmarshal([]byte(body), &m); err != nil || code != 200 {
		t.Fatalf("%d %s %v", code, body, err)
	}
	if m.Severity != "warning" || m.Labels["team"] != "app" || m.Runbook != "nginx" || len(m.DependsOn) != 1 {
		t.Errorf("app: severity %q labels %v runbook %q depends_on %v", m.Severity, m.Labels, m.Runbook, m.DependsOn)
	}
	if h := monitorHost(t, f, "app", "web-02"); h.Suppressed != "host web-02 is down: host-ssh CRITICAL" || h.Runbook != "nginx" {
		t.Errorf("app@web-02: suppressed %q runbook %q", h.Suppressed, h.Runbook)
	}
	if h := monitorHost(t, f, "app", "web-01"); h.Suppressed != "" || !h.Firing {
		t.Errorf("app@web-01: %+v, want firing, not suppressed", h)
	}

	// Refused: viewer, bad duration, no reason, unknown monitor or host.
	for _, tc := range []struct {
		token, body string
		code        int
		msg         string
	}{
		{viewerToken, `{"monitor":"app","for":"2h","reason":"r"}`, 403, "needs operator"},
		{operatorToken, `{"monitor":"app","for":"soon","reason":"r"}`, 400, "for must be a duration"},
		{operatorToken, `{"monitor":"app","for":"2h"}`, 400, "needs a reason"},
		{operatorToken, `{"monitor":"ap","for":"2h","reason":"r"}`, 404, `no monitor \"ap\"`},
		{operatorToken, `{"monitor":"app","host":"db-01","for":"2h","reason":"r"}`, 404, `does not run on host \"db-01\"`},
		{operatorToken, `{"monitor":"app","for":"2h","reason":"r","hosts":["x"]}`, 400, "unknown field"},
	} {
		if code, body := f.do(t, "POST", "/api/v1/silences", tc.token, tc.body); code != tc.code || !strings.Contains(body, tc.msg) {
			t.Errorf("POST %s: %d %s, want %d saying %q", tc.body, code, body, tc.code, tc.msg)
		}
	}

	code, body = f.do(t, "POST", "/api/v1/silences", operatorToken, `{"monitor":"app","host":"web-01","for":"2h","reason":"replacing a disk"}`)
	var sl Silence
	if err := json.Unmarshal([]byte(body), &sl); err != nil || code != 201 {
		t.Fatalf("silence: %d %s", code, body)
	}
	if sl.ID == 0 || sl.Actor != "alice" || !sl.Active || sl.Ends.Sub(sl.Created) != 2*time.Hour {
		t.Errorf("silence %+v", sl)
	}
	if h := monitorHost(t, f, "app", "web-01"); h.Silence == nil || h.Silence.ID != sl.ID {
		t.Errorf("app@web-01 silence %+v", h.Silence)
	}
	code, body = f.do(t, "GET", "/api/v1/silences", viewerToken, "")
	if code != 200 || !strings.Contains(body, `"reason": "replacing a disk"`) {
		t.Errorf("GET silences: %d %s", code, body)
	}

	if code, body := f.do(t, "POST", "/api/v1/monitors/app/hosts/web-01/ack", viewerToken, `{"reason":"x"}`); code != 403 {
		t.Errorf("viewer ack: %d %s", code, body)
	}
	if code, body := f.do(t, "POST", "/api/v1/monitors/host-ssh/hosts/web-01/ack", operatorToken, `{"reason":"x"}`); code != 409 || !strings.Contains(body, "is OK") {
		t.Errorf("ack of an OK state: %d %s", code, body)
	}
	code, body = f.do(t, "POST", "/api/v1/monitors/app/hosts/web-01/ack", operatorToken, `{"reason":"on it"}`)
	var ack Ack
	if err := json.Unmarshal([]byte(body), &ack); err != nil || code != 200 || ack.State != "CRITICAL" || ack.Actor != "alice" {
		t.Fatalf("ack: %d %s", code, body)
	}
	if h := monitorHost(t, f, "app", "web-01"); h.Ack == nil || h.Ack.Reason != "on it" {
		t.Errorf("app@web-01 ack %+v", h.Ack)
	}

	if code, body := f.do(t, "DELETE", "/api/v1/silences/"+itoa(sl.ID), operatorToken, `{"reason":"disk done"}`); code != 200 || !strings.Contains(body, `"active": false`) {
		t.Errorf("expire: %d %s", code, body)
	}
	if code, body := f.do(t, "DELETE", "/api/v1/silences/"+itoa(sl.ID), operatorToken, `{"reason":"again"}`); code != 409 {
		t.Errorf("second expiry: %d %s", code, body)
	}
	if code, _ := f.do(t, "DELETE", "/api/v1/silences/999", operatorToken, `{"reason":"r"}`); code != 404 {
		t.Errorf("expiry of an unknown silence: %d", code)
	}
	if code, body := f.do(t, "GET", "/api/v1/silences", viewerToken, ""); code != 200 || strings.TrimSpace(body) != "[]" {
		t.Errorf("active silences after the expiry: %d %s", code, body)
	}

	code, body = f.do(t, "GET", "/api/v1/alert-events?monitor=app&host=web-01", viewerToken, "")
	var evs []AlertEvent
	if err := json.Unmarshal([]byte(body), &evs); err != nil || code != 200 {
		t.Fatalf("audit: %d %s", code, body)
	}
	var texts []string
	for _, e := range evs {
		texts = append(texts, e.Text)
	}
	want := []string{"expired silence 1 of app@web-01 by alice: disk done", "acknowledged CRITICAL app@web-01 by alice: on it"}
	if len(texts) != 3 || texts[0] != want[0] || texts[1] != want[1] || !strings.HasPrefix(texts[2], "silenced app@web-01 until ") {
		t.Errorf("audit %q", texts)
	}
	if _, body := f.do(t, "GET", "/api/v1/monitors/app", viewerToken, ""); !strings.Contains(body, `"events"`) {
		t.Errorf("monitor detail lacks the audit: %s", body)
	}
}
