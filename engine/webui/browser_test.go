package webui

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/ripple-ops/ripple/engine"
)

// The browser tests drive the real UI in headless Chromium (Debian's
// chromium package): pages load, a run page fills in live while the store
// changes underneath it, a failed host's output opens in place, and only
// operators get the approve button. Screenshots land in test/artifacts/.

const chromiumPath = "/usr/bin/chromium"

// browser is one Chromium for every browser test of the package, started
// by the first one and stopped by TestMain; each test gets its own tab in
// its own browser context, so no test sees another's cookies.
var browser struct {
	once   sync.Once
	ctx    context.Context
	cancel context.CancelFunc
	err    error
}

func TestMain(m *testing.M) {
	code := m.Run()
	if browser.cancel != nil {
		browser.cancel()
	}
	os.Exit(code)
}

func newBrowser(t *testing.T) context.Context {
	t.Helper()
	if _, err := os.Stat(chromiumPath); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("chromium is required in CI (.ci/setup installs it): %v", err)
		}
		t.Skipf("no %s; install Debian's chromium to run browser tests", chromiumPath)
	}
	browser.once.Do(func() {
		dir, err := os.MkdirTemp("", "ripple-chromium-")
		if err != nil {
			browser.err = err
			return
		}
		opts := []chromedp.ExecAllocatorOption{
			chromedp.ExecPath(chromiumPath),
			chromedp.Flag("headless", true),
			chromedp.NoSandbox,
			chromedp.DisableGPU,
			chromedp.NoFirstRun,
			chromedp.NoDefaultBrowserCheck,
			chromedp.Flag("disable-quic", true),
			chromedp.Flag("disable-background-networking", true),
			chromedp.Flag("disable-component-update", true),
			chromedp.Flag("disable-sync", true),
			chromedp.Flag("disable-dev-shm-usage", true),
			chromedp.UserDataDir(dir),
			chromedp.WindowSize(1440, 1000),
		}
		actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
		bctx, cancelBrowser := chromedp.NewContext(actx)
		browser.ctx = bctx
		browser.cancel = func() {
			cancelBrowser()
			cancelAlloc()
			os.RemoveAll(dir)
		}
		browser.err = chromedp.Do(bctx)
	})
	if browser.err != nil {
		t.Fatalf("start chromium: %v", browser.err)
	}
	tab, cancelTab := chromedp.NewContext(browser.ctx, chromedp.WithNewBrowserContext())
	ctx, cancelTimeout := context.WithTimeout(tab, 30*time.Second)
	t.Cleanup(func() {
		cancelTimeout()
		cancelTab()
	})
	return ctx
}

// screenshot saves the full page as test/artifacts/<name>.png.
func screenshot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("screenshot %s: %v", name, err)
	}
	dir := filepath.Join("..", "..", "test", "artifacts")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, name+".png"), png, 0o644); err != nil {
		t.Fatal(err)
	}
}

func run(t *testing.T, ctx context.Context, what string, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	if err := chromedp.Do(ctx, actions...); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

func value[T any](t *testing.T, ctx context.Context, a chromedp.Action[T]) T {
	t.Helper()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func text(t *testing.T, ctx context.Context, sel string) string {
	t.Helper()
	return value(t, ctx, chromedp.Text(chromedp.CSS(sel)))
}

func eval[T any](t *testing.T, ctx context.Context, js string) T {
	t.Helper()
	return value(t, ctx, chromedp.Evaluate[T](js))
}

func TestBrowserOverview(t *testing.T) {
	f := newFixture(t)
	ctx := newBrowser(t)
	r := f.newRun(t, engine.RunRunning)
	r.host(0, "web-01", false)
	run(t, ctx, "load overview",
		chromedp.Navigate(f.srv.URL+"/?token="+viewerToken),
		chromedp.WaitVisible(chromedp.CSS(`.tiles`)),
	)
	title, health := value(t, ctx, chromedp.Title()), text(t, ctx, `.tiles`)
	if title != "Overview · ripple" || !strings.Contains(health, "critical") {
		t.Errorf("title %q, health %q", title, health)
	}
	url := value(t, ctx, chromedp.Location())
	if strings.Contains(url, "token") {
		t.Errorf("the token stayed in the address bar: %s", url)
	}
	screenshot(t, ctx, "overview")
	// The wall screen: a 2560x1440 display at a distance.
	run(t, ctx, "wall screen", chromedp.EmulateViewport(2560, 1440), chromedp.Reload(), chromedp.WaitVisible(chromedp.CSS(`.tiles`)))
	screenshot(t, ctx, "overview-wall")
	run(t, ctx, "laptop", chromedp.EmulateViewport(1440, 900))
	run(t, ctx, "monitor page", chromedp.Navigate(f.srv.URL+"/monitors/web-http"), chromedp.WaitVisible(chromedp.CSS(`svg.chart polyline`)))
	screenshot(t, ctx, "monitor")
	run(t, ctx, "capacity page", chromedp.Navigate(f.srv.URL+"/capacity"), chromedp.WaitVisible(chromedp.CSS(`table`)))
	screenshot(t, ctx, "capacity")
	run(t, ctx, "job page", chromedp.Navigate(f.srv.URL+"/jobs/nginx-config"), chromedp.WaitVisible(chromedp.CSS(`h1`)))
	screenshot(t, ctx, "job")
	run(t, ctx, "host page", chromedp.Navigate(f.srv.URL+"/hosts/web-04"), chromedp.WaitVisible(chromedp.CSS(`h1`)))
	screenshot(t, ctx, "host")
}

func TestBrowserRunFillsInLive(t *testing.T) {
	f := newFixture(t)
	ctx := newBrowser(t)
	r := f.newRun(t, engine.RunRunning)
	run(t, ctx, "open run",
		chromedp.Navigate(f.srv.URL+"/runs/1?token="+viewerToken),
		chromedp.WaitVisible(chromedp.CSS(`.wave[data-wave="1"][data-state="pending"]`)),
		// A marker that a reload would wipe out.
	)
	eval[int](t, ctx, `window.__stillHere = 42`)

	r.host(0, "web-01", false)
	run(t, ctx, "wave 1 fills in", chromedp.WaitVisible(chromedp.CSS(`.wave[data-wave="1"][data-state="done"]`)))
	r.set(engine.RunRunning, 1, "wave 2/4")
	r.host(1, "web-02", true)
	r.host(1, "web-03", false)
	run(t, ctx, "wave 2 half done", chromedp.WaitVisible(chromedp.CSS(`.wave[data-wave="2"].hasfail`)),
		chromedp.WaitVisible(chromedp.CSS(`a.host.failed[data-host="web-02"]`)))
	screenshot(t, ctx, "run-progress")
	r.host(1, "web-04", false)
	run(t, ctx, "wave 2 done", chromedp.WaitVisible(chromedp.CSS(`.wave[data-wave="2"][data-state="done"]`)))

	if marker := eval[int](t, ctx, `window.__stillHere || 0`); marker != 42 {
		t.Fatal("the page reloaded instead of updating in place")
	}

	run(t, ctx, "open a failed host",
		chromedp.Click(chromedp.CSS(`a.host[data-host="web-02"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#h-web-02 pre.stderr`)),
	)
	open := eval[bool](t, ctx, `document.getElementById('h-web-02').open`)
	out := text(t, ctx, `#h-web-02 pre.stderr`)
	if !open || !strings.Contains(out, `unknown directive "gzip_typo"`) {
		t.Errorf("open %v, output %q", open, out)
	}
	screenshot(t, ctx, "run-failed-host")

	// The next update keeps the opened output open.
	r.host(2, "web-05", false)
	run(t, ctx, "wave 3 starts", chromedp.WaitVisible(chromedp.CSS(`.wave[data-wave="3"][data-state="running"]`)))
	if !eval[bool](t, ctx, `document.getElementById('h-web-02').open`) {
		t.Error("a live update closed the opened host output")
	}
	r.set(engine.RunFailed, 2, "wave 2 over its failure budget")
	run(t, ctx, "final state",
		chromedp.WaitVisible(chromedp.CSS(`#run-state.failed`)),
		chromedp.WaitNotPresent(chromedp.CSS(`#livedot`)),
	)
	if state := text(t, ctx, `#run-state`); state != "✗ failed" {
		t.Errorf("state %q", state)
	}
}

func TestBrowserApprove(t *testing.T) {
	f := newFixture(t)
	r := f.newRun(t, engine.RunWaitingApproval)
	r.host(0, "web-01", false)

	t.Run("viewer", func(t *testing.T) {
		ctx := newBrowser(t)
		run(t, ctx, "viewer page",
			chromedp.Navigate(f.srv.URL+"/runs/1?token="+viewerToken),
			chromedp.WaitVisible(chromedp.CSS(`.waves`)),
		)
		if buttons := eval[int](t, ctx, `document.querySelectorAll('#approve, #abort, form[action$="/approve"]').length`); buttons != 0 {
			t.Errorf("a viewer sees %d action controls", buttons)
		}
		screenshot(t, ctx, "run-waiting-viewer")
	})

	t.Run("operator", func(t *testing.T) {
		ctx := newBrowser(t)
		run(t, ctx, "operator page",
			chromedp.Navigate(f.srv.URL+"/runs/1?token="+operatorToken),
			chromedp.WaitVisible(chromedp.CSS(`#approve`)),
		)
		screenshot(t, ctx, "run-waiting-operator")
		run(t, ctx, "approve",
			chromedp.SendKeys(chromedp.CSS(`form[action="/runs/1/approve"] input[name="reason"]`), "canary looks fine"),
			chromedp.Click(chromedp.CSS(`#approve`)),
			chromedp.WaitVisible(chromedp.CSS(`#run-state.running`)),
		)
		if got, want := f.backend.lastCall(), `approve 1 alice "canary looks fine"`; got != want {
			t.Errorf("backend got %s, want %s", got, want)
		}
		events, err := f.store.Events(context.Background(), 1)
		if err != nil || len(events) != 1 || events[0].Actor != "alice" || events[0].Action != "approve" {
			t.Errorf("recorded events %+v %v", events, err)
		}
		if audit := text(t, ctx, `body`); !strings.Contains(audit, "canary looks fine") {
			t.Error("the approval is not in the run's audit list")
		}
		screenshot(t, ctx, "run-approved")
	})
}

// TestBrowserRevert: on a failed run's page an operator cannot send the
// revert form without a reason; with one, the answer links the branch's
// pull request.
func TestBrowserRevert(t *testing.T) {
	f := newFixture(t)
	f.newRun(t, engine.RunFailed).host(0, "web-01", true)
	ctx := newBrowser(t)
	run(t, ctx, "failed run page",
		chromedp.Navigate(f.srv.URL+"/runs/1?token="+operatorToken),
		chromedp.WaitVisible(chromedp.CSS(`#revert`)),
		chromedp.Click(chromedp.CSS(`#revert`)),
	)
	if invalid := eval[bool](t, ctx, `!document.querySelector('form[action="/runs/1/revert"] input[name="reason"]').checkValidity()`); !invalid {
		t.Error("the reason is not required")
	}
	if got := f.backend.lastCall(); got != "" {
		t.Fatalf("a revert without a reason was sent: %s", got)
	}
	run(t, ctx, "revert",
		chromedp.SendKeys(chromedp.CSS(`form[action="/runs/1/revert"] input[name="reason"]`), "1.27 breaks the config"),
		chromedp.Click(chromedp.CSS(`#revert`)),
		chromedp.WaitVisible(chromedp.CSS(`#revert-pr`)),
	)
	if got, want := f.backend.lastCall(), `revert `+commitA+` 1 alice "1.27 breaks the config"`; got != want {
		t.Errorf("backend got %s, want %s", got, want)
	}
	if branch := text(t, ctx, `#revert-branch`); branch != "ripple/revert-"+commitA[:12] {
		t.Errorf("branch shown = %q", branch)
	}
	screenshot(t, ctx, "run-reverted")
}

// TestBrowserSignInAndAbort: sign in through the login form, abort a run
// and sign out, all by clicking, as Chromium sends the UI's own forms
// (Origin and Sec-Fetch-Site: same-origin).
func TestBrowserSignInAndAbort(t *testing.T) {
	f := newFixture(t)
	r := f.newRun(t, engine.RunRunning)
	r.host(0, "web-01", false)
	ctx := newBrowser(t)
	run(t, ctx, "sign in",
		chromedp.Navigate(f.srv.URL+"/runs/1"),
		chromedp.SendKeys(chromedp.CSS(`form[action="/login"] input[name="token"]`), operatorToken),
		chromedp.Click(chromedp.CSS(`form[action="/login"] button`)),
		chromedp.WaitVisible(chromedp.CSS(`#abort`)),
	)
	if loc := value(t, ctx, chromedp.Location()); loc != f.srv.URL+"/runs/1" {
		t.Errorf("after sign-in at %s, want the run page", loc)
	}
	// A live update of the page while the operator types keeps what is
	// typed.
	run(t, ctx, "type a reason", chromedp.SendKeys(chromedp.CSS(`form[action="/runs/1/abort"] input[name="reason"]`), "wrong "))
	r.host(0, "web-02", false)
	run(t, ctx, "live update", chromedp.WaitVisible(chromedp.CSS(`a.host[data-host="web-02"]`)))
	run(t, ctx, "abort",
		chromedp.SendKeys(chromedp.CSS(`form[action="/runs/1/abort"] input[name="reason"]`), "branch"),
		chromedp.Click(chromedp.CSS(`#abort`)),
		chromedp.WaitVisible(chromedp.CSS(`#run-state.aborted`)),
	)
	if got, want := f.backend.lastCall(), `abort 1 alice "wrong branch"`; got != want {
		t.Errorf("backend got %s, want %s", got, want)
	}
	run(t, ctx, "sign out",
		chromedp.Click(chromedp.CSS(`form[action="/logout"] button`)),
		chromedp.WaitVisible(chromedp.CSS(`form[action="/login"]`)),
		chromedp.Navigate(f.srv.URL+"/runs/1"),
		chromedp.WaitVisible(chromedp.CSS(`form[action="/login"]`)),
	)
}

// TestBrowserForeignFormsRefused: a page on another site (localhost is
// not the same site as 127.0.0.1) carries forms that post to the UI. The
// signed-in operator clicks them: the approval and the sign-in as the
// attacker are refused with the error page, the run still waits and the
// operator is still signed in as themselves.
func TestBrowserForeignFormsRefused(t *testing.T) {
	f := newFixture(t)
	f.newRun(t, engine.RunWaitingApproval).host(0, "web-01", false)
	evil := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(w, `<!doctype html><title>cute cats</title>
<form id="approve" method="post" action="%[1]s/runs/1/approve"><input type="hidden" name="reason" value="forged"><button>cats</button></form>
<form id="login" method="post" action="%[1]s/login"><input type="hidden" name="token" value="%[2]s"><button>more cats</button></form>`,
			f.srv.URL, viewerToken)
	}))
	t.Cleanup(evil.Close)
	evilURL := strings.Replace(evil.URL, "127.0.0.1", "localhost", 1)

	ctx := newBrowser(t)
	run(t, ctx, "operator signs in", chromedp.Navigate(f.srv.URL+"/runs/1?token="+operatorToken), chromedp.WaitVisible(chromedp.CSS(`#approve`)))
	for _, form := range []string{"approve", "login"} {
		run(t, ctx, "forged "+form,
			chromedp.Navigate(evilURL),
			chromedp.WaitVisible(chromedp.CSS(`#`+form+` button`)),
			chromedp.Click(chromedp.CSS(`#`+form+` button`)),
			chromedp.WaitVisible(chromedp.CSS(`main`)), // a page of the UI, whichever
		)
		title, msg := value(t, ctx, chromedp.Title()), eval[string](t, ctx, `document.querySelector('.banner.err')?.textContent || ''`)
		if title != "Forbidden · ripple" || !strings.Contains(msg, "another site") {
			t.Errorf("forged %s: page %q says %q", form, title, msg)
		}
	}
	if call := f.backend.lastCall(); call != "" {
		t.Errorf("a forged form reached the backend: %s", call)
	}
	if events, err := f.store.Events(t.Context(), 1); err != nil || len(events) != 0 {
		t.Errorf("forged forms recorded events %+v %v", events, err)
	}
	run(t, ctx, "back to the UI", chromedp.Navigate(f.srv.URL+"/runs/1"), chromedp.WaitVisible(chromedp.CSS(`.who span`)))
	if who := text(t, ctx, `.who span`); !strings.HasPrefix(who, "alice") {
		t.Errorf("signed in as %q after the forged sign-in, want alice", who)
	}
}
