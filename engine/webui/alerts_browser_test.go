package webui

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/ripple-ops/ripple/definitions"
	"github.com/ripple-ops/ripple/engine"
	"github.com/ripple-ops/ripple/engine/monitor"
	"github.com/ripple-ops/ripple/engine/sqlstore"
)

// httpChecker says web-04 answers 503, and every other host 200.
type httpChecker struct{}

func (httpChecker) Check(_ context.Context, ep engine.Endpoint, _ *definitions.HostCheck) engine.CheckResult {
	if ep.Host.Name == "web-04" {
		return engine.CheckResult{State: engine.StateCritical, Output: "HTTP CRITICAL 503", At: time.Now()}
	}
	return engine.CheckResult{State: engine.StateOK, Output: "HTTP OK", At: time.Now()}
}

// withRunner puts a real monitor runner behind the UI: its states, its
// silences and acks (kept in the fixture's store) and the alert audit.
func withRunner(t *testing.T) func(*Options) {
	return func(o *Options) {
		store := o.Store.(*sqlstore.Store)
		r := monitor.New(monitor.Options{Checker: httpChecker{}, Silences: store, Acks: store, States: store})
		ctx := context.Background()
		if err := r.ApplyConfig(ctx, o.Backend.Definitions()); err != nil {
			t.Fatal(err)
		}
		for range 3 { // alert_after
			r.CheckNow(ctx, "web-http", "web-04")
		}
		r.CheckNow(ctx, "web-http", "web-05")
		o.Monitors, o.Alerts, o.AlertAudit = r, r, store
	}
}

// TestBrowserAlertActions: an operator sees a not-OK row with a "Run
// runbook" link to the runbook's run form for that host, acknowledges and
// silences it from the overview, and expires the silence on the monitor
// page, whose audit lists all three with the operator and the reasons. A
// viewer gets none of these actions.
func TestBrowserAlertActions(t *testing.T) {
	f := newFixture(t, withRunner(t))
	ctx := newBrowser(t)
	row := `tr.alert[data-monitor="web-http"][data-host="web-04"]`
	run(t, ctx, "overview as an operator",
		chromedp.Navigate(f.srv.URL+"/?token="+operatorToken),
		chromedp.WaitVisible(chromedp.CSS(row+` a.runbook`)),
	)
	href := eval[string](t, ctx, `document.querySelector('`+row+` a.runbook').href`)
	if href != f.srv.URL+"/jobs/nginx-config?host=web-04#run" {
		t.Errorf("Run runbook links to %q, want the run form of nginx-config for web-04", href)
	}
	if n := eval[int](t, ctx, `document.querySelectorAll('tr.alert[data-host="web-05"]').length`); n != 0 {
		t.Errorf("an OK host has an alert row")
	}
	run(t, ctx, "follow Run runbook",
		chromedp.Click(chromedp.CSS(row+` a.runbook`)),
		chromedp.WaitVisible(chromedp.CSS(`#run select[name="host"]`)),
	)
	if got := eval[string](t, ctx, `Array.from(document.querySelectorAll('#run select[name="host"] option:checked')).map(o => o.value).join(",")`); got != "web-04" {
		t.Errorf("the runbook's run form has hosts %q, want web-04 filled in", got)
	}
	run(t, ctx, "back to the overview",
		chromedp.Navigate(f.srv.URL+"/"),
		chromedp.WaitVisible(chromedp.CSS(row+` a.runbook`)),
	)

	run(t, ctx, "acknowledge",
		chromedp.Click(chromedp.CSS(row+` details[id^="ack-"] summary`)),
		chromedp.SendKeys(chromedp.CSS(row+` form[action$="/ack"] input[name="reason"]`), "alice is on it"),
		chromedp.Click(chromedp.CSS(row+` button.ack`)),
		chromedp.WaitVisible(chromedp.CSS(row+` .mark.acked`)),
	)
	if got := text(t, ctx, row+` .mark.acked`); got != "acknowledged by alice" {
		t.Errorf("ack mark %q", got)
	}
	run(t, ctx, "silence",
		chromedp.Click(chromedp.CSS(row+` details[id^="silence-"] summary`)),
		chromedp.SendKeys(chromedp.CSS(row+` form[action$="/silence"] input[name="reason"]`), "replacing the NIC"),
		chromedp.Click(chromedp.CSS(row+` button.silence`)),
		chromedp.WaitVisible(chromedp.CSS(row+` .mark.silenced`)),
	)
	if got := text(t, ctx, row+` .mark.silenced`); !strings.HasPrefix(got, "silenced by alice until ") {
		t.Errorf("silence mark %q", got)
	}
	screenshot(t, ctx, "alert-actions")

	run(t, ctx, "the monitor page from the alert's link",
		chromedp.Navigate(f.srv.URL+"/monitors/web-http?host=web-04"),
		chromedp.WaitVisible(chromedp.CSS(`#m-web-04.selected`)),
		chromedp.WaitVisible(chromedp.CSS(`#silences tr[data-silence]`)),
	)
	run(t, ctx, "expire the silence",
		chromedp.SendKeys(chromedp.CSS(`#silences form input[name="reason"]`), "NIC replaced"),
		chromedp.Click(chromedp.CSS(`#silences button.expire`)),
		chromedp.WaitNotPresent(chromedp.CSS(`#silences`)),
	)
	audit := text(t, ctx, `#audit`)
	for _, want := range []string{"expired silence 1 of web-http@web-04 by alice: NIC replaced", "silenced web-http@web-04 until", "by alice: replacing the NIC", "acknowledged CRITICAL web-http@web-04 by alice: alice is on it"} {
		if !strings.Contains(audit, want) {
			t.Errorf("audit lacks %q:\n%s", want, audit)
		}
	}
	screenshot(t, ctx, "monitor-audit")

	vctx := newBrowser(t)
	run(t, vctx, "overview as a viewer",
		chromedp.Navigate(f.srv.URL+"/?token="+viewerToken),
		chromedp.WaitVisible(chromedp.CSS(row)),
	)
	if n := eval[int](t, vctx, `document.querySelectorAll('`+row+` a.runbook, `+row+` form').length`); n != 0 {
		t.Errorf("a viewer gets %d alert actions, want none", n)
	}
}
