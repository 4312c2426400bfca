package webui

import (
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/zclconf/go-cty/cty"

	"github.com/ripple-ops/ripple/definitions"
	"github.com/ripple-ops/ripple/engine"
)

// TestHostPage: the host page says what an operator looks for on one
// machine: its groups and labels, its vars with where each comes from and
// never a value read on the daemon, its monitors with their recent values,
// its jobs' sync state with the drift diff, the runs that reached it, and
// for an operator a sync of the job that drifted there.
func TestHostPage(t *testing.T) {
	fs := &fakeSync{}
	f := newFixture(t, func(o *Options) { o.Sync = fs })
	r := f.newRun(t, engine.RunFailed)
	r.host(0, "web-01", false)
	r.host(1, "web-07", true)
	other := f.newRun(t, engine.RunSucceeded)
	other.host(0, "web-01", false)

	code, page, _ := f.get(t, "/hosts/web-07", viewerToken)
	if code != 200 {
		t.Fatalf("%d\n%s", code, page)
	}
	for _, want := range []string{
		`<a href="/groups/web">web</a>`, `<a class="dim" href="/hosts?group=web"`,
		`data-var="nginx_version"`, `<code>&#34;1.24.0-1&#34;</code>`, "group web",
		`data-monitor="web-http"`, "! drifted", // the job drifted there
		"-worker_processes 8;", `class="add">&#43;worker_processes 4;`,
		`data-run="1"`, // the run that reached it
	} {
		if !strings.Contains(page, want) {
			t.Errorf("/hosts/web-07 lacks %q", want)
		}
	}
	if strings.Contains(page, `data-run="2"`) {
		t.Error("/hosts/web-07 lists run 2, which never reached it")
	}
	if strings.Contains(page, `id="sync-nginx-config"`) {
		t.Error("a viewer sees the sync button")
	}
	_, page, _ = f.get(t, "/hosts/web-04", viewerToken)
	for _, want := range []string{`<code>8</code>`, "host <span class=\"dim\">(over group web)</span>", `<code>[&#34;10.0.1.1&#34;, &#34;10.0.1.2&#34;]</code>`, `href="/hosts?label=rack%3Dr2"`, "✗ CRITICAL"} {
		if !strings.Contains(page, want) {
			t.Errorf("/hosts/web-04 lacks %q", want)
		}
	}

	ctx := newBrowser(t)
	run(t, ctx, "operator opens a drifted host",
		chromedp.Navigate(f.srv.URL+"/hosts/web-07?token="+operatorToken),
		chromedp.WaitVisible(chromedp.CSS(`#sync-nginx-config`)),
	)
	if open := eval[bool](t, ctx, `document.getElementById('drift-nginx-config').open`); !open {
		t.Error("the drift diff of a drifted job is closed")
	}
	screenshot(t, ctx, "host")
	run(t, ctx, "sync the drifted job here",
		chromedp.SendKeys(chromedp.CSS(`form[action="/jobs/nginx-config/sync"] input[name="reason"]`), "someone edited nginx.conf"),
		chromedp.Click(chromedp.CSS(`#sync-nginx-config`)),
		chromedp.WaitVisible(chromedp.CSS(`main`)),
	)
	deadline := time.Now().Add(10 * time.Second)
	for len(fs.synced) == 0 && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	fs.mu.Lock()
	defer fs.mu.Unlock()
	if len(fs.synced) != 1 || fs.synced[0] != "nginx-config web-07 alice someone edited nginx.conf" {
		t.Errorf("syncs asked for: %q", fs.synced)
	}
}

// TestHostVarsNeverShowADaemonValue: validation refuses env() and file()
// in vars, but should a value still be unknown until a run (read on the
// daemon), the page says so instead of showing anything of it.
func TestHostVarsNeverShowADaemonValue(t *testing.T) {
	h := &definitions.Host{Name: "db-01", Groups: []string{"db"}, Vars: cty.ObjectVal(map[string]cty.Value{
		"password": cty.UnknownVal(cty.String),
		"pool":     cty.ObjectVal(map[string]cty.Value{"dsn": cty.UnknownVal(cty.String), "size": cty.NumberIntVal(10)}),
		"port":     cty.NumberIntVal(5432),
	})}
	defs := &definitions.Definitions{Groups: map[string]*definitions.Group{"db": {Name: "db", Vars: cty.ObjectVal(map[string]cty.Value{"port": cty.NumberIntVal(5433)})}}}
	got := map[string]varRow{}
	for _, v := range hostVars(defs, h) {
		got[v.Name] = v
	}
	for _, name := range []string{"password", "pool"} {
		if v := got[name]; !v.Secret || v.Value != hiddenValue {
			t.Errorf("%s = %+v, want hidden", name, v)
		}
	}
	if v := got["port"]; v.Value != "5432" || v.From != "host" || len(v.Overrides) != 1 || v.Overrides[0] != "group db" {
		t.Errorf("port = %+v", v)
	}
}
