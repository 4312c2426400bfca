package notify

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ripple-ops/ripple/definitions"
	"github.com/ripple-ops/ripple/engine"
)

// receiver records the webhook payloads it gets; it fails the first
// `fail` of them.
type receiver struct {
	mu   sync.Mutex
	got  []webhookPayload
	fail int
	srv  *httptest.Server
}

func newReceiver(t *testing.T, fail int) *receiver {
	t.Helper()
	r := &receiver{fail: fail}
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		r.mu.Lock()
		defer r.mu.Unlock()
		if r.fail > 0 {
			r.fail--
			http.Error(w, "busy", http.StatusServiceUnavailable)
			return
		}
		var p webhookPayload
		if err := json.NewDecoder(req.Body).Decode(&p); err != nil {
			t.Errorf("decode: %v", err)
		}
		r.got = append(r.got, p)
	}))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *receiver) payloads() []webhookPayload {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]webhookPayload(nil), r.got...)
}

// outcomes records what the notifier reports back to the runner.
type outcomes struct {
	mu   sync.Mutex
	list []string
}

func (o *outcomes) NotificationOutcome(_ context.Context, notifier string, n engine.Notification, failure string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	r := "ok"
	if failure != "" {
		r = "failed"
	}
	o.list = append(o.list, fmt.Sprintf("%s %s %s", n.Host, n.Kind, r))
}

func (o *outcomes) count(suffix string) int {
	o.mu.Lock()
	defer o.mu.Unlock()
	c := 0
	for _, s := range o.list {
		if strings.HasSuffix(s, suffix) {
			c++
		}
	}
	return c
}

func groupDefs(t *testing.T, wait time.Duration) *definitions.Definitions {
	t.Helper()
	return &definitions.Definitions{
		Notifiers: map[string]*definitions.Notifier{"ops": {Name: "ops", Type: "webhook", URL: envSecret(t, "OPS_URL"), GroupWait: wait}},
		Monitors: map[string]*definitions.Monitor{
			"web-http": {Name: "web-http", Notify: []string{"ops"}},
			"disk":     {Name: "disk", Notify: []string{"ops"}},
		},
	}
}

func webAlert(host string, kind engine.NotificationKind) engine.Notification {
	st := engine.StateCritical
	if kind == engine.NotifyRecovery {
		st = engine.StateOK
	}
	return engine.Notification{Kind: kind, Monitor: "web-http", Host: host, State: st, Message: "HTTP 503 from " + host,
		Since: time.Date(2026, 11, 29, 1, 2, 3, 0, time.UTC), Severity: "critical", Runbook: "restart-web"}
}

// Alerts of one monitor that start within group_wait go out as one
// message, and their recoveries likewise; another monitor's alert is its
// own message; each notification's outcome is reported.
func TestGroupWaitSendsOneMessagePerMonitor(t *testing.T) {
	recv := newReceiver(t, 0)
	outs := &outcomes{}
	n := New(Options{PublicURL: "http://ripple.test", Secrets: staticEnv{"OPS_URL": recv.srv.URL}, Outcomes: outs})
	if err := n.ApplyConfig(context.Background(), groupDefs(t, 300*time.Millisecond)); err != nil {
		t.Fatal(err)
	}
	runNotifiers(t, n)
	ctx := context.Background()
	for i := 1; i <= 14; i++ {
		n.Notify(ctx, []string{"ops"}, webAlert(fmt.Sprintf("web-%02d", i), engine.NotifyAlert))
	}
	disk := notification()
	disk.Monitor = "disk"
	n.Notify(ctx, []string{"ops"}, disk)
	waitRecords(t, n, 15)
	got := recv.payloads()
	if len(got) != 2 {
		t.Fatalf("%d messages, want one for web-http and one for disk: %+v", len(got), got)
	}
	var web webhookPayload
	for _, p := range got {
		if p.Monitor == "web-http" {
			web = p
		}
	}
	if web.Count != 14 || len(web.Alerts) != 14 || web.Host != "" || web.State != "CRITICAL" ||
		web.Summary != "web-http CRITICAL on 14 hosts: web-01, web-02, web-03, web-04, web-05, web-06, web-07, web-08, web-09, web-10 and 4 more" {
		t.Fatalf("grouped payload: count %d, %d alerts, host %q, state %s, summary %q", web.Count, len(web.Alerts), web.Host, web.State, web.Summary)
	}
	if web.URL != "http://ripple.test/monitors/web-http" || web.RunbookURL != "http://ripple.test/jobs/restart-web#run" {
		t.Errorf("group links %q %q", web.URL, web.RunbookURL)
	}
	a := web.Alerts[0]
	if a.Host == "" || a.URL != "http://ripple.test/monitors/web-http?host="+a.Host || a.RunbookURL != "http://ripple.test/jobs/restart-web?host="+a.Host+"#run" {
		t.Errorf("alert of a group: %+v", a)
	}
	if c := outs.count("alert ok"); c != 15 {
		t.Errorf("%d delivered outcomes, want one per notification (15)", c)
	}

	for i := 1; i <= 14; i++ {
		n.Notify(ctx, []string{"ops"}, webAlert(fmt.Sprintf("web-%02d", i), engine.NotifyRecovery))
	}
	waitRecords(t, n, 29)
	got = recv.payloads()
	if len(got) != 3 || got[2].Kind != "recovery" || got[2].Count != 14 || !strings.HasPrefix(got[2].Summary, "web-http RECOVERED on 14 hosts: ") {
		t.Fatalf("recoveries: %d messages, last %+v", len(got), got[len(got)-1])
	}
}

// A grouped message lists its hosts in host order, as its summary names
// them, whatever order their alerts came in: the same event reads the same
// in every message.
func TestGroupedMessageListsHostsInOrder(t *testing.T) {
	recv := newReceiver(t, 0)
	n := New(Options{PublicURL: "http://ripple.test", Secrets: staticEnv{"OPS_URL": recv.srv.URL}, Outcomes: &outcomes{}})
	if err := n.ApplyConfig(context.Background(), groupDefs(t, 300*time.Millisecond)); err != nil {
		t.Fatal(err)
	}
	runNotifiers(t, n)
	for i := 14; i >= 1; i-- {
		n.Notify(context.Background(), []string{"ops"}, webAlert(fmt.Sprintf("web-%02d", i), engine.NotifyAlert))
	}
	waitRecords(t, n, 14)
	got := recv.payloads()
	if len(got) != 1 || len(got[0].Alerts) != 14 {
		t.Fatalf("%d messages, want one of 14 alerts: %+v", len(got), got)
	}
	for i, a := range got[0].Alerts {
		if want := fmt.Sprintf("web-%02d", i+1); a.Host != want {
			t.Fatalf("alert %d of the message is %s, want %s (host order)", i, a.Host, want)
		}
	}
}

// A grouped message that fails is retried as one, and every
// notification in it is reported failed, then delivered.
func TestGroupedMessageIsRetriedTogether(t *testing.T) {
	recv := newReceiver(t, 1)
	outs := &outcomes{}
	n := New(Options{Secrets: staticEnv{"OPS_URL": recv.srv.URL}, Outcomes: outs, Backoff: 20 * time.Millisecond})
	if err := n.ApplyConfig(context.Background(), groupDefs(t, 200*time.Millisecond)); err != nil {
		t.Fatal(err)
	}
	runNotifiers(t, n)
	for i := 1; i <= 3; i++ {
		n.Notify(context.Background(), []string{"ops"}, webAlert(fmt.Sprintf("web-%02d", i), engine.NotifyAlert))
	}
	waitRecords(t, n, 6)
	if got := recv.payloads(); len(got) != 1 || got[0].Count != 3 {
		t.Fatalf("delivered %+v, want the group of 3 once, after one failure", got)
	}
	if f, ok := outs.count("alert failed"), outs.count("alert ok"); f != 3 || ok != 3 {
		t.Errorf("outcomes: %d failed, %d ok; want 3 and 3", f, ok)
	}
}

// An alert that starts after its group went out waits for a group of its
// own; without group_wait every alert goes at once, alone.
func TestLateAlertStartsANewGroup(t *testing.T) {
	recv := newReceiver(t, 0)
	n := New(Options{Secrets: staticEnv{"OPS_URL": recv.srv.URL}})
	if err := n.ApplyConfig(context.Background(), groupDefs(t, 100*time.Millisecond)); err != nil {
		t.Fatal(err)
	}
	runNotifiers(t, n)
	ctx := context.Background()
	n.Notify(ctx, []string{"ops"}, webAlert("web-01", engine.NotifyAlert))
	n.Notify(ctx, []string{"ops"}, webAlert("web-02", engine.NotifyAlert))
	waitRecords(t, n, 2)
	n.Notify(ctx, []string{"ops"}, webAlert("web-03", engine.NotifyAlert))
	waitRecords(t, n, 3)
	got := recv.payloads()
	if len(got) != 2 || got[0].Count != 2 || got[1].Count != 1 || got[1].Host != "web-03" {
		t.Fatalf("messages %+v, want the first two together, then web-03 alone", got)
	}

	recv2 := newReceiver(t, 0)
	n2 := New(Options{Secrets: staticEnv{"OPS_URL": recv2.srv.URL}})
	if err := n2.ApplyConfig(context.Background(), groupDefs(t, 0)); err != nil {
		t.Fatal(err)
	}
	runNotifiers(t, n2)
	for i := 1; i <= 3; i++ {
		n2.Notify(ctx, []string{"ops"}, webAlert(fmt.Sprintf("web-%02d", i), engine.NotifyAlert))
	}
	waitRecords(t, n2, 3)
	if got := recv2.payloads(); len(got) != 3 {
		t.Fatalf("group_wait 0s: %d messages, want one per alert", len(got))
	}
}

// The text of Slack and email: a group's summary, severity and runbook,
// then a line per host with what its check said and its links.
func TestGroupedTextNamesEveryHost(t *testing.T) {
	ns := []engine.Notification{webAlert("web-02", engine.NotifyAlert), webAlert("web-01", engine.NotifyAlert)}
	ns[1].State, ns[1].Message = engine.StateWarning, "slow"
	got := text(ns, links{base: "http://ripple.test"})
	want := "[ripple] web-http CRITICAL on 1 host, WARNING on 1 host: web-01, web-02\n" +
		"severity critical\n" +
		"runbook: restart-web\n" +
		"http://ripple.test/monitors/web-http\n" +
		"- web-01 WARNING: slow http://ripple.test/monitors/web-http?host=web-01 runbook http://ripple.test/jobs/restart-web?host=web-01#run\n" +
		"- web-02 CRITICAL: HTTP 503 from web-02 http://ripple.test/monitors/web-http?host=web-02 runbook http://ripple.test/jobs/restart-web?host=web-02#run"
	if got != want {
		t.Errorf("text:\n%s\nwant:\n%s", got, want)
	}
	if s := subject(ns); s != "[ripple] web-http CRITICAL on 1 host, WARNING on 1 host" {
		t.Errorf("subject %q", s)
	}
	one := text(ns[:1], links{base: "http://ripple.test"})
	if !strings.Contains(one, "runbook: restart-web http://ripple.test/jobs/restart-web?host=web-02#run") ||
		!strings.HasPrefix(one, "[ripple] CRITICAL web-http on web-02: HTTP 503 from web-02 (since 2026-11-29T01:02:03Z) http://ripple.test/monitors/web-http?host=web-02") {
		t.Errorf("text of one alert:\n%s", one)
	}
}
