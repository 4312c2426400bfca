package webui

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/ripple-ops/ripple/engine"
)

func TestSignIn(t *testing.T) {
	f := newFixture(t)
	code, body, _ := f.get(t, "/jobs/nginx-config", "")
	if code != 401 || !strings.Contains(body, `name="token"`) || !strings.Contains(body, `value="/jobs/nginx-config"`) {
		t.Fatalf("no session: %d\n%s", code, body)
	}
	code, _, hdr := f.get(t, "/runs/1?host=web-01&token="+viewerToken, "")
	if code != 303 || hdr.Get("Location") != "/runs/1?host=web-01" {
		t.Fatalf("?token=: %d %v", code, hdr)
	}
	ck := hdr.Get("Set-Cookie")
	for _, want := range []string{CookieName + "=" + viewerToken, "HttpOnly", "SameSite=Strict", "Path=/"} {
		if !strings.Contains(ck, want) {
			t.Errorf("cookie %q lacks %q", ck, want)
		}
	}
	if code, _, _ := f.get(t, "/?token=nope-nope-nope-nope", ""); code != 401 {
		t.Errorf("bad ?token=: %d", code)
	}
	req, _ := http.NewRequest("POST", f.srv.URL+"/login", strings.NewReader(url.Values{"token": {operatorToken}, "next": {"//evil.example/x"}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	code, _, hdr = f.send(t, req)
	if code != 303 || hdr.Get("Location") != "/" || !strings.Contains(hdr.Get("Set-Cookie"), operatorToken) {
		t.Errorf("login: %d %v", code, hdr)
	}
	for _, next := range []string{"https://evil.example/", "//evil.example", `/\evil.example`, "javascript:alert(1)", ""} {
		if got := safeNext(next); got != "/" {
			t.Errorf("safeNext(%q) = %q", next, got)
		}
	}
	if got := safeNext("/runs/3?host=a"); got != "/runs/3?host=a" {
		t.Errorf("safeNext kept %q", got)
	}
}

func TestPagesRenderAndEscape(t *testing.T) {
	f := newFixture(t)
	r := f.newRun(t, engine.RunRunning)
	r.host(0, "web-01", false)
	r.host(1, "web-02", true)
	for _, tc := range []struct {
		path string
		want []string
	}{
		{"/", []string{"Needs attention", "nginx-config", "web-http", "nginx: &lt;script&gt;alert(2)&lt;/script&gt; 8 workers", "Dana Okafor", "HTTP CRITICAL 503 &lt;b&gt;Service Unavailable&lt;/b&gt;", "data-poll=", "<span>active run</span>", "<span>queued runs</span>"}},
		{"/runs/1", []string{"wave 1/4", "2 of 12 hosts done: 1 failed, 10 pending, 1 ok", `class="host ok"`, `class="host failed"`, "gzip_typo", "data-sse=\"/runs/1/live\""}},
		{"/runs/1?host=web-01", []string{`id="h-web-01" open`, "reload done on web-01"}},
		{"/jobs/nginx-config", []string{"nginx &lt;script&gt;", "ops/main.hcl", "config</span> → <span class=\"mono\">reload", "1, 3, 4, 4"}},
		{"/monitors/web-http", []string{"<svg class=\"chart\"", "<polyline class=\"series\" points=\"", "<text class=\"ytick\"", "<title>20", "flapping 34.2%", "held", "&lt;b&gt;Service", "alert undelivered", "pager: notifier answered 503 Service Unavailable;"}},
		{"/monitors/disk-root?window=10d", []string{"limit 100", "Last 10d"}},
		{"/hosts/web-04", []string{"10.0.0.4:22", "web-http", "CRITICAL", "#1"}},
		{"/capacity", []string{"disk-root", "badge critical"}},
		{"/capacity?horizon=1y", []string{"horizon"}},
	} {
		code, body, hdr := f.get(t, tc.path, viewerToken)
		if wantBad := tc.path == "/capacity?horizon=1y"; code != 200 && (!wantBad || code != 400) {
			t.Errorf("%s: %d\n%s", tc.path, code, body)
			continue
		}
		if !strings.HasPrefix(hdr.Get("Content-Security-Policy"), "default-src 'none'") {
			t.Errorf("%s: CSP %q", tc.path, hdr.Get("Content-Security-Policy"))
		}
		for _, w := range tc.want {
			if !strings.Contains(body, w) {
				t.Errorf("%s lacks %q", tc.path, w)
			}
		}
		if strings.Contains(body, "<script>alert") || strings.Contains(body, "<b>Service") {
			t.Errorf("%s: repo or fleet text not escaped", tc.path)
		}
	}
	for _, p := range []string{"/runs/99", "/jobs/nope", "/monitors/nope", "/hosts/nope", "/nope"} {
		if code, _, _ := f.get(t, p, viewerToken); code != 404 {
			t.Errorf("%s: %d", p, code)
		}
	}
}

// TestActionsNeedOperator: approve, abort and run-now need a session with
// the operator role; viewers neither see the forms nor get through with a
// hand-made POST. (Forms from other sites: crossorigin_test.go.)
func TestActionsNeedOperator(t *testing.T) {
	f := newFixture(t)
	r := f.newRun(t, engine.RunWaitingApproval)
	r.host(0, "web-01", false)

	_, viewerPage, _ := f.get(t, "/runs/1", viewerToken)
	if strings.Contains(viewerPage, `id="approve"`) || strings.Contains(viewerPage, `id="abort"`) {
		t.Error("a viewer sees action buttons")
	}
	if !strings.Contains(viewerPage, "Waiting for an operator") {
		t.Error("a viewer is not told the run waits")
	}
	_, opPage, _ := f.get(t, "/runs/1", operatorToken)
	if !strings.Contains(opPage, `id="approve"`) || !strings.Contains(opPage, `id="abort"`) {
		t.Fatal("an operator sees no approve/abort")
	}

	post := func(token, path string, form url.Values) (int, http.Header) {
		code, _, hdr := f.postForm(t, path, token, form, nil)
		return code, hdr
	}
	if code, _ := post("", "/runs/1/approve", nil); code != 401 {
		t.Errorf("no session: %d", code)
	}
	if code, _ := post(viewerToken, "/runs/1/approve", nil); code != 403 {
		t.Errorf("viewer approve: %d", code)
	}
	if code, _ := post(viewerToken, "/jobs/nginx-config/run", url.Values{"reason": {"x"}}); code != 403 {
		t.Errorf("viewer run-now: %d", code)
	}
	if f.backend.lastCall() != "" {
		t.Fatalf("refused requests reached the backend: %s", f.backend.lastCall())
	}
	code, hdr := post(operatorToken, "/runs/1/approve", url.Values{"reason": {"canary fine"}})
	if code != 303 || hdr.Get("Location") != "/runs/1" || f.backend.lastCall() != `approve 1 alice "canary fine"` {
		t.Errorf("approve: %d %v %s", code, hdr, f.backend.lastCall())
	}
	if code, _ := post(operatorToken, "/runs/1/approve", nil); code != 409 {
		t.Errorf("second approve: %d", code)
	}
	code, hdr = post(operatorToken, "/jobs/nginx-config/run", url.Values{"reason": {"rotate"}, "hosts": {"web-01, web-02"}})
	if code != 303 || hdr.Get("Location") != "/runs/2" || f.backend.lastCall() != `run nginx-config [web-01 web-02] alice "rotate"` {
		t.Errorf("run now: %d %v %s", code, hdr, f.backend.lastCall())
	}
	if code, _ := post(operatorToken, "/logout", nil); code != 303 {
		t.Errorf("logout: %d", code)
	}
	_, jobPage, _ := f.get(t, "/jobs/nginx-config", viewerToken)
	if strings.Contains(jobPage, `id="run-now"`) {
		t.Error("a viewer sees the run-now form")
	}
}

// TestRevertFromAFailedRun: a failed run's page offers operators "Revert
// this commit" with a required reason; the answer shows the branch and the
// pull request.
func TestRevertFromAFailedRun(t *testing.T) {
	f := newFixture(t)
	failed := f.newRun(t, engine.RunFailed)
	failed.host(0, "web-01", true)
	f.newRun(t, engine.RunRunning).host(0, "web-01", false)

	_, opPage, _ := f.get(t, "/runs/1", operatorToken)
	if !strings.Contains(opPage, `id="revert"`) || !regexp.MustCompile(`action="/runs/1/revert"[^>]*><input type="text" name="reason" required`).MatchString(opPage) {
		t.Fatalf("an operator sees no revert form with a required reason on a failed run:\n%s", opPage)
	}
	if _, page, _ := f.get(t, "/runs/1", viewerToken); strings.Contains(page, `id="revert"`) {
		t.Error("a viewer sees the revert button")
	}
	if _, page, _ := f.get(t, "/runs/2", operatorToken); strings.Contains(page, `id="revert"`) {
		t.Error("a running run offers a revert")
	}

	if code, _, _ := f.postForm(t, "/runs/1/revert", viewerToken, url.Values{"reason": {"x"}}, nil); code != 403 {
		t.Errorf("viewer revert: %d", code)
	}
	if code, body, _ := f.postForm(t, "/runs/1/revert", operatorToken, url.Values{"reason": {"  "}}, nil); code != 400 || !strings.Contains(body, "say why") {
		t.Errorf("revert without a reason: %d", code)
	}
	if f.backend.lastCall() != "" {
		t.Fatalf("refused reverts reached the backend: %s", f.backend.lastCall())
	}
	code, body, _ := f.postForm(t, "/runs/1/revert", operatorToken, url.Values{"reason": {"1.27 breaks the config"}}, nil)
	if code != 201 || f.backend.lastCall() != `revert `+commitA+` 1 alice "1.27 breaks the config"` {
		t.Fatalf("revert: %d %s\n%s", code, f.backend.lastCall(), body)
	}
	for _, want := range []string{
		`<dd class="mono" id="revert-branch">ripple/revert-` + commitA[:12] + `</dd>`,
		`<a id="revert-pr" href="https://github.example/acme/ops/pull/7">`,
		"nginx &lt;b&gt;1.27&lt;/b&gt;", `href="/runs/1"`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("the answer lacks %q:\n%s", want, body)
		}
	}

	noRevert := newFixture(t, func(o *Options) { o.Revert = nil })
	noRevert.newRun(t, engine.RunFailed).host(0, "web-01", true)
	if _, page, _ := noRevert.get(t, "/runs/1", operatorToken); strings.Contains(page, `id="revert"`) {
		t.Error("a UI without reverts shows the button")
	}
}

func TestLiveStreamRendersPart(t *testing.T) {
	f := newFixture(t)
	r := f.newRun(t, engine.RunSucceeded)
	r.host(0, "web-01", false)
	code, body, hdr := f.get(t, "/runs/1/live", viewerToken)
	if code != 200 || hdr.Get("Content-Type") != "text/event-stream" {
		t.Fatalf("%d %v", code, hdr)
	}
	if !strings.Contains(body, "event: update\n") || !strings.Contains(body, "data: <h2>Waves</h2>") && !strings.Contains(body, "wave 1/4") || !strings.HasSuffix(body, "event: end\nid: 2\ndata: {}\n\n") {
		t.Errorf("stream:\n%s", body)
	}
	if code, _, _ := f.get(t, "/runs/1/live", ""); code != 401 {
		t.Errorf("no session: %d", code)
	}
}

var auditRE = regexp.MustCompile(`(?s)<h2>Audit</h2>.*?</table>`)

// TestRunAuditSaysSentences: the run page's audit table read as raw events
// (actor, action, reason), with an empty gate_baseline row when the gate
// checks were all OK. It says what happened, as `ripple show` does.
func TestRunAuditSaysSentences(t *testing.T) {
	f := newFixture(t)
	r := f.newRun(t, engine.RunSucceeded)
	r.host(0, "web-01", false)
	ctx := t.Context()
	at := time.Now()
	for _, ev := range []engine.Event{
		{Actor: "ripple", Action: engine.EventSubmit, Reason: "merge of #42"},
		{Actor: "ripple", Action: engine.EventStart, Reason: "start"},
		{Actor: "ripple", Action: engine.EventGateBaseline},
		{Actor: "ripple", Action: engine.EventWaitApproval, Reason: "after wave 1"},
		{Actor: "alice", Action: engine.EventApprove, Reason: "canary <b>fine</b>"},
		{Actor: "ripple", Action: engine.EventRollback, Reason: "wave 2/4 failed: 1/3 hosts failed (max_failures 0)\nweb-03: step reload failed"},
		{Actor: "ripple", Action: engine.EventFinish, Reason: "succeeded: 12/12 hosts ok in 4 waves"},
	} {
		ev.RunID, ev.At = r.run.ID, at
		if err := f.store.AddEvent(ctx, ev); err != nil {
			t.Fatal(err)
		}
	}
	code, body, _ := f.get(t, "/runs/1", viewerToken)
	if code != 200 {
		t.Fatalf("%d\n%s", code, body)
	}
	audit := auditRE.FindString(body)
	if audit == "" {
		t.Fatalf("no audit table:\n%s", body)
	}
	for _, want := range []string{
		"<td>submitted: merge of #42</td>",
		"<td>started</td>",
		"<td>gate checks all OK before the first wave</td>",
		"<td>waiting for approval: after wave 1</td>",
		"<td>approved by alice: canary &lt;b&gt;fine&lt;/b&gt;</td>",
		// The line says the first line of a reason; the rest is in its title.
		`<td title="wave 2/4 failed: 1/3 hosts failed (max_failures 0)
web-03: step reload failed">rolling back: wave 2/4 failed: 1/3 hosts failed (max_failures 0)</td>`,
		"<td>finished succeeded: 12/12 hosts ok in 4 waves</td>",
	} {
		if !strings.Contains(audit, want) {
			t.Errorf("audit table lacks %q:\n%s", want, audit)
		}
	}
	for _, bad := range []string{"<td></td>", "gate_baseline", "by ripple", "<b>fine"} {
		if strings.Contains(audit, bad) {
			t.Errorf("audit table has %q (empty row, raw action, ripple as actor or unescaped reason):\n%s", bad, audit)
		}
	}
	if rows := strings.Count(audit, "<tr><td>"); rows != 7 {
		t.Errorf("%d event rows, want 7:\n%s", rows, audit)
	}
	// The trigger line names a person only: ripple's own run has none.
	if !strings.Contains(body, "<dd>commit — merge of #42</dd>") {
		t.Errorf("trigger line of ripple's run is not \"commit — merge of #42\":\n%s", body)
	}
}

// TestStoreBannerOnEveryPage: while the store cannot write, every page
// says so above its content, with the error and links to the runs it
// stopped; the overview does not repeat it as its last error. The banner
// goes once the store writes.
func TestStoreBannerOnEveryPage(t *testing.T) {
	f := newFixture(t)
	f.newRun(t, engine.RunRunning).host(0, "web-01", false)
	f.backend.mu.Lock()
	f.backend.storeHealth = &engine.StoreHealth{Error: "store cannot write: /var/lib/ripple/ripple.db: commit: database or disk is full (13)",
		Since: time.Now().Add(-time.Minute), StoppedRuns: []int64{1}}
	f.backend.lastError = "store cannot write: ... (since ...; run 1 stopped and resumes once it writes again)"
	f.backend.mu.Unlock()
	for _, p := range []string{"/", "/runs/1", "/jobs/nginx-config", "/monitors/web-http", "/hosts/web-01", "/capacity"} {
		_, body, _ := f.get(t, p, viewerToken)
		for _, want := range []string{`id="store-banner"`, "The store cannot write", "database or disk is full (13)", `<a href="/runs/1">run #1</a>`, "resumes by itself"} {
			if !strings.Contains(body, want) {
				t.Errorf("%s lacks %q", p, want)
			}
		}
	}
	if _, body, _ := f.get(t, "/", viewerToken); strings.Contains(body, "Last error:") || !strings.Contains(body, "store cannot write</span>") {
		t.Errorf("overview repeats the store error as its last error or shows ready")
	}
	f.backend.mu.Lock()
	f.backend.storeHealth = &engine.StoreHealth{Writable: true}
	f.backend.lastError = ""
	f.backend.mu.Unlock()
	if _, body, _ := f.get(t, "/runs/1", viewerToken); strings.Contains(body, "store-banner") {
		t.Error("banner shown while the store writes")
	}
}
