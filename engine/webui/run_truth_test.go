package webui

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/ripple-ops/ripple/engine"
)

const configDiff = `--- /etc/nginx/nginx.conf (before)
+++ /etc/nginx/nginx.conf (after)
@@ -1,3 +1,3 @@
 user www-data;
-worker_processes 4;
+worker_processes 8;
 pid /run/nginx.pid;
`

// finish records a finished step of a host.
func finish(t *testing.T, f *fixture, run int64, wave int, host, step string, rollback bool, res engine.StepResult) {
	t.Helper()
	if res.Started.IsZero() {
		res.Started, res.Duration = time.Now(), 150*time.Millisecond
	}
	if err := f.store.FinishHostStep(context.Background(), engine.HostStep{RunID: run, Wave: wave, Host: host, Step: step, Rollback: rollback, Phase: engine.PhaseFinished, Result: res}); err != nil {
		t.Fatal(err)
	}
}

func event(t *testing.T, f *fixture, run int64, action, reason string) {
	t.Helper()
	if err := f.store.AddEvent(context.Background(), engine.Event{RunID: run, At: time.Now(), Actor: engine.ActorRipple, Action: action, Reason: reason}); err != nil {
		t.Fatal(err)
	}
}

// gateFailedRun is a run whose canary's steps succeeded (the config step
// changed the file) but whose health gate found it CRITICAL, and which
// rolled it back.
func gateFailedRun(t *testing.T, f *fixture) *simRun {
	t.Helper()
	r := f.newRun(t, engine.RunRunning)
	id := r.run.ID
	finish(t, f, id, 0, "web-01", "config", false, engine.StepResult{Status: engine.StepChanged, Diff: configDiff})
	finish(t, f, id, 0, "web-01", "reload", false, engine.StepResult{Status: engine.StepOK, Stdout: "reloaded"})
	event(t, f, id, engine.EventGateFailed, "wave 1/4: 1 host not healthy by the deadline\nweb-01: web-http@web-01 CRITICAL: HTTP 503")
	why := "wave 1/4 failed: 1/1 host failed (max_failures 0), 1 by the health gate"
	event(t, f, id, engine.EventRollback, why+"\nweb-01: health gate: web-http@web-01 CRITICAL: HTTP 503")
	finish(t, f, id, 0, "web-01", "config", true, engine.StepResult{Status: engine.StepChanged})
	event(t, f, id, engine.EventFinish, "failed: "+why+"; rolled back 1 host")
	r.run.Error = why + "; rolled back 1 host"
	r.set(engine.RunFailed, 0, why+"; rolled back 1 host")
	return r
}

// TestRunPageTellsTheTruth: a wave whose health gate failed reads
// "failed" with its reason and is not drawn as a success; its host says
// "gate failed" and "rolled back" in words; the change the config step
// made shows the changed line; the waves the run never reached say "not
// started".
func TestRunPageTellsTheTruth(t *testing.T) {
	f := newFixture(t)
	gateFailedRun(t, f)
	ctx := newBrowser(t)
	run(t, ctx, "open the failed run",
		chromedp.Navigate(f.srv.URL+"/runs/1?token="+viewerToken),
		chromedp.WaitVisible(chromedp.CSS(`.wave[data-wave="1"]`)),
	)
	wave := text(t, ctx, `.wave[data-wave="1"]`)
	if state := text(t, ctx, `.wave[data-wave="1"] .wave-state`); state != "✗ failed" || !strings.Contains(wave, "1 by the health gate") {
		t.Errorf("wave 1 reads %q; want failed with the gate's reason", wave)
	}
	// Not green: the wave's border and its fill are the failure colour.
	colours := eval[[]string](t, ctx, `(() => { const w = document.querySelector('.wave[data-wave="1"]');
		const fills = [...w.querySelectorAll('.fill')].filter(e => e.offsetWidth > 0).map(e => getComputedStyle(e).backgroundColor);
		return [getComputedStyle(w).borderTopColor, getComputedStyle(w).backgroundColor, ...fills]; })()`)
	for _, c := range colours {
		if strings.HasPrefix(c, "rgb(46, 160, 67") || strings.HasPrefix(c, "rgba(46, 160, 67") {
			t.Errorf("wave 1 is drawn in the success green: %v", colours)
		}
	}
	if colours[0] != "rgb(248, 81, 73)" {
		t.Errorf("wave 1's border is %s, want the failure red", colours[0])
	}
	if got := text(t, ctx, `.wave[data-wave="2"] .wave-state`); got != "○ not started" {
		t.Errorf("wave 2 reads %q", got)
	}
	chip := text(t, ctx, `a.host[data-host="web-01"]`)
	if !strings.Contains(chip, "web-01") || !strings.Contains(chip, "gate failed") {
		t.Errorf("web-01's chip reads %q; want its outcome in words", chip)
	}
	summary := text(t, ctx, `#h-web-01 summary`)
	if !strings.Contains(summary, "gate failed") || !strings.Contains(summary, "rolled back") || !strings.Contains(summary, "web-http@web-01 CRITICAL") {
		t.Errorf("web-01's output summary %q", summary)
	}
	if h := text(t, ctx, `#wave-1 h3`); !strings.Contains(h, "failed") || !strings.Contains(h, "1 by the health gate") {
		t.Errorf("wave 1's host section heading %q", h)
	}
	change := text(t, ctx, `details.change`)
	if !strings.Contains(change, "step config on 1 host: web-01") || !strings.Contains(change, "+worker_processes 8;") || !strings.Contains(change, "-worker_processes 4;") {
		t.Errorf("the change of the config step reads %q", change)
	}
	if cls := eval[string](t, ctx, `[...document.querySelectorAll('details.change pre.diff span')].find(s => s.textContent === '+worker_processes 8;').className`); cls != "add" {
		t.Errorf("the added line is styled %q", cls)
	}
	screenshot(t, ctx, "run-gate-failed")
}

// TestRunPageAt500Hosts: a run of 500 hosts (a canary, then 499): in the
// second wave the 3 that failed come first and open, the 496 that went
// well are one closed line until opened, and the change made on the 497
// is shown once.
func TestRunPageAt500Hosts(t *testing.T) {
	f := newFixture(t)
	ctx0 := context.Background()
	var big []string
	for i := 1; i <= 500; i++ {
		big = append(big, fmt.Sprintf("edge-%03d", i))
	}
	runRec := &engine.Run{Job: "nginx-config", Commit: commitA, Trigger: "commit", State: engine.RunRunning, Waves: [][]string{big[:1], big[1:]}, Created: time.Now(), Started: time.Now()}
	if err := f.store.CreateRun(ctx0, runRec); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make(chan error, len(big))
	for i, h := range big {
		wg.Add(1)
		go func() {
			defer wg.Done()
			wave := min(i, 1)
			res := engine.StepResult{Status: engine.StepChanged, Diff: configDiff, Started: time.Now(), Duration: time.Second}
			switch h {
			case "edge-100", "edge-300":
				res = engine.StepResult{Status: engine.StepFailed, ExitCode: 1, Stderr: "nginx: [emerg] bind() to 0.0.0.0:80 failed", Started: time.Now()}
			case "edge-200":
				res = engine.StepResult{Status: engine.StepUnreachable, ExitCode: -1, Error: "dial tcp 10.9.0.200:22: connect: no route to host", Started: time.Now()}
			}
			errs <- f.store.FinishHostStep(ctx0, engine.HostStep{RunID: runRec.ID, Wave: wave, Host: h, Step: "config", Phase: engine.PhaseFinished, Result: res})
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	runRec.State, runRec.Summary = engine.RunSucceeded, "497/500 hosts ok"
	if err := f.store.UpdateRun(ctx0, runRec); err != nil {
		t.Fatal(err)
	}

	ctx := newBrowser(t)
	run(t, ctx, "open the 500-host run",
		chromedp.Navigate(f.srv.URL+"/runs/1?token="+viewerToken),
		chromedp.WaitVisible(chromedp.CSS(`#wave-2`)),
	)
	groups := eval[[]string](t, ctx, `[...document.querySelectorAll('#wave-2 .group')].map(g => g.id + (g.tagName === 'DETAILS' ? (g.open ? ' open' : ' closed') : ' shown'))`)
	want := []string{"w2-failed shown", "w2-unreachable shown", "w2-ok closed"}
	if strings.Join(groups, ",") != strings.Join(want, ",") {
		t.Errorf("wave 2's groups %v, want %v (failures first and shown, the 497 ok hosts closed)", groups, want)
	}
	if s := text(t, ctx, `#w2-ok summary`); !strings.Contains(s, "496 ok") {
		t.Errorf("the ok group's line reads %q", s)
	}
	if n := eval[int](t, ctx, `[...document.querySelectorAll('a.host')].filter(a => a.checkVisibility()).length`); n != 4 {
		t.Errorf("%d host chips visible before opening the ok group, want 4 (1 canary + 3 failed)", n)
	}
	if c := text(t, ctx, `details.change summary`); !strings.Contains(c, "on 497 hosts") {
		t.Errorf("the change reads %q; want it once for the 497 hosts that made it", c)
	}
	if out := eval[[]string](t, ctx, `[...document.querySelectorAll('details.out[id^="h-"]')].map(d => d.id)`); strings.Join(out, ",") != "h-edge-100,h-edge-200,h-edge-300" {
		t.Errorf("output panels %v, want the three failed hosts only", out)
	}
	screenshot(t, ctx, "run-500-hosts")
	run(t, ctx, "open the ok hosts by keyboard",
		chromedp.Focus(chromedp.CSS(`#w2-ok summary`)),
		chromedp.KeyEvent("\r"),
		chromedp.WaitVisible(chromedp.CSS(`a.host[data-host="edge-499"]`)),
	)
}

// TestChartsSayWhatTheyShow: the monitor page's chart has a value axis with
// the unit, time labels, the limit drawn and labelled, and a value on
// hover of every point; the capacity page draws the forecast line and says
// when it reaches the limit.
func TestChartsSayWhatTheyShow(t *testing.T) {
	f := newFixture(t)
	ctx := newBrowser(t)
	run(t, ctx, "monitor page of web-04",
		chromedp.Navigate(f.srv.URL+"/monitors/web-http?host=web-04&token="+viewerToken),
		chromedp.WaitVisible(chromedp.CSS(`#chart ~ .charts svg.chart`)),
	)
	yticks := eval[[]string](t, ctx, `[...document.querySelectorAll('.charts svg.chart text.ytick')].map(e => e.textContent)`)
	if len(yticks) < 3 || !strings.HasSuffix(yticks[len(yticks)-1], " s") {
		t.Errorf("value axis %v: want labels in seconds", yticks)
	}
	xticks := eval[[]string](t, ctx, `[...document.querySelectorAll('.charts svg.chart text.xtick')].map(e => e.textContent)`)
	if len(xticks) < 3 || !strings.Contains(xticks[0], ":") {
		t.Errorf("time axis %v: want clock times over 6 hours", xticks)
	}
	titles := eval[[]string](t, ctx, `[...document.querySelectorAll('.charts svg.chart circle.pt title')].map(e => e.textContent)`)
	if len(titles) < 60 || !strings.HasSuffix(titles[len(titles)-1], ": 0.05 s") {
		t.Errorf("%d point titles, last %q; want one per point with the value and unit", len(titles), titles[len(titles)-1:])
	}
	screenshot(t, ctx, "monitor")

	run(t, ctx, "disk-root over 10 days",
		chromedp.Navigate(f.srv.URL+"/monitors/disk-root?host=web-02&window=10d"),
		chromedp.WaitVisible(chromedp.CSS(`.charts svg.chart line.limit`)),
	)
	if lt := eval[string](t, ctx, `document.querySelector('.charts svg.chart text.limit').textContent`); lt != "limit 100" {
		t.Errorf("the limit's label reads %q", lt)
	}
	if vis := eval[bool](t, ctx, `(() => { const l = document.querySelector('.charts svg.chart line.limit'), s = document.querySelector('.charts svg.chart');
		const y = +l.getAttribute('y1'); return y >= 0 && y <= s.viewBox.baseVal.height && getComputedStyle(l).strokeOpacity !== '0'; })()`); !vis {
		t.Error("the limit line is outside the chart or invisible")
	}

	run(t, ctx, "capacity page",
		chromedp.Navigate(f.srv.URL+"/capacity?horizon=60d"),
		chromedp.WaitVisible(chromedp.CSS(`figure[data-series] svg.chart polyline.forecast`)),
	)
	// web-02's disk grows 2 a day from 44: it reaches 100 in the horizon.
	caption := text(t, ctx, `figure[data-series="disk-root/web-02//"] figcaption`)
	if !strings.Contains(caption, "reaches 100 on ") {
		t.Errorf("web-02's forecast says %q; want the day it reaches the limit", caption)
	}
	if n := eval[int](t, ctx, `document.querySelectorAll('figure[data-series="disk-root/web-02//"] svg line.crossing').length`); n != 1 {
		t.Errorf("%d crossing marks on web-02's chart", n)
	}
	screenshot(t, ctx, "capacity")
}
