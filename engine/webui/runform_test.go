package webui

import (
	"context"
	"encoding/json"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/ripple-ops/ripple/engine"
)

// TestRunFormFromParams: a manual job's page offers operators a form
// built from its params, prefilled from the URL (the link an alert's
// "Run runbook" opens), and the form's values reach the daemon as params.
func TestRunFormFromParams(t *testing.T) {
	f := newFixture(t)
	const query = "?host=web-02&param.service=worker&param.db_password=leaked-in-a-link&param.drain=false&param.wait=30"
	code, page, _ := f.get(t, "/jobs/restart-app"+query, operatorToken)
	if code != 200 {
		t.Fatalf("job page: %d", code)
	}
	for _, want := range []string{
		// allowed values are a choice, the URL's value chosen
		`<select id="param-service" name="param.service"><option value="app">app</option><option value="worker" selected>worker</option></select>`,
		`the service to restart`,
		// a regex is the input's pattern, and shown
		`<input type="text" id="param-ticket" name="param.ticket" value="" required pattern=".*(?:^OPS-[0-9]&#43;$).*">`,
		`must match <span class="mono">^OPS-[0-9]&#43;$</span>`,
		// a sensitive param is a password input, never prefilled
		`<input type="password" id="param-db_password" name="param.db_password" autocomplete="off" required>`,
		// a bool is a checkbox (unchecked by the URL), a number a number input
		`<input type="hidden" name="param.drain" value="false"><input type="checkbox" id="param-drain" name="param.drain" value="true">`,
		`<input type="number" step="any" id="param-wait" name="param.wait" value="30">`,
		// the host picker holds the job's targets only, the URL's chosen
		`<select id="run-hosts" name="host" multiple size="3"><option value="web-01">web-01</option><option value="web-02" selected>web-02</option><option value="web-03">web-03</option></select>`,
		`<input type="text" id="run-reason" name="reason" required`,
	} {
		if !strings.Contains(page, want) {
			t.Errorf("the run form lacks %s", want)
		}
	}
	if strings.Contains(page, "leaked-in-a-link") {
		t.Error("a sensitive value from the URL is on the page")
	}
	if m := regexp.MustCompile(`id="sync-now"|Sync state`).FindString(page); m != "" {
		t.Errorf("a manual job's page offers sync: %s", m)
	}

	// Defaults fill the form when the URL gives nothing.
	_, plain, _ := f.get(t, "/jobs/restart-app", operatorToken)
	for _, want := range []string{`<option value="app" selected>app</option>`, `name="param.drain" value="true" checked>`, `name="param.wait" value="5">`} {
		if !strings.Contains(plain, want) {
			t.Errorf("the default form lacks %s", want)
		}
	}

	// Viewers get no form.
	_, viewer, _ := f.get(t, "/jobs/restart-app"+query, viewerToken)
	if strings.Contains(viewer, `id="run-form"`) {
		t.Error("a viewer sees the run form")
	}

	// What the form posts reaches the daemon as params: the checkbox's
	// hidden "false" then "true" when checked; empty fields are not given.
	code, _, hdr := f.postForm(t, "/jobs/restart-app/run", operatorToken, url.Values{
		"param.service": {"worker"}, "param.ticket": {"OPS-7"}, "param.db_password": {" pw with spaces "},
		"param.drain": {"false", "true"}, "param.wait": {""}, "host": {"web-02", "web-03"}, "reason": {"app hangs"},
	}, nil)
	if code != 303 || !strings.HasPrefix(hdr.Get("Location"), "/runs/") {
		t.Errorf("post: %d %v", code, hdr)
	}
	want := `run restart-app [web-02 web-03] alice "app hangs" params db_password=" pw with spaces " drain=true service=worker ticket=OPS-7`
	if got := f.backend.lastCall(); got != want {
		t.Errorf("backend got\n%s\nwant\n%s", got, want)
	}
}

// TestExecFormOnHostPage: an operator can run a command on a host from its
// page; viewers see no form, and a host with the local transport offers
// none (exec never runs on the daemon's machine).
func TestExecFormOnHostPage(t *testing.T) {
	f := newFixtureOf(t, fleetHCL()+localHostHCL)
	_, op, _ := f.get(t, "/hosts/web-01", operatorToken)
	if !strings.Contains(op, `<form id="exec-form" class="inline" method="post" action="/hosts/web-01/exec"`) || !strings.Contains(op, `name="reason" required`) {
		t.Fatalf("an operator sees no exec form:\n%s", op)
	}
	_, viewer, _ := f.get(t, "/hosts/web-01", viewerToken)
	if strings.Contains(viewer, "exec-form") {
		t.Error("a viewer sees the exec form")
	}
	_, local, _ := f.get(t, "/hosts/controller", operatorToken)
	if strings.Contains(local, "exec-form") {
		t.Error("a local-transport host offers an exec form")
	}
	if code, _, _ := f.postForm(t, "/hosts/web-01/exec", viewerToken, url.Values{"command": {"uptime"}, "reason": {"x"}}, nil); code != 403 {
		t.Errorf("viewer exec: %d", code)
	}
	if code, body, _ := f.postForm(t, "/hosts/web-01/exec", operatorToken, url.Values{"command": {"uptime"}}, nil); code != 400 || !strings.Contains(body, "needs a reason") {
		t.Errorf("exec without a reason: %d", code)
	}
	code, _, hdr := f.postForm(t, "/hosts/web-01/exec", operatorToken, url.Values{"command": {"uptime"}, "reason": {"load?"}, "timeout": {"20s"}}, nil)
	if code != 303 || f.backend.lastCall() != `exec [web-01] "uptime" alice "load?" timeout 20s` {
		t.Errorf("exec: %d %v %s", code, hdr, f.backend.lastCall())
	}
	// The run's page and the run lists say what ran.
	loc := hdr.Get("Location")
	_, runPage, _ := f.get(t, loc, viewerToken)
	if !strings.Contains(runPage, `<pre id="exec-command">uptime</pre>`) || !strings.Contains(runPage, "Run #1 exec") {
		t.Errorf("the exec run's page:\n%s", runPage)
	}
	// Once the run reaches the host, the host's page lists it.
	id, _ := strconv.ParseInt(strings.TrimPrefix(loc, "/runs/"), 10, 64)
	if err := f.store.StartHostStep(context.Background(), engine.HostStep{RunID: id, Host: "web-01", Step: "exec"}); err != nil {
		t.Fatal(err)
	}
	_, hostPage, _ := f.get(t, "/hosts/web-01", viewerToken)
	if !strings.Contains(hostPage, `exec: uptime`) {
		t.Error("the host's recent runs do not name the exec run")
	}
}

// TestExecFormOnGroupPage: a group's page lists its hosts and offers
// operators a command on all of them, as ripple exec --group does, with
// max_parallel and timeout; viewers see no form and may not post one.
func TestExecFormOnGroupPage(t *testing.T) {
	f := newFixture(t)
	_, hostPage, _ := f.get(t, "/hosts/web-01", viewerToken)
	if !strings.Contains(hostPage, `<a href="/groups/web">web</a>`) {
		t.Errorf("the host page does not link its group:\n%s", hostPage)
	}
	code, op, _ := f.get(t, "/groups/web", operatorToken)
	if code != 200 || !strings.Contains(op, `<form id="exec-form" class="inline" method="post" action="/groups/web/exec"`) ||
		!strings.Contains(op, "Run on 12 hosts") || !strings.Contains(op, `<a href="/hosts/web-12">web-12</a>`) || strings.Contains(op, "controller") {
		t.Fatalf("the group page for an operator: %d\n%s", code, op)
	}
	_, viewer, _ := f.get(t, "/groups/web", viewerToken)
	if strings.Contains(viewer, "exec-form") || !strings.Contains(viewer, `<a href="/hosts/web-01">web-01</a>`) {
		t.Errorf("the group page for a viewer:\n%s", viewer)
	}
	if code, body, _ := f.get(t, "/groups/nosuch", viewerToken); code != 404 || !strings.Contains(body, `no host in group &#34;nosuch&#34;`) {
		t.Errorf("an unknown group: %d\n%s", code, body)
	}
	if code, _, _ := f.postForm(t, "/groups/web/exec", viewerToken, url.Values{"command": {"uptime"}, "reason": {"x"}}, nil); code != 403 {
		t.Errorf("viewer exec: %d", code)
	}
	if code, body, _ := f.postForm(t, "/groups/web/exec", operatorToken, url.Values{"command": {"uptime"}}, nil); code != 400 || !strings.Contains(body, "needs a reason") {
		t.Errorf("exec without a reason: %d", code)
	}
	if code, body, _ := f.postForm(t, "/groups/web/exec", operatorToken, url.Values{"command": {"uptime"}, "reason": {"x"}, "max_parallel": {"0"}}, nil); code != 400 || !strings.Contains(body, "max_parallel") {
		t.Errorf("exec with max_parallel 0: %d", code)
	}
	code, _, hdr := f.postForm(t, "/groups/web/exec", operatorToken, url.Values{"command": {"uptime"}, "reason": {"load?"}, "max_parallel": {"4"}, "timeout": {"30s"}}, nil)
	if code != 303 || f.backend.lastCall() != `exec group web "uptime" alice "load?" timeout 30s parallel 4` {
		t.Errorf("exec: %d %v %s", code, hdr, f.backend.lastCall())
	}
	if _, runPage, _ := f.get(t, hdr.Get("Location"), viewerToken); !strings.Contains(runPage, `<pre id="exec-command">uptime</pre>`) {
		t.Errorf("the exec run's page:\n%s", runPage)
	}
}

// TestBrowserRunForm fills the prefilled run form in Chromium and starts
// the run; the browser refuses a ticket that does not match the regex.
func TestBrowserRunForm(t *testing.T) {
	f := newFixture(t)
	ctx := newBrowser(t)
	run(t, ctx, "open the runbook link",
		chromedp.Navigate(f.srv.URL+"/jobs/restart-app?host=web-03&param.service=worker&token="+operatorToken),
		chromedp.WaitVisible(chromedp.CSS(`#run-form`)),
	)
	if v := value(t, ctx, chromedp.Value(chromedp.CSS(`#param-service`))); v != "worker" {
		t.Errorf("service prefilled %q", v)
	}
	run(t, ctx, "fill in a ticket that does not match",
		chromedp.SendKeys(chromedp.CSS(`#param-ticket`), "ticket 7"),
		chromedp.SendKeys(chromedp.CSS(`#param-db_password`), "s3cret-pw"),
		chromedp.SendKeys(chromedp.CSS(`#run-reason`), "worker stuck"),
	)
	if eval[bool](t, ctx, `document.getElementById('param-ticket').checkValidity()`) {
		t.Error("the browser accepts a ticket that does not match ^OPS-[0-9]+$")
	}
	screenshot(t, ctx, "job-run-form")
	eval[string](t, ctx, `document.getElementById('param-ticket').value = ''`)
	run(t, ctx, "fix it and start the run",
		chromedp.SendKeys(chromedp.CSS(`#param-ticket`), "OPS-7"),
		chromedp.Click(chromedp.CSS(`#run-now`)),
		chromedp.WaitVisible(chromedp.CSS(`#run-state`)),
	)
	want := `run restart-app [web-03] alice "worker stuck" params db_password=s3cret-pw drain=true service=worker ticket=OPS-7 wait=5`
	if got := f.backend.lastCall(); got != want {
		t.Errorf("backend got\n%s\nwant\n%s", got, want)
	}
}

// TestRunPageShowsParams: a run's page lists its params, a sensitive one
// as ***.
func TestRunPageShowsParams(t *testing.T) {
	f := newFixture(t)
	run := &engine.Run{Job: "restart-app", Commit: commitA, Trigger: "manual", Actor: "alice", Reason: "hang", State: engine.RunSucceeded,
		Waves:  [][]string{{"web-01"}},
		Params: map[string]json.RawMessage{"service": json.RawMessage(`"worker"`), "db_password": json.RawMessage(`"***"`), "wait": json.RawMessage(`5`)}}
	if err := f.store.CreateRun(context.Background(), run); err != nil {
		t.Fatal(err)
	}
	_, page, _ := f.get(t, "/runs/1", viewerToken)
	want := `<dd id="run-params"><span class="mark mono">db_password=***</span> <span class="mark mono">service=worker</span> <span class="mark mono">wait=5</span> </dd>`
	if !strings.Contains(page, want) {
		t.Errorf("the run page lacks %s", want)
	}
}
