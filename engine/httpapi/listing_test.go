package httpapi

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/ripple-ops/ripple/engine"
)

// get is f.do with the response's headers.
func (f *fixture) get(t *testing.T, path string, v any) http.Header {
	t.Helper()
	req, err := http.NewRequest("GET", f.srv.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+viewerToken)
	resp, err := f.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		var e Error
		_ = json.NewDecoder(resp.Body).Decode(&e)
		t.Fatalf("GET %s: %d %s", path, resp.StatusCode, e.Error)
	}
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		t.Fatal(err)
	}
	return resp.Header
}

// TestRunsListFilters: an operator narrows GET /api/v1/runs by actor,
// trigger, host and time, and walks the pages through the Link header
// while X-Total-Count says how many match.
func TestRunsListFilters(t *testing.T) {
	f := newFixture(t, nil) // run 1: nginx, commit, running, on web-01
	ctx := context.Background()
	base := time.Now().Add(-48 * time.Hour)
	for i := range 6 {
		actor, trigger := "alice", "manual"
		if i%2 == 1 {
			actor, trigger = "ripple", "schedule"
		}
		r := &engine.Run{Job: "nginx", Commit: commitA, Trigger: trigger, Actor: actor, State: engine.RunSucceeded, Created: base.Add(time.Duration(i) * time.Hour)}
		if err := f.store.CreateRun(ctx, r); err != nil { // ids 2..7
			t.Fatal(err)
		}
	}
	ids := func(runs []Run) []int64 {
		var out []int64
		for _, r := range runs {
			out = append(out, r.ID)
		}
		return out
	}
	var runs []Run
	h := f.get(t, "/api/v1/runs?actor=alice&trigger=manual&limit=2", &runs)
	if diff := cmp.Diff([]int64{6, 4}, ids(runs)); diff != "" {
		t.Errorf("alice's manual runs (-want +got):\n%s", diff)
	}
	if got := h.Get("X-Total-Count"); got != "3" {
		t.Errorf("X-Total-Count = %q, want 3", got)
	}
	link := h.Get("Link")
	if !strings.Contains(link, `rel="next"`) || !strings.Contains(link, "before=4") {
		t.Fatalf("Link = %q, want the next page before run 4", link)
	}
	next := link[strings.Index(link, "/api/v1/"):strings.Index(link, ">")] // after the public URL
	h = f.get(t, next, &runs)
	if diff := cmp.Diff([]int64{2}, ids(runs)); diff != "" {
		t.Errorf("page 2 (-want +got):\n%s", diff)
	}
	if h.Get("Link") != "" {
		t.Errorf("the last page links another: %s", h.Get("Link"))
	}

	f.get(t, "/api/v1/runs?host=web-01", &runs)
	if diff := cmp.Diff([]int64{1}, ids(runs)); diff != "" {
		t.Errorf("runs on web-01 (-want +got):\n%s", diff)
	}
	f.get(t, "/api/v1/runs?until="+base.Add(90*time.Minute).UTC().Format(time.RFC3339), &runs)
	if diff := cmp.Diff([]int64{3, 2}, ids(runs)); diff != "" {
		t.Errorf("runs created before base+1h30 (-want +got):\n%s", diff)
	}
	f.get(t, "/api/v1/runs?since=24h", &runs)
	if diff := cmp.Diff([]int64{1}, ids(runs)); diff != "" {
		t.Errorf("runs of the last day (-want +got):\n%s", diff)
	}
	f.get(t, "/api/v1/runs?state=active", &runs)
	if diff := cmp.Diff([]int64{1}, ids(runs)); diff != "" {
		t.Errorf("active runs (-want +got):\n%s", diff)
	}
	f.get(t, "/api/v1/runs?order=oldest&after=5", &runs)
	if diff := cmp.Diff([]int64{6, 7}, ids(runs)); diff != "" {
		t.Errorf("oldest first after 5 (-want +got):\n%s", diff)
	}

	for _, bad := range []string{"since=yesterday", "before=x", "order=up", "state=done", "limit=0"} {
		if code, body := f.do(t, "GET", "/api/v1/runs?"+bad, viewerToken, ""); code != 400 {
			t.Errorf("?%s: %d %s, want 400", bad, code, body)
		}
	}
}

// TestHostsAndMonitorsListFilters: the host and monitor listings narrow to
// what an operator asks for and count the matches.
func TestHostsAndMonitorsListFilters(t *testing.T) {
	f := newMonitorFixture(t) // web-01 CRITICAL on web-http, web-02 OK, db-01 no monitor
	var hosts []Host
	h := f.get(t, "/api/v1/hosts?state=critical", &hosts)
	if len(hosts) != 1 || hosts[0].Name != "web-01" || hosts[0].Health != "CRITICAL" || h.Get("X-Total-Count") != "1" {
		t.Errorf("critical hosts = %+v (total %s)", hosts, h.Get("X-Total-Count"))
	}
	f.get(t, "/api/v1/hosts?label=os%3Ddebian12", &hosts)
	if len(hosts) != 1 || hosts[0].Name != "web-01" {
		t.Errorf("hosts with os=debian12 = %+v", hosts)
	}
	h = f.get(t, "/api/v1/hosts?group=web&limit=1&offset=1", &hosts)
	if len(hosts) != 1 || hosts[0].Name != "web-02" || h.Get("X-Total-Count") != "2" {
		t.Errorf("second web host = %+v (total %s)", hosts, h.Get("X-Total-Count"))
	}
	f.get(t, "/api/v1/hosts?q=10.0.0.2", &hosts)
	if len(hosts) != 1 || hosts[0].Name != "db-01" {
		t.Errorf("host at 10.0.0.2 = %+v", hosts)
	}

	var ms []Monitor
	h = f.get(t, "/api/v1/monitors?state=problem", &ms)
	if len(ms) != 1 || ms[0].Name != "web-http" || h.Get("X-Total-Count") != "1" {
		t.Errorf("monitors with problems = %+v", ms)
	}
	f.get(t, "/api/v1/monitors?kind=command", &ms)
	if len(ms) != 1 || ms[0].Name != "disk-root" || len(ms[0].Hosts) != 2 {
		t.Errorf("command monitors = %+v", ms)
	}
	var jobs []Job
	h = f.get(t, "/api/v1/jobs?state=running", &jobs)
	if len(jobs) != 0 || h.Get("X-Total-Count") != "0" {
		t.Errorf("jobs whose last run is running = %+v", jobs) // run 2 (succeeded) is nginx's latest
	}
	f.get(t, "/api/v1/jobs?state=succeeded", &jobs)
	if len(jobs) != 1 || jobs[0].LastRun == nil || jobs[0].LastRun.ID != 2 {
		t.Errorf("jobs whose last run succeeded = %+v", jobs)
	}
	for _, bad := range []string{"/api/v1/hosts?state=red", "/api/v1/hosts?sort=size", "/api/v1/monitors?limit=-1", "/api/v1/jobs?sync=maybe"} {
		if code, body := f.do(t, "GET", bad, viewerToken, ""); code != 400 {
			t.Errorf("%s: %d %s, want 400", bad, code, body)
		}
	}
}
