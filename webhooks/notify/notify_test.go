package notify

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"

	"github.com/ripple-ops/ripple/definitions"
	"github.com/ripple-ops/ripple/engine"
)

// staticEnv is a SecretSource over a map.
type staticEnv map[string]string

func (e staticEnv) Env(name string) (string, bool)                               { v, ok := e[name]; return v, ok }
func (e staticEnv) ReadFile(string, []definitions.ProtectedFile) ([]byte, error) { return nil, io.EOF }

func envSecret(t *testing.T, name string) *definitions.Secret {
	t.Helper()
	expr, diags := hclsyntax.ParseExpression([]byte(`env("`+name+`")`), "t.hcl", hcl.InitialPos)
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	return &definitions.Secret{Expr: expr, Range: expr.Range()}
}

func notification() engine.Notification {
	v := 97.5
	return engine.Notification{
		Kind: engine.NotifyAlert, Monitor: "disk-root", Host: "web-01",
		State: engine.StateCritical, Previous: engine.StateOK, Value: &v,
		Message: "DISK CRITICAL - free space: / 2%", Since: time.Date(2026, 11, 29, 1, 2, 3, 0, time.UTC),
	}
}

// withDiskMonitor adds the monitor of notification() to defs, notifying
// every notifier of defs, as a commit that sends its alerts would.
func withDiskMonitor(defs *definitions.Definitions) *definitions.Definitions {
	m := &definitions.Monitor{Name: "disk-root"}
	for name := range defs.Notifiers {
		m.Notify = append(m.Notify, name)
	}
	defs.Monitors = map[string]*definitions.Monitor{m.Name: m}
	return defs
}

func runNotifiers(t *testing.T, n *Notifiers) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = n.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
}

func waitRecords(t *testing.T, n *Notifiers, want int) []DeliveryRecord {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if r := n.Recent(); len(r) >= want {
			return r
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("timed out waiting for %d delivery records; have %v", want, n.Recent())
	return nil
}

func TestWebhookNotifierPostsJSONAndRetries(t *testing.T) {
	var calls atomic.Int32
	got := make(chan webhookPayload, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if calls.Add(1) == 1 {
			http.Error(w, "busy", http.StatusServiceUnavailable)
			return
		}
		var p webhookPayload
		if err := json.NewDecoder(r.Body).Decode(&p); err != nil {
			t.Errorf("decode: %v", err)
		}
		got <- p
	}))
	defer srv.Close()

	defs := &definitions.Definitions{Notifiers: map[string]*definitions.Notifier{
		"ops": {Name: "ops", Type: "webhook", URL: envSecret(t, "OPS_URL")},
	}}
	n := New(Options{Backoff: 10 * time.Millisecond, PublicURL: "http://ripple.test/", Secrets: staticEnv{"OPS_URL": srv.URL + "/hook?token=s3cret"}})
	if err := n.ApplyConfig(context.Background(), withDiskMonitor(defs)); err != nil {
		t.Fatal(err)
	}
	runNotifiers(t, n)
	note := notification()
	note.Severity, note.Labels, note.Runbook = "warning", map[string]string{"team": "ops"}, "clean-disk"
	n.Notify(context.Background(), []string{"ops"}, note)

	p := <-got
	if p.Monitor != "disk-root" || p.Host != "web-01" || p.State != "CRITICAL" || p.PreviousState != "OK" ||
		p.Value == nil || *p.Value != 97.5 || p.Since != "2026-11-29T01:02:03Z" || p.URL != "http://ripple.test/monitors/disk-root?host=web-01" {
		t.Errorf("payload = %+v", p)
	}
	if p.Severity != "warning" || p.Labels["team"] != "ops" || p.Runbook != "clean-disk" ||
		p.RunbookURL != "http://ripple.test/jobs/clean-disk?host=web-01#run" || p.Count != 1 || len(p.Alerts) != 1 ||
		p.Alerts[0].Host != "web-01" || p.Summary != "CRITICAL disk-root on web-01" {
		t.Errorf("payload = %+v: want severity, labels, the runbook and its run form for the host, one alert", p)
	}
	recs := waitRecords(t, n, 2)
	if recs[0].Attempts != 1 || recs[0].Error == "" || recs[0].Final {
		t.Errorf("first record = %+v, want a failed attempt 1 to be retried", recs[0])
	}
	if recs[1].Attempts != 2 || recs[1].Error != "" || !recs[1].Final {
		t.Errorf("second record = %+v, want success on attempt 2", recs[1])
	}
}

func TestFailedDeliveryIsRecordedWithoutSecret(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "nope", http.StatusInternalServerError)
	}))
	defer srv.Close()
	defs := &definitions.Definitions{Notifiers: map[string]*definitions.Notifier{
		"chat": {Name: "chat", Type: "slack", URL: envSecret(t, "SLACK_URL")},
	}}
	secretURL := "http://127.0.0.1:1/services/T000/B000/XXXXSECRET"
	n := New(Options{Backoff: time.Millisecond, Secrets: staticEnv{"SLACK_URL": secretURL}})
	if err := n.ApplyConfig(context.Background(), withDiskMonitor(defs)); err != nil {
		t.Fatal(err)
	}
	runNotifiers(t, n)
	n.Notify(context.Background(), []string{"chat"}, notification())
	for i, rec := range waitRecords(t, n, 3)[:3] {
		if rec.Attempts != i+1 || rec.Error == "" || rec.Final {
			t.Errorf("record %d = %+v, want failed attempt %d, to be retried", i, rec, i+1)
		}
		if strings.Contains(rec.Error, "XXXXSECRET") {
			t.Fatalf("delivery error leaks the webhook url: %s", rec.Error)
		}
	}
}

// lockedEnv is a SecretSource whose variables a test can change while the
// delivery goroutine reads them.
type lockedEnv struct {
	mu   sync.Mutex
	vars map[string]string
}

func (e *lockedEnv) Env(name string) (string, bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	v, ok := e.vars[name]
	return v, ok
}
func (e *lockedEnv) ReadFile(string, []definitions.ProtectedFile) ([]byte, error) { return nil, io.EOF }
func (e *lockedEnv) set(name, v string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.vars[name] = v
}

// hookServer counts the notifications it receives.
func hookServer(t *testing.T) (*httptest.Server, func() []webhookPayload) {
	t.Helper()
	var mu sync.Mutex
	var got []webhookPayload
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var p webhookPayload
		_ = json.NewDecoder(r.Body).Decode(&p)
		mu.Lock()
		got = append(got, p)
		mu.Unlock()
	}))
	t.Cleanup(srv.Close)
	return srv, func() []webhookPayload {
		mu.Lock()
		defer mu.Unlock()
		return append([]webhookPayload(nil), got...)
	}
}

func TestMissingSecretIsAFailedDeliveryRetriedUntilTheSecretAppears(t *testing.T) {
	srv, received := hookServer(t)
	defs := &definitions.Definitions{Notifiers: map[string]*definitions.Notifier{
		"chat": {Name: "chat", Type: "slack", URL: envSecret(t, "SLACK_URL")},
	}}
	env := &lockedEnv{vars: map[string]string{}}
	n := New(Options{Backoff: 5 * time.Millisecond, MaxBackoff: 20 * time.Millisecond, Secrets: env})
	if err := n.ApplyConfig(context.Background(), withDiskMonitor(defs)); err == nil {
		t.Fatal("ApplyConfig with the secret missing: no error")
	}
	runNotifiers(t, n)
	n.Notify(context.Background(), []string{"chat"}, notification())
	recs := waitRecords(t, n, 2)
	for _, rec := range recs {
		if rec.Error == "" || rec.Final || !strings.Contains(rec.Error, "notifier chat") || !strings.Contains(rec.Error, "SLACK_URL") {
			t.Fatalf("record %+v, want a failed attempt naming the notifier and the missing variable, to be retried", rec)
		}
	}
	if len(received()) != 0 {
		t.Fatal("delivered without a URL")
	}
	env.set("SLACK_URL", srv.URL+"/T000/SECRET")
	waitReceived(t, received, 1)
	time.Sleep(50 * time.Millisecond)
	recs = n.Recent()
	last := recs[len(recs)-1]
	if last.Error != "" || !last.Final || len(received()) != 1 {
		t.Fatalf("last record %+v, deliveries %d: want one final success", last, len(received()))
	}
}

func TestRecoveryOfAnUndeliveredAlertIsWithdrawn(t *testing.T) {
	srv, received := hookServer(t)
	defs := &definitions.Definitions{Notifiers: map[string]*definitions.Notifier{
		"ops": {Name: "ops", Type: "webhook", URL: envSecret(t, "OPS_URL")},
	}}
	env := &lockedEnv{vars: map[string]string{}}
	n := New(Options{Backoff: time.Hour, Secrets: env})
	_ = n.ApplyConfig(context.Background(), withDiskMonitor(defs))
	runNotifiers(t, n)
	alert := notification()
	n.Notify(context.Background(), []string{"ops"}, alert)
	waitRecords(t, n, 1) // the failed first attempt; the next is an hour away
	rec := alert
	rec.Kind, rec.State, rec.At = engine.NotifyRecovery, engine.StateOK, alert.At.Add(time.Minute)
	n.Notify(context.Background(), []string{"ops"}, rec)
	recs := waitRecords(t, n, 2)
	if w := recs[1]; !w.Withdrawn || !w.Final || w.Notification.Kind != engine.NotifyRecovery {
		t.Fatalf("record %+v, want the recovery withdrawn", w)
	}
	// Nothing is left to deliver, even once the secret is there.
	env.set("OPS_URL", srv.URL)
	_ = n.ApplyConfig(context.Background(), withDiskMonitor(defs))
	time.Sleep(100 * time.Millisecond)
	if got := received(); len(got) != 0 {
		t.Fatalf("delivered %+v after the alert was withdrawn", got)
	}

	// A recovery of an alert that went out is delivered.
	n.Notify(context.Background(), []string{"ops"}, alert)
	waitReceived(t, received, 1)
	n.Notify(context.Background(), []string{"ops"}, rec)
	if got := waitReceived(t, received, 2); got[0].Kind != "alert" || got[1].Kind != "recovery" {
		t.Fatalf("deliveries %+v, want the alert then its recovery", got)
	}
}

// A failed delivery is retried after a wait within the upper half of the
// backoff ceiling (equal jitter), not at once and not past the ceiling.
func TestFailedDeliveryWaitsWithinJitterBounds(t *testing.T) {
	defs := &definitions.Definitions{Notifiers: map[string]*definitions.Notifier{
		"ops": {Name: "ops", Type: "webhook", URL: envSecret(t, "OPS_URL")},
	}}
	n := New(Options{Backoff: time.Hour, MaxBackoff: 4 * time.Hour, Secrets: staticEnv{}}) // no secret: fails
	_ = n.ApplyConfig(context.Background(), withDiskMonitor(defs))
	runNotifiers(t, n)
	before := time.Now()
	n.Notify(context.Background(), []string{"ops"}, notification())
	waitRecords(t, n, 1)
	after := time.Now()
	n.mu.Lock()
	p := n.pending[deliveryKey{"ops", "disk-root", "web-01"}]
	var next time.Time
	if p != nil {
		next = p.next
	}
	n.mu.Unlock()
	if p == nil {
		t.Fatal("the failed delivery is no longer pending")
	}
	if lo, hi := before.Add(30*time.Minute), after.Add(time.Hour); next.Before(lo) || next.After(hi) {
		t.Fatalf("next attempt at %v, want within [%v, %v]", next, lo, hi)
	}
}

// A notification still owed when a commit removes its monitor, or the
// monitor's notify of the notifier, is withdrawn: a removed monitor's
// alerts stop, as its checks do.
func TestRemovedMonitorWithdrawsItsUndeliveredAlert(t *testing.T) {
	for _, tc := range []struct {
		name   string
		change func(*definitions.Definitions)
	}{
		{"monitor removed", func(d *definitions.Definitions) { delete(d.Monitors, "disk-root") }},
		{"notifier no longer named", func(d *definitions.Definitions) { d.Monitors["disk-root"].Notify = nil }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv, received := hookServer(t)
			defs := withDiskMonitor(&definitions.Definitions{Notifiers: map[string]*definitions.Notifier{
				"ops": {Name: "ops", Type: "webhook", URL: envSecret(t, "OPS_URL")},
			}})
			env := &lockedEnv{vars: map[string]string{}}
			n := New(Options{Backoff: time.Hour, Secrets: env})
			_ = n.ApplyConfig(context.Background(), defs)
			runNotifiers(t, n)
			n.Notify(context.Background(), []string{"ops"}, notification())
			waitRecords(t, n, 1) // failed: no secret yet

			env.set("OPS_URL", srv.URL)
			tc.change(defs)
			if err := n.ApplyConfig(context.Background(), defs); err != nil {
				t.Fatal(err)
			}
			recs := waitRecords(t, n, 2)
			if w := recs[1]; !w.Withdrawn || !w.Final || w.Error != "" || w.Notification.Kind != engine.NotifyAlert {
				t.Fatalf("record %+v, want the alert withdrawn", w)
			}
			time.Sleep(100 * time.Millisecond)
			if got := received(); len(got) != 0 {
				t.Fatalf("delivered %+v for a monitor that no longer notifies ops", got)
			}
		})
	}
}

func waitReceived(t *testing.T, received func() []webhookPayload, want int) []webhookPayload {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for len(received()) < want {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %d deliveries; have %+v", want, received())
		}
		time.Sleep(5 * time.Millisecond)
	}
	return received()
}

func TestSlackMessageFormat(t *testing.T) {
	got := make(chan map[string]string, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var m map[string]string
		_ = json.NewDecoder(r.Body).Decode(&m)
		got <- m
	}))
	defer srv.Close()
	defs := &definitions.Definitions{Notifiers: map[string]*definitions.Notifier{
		"chat": {Name: "chat", Type: "slack", URL: envSecret(t, "SLACK_URL")},
	}}
	n := New(Options{Secrets: staticEnv{"SLACK_URL": srv.URL}})
	if err := n.ApplyConfig(context.Background(), withDiskMonitor(defs)); err != nil {
		t.Fatal(err)
	}
	runNotifiers(t, n)
	rec := notification()
	rec.Kind, rec.State = engine.NotifyRecovery, engine.StateOK
	n.Notify(context.Background(), []string{"chat"}, rec)
	m := <-got
	if !strings.HasPrefix(m["text"], "[ripple] RECOVERED disk-root on web-01") {
		t.Errorf("slack text = %q", m["text"])
	}
}

func TestApplyConfigReportsUnresolvableSecret(t *testing.T) {
	defs := &definitions.Definitions{Notifiers: map[string]*definitions.Notifier{
		"ops": {Name: "ops", Type: "webhook", URL: envSecret(t, "MISSING")},
	}}
	n := New(Options{Secrets: staticEnv{}})
	if err := n.ApplyConfig(context.Background(), withDiskMonitor(defs)); err == nil || !strings.Contains(err.Error(), "notifier ops") {
		t.Fatalf("err = %v, want one naming notifier ops", err)
	}
}

// TestPayloadRedactsLoadedSecrets: a notification whose message holds a
// secret loaded anywhere in the process (restored from a store written
// before, say) goes out with it redacted.
func TestPayloadRedactsLoadedSecrets(t *testing.T) {
	const secret = "api-key-loaded-by-a-job"
	got := make(chan string, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		got <- string(b)
	}))
	defer srv.Close()
	values := engine.NewSecretRegistry()
	values.Add(secret)
	defs := &definitions.Definitions{Notifiers: map[string]*definitions.Notifier{
		"chat": {Name: "chat", Type: "slack", URL: envSecret(t, "CHAT_URL")},
	}}
	n := New(Options{Secrets: staticEnv{"CHAT_URL": srv.URL}, Redact: values})
	if err := n.ApplyConfig(context.Background(), withDiskMonitor(defs)); err != nil {
		t.Fatal(err)
	}
	runNotifiers(t, n)
	note := notification()
	note.Message = "CRITICAL: curl -H 'key: " + secret + "' failed"
	n.Notify(context.Background(), []string{"chat"}, note)
	body := <-got
	if strings.Contains(body, secret) || !strings.Contains(body, "key: [redacted]") {
		t.Errorf("payload %s", body)
	}
}
