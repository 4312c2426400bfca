package test

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/ripple-ops/ripple/engine/httpapi"
)

// TestWebUIAgainstARealDaemon opens every page of the web UI in headless
// Chromium against `ripple serve` with a real sshd fleet: a file step's
// run, a run whose health gate fails its first wave, and a monitor that
// warns on one host. Each page is checked for what a user looks for on it
// and saved under test/artifacts/e2e-*.png.
func TestWebUIAgainstARealDaemon(t *testing.T) {
	ctx := uiBrowser(t)
	e := newDmEnv(t, 3)
	web, db := e.fleet.Hosts[0], e.fleet.Hosts[2] // host-03 is the one db host, and its disk warns
	for _, h := range e.fleet.Hosts {
		if err := os.WriteFile(filepath.Join(h.Dir, "healthy"), []byte("yes\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(db.Dir, "full"), []byte("yes\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	first := e.commit("inventory, monitors and app.conf on port 80", map[string]string{
		"hosts.hcl":          uiHostsHCL(e),
		"monitors.hcl":       uiMonitors,
		"jobs/config.hcl":    uiConfigJob,
		"jobs/app.conf.tmpl": "# managed by ripple\nhost = ${host.name}\nport = 80\n",
	})
	e.start()
	e.waitStatus(first, "ripple/job/config", "success")
	for _, h := range e.fleet.Hosts {
		e.waitFor("app OK on "+h.Name, 30*time.Second, func() bool { return e.uiMonitorState("app", h.Name) == "OK" })
	}
	e.waitFor("disk WARNING on "+db.Name, 30*time.Second, func() bool { return e.uiMonitorState("disk", db.Name) == "WARNING" })

	// A change of one line of the file step's template.
	second := e.commit("app.conf: listen on 8080", map[string]string{"jobs/app.conf.tmpl": "# managed by ripple\nhost = ${host.name}\nport = 8080\n"})
	if code := e.webhook("push", "ui-1", pushPayload(t, first, second)); code != http.StatusAccepted {
		t.Fatalf("push answered %d", code)
	}
	e.waitStatus(second, "ripple/job/config", "success")
	configRun := e.uiRunOf("config", second)

	// A release that breaks the app on the hosts it reaches: its gate fails
	// the first wave.
	third := e.commit("release v2 of the app", map[string]string{"jobs/release.hcl": uiReleaseJob})
	if code := e.webhook("push", "ui-2", pushPayload(t, second, third)); code != http.StatusAccepted {
		t.Fatalf("push answered %d", code)
	}
	e.waitStatus(third, "ripple/job/release", "failure")
	failedRun := e.uiRunOf("release", third)
	if failedRun.State != "failed" || !strings.Contains(failedRun.Error, "health gate") || len(failedRun.Waves) < 2 {
		t.Fatalf("release run %+v, want failed at the health gate of its first wave", failedRun)
	}
	gateHost := failedRun.Waves[0][0]
	base := "http://" + e.addr

	// Overview: the failed run under what needs attention, the warning,
	// the commits with their messages.
	uiRun(t, ctx, "overview",
		chromedp.Navigate(base+"/?token="+dmOperator),
		chromedp.WaitVisible(chromedp.CSS(fmt.Sprintf(`#failed tr[data-run="%d"]`, failedRun.ID))),
		chromedp.WaitVisible(chromedp.CSS(`#commits tr[data-commit="`+third+`"]`)),
	)
	if got := uiText(t, ctx, `#failed`); !strings.Contains(got, "release") {
		t.Errorf("the failed runs under Needs attention do not name the release job: %q", got)
	}
	if got := uiText(t, ctx, `#commits tr[data-commit="`+third+`"] .msg`); got != "release v2 of the app" {
		t.Errorf("the head commit's row reads %q", got)
	}
	if got := uiText(t, ctx, `#commits tr[data-commit="`+second+`"] .msg`); got != "app.conf: listen on 8080" {
		t.Errorf("the second commit's row reads %q", got)
	}
	if n := uiEval[int](t, ctx, `document.querySelectorAll('#alerts tr.alert[data-monitor="disk"][data-host="`+db.Name+`"]').length`); n != 1 {
		t.Errorf("the disk warning on %s is listed %d times under Needs attention, want once", db.Name, n)
	}
	tiles := uiEval[map[string]string](t, ctx, `Object.fromEntries([...document.querySelectorAll('.tiles .tile')].map(t => [t.querySelector('span').textContent, t.querySelector('b').textContent]))`)
	if tiles["hosts"] != "3" || tiles["warning"] != "1" || tiles["critical"] != "1" || tiles["checks OK"] != "4" {
		t.Errorf("the fleet tiles %q, want 3 hosts, 4 checks OK, 1 warning and 1 critical", tiles)
	}
	if loc := uiValue(t, ctx, chromedp.Location()); strings.Contains(loc, "token") {
		t.Errorf("the token stayed in the address bar: %s", loc)
	}
	uiScreenshot(t, ctx, "e2e-overview")

	// Hosts: the search and the group filter narrow the list.
	rows := func() []string {
		return uiEval[[]string](t, ctx, `[...document.querySelectorAll('#hosts tbody tr[data-host]')].map(r => r.dataset.host)`)
	}
	uiRun(t, ctx, "hosts", chromedp.Navigate(base+"/hosts"), chromedp.WaitVisible(chromedp.CSS(`#hosts tr[data-host="`+db.Name+`"]`)))
	if got := rows(); len(got) != 3 {
		t.Errorf("/hosts lists %v, want the 3 hosts", got)
	}
	uiScreenshot(t, ctx, "e2e-hosts")
	uiRun(t, ctx, "search a host", chromedp.SendKeys(chromedp.CSS(`input[name="q"]`), web.Name+"\r"),
		chromedp.WaitNotPresent(chromedp.CSS(`#hosts tr[data-host="`+db.Name+`"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#hosts tr[data-host="`+web.Name+`"]`)),
	)
	if got := rows(); len(got) != 1 || got[0] != web.Name {
		t.Errorf("searching %s lists %v", web.Name, got)
	}
	if loc := uiValue(t, ctx, chromedp.Location()); !strings.Contains(loc, "q="+web.Name) {
		t.Errorf("the searched list's address %s does not hold the search", loc)
	}
	uiScreenshot(t, ctx, "e2e-hosts-searched")
	uiRun(t, ctx, "filter by group", chromedp.Navigate(base+"/hosts"), chromedp.WaitVisible(chromedp.CSS(`#hosts tr[data-host="`+web.Name+`"]`)),
		chromedp.SetValue(chromedp.CSS(`select[name="group"]`), "db"),
		chromedp.Click(chromedp.CSS(`form.filters button[type="submit"]`)),
		chromedp.WaitNotPresent(chromedp.CSS(`#hosts tr[data-host="`+web.Name+`"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#hosts tr[data-host="`+db.Name+`"]`)),
	)
	if got := rows(); len(got) != 1 || got[0] != db.Name {
		t.Errorf("group db lists %v, want %s alone", got, db.Name)
	}
	uiScreenshot(t, ctx, "e2e-hosts-group")

	// A host: its monitors with their states, its jobs.
	uiRun(t, ctx, "host page", chromedp.Navigate(base+"/hosts/"+db.Name), chromedp.WaitVisible(chromedp.CSS(`#host-monitors`)))
	if got := uiText(t, ctx, `#host-monitors`); !strings.Contains(got, "disk") || !strings.Contains(got, "WARNING") || !strings.Contains(got, "app") {
		t.Errorf("%s's monitors read %q, want app and disk WARNING", db.Name, got)
	}
	if got := uiText(t, ctx, `#host-jobs`); !strings.Contains(got, "config") || !strings.Contains(got, "release") {
		t.Errorf("%s's jobs read %q, want config and release", db.Name, got)
	}
	uiScreenshot(t, ctx, "e2e-host")

	// A job: its hosts in sync, its runs, the latest first.
	uiRun(t, ctx, "job page", chromedp.Navigate(base+"/jobs/config"), chromedp.WaitVisible(chromedp.CSS(fmt.Sprintf(`a[href="/runs/%d"]`, configRun.ID))))
	if h1 := uiText(t, ctx, `h1`); h1 != "Job config" {
		t.Errorf("the job page's title reads %q", h1)
	}
	if got := uiText(t, ctx, `#sync-summary`); !strings.Contains(got, "3/3 hosts in sync") {
		t.Errorf("the job's sync state reads %q, want 3/3 hosts in sync", got)
	}
	if got := uiEval[[]string](t, ctx, `[...document.querySelectorAll('a[href^="/runs/"]')].map(a => a.textContent)`); len(got) != 2 || got[0] != fmt.Sprintf("#%d", configRun.ID) {
		t.Errorf("the job's history links %q, want its 2 runs, #%d first", got, configRun.ID)
	}
	uiScreenshot(t, ctx, "e2e-job")

	// Runs: both runs with their states.
	uiRun(t, ctx, "runs", chromedp.Navigate(base+"/runs"),
		chromedp.WaitVisible(chromedp.CSS(fmt.Sprintf(`#runs tr[data-run="%d"][data-state="failed"]`, failedRun.ID))),
		chromedp.WaitVisible(chromedp.CSS(fmt.Sprintf(`#runs tr[data-run="%d"][data-state="succeeded"]`, configRun.ID))),
	)
	if got := uiText(t, ctx, fmt.Sprintf(`#runs tr[data-run="%d"]`, failedRun.ID)); !strings.Contains(got, "health gate") {
		t.Errorf("the failed run's row reads %q, want its summary naming the health gate", got)
	}
	uiScreenshot(t, ctx, "e2e-runs")

	// The file step's run: the diff shows the changed line as added and
	// the old one as removed; its waves are done, in the success colour.
	uiRun(t, ctx, "file-step run", chromedp.Navigate(fmt.Sprintf("%s/runs/%d", base, configRun.ID)), chromedp.WaitVisible(chromedp.CSS(`pre.diff`)))
	added := uiEval[[]string](t, ctx, `[...document.querySelectorAll('pre.diff .add')].map(s => s.textContent.trim())`)
	removed := uiEval[[]string](t, ctx, `[...document.querySelectorAll('pre.diff .del')].map(s => s.textContent.trim())`)
	if !uiHasLine(added, "+port = 8080") || !uiHasLine(removed, "-port = 80") || uiHasLine(added, "+host = "+web.Name) {
		t.Errorf("the diff adds %q and removes %q; want +port = 8080 and -port = 80 alone", added, removed)
	}
	okBorder := uiEval[string](t, ctx, `getComputedStyle(document.querySelector('.wave[data-wave="1"]')).borderTopColor`)
	if state := uiEval[string](t, ctx, `document.querySelector('.wave[data-wave="1"]').dataset.state`); state != "done" {
		t.Errorf("the file-step run's wave 1 is %q, want done", state)
	}
	uiScreenshot(t, ctx, "e2e-run-diff")

	// The gate-failed run: wave 1 reads failed, is not styled as a success
	// and says why.
	uiRun(t, ctx, "gate-failed run", chromedp.Navigate(fmt.Sprintf("%s/runs/%d", base, failedRun.ID)), chromedp.WaitVisible(chromedp.CSS(`.wave[data-wave="1"]`)))
	wave := uiEval[map[string]string](t, ctx, `(() => { const w = document.querySelector('.wave[data-wave="1"]'), s = getComputedStyle(w);
		return {cls: w.className, state: w.dataset.state, label: w.querySelector('.wave-state').textContent, border: s.borderTopColor, bg: s.backgroundColor, text: w.textContent} })()`)
	if wave["state"] != "failed" || !strings.Contains(wave["label"], "failed") || !strings.Contains(wave["cls"], "failed") || strings.Contains(wave["cls"], "done") {
		t.Errorf("the gate-failed wave: %q", wave)
	}
	if wave["border"] == okBorder {
		t.Errorf("the gate-failed wave has the border colour of a done wave (%s)", okBorder)
	}
	if green := uiEval[float64](t, ctx, `document.querySelector('.wave[data-wave="1"] .fill:not(.bad)').getBoundingClientRect().width`); green != 0 {
		t.Errorf("the gate-failed wave is %vpx filled in the success colour, want none: its host's step succeeded but the host failed", green)
	}
	if !strings.Contains(wave["text"], "gate") && !strings.Contains(uiText(t, ctx, `.banner.err`), "health gate") {
		t.Errorf("the failed run does not say its health gate failed: wave %q", wave["text"])
	}
	if state := uiText(t, ctx, `#run-state`); !strings.Contains(state, "failed") {
		t.Errorf("the run's state reads %q", state)
	}
	if chip := uiEval[string](t, ctx, `document.querySelector('a.host[data-host="`+gateHost+`"]')?.title || ''`); !strings.Contains(chip, "gate failed") {
		t.Errorf("the wave-1 host %s of the gate-failed run reads %q, want gate failed", gateHost, chip)
	}
	uiScreenshot(t, ctx, "e2e-run-gate-failed")

	// Monitors: both, with the warning counted.
	uiRun(t, ctx, "monitors", chromedp.Navigate(base+"/monitors"), chromedp.WaitVisible(chromedp.CSS(`#monitors tbody tr`)))
	if got := uiText(t, ctx, `#monitors`); !strings.Contains(got, "disk") || !strings.Contains(got, "app") {
		t.Errorf("/monitors reads %q, want app and disk", got)
	}
	uiScreenshot(t, ctx, "e2e-monitors")
	uiRun(t, ctx, "monitor page", chromedp.Navigate(base+"/monitors/disk"), chromedp.WaitVisible(chromedp.CSS(`#monitor-hosts`)))
	if got := uiEval[string](t, ctx, `[...document.querySelectorAll('#monitor-hosts tr')].filter(r => r.textContent.includes('`+db.Name+`')).map(r => r.textContent).join('|')`); !strings.Contains(got, "WARNING") {
		t.Errorf("/monitors/disk's row of %s reads %q, want WARNING", db.Name, got)
	}
	uiScreenshot(t, ctx, "e2e-monitor")

	// Capacity: the limited metric of every host.
	uiRun(t, ctx, "capacity", chromedp.Navigate(base+"/capacity"), chromedp.WaitVisible(chromedp.CSS(`table.list tbody`)))
	if got := uiText(t, ctx, `table.list tbody`); strings.Count(got, "used") != 3 {
		t.Errorf("/capacity lists %q, want disk's metric used on 3 hosts", got)
	}
	uiScreenshot(t, ctx, "e2e-capacity")

	// Patches: the groups with their host counts, a row per host with its
	// last successful run (the gated release never succeeded).
	uiRun(t, ctx, "patches", chromedp.Navigate(base+"/patches"), chromedp.WaitVisible(chromedp.CSS(`table.patch-hosts`)))
	groups := uiEval[[]string](t, ctx, `[...document.querySelectorAll('table.patch-groups tbody tr')].map(r => r.cells[0].textContent + "=" + r.cells[1].textContent).sort()`)
	if strings.Join(groups, " ") != "db=1 fleet=3 web=2" {
		t.Errorf("/patches by group: %q, want db=1 fleet=3 web=2", groups)
	}
	last := uiEval[[]string](t, ctx, `[...document.querySelectorAll('tr.patch-row')].map(r => r.cells[6].textContent)`)
	if len(last) != 3 {
		t.Errorf("/patches lists %d hosts, want 3", len(last))
	}
	for _, l := range last {
		if !strings.Contains(l, fmt.Sprintf("config #%d", configRun.ID)) || strings.Contains(l, "release") {
			t.Errorf("a host's last successful runs read %q, want config #%d and no release", l, configRun.ID)
		}
	}
	uiScreenshot(t, ctx, "e2e-patches")
}

// uiHostsHCL: the fleet with each host's directory, in the groups web
// (the first two) and db (the last).
func uiHostsHCL(e *dmEnv) string {
	f := e.fleet
	var b strings.Builder
	fmt.Fprintf(&b, "credential \"default\" {\n  user             = %q\n  private_key_file = %q\n  known_hosts_file = %q\n}\n", f.User, f.KeyFile, f.KnownHostsFile)
	for i, h := range f.Hosts {
		g := "web"
		if i == len(f.Hosts)-1 {
			g = "db"
		}
		fmt.Fprintf(&b, "\nhost %q {\n  address = %q\n  port    = %d\n  groups  = [\"fleet\", %q]\n  vars    = { dir = %q }\n}\n", h.Name, h.Address, h.Port, g, h.Dir)
	}
	return b.String()
}

// uiMonitors: app is OK while the host's healthy marker exists; disk
// warns where the marker full exists and has a limit for /capacity.
const uiMonitors = `
monitor "app" {
  targets { groups = ["fleet"] }
  interval = "1s"
  check "command" {
    run = "if test -f ${host.vars.dir}/healthy; then echo 'APP OK'; else echo 'APP CRITICAL: no healthy marker'; exit 2; fi"
  }
}

monitor "disk" {
  targets { groups = ["fleet"] }
  interval = "2s"
  limits   = { used = 100 }
  check "command" {
    run = "if test -f ${host.vars.dir}/full; then echo 'DISK WARNING: 91% used | used=91'; exit 1; else echo 'DISK OK: 40% used | used=40'; fi"
  }
}
`

const uiConfigJob = `
job "config" {
  targets { groups = ["fleet"] }
  step "app-conf" {
    file {
      source      = "app.conf.tmpl"
      destination = "${host.vars.dir}/app.conf"
    }
  }
  rollout { waves = [1, "100%"] }
}
`

// uiReleaseJob breaks the app on each host it reaches, gated on app: wave
// 1 fails its gate and the run halts there.
const uiReleaseJob = `
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
      min_healthy_time = "1s"
      healthy_deadline = "5s"
    }
  }
}
`

// uiMonitorState is the state of monitor on host in the API, "" if absent.
func (e *dmEnv) uiMonitorState(monitor, host string) string {
	e.t.Helper()
	var ms []httpapi.Monitor
	e.getJSON("/api/v1/monitors", &ms)
	for _, m := range ms {
		if m.Name == monitor {
			for _, h := range m.Hosts {
				if h.Host == host {
					return h.State
				}
			}
		}
	}
	return ""
}

// uiRunOf is the run of job at commit sha, once it is final.
func (e *dmEnv) uiRunOf(job, sha string) httpapi.Run {
	e.t.Helper()
	var run httpapi.Run
	e.waitFor("the final run of "+job, 30*time.Second, func() bool {
		for _, r := range e.runs("job=" + job + "&limit=10") {
			if r.Commit == sha && r.State != "running" && r.State != "queued" && r.State != "pending" {
				run = r
				return true
			}
		}
		return false
	})
	return run
}

func uiHasLine(lines []string, want string) bool {
	for _, l := range lines {
		if l == want {
			return true
		}
	}
	return false
}

// The browser helpers, as engine/webui's browser tests have them (a test
// of this package cannot import those).

const uiChromium = "/usr/bin/chromium"

// uiBrowser starts a headless Chromium for the test (skipped without one,
// except under CI) and returns a tab bounded in time.
func uiBrowser(t *testing.T) context.Context {
	t.Helper()
	if _, err := os.Stat(uiChromium); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("chromium is required in CI (.ci/setup installs it): %v", err)
		}
		t.Skipf("no %s; install Debian's chromium to run browser tests", uiChromium)
	}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(uiChromium),
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
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1440, 1000),
	}
	// The whole test, daemon and runs included, stays within this bound.
	bounded, cancelBound := context.WithTimeout(context.Background(), 4*time.Minute)
	actx, cancelAlloc := chromedp.NewExecAllocator(bounded, opts...)
	ctx, cancelBrowser := chromedp.NewContext(actx)
	t.Cleanup(func() {
		cancelBrowser()
		cancelAlloc()
		cancelBound()
	})
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	return ctx
}

// uiRun runs actions, each page's within 30 seconds.
func uiRun(t *testing.T, ctx context.Context, what string, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

func uiValue[T any](t *testing.T, ctx context.Context, a chromedp.Action[T]) T {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func uiText(t *testing.T, ctx context.Context, sel string) string {
	t.Helper()
	return uiValue(t, ctx, chromedp.Text(chromedp.CSS(sel)))
}

func uiEval[T any](t *testing.T, ctx context.Context, js string) T {
	t.Helper()
	return uiValue(t, ctx, chromedp.Evaluate[T](js))
}

// uiScreenshot saves the full page as test/artifacts/<name>.png.
func uiScreenshot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	png := uiValue(t, ctx, chromedp.FullScreenshot(100))
	dir := "artifacts"
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, name+".png"), png, 0o644); err != nil {
		t.Fatal(err)
	}
}
