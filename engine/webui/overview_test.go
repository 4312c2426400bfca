package webui

import (
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/ripple-ops/ripple/engine"
)

// section is the part of body from the element with id to the end of the
// panel it opens.
func section(t *testing.T, body, id string) string {
	t.Helper()
	i := strings.Index(body, `id="`+id+`"`)
	if i < 0 {
		t.Errorf("the page has no #%s", id)
		return ""
	}
	j := strings.Index(body[i:], "</div>")
	if j < 0 {
		return body[i:]
	}
	return body[i : i+j]
}

// TestOverviewProblemsFirst: what needs someone comes first: the runs
// waiting for an operator, the monitors not OK with a word beside the
// colour, the jobs with hosts to sync (linking to those hosts), the runs
// that failed today; then the fleet's numbers and the commits.
func TestOverviewProblemsFirst(t *testing.T) {
	f := newFixture(t, func(o *Options) { o.Sync = &fakeSync{} })
	f.newRun(t, engine.RunWaitingApproval)
	failed := f.newRun(t, engine.RunRunning)
	failed.set(engine.RunFailed, 1, "wave 2 gate failed")
	_, body, _ := f.get(t, "/", viewerToken)

	problems, fleet, commits := strings.Index(body, "Needs attention"), strings.Index(body, "<h2>Fleet</h2>"), strings.Index(body, "Recent commits")
	if problems < 0 || fleet < problems || commits < fleet {
		t.Errorf("needs attention at %d, fleet at %d, commits at %d: the problems are not first", problems, fleet, commits)
	}
	if w := section(t, body, "waiting"); !strings.Contains(w, `data-run="1"`) || !strings.Contains(w, "! waiting approval") || strings.Contains(w, `data-run="2"`) {
		t.Errorf("waiting for an operator:\n%s", w)
	}
	if a := section(t, body, "alerts"); !strings.Contains(a, `data-monitor="web-http" data-host="web-04"`) || !strings.Contains(a, "✗ CRITICAL") || !strings.Contains(a, "! WARNING") || strings.Contains(a, `data-host="web-01"`) {
		t.Errorf("monitors not OK:\n%s", a)
	}
	if s := section(t, body, "to-sync"); !strings.Contains(s, `<a href="/hosts?job=nginx-config&amp;sync=out_of_sync">1 out of sync</a>`) ||
		!strings.Contains(s, `sync=drifted">1 drifted</a>`) || !strings.Contains(s, "10 of 12") {
		t.Errorf("hosts to sync:\n%s", s)
	}
	if fl := section(t, body, "failed"); !strings.Contains(fl, `data-run="2"`) || !strings.Contains(fl, "✗ failed") || strings.Contains(fl, `data-run="1"`) {
		t.Errorf("failed in the last day:\n%s", fl)
	}
	if strings.Contains(body, `id="all-well"`) {
		t.Error("the overview says nothing needs attention")
	}
}

// TestOverviewCommitsAsRows: each recent commit is a row with its short id,
// its message's first line (escaped), its author and when; the head reads
// as the fleet's sync state, not "applied".
func TestOverviewCommitsAsRows(t *testing.T) {
	f := newFixture(t, func(o *Options) { o.Sync = &fakeSync{} })
	_, body, _ := f.get(t, "/", viewerToken)
	c := section(t, body, "commits")
	for _, want := range []string{`<tr data-commit="` + commitA + `" data-head>`, `>0123456789</span> <span class="mark">head</span>`,
		`<td class="msg">nginx: &lt;script&gt;alert(2)&lt;/script&gt; 8 workers</td>`, "<td>Dana Okafor</td>", `<td class="when">20`,
		`<span class="badge out_of_sync">! out of sync</span>`, "10 of 12 hosts in sync: 1 out of sync, 1 drifted"} {
		if !strings.Contains(c, want) {
			t.Errorf("the commits lack %q:\n%s", want, c)
		}
	}
	if strings.Contains(c, ">applied<") {
		t.Errorf("a head with hosts out of sync reads applied:\n%s", c)
	}
	// A run of the head in progress: rolling out, with how far.
	f.newRun(t, engine.RunRunning)
	_, body, _ = f.get(t, "/", viewerToken)
	if c := section(t, body, "commits"); !strings.Contains(c, "▶ running") || !strings.Contains(c, "rolling out: 10 of 12 hosts in sync") {
		t.Errorf("a head rolling out:\n%s", c)
	}
}

// TestOverviewFailedHeadIsNotApplied: without a sync state the head reads
// as its runs: one failed, the head is failed, never "applied".
func TestOverviewFailedHeadIsNotApplied(t *testing.T) {
	f := newFixture(t)
	r := f.newRun(t, engine.RunRunning)
	r.set(engine.RunFailed, 1, "wave 2 gate failed")
	_, body, _ := f.get(t, "/", viewerToken)
	c := section(t, body, "commits")
	if !strings.Contains(c, `<span class="badge failed">✗ failed</span>`) || !strings.Contains(c, "1 of 1 run failed") || strings.Contains(c, "applied") {
		t.Errorf("a failed head:\n%s", c)
	}
	if strings.Contains(body, `id="to-sync"`) || strings.Contains(body, "in sync</span>") {
		t.Error("the overview shows a sync state the daemon does not keep")
	}
}

// TestOverviewAllWell: a fleet with nothing wrong says so in words.
func TestOverviewAllWell(t *testing.T) {
	f := newFixture(t, func(o *Options) { o.Monitors = fakeMonitors{} })
	_, body, _ := f.get(t, "/", viewerToken)
	if !strings.Contains(body, `id="all-well"`) || !strings.Contains(body, "Nothing needs attention") {
		t.Errorf("a quiet fleet does not say nothing needs attention:\n%s", section(t, body, "problems"))
	}
	if !strings.Contains(body, `<b>24</b><span>no result yet</span>`) {
		t.Error("the checks without a result are not counted")
	}
}

// TestBrowserOverviewLive: in Chromium on a 1366-wide laptop the commit
// message has room to be read on a line, and a run that starts waiting for
// an operator appears under "Needs attention" without a reload.
func TestBrowserOverviewLive(t *testing.T) {
	f := newFixture(t, func(o *Options) { o.Sync = &fakeSync{}; o.OverviewRefresh = 300 * time.Millisecond })
	ctx := newBrowser(t)
	run(t, ctx, "load overview", chromedp.EmulateViewport(1366, 768),
		chromedp.Navigate(f.srv.URL+"/?token="+viewerToken),
		chromedp.WaitVisible(chromedp.CSS(`#commits td.msg`)),
	)
	if w := eval[float64](t, ctx, `document.querySelector('#commits td.msg').getBoundingClientRect().width`); w < 250 {
		t.Errorf("the commit message is %.0f px wide on a 1366 px screen", w)
	}
	if txt := text(t, ctx, `#commits td.msg`); txt != "nginx: <script>alert(2)</script> 8 workers" {
		t.Errorf("commit message %q", txt)
	}
	eval[int](t, ctx, `window.__stillHere = 7`)
	f.newRun(t, engine.RunWaitingApproval)
	run(t, ctx, "a waiting run appears", chromedp.WaitVisible(chromedp.CSS(`#waiting tr[data-run="1"]`)))
	if marker := eval[int](t, ctx, `window.__stillHere || 0`); marker != 7 {
		t.Error("the overview reloaded instead of updating in place")
	}
	screenshot(t, ctx, "overview-laptop")
}

// TestBrowserIndexPages: in Chromium, typing in the hosts search and
// pressing Enter narrows the list to the matching hosts, in an address
// that can be shared; a facet narrows it further; the search field shows
// its keyboard focus; every index page opens with its rows.
func TestBrowserIndexPages(t *testing.T) {
	f := newFixture(t, func(o *Options) { o.Sync = &fakeSync{} })
	f.newRun(t, engine.RunRunning).set(engine.RunFailed, 1, "wave 2 gate failed")
	ctx := newBrowser(t)
	rows := func() int { return eval[int](t, ctx, `document.querySelectorAll('#hosts tbody tr[data-host]').length`) }
	run(t, ctx, "load hosts", chromedp.EmulateViewport(1366, 768),
		chromedp.Navigate(f.srv.URL+"/hosts?token="+viewerToken),
		chromedp.WaitVisible(chromedp.CSS(`#hosts tr[data-host="web-12"]`)),
	)
	if n := rows(); n != 12 {
		t.Fatalf("/hosts lists %d hosts, want 12", n)
	}
	run(t, ctx, "search", chromedp.Focus(chromedp.CSS(`input[name="q"]`)))
	if outline := eval[string](t, ctx, `getComputedStyle(document.activeElement).outlineStyle`); outline == "none" {
		t.Error("the focused search field shows no outline")
	}
	run(t, ctx, "type and submit", chromedp.SendKeys(chromedp.CSS(`input[name="q"]`), "web-1\r"),
		chromedp.WaitNotPresent(chromedp.CSS(`#hosts tr[data-host="web-09"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#hosts tr[data-host="web-10"]`)),
	)
	if n := rows(); n != 3 {
		t.Errorf("searching web-1 lists %d hosts, want web-10, web-11 and web-12", n)
	}
	if loc := value(t, ctx, chromedp.Location()); !strings.Contains(loc, "q=web-1") {
		t.Errorf("the filtered list's address %s does not hold the search", loc)
	}
	screenshot(t, ctx, "hosts-filtered")
	run(t, ctx, "out of sync", chromedp.Navigate(f.srv.URL+"/hosts?sync=out_of_sync"), chromedp.WaitVisible(chromedp.CSS(`#hosts tr[data-host="web-03"]`)))
	if n := rows(); n != 1 {
		t.Errorf("the out-of-sync hosts are %d, want web-03 alone", n)
	}
	for _, p := range []struct{ path, row, shot string }{
		{"/jobs", `#jobs tr[data-job="nginx-config"]`, "jobs"},
		{"/monitors", `#monitors tbody tr`, "monitors"},
		{"/runs", `#runs tr[data-run="1"][data-state="failed"]`, "runs"},
		{"/hosts", `#hosts tr[data-host="web-04"]`, "hosts"},
	} {
		run(t, ctx, p.path, chromedp.Navigate(f.srv.URL+p.path), chromedp.WaitVisible(chromedp.CSS(p.row)))
		screenshot(t, ctx, p.shot)
	}
}
