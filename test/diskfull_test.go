package test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ripple-ops/ripple/engine"
	"github.com/ripple-ops/ripple/engine/enginetest"
	"github.com/ripple-ops/ripple/engine/httpapi"
	"github.com/ripple-ops/ripple/engine/webui"
)

// TestDaemonFullDiskStopsRunsThenRecoversByItself runs `ripple serve` with
// its data directory on a small tmpfs and fills that file system while two
// runs execute a step on their first host: one job's step is idempotent,
// the other's is not. The step results cannot be journaled, so both runs
// stop; the daemon says why in /api/v1/status (last_error, store),
// /readyz (503), /metrics and the web UI, and starts nothing new. Then the
// filler is deleted and, without a restart, the daemon finds out by
// itself that the store writes again: /readyz is 200, each run's record
// says why it stopped, the idempotent step runs again and its run
// succeeds, the other run stops for an operator (its step never runs
// twice) and finishes once approved, and a later commit rolls out.
func TestDaemonFullDiskStopsRunsThenRecoversByItself(t *testing.T) {
	data := enginetest.Tmpfs(t, 32<<20) // first: unmounted after the daemon stops
	e := newDmEnv(t, 3)
	e.data = data
	marks := t.TempDir()
	base := e.commit("inventory", map[string]string{"hosts.hcl": e.fleet.HCL()})
	e.start()
	e.waitStatus(base, "ripple/validate", "success")

	job := func(name, extra string) string {
		return fmt.Sprintf("job %q {\n  targets { groups = [\"fleet\"] }\n  step \"count\" {\n    run = \"echo run >> %s/%s-${host.name}; sleep 3\"\n%s  }\n  rollout { waves = [1, \"100%%\"] }\n}\n", name, marks, name, extra)
	}
	head := e.commit("two jobs", map[string]string{
		"jobs/counted.hcl": job("counted", ""),
		"jobs/idem.hcl":    job("idem", "    idempotent = true\n"),
	})
	if code := e.webhook("push", "full-1", pushPayload(t, base, head)); code != http.StatusAccepted {
		t.Fatalf("push answered %d", code)
	}
	first := e.fleet.Hosts[0].Name
	mark := func(job, host string) int {
		b, _ := os.ReadFile(filepath.Join(marks, job+"-"+host))
		return strings.Count(string(b), "run")
	}
	e.waitFor("both steps to start on "+first, 30*time.Second, func() bool { return mark("counted", first) == 1 && mark("idem", first) == 1 })

	// The disk fills while the steps run: their results cannot be written.
	start := time.Now()
	filler := enginetest.FillDisk(t, data, "filler")
	if took := time.Since(start); took > 2*time.Second {
		t.Fatalf("filling the tmpfs took %s, longer than the steps run", took)
	}
	var stopped []int64
	e.waitFor("both runs to stop on the store", 30*time.Second, func() bool {
		stopped = e.storeStatus().Store.StoppedRuns
		return len(stopped) == 2
	})
	runs := map[string]int64{}
	for _, r := range e.runs("limit=10") {
		runs[r.Job] = r.ID
	}
	if !slices.Contains(stopped, runs["counted"]) || !slices.Contains(stopped, runs["idem"]) {
		t.Fatalf("stopped runs %v, runs %v", stopped, runs)
	}
	st := e.storeStatus()
	if st.Store.Writable || !strings.Contains(st.LastError, "database or disk is full") || !strings.Contains(st.LastError, data) {
		t.Errorf("status while the disk is full: last_error %q, store %+v", st.LastError, st.Store)
	}
	code, rd := e.readiness()
	if code != http.StatusServiceUnavailable || rd.Ready || rd.Checks[0].Name != "store" || rd.Checks[0].OK || !strings.Contains(rd.Checks[0].Reason, "database or disk is full") {
		t.Errorf("/readyz while the disk is full = %d %+v", code, rd)
	}
	m := e.metrics()
	if metricValue(t, m, "ripple_store_writable") != 0 || metricValue(t, m, "ripple_store_write_errors_total") < 2 {
		t.Errorf("store metrics while the disk is full:\n%s", grepLines(m, "ripple_store"))
	}
	if page := e.uiPage(fmt.Sprintf("/runs/%d", runs["counted"])); !strings.Contains(page, "The store cannot write") || !strings.Contains(page, "database or disk is full") {
		t.Errorf("the run page shows no store banner:\n%s", page)
	}
	// Nothing new starts while the store cannot write (the probe keeps
	// trying meanwhile).
	time.Sleep(3 * time.Second)
	for _, h := range e.fleet.Hosts[1:] {
		if mark("counted", h.Name)+mark("idem", h.Name) != 0 {
			t.Errorf("a step started on %s while the disk was full", h.Name)
		}
	}

	// Space is back: no restart, the daemon notices by itself.
	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	e.waitFor("/readyz 200", 40*time.Second, e.ready)
	e.waitFor("the runs to resume and stop or end", 40*time.Second, func() bool {
		return e.run(runs["idem"]).State == "succeeded" && e.run(runs["counted"]).State == "needs_operator"
	})
	for job, id := range runs {
		rd := e.run(id)
		var why []string
		for _, ev := range rd.Events {
			if ev.Action == engine.EventInterrupted {
				why = append(why, ev.Reason)
			}
		}
		if len(why) != 1 || !strings.HasPrefix(why[0], "store cannot write: "+data) || !strings.Contains(why[0], "database or disk is full (13) (writing journal result of count on "+first) {
			t.Errorf("%s run %d: interrupted events %q, want one saying the store could not write", job, id, why)
		}
	}
	if r := e.run(runs["counted"]); !strings.Contains(r.Error, "count on "+first+" was interrupted and is not idempotent") {
		t.Errorf("counted run error %q", r.Error)
	}
	if n := mark("idem", first); n != 2 {
		t.Errorf("idempotent step ran %d times on %s, want 2 (its result was never recorded)", n, first)
	}
	st = e.storeStatus()
	if !st.Store.Writable || len(st.Store.StoppedRuns) != 0 || strings.Contains(st.LastError, "disk is full") {
		t.Errorf("status once space is back: last_error %q, store %+v", st.LastError, st.Store)
	}
	if v := metricValue(t, e.metrics(), "ripple_store_writable"); v != 1 {
		t.Errorf("ripple_store_writable = %v once space is back", v)
	}

	// The operator checks the host and approves: the step counts as done.
	if code := e.post(fmt.Sprintf("/api/v1/runs/%d/approve", runs["counted"]), `{"reason":"checked the host"}`); code != http.StatusOK {
		t.Fatalf("approve answered %d", code)
	}
	e.waitStatus(head, "ripple/job/counted", "success")
	e.waitStatus(head, "ripple/job/idem", "success")
	for _, h := range e.fleet.Hosts {
		if n := mark("counted", h.Name); n != 1 {
			t.Errorf("the non-idempotent step ran %d times on %s, want once", n, h.Name)
		}
	}

	// Later runs work.
	next := e.commit("idem v2", map[string]string{"jobs/idem.hcl": strings.Replace(job("idem", "    idempotent = true\n"), "sleep 3", "true", 1)})
	if code := e.webhook("push", "full-2", pushPayload(t, head, next)); code != http.StatusAccepted {
		t.Fatalf("push answered %d", code)
	}
	e.waitStatus(next, "ripple/job/idem", "success")
}

func (e *dmEnv) storeStatus() engine.DaemonStatus {
	e.t.Helper()
	var st engine.DaemonStatus
	e.getJSON("/api/v1/status", &st)
	if st.Store == nil {
		e.t.Fatal("status has no store")
	}
	return st
}

func (e *dmEnv) run(id int64) httpapi.RunDetail {
	e.t.Helper()
	var rd httpapi.RunDetail
	e.getJSON(fmt.Sprintf("/api/v1/runs/%d", id), &rd)
	return rd
}

func (e *dmEnv) getJSON(path string, v any) {
	e.t.Helper()
	req, _ := http.NewRequest("GET", "http://"+e.addr+path, nil)
	req.Header.Set("Authorization", "Bearer "+dmOperator)
	resp, err := e.client.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		e.t.Fatalf("GET %s: %v", path, err)
	}
}

func (e *dmEnv) readiness() (int, httpapi.Readiness) {
	e.t.Helper()
	resp, err := e.client.Get("http://" + e.addr + "/readyz?format=json")
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	var rd httpapi.Readiness
	if err := json.NewDecoder(resp.Body).Decode(&rd); err != nil || len(rd.Checks) == 0 {
		e.t.Fatalf("/readyz?format=json: %+v %v", rd, err)
	}
	return resp.StatusCode, rd
}

// uiPage is a web UI page as the operator sees it.
func (e *dmEnv) uiPage(path string) string {
	e.t.Helper()
	req, _ := http.NewRequest("GET", "http://"+e.addr+path, nil)
	req.AddCookie(&http.Cookie{Name: webui.CookieName, Value: dmOperator})
	resp, err := e.client.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}
