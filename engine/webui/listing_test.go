package webui

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/ripple-ops/ripple/engine"
)

// rowsOf lists the data-NAME attribute of each row of the table with id
// table, in order.
func rowsOf(body, table, name string) []string {
	i := strings.Index(body, `id="`+table+`"`)
	if i < 0 {
		return nil
	}
	end := strings.Index(body[i:], "</table>")
	var out []string
	for _, m := range regexp.MustCompile(`<tr data-`+name+`="([^"]+)"`).FindAllStringSubmatch(body[i:i+end], -1) {
		out = append(out, m[1])
	}
	return out
}

// TestIndexPagesFilter: each index page lists what an operator asks for
// through its GET form's parameters, counts the matches and pages.
func TestIndexPagesFilter(t *testing.T) {
	f := newFixture(t) // web-04 CRITICAL, web-07 WARNING on web-http
	get := func(path string) string {
		t.Helper()
		code, body, _ := f.get(t, path, viewerToken)
		if code != 200 {
			t.Fatalf("%s: %d\n%s", path, code, body)
		}
		return body
	}

	body := get("/hosts")
	if rows := rowsOf(body, "hosts", "host"); len(rows) != 12 || rows[0] != "web-01" {
		t.Errorf("/hosts rows = %v", rows)
	}
	for _, want := range []string{"12 in the inventory", `aria-current="page">Hosts`, `<form class="filters" method="get" action="/hosts"`} {
		if !strings.Contains(body, want) {
			t.Errorf("/hosts lacks %q", want)
		}
	}
	body = get("/hosts?state=problem")
	if diff := cmp.Diff([]string{"web-04", "web-07"}, rowsOf(body, "hosts", "host")); diff != "" {
		t.Errorf("/hosts?state=problem (-want +got):\n%s", diff)
	}
	if !strings.Contains(body, "2 matching") || !strings.Contains(body, `<option value="problem" selected>`) {
		t.Error("the filtered page does not say how many match or which filter is on")
	}
	body = get("/hosts?sort=health&limit=3")
	if diff := cmp.Diff([]string{"web-04", "web-07", "web-01"}, rowsOf(body, "hosts", "host")); diff != "" {
		t.Errorf("/hosts by health (-want +got):\n%s", diff)
	}
	if !strings.Contains(body, "1–3 of 12") || !strings.Contains(body, `href="/hosts?limit=3&amp;page=2&amp;sort=health" rel="next"`) {
		t.Errorf("/hosts pager:\n%s", body[strings.Index(body, `class="pager"`):])
	}
	if rows := rowsOf(get("/hosts?q=10.0.0.1"), "hosts", "host"); len(rows) != 4 { // .1, .10, .11, .12
		t.Errorf("/hosts?q=10.0.0.1 = %v", rows)
	}

	body = get("/monitors?state=CRITICAL")
	if diff := cmp.Diff([]string{"web-http"}, rowsOf(body, "monitors", "monitor")); diff != "" {
		t.Errorf("/monitors?state=CRITICAL (-want +got):\n%s", diff)
	}
	if !strings.Contains(body, "1 CRITICAL</span>") || !strings.Contains(body, "10 OK</span>") {
		t.Error("/monitors does not count web-http's hosts by state")
	}
	if rows := rowsOf(get("/monitors?kind=command"), "monitors", "monitor"); len(rows) != 1 || rows[0] != "disk-root" {
		t.Errorf("/monitors?kind=command = %v", rows)
	}

	ctx := context.Background()
	base := time.Now().Add(-72 * time.Hour)
	for i := range 7 {
		actor := []string{"alice", "bob"}[i%2]
		run := &engine.Run{Job: "nginx-config", Commit: commitA, Trigger: "manual", Actor: actor, Reason: fmt.Sprintf("run %d", i+1),
			State: engine.RunSucceeded, Created: base.Add(time.Duration(i) * time.Hour)}
		if i == 5 {
			run.State = engine.RunFailed
		}
		if err := f.store.CreateRun(ctx, run); err != nil {
			t.Fatal(err)
		}
	}
	body = get("/runs?actor=bob")
	if diff := cmp.Diff([]string{"6", "4", "2"}, rowsOf(body, "runs", "run")); diff != "" {
		t.Errorf("/runs?actor=bob (-want +got):\n%s", diff)
	}
	body = get("/runs?state=failed")
	if diff := cmp.Diff([]string{"6"}, rowsOf(body, "runs", "run")); diff != "" {
		t.Errorf("/runs?state=failed (-want +got):\n%s", diff)
	}
	if !strings.Contains(body, ">6 succeeded</a>") || !strings.Contains(body, "1 matching") {
		t.Error("/runs does not count the runs by state")
	}
	body = get("/runs?limit=3")
	if diff := cmp.Diff([]string{"7", "6", "5"}, rowsOf(body, "runs", "run")); diff != "" {
		t.Errorf("/runs page 1 (-want +got):\n%s", diff)
	}
	next := regexp.MustCompile(`href="([^"]+)" rel="next"`).FindStringSubmatch(body)
	if next == nil || strings.Contains(body, `rel="prev"`) {
		t.Fatalf("page 1 links: next %v, prev %v", next, strings.Contains(body, `rel="prev"`))
	}
	body = get(strings.ReplaceAll(next[1], "&amp;", "&"))
	if diff := cmp.Diff([]string{"4", "3", "2"}, rowsOf(body, "runs", "run")); diff != "" {
		t.Errorf("/runs page 2 (-want +got):\n%s", diff)
	}
	prev := regexp.MustCompile(`href="([^"]+)" rel="prev"`).FindStringSubmatch(body)
	if prev == nil {
		t.Fatal("page 2 has no link back")
	}
	body = get(strings.ReplaceAll(prev[1], "&amp;", "&"))
	if diff := cmp.Diff([]string{"7", "6", "5"}, rowsOf(body, "runs", "run")); diff != "" {
		t.Errorf("back to page 1 (-want +got):\n%s", diff)
	}
	if strings.Contains(body, `rel="prev"`) {
		t.Error("the first page, reached back, links a page before it")
	}
	body = get("/runs?order=oldest&limit=4")
	if diff := cmp.Diff([]string{"1", "2", "3", "4"}, rowsOf(body, "runs", "run")); diff != "" {
		t.Errorf("/runs oldest first (-want +got):\n%s", diff)
	}

	body = get("/jobs?state=succeeded")
	if diff := cmp.Diff([]string{"nginx-config"}, rowsOf(body, "jobs", "job")); diff != "" {
		t.Errorf("/jobs?state=succeeded (-want +got):\n%s", diff)
	}
	if rows := rowsOf(get("/jobs?state=failed"), "jobs", "job"); len(rows) != 0 {
		t.Errorf("/jobs?state=failed = %v; nginx-config's latest run succeeded", rows)
	}

	for _, bad := range []string{"/hosts?state=red", "/runs?since=someday", "/monitors?sort=size", "/jobs?limit=0"} {
		if code, body, _ := f.get(t, bad, viewerToken); code != 400 || !strings.Contains(body, "banner err") {
			t.Errorf("%s: %d, want 400 with the reason", bad, code)
		}
	}
}
