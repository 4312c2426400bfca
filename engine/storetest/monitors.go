package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/ripple-ops/ripple/engine"
)

func testMonitorStates(t *testing.T, open Open) {
	ctx := context.Background()
	s, _, _ := fresh(t, open)
	at := time.Date(2026, 7, 1, 0, 0, 0, 0, time.UTC)
	recs := []engine.MonitorRecord{
		{Monitor: "http", Host: "b", State: engine.StateCritical, Since: at, Consecutive: 3, Firing: true, Notified: true,
			LastOutput: "connection refused", LastAt: at.Add(time.Minute)},
		{Monitor: "disk", Host: "a", State: engine.StateCritical, Since: at, Firing: true, Notified: true, LastAt: at,
			NotifiedAt: at.Add(time.Second), Suppressed: "parent sw-01 is down: sw-ping CRITICAL",
			Pending: &engine.PendingNotification{
				Notification: engine.Notification{Kind: engine.NotifyAlert, Monitor: "disk", Host: "a", State: engine.StateCritical,
					Message: "DISK CRITICAL", Since: at, At: at.Add(time.Second), Severity: "warning",
					Labels: map[string]string{"team": "ops"}, Runbook: "clean-disk", Repeat: true},
				Undelivered: map[string]string{"chat": "notifier chat: url: no such file", "pager": ""},
			}},
		{Monitor: "http", Host: "a", State: engine.StateWarning, Since: at, Consecutive: 1, LastOutput: "slow"},
		// Replaces the first record.
		{Monitor: "http", Host: "b", State: engine.StateOK, Since: at.Add(2 * time.Minute), LastOutput: "200 OK",
			LastAt: at.Add(2 * time.Minute)},
	}
	for _, r := range recs {
		if err := s.SaveMonitorState(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	got, err := s.MonitorStates(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := []engine.MonitorRecord{recs[1], recs[2], recs[3]}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("MonitorStates (-want +got):\n%s", diff)
	}
}

// testLateMonitorStateLoses: a record observed before the stored one (a
// node of a cluster saving a trap state late, after another node saved
// the next trap's) changes nothing, its log cursor included; a record of
// the same observation (a delivery outcome) and a newer one replace it.
func testLateMonitorStateLoses(t *testing.T, open Open) {
	ctx := context.Background()
	s, _, reopen := fresh(t, open)
	at := time.Date(2026, 7, 1, 0, 0, 0, 0, time.UTC)
	cursor := &engine.LogCursor{Path: "/var/log/a.log", File: &engine.LogFile{Device: 1, Inode: 2, Offset: 3}}
	down := engine.MonitorRecord{Monitor: "link-down", Host: "sw-01", State: engine.StateCritical, Since: at, Consecutive: 1,
		Firing: true, LastOutput: "link down: Gi0/3", LastAt: at}
	up := engine.MonitorRecord{Monitor: "link-down", Host: "sw-01", State: engine.StateOK, Since: at.Add(time.Second),
		LastOutput: "cleared by trap", LastAt: at.Add(time.Second), LogCursor: cursor}
	lateDown := down
	lateDown.Notified, lateDown.NotifiedAt = true, at.Add(2*time.Second) // the first node's delivery outcome, saved last
	lateDown.LogCursor = &engine.LogCursor{Path: "/var/log/a.log"}
	delivered := up
	delivered.Notified, delivered.LogCursor = true, nil
	newer := down
	newer.Since, newer.LastAt, newer.LastOutput = at.Add(3*time.Second), at.Add(3*time.Second), "link down again"
	steps := []struct {
		name string
		save engine.MonitorRecord
		want engine.MonitorRecord
	}{
		{"the first trap", down, down},
		{"the next trap from another node", up, up},
		{"the first node's late save loses", lateDown, up},
		{"the same observation again wins", delivered, func() engine.MonitorRecord { r := delivered; r.LogCursor = cursor; return r }()},
		{"a newer observation wins", newer, func() engine.MonitorRecord { r := newer; r.LogCursor = cursor; return r }()},
	}
	for _, st := range steps {
		if err := s.SaveMonitorState(ctx, st.save); err != nil {
			t.Fatalf("%s: %v", st.name, err)
		}
		got, err := s.MonitorStates(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff([]engine.MonitorRecord{st.want}, got); diff != "" {
			t.Errorf("%s: MonitorStates (-want +got):\n%s", st.name, diff)
		}
	}
	s = reopen()
	if err := s.SaveMonitorState(ctx, up); err != nil {
		t.Fatal(err)
	}
	got, err := s.MonitorStates(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].State != engine.StateCritical || !got[0].LastAt.Equal(newer.LastAt) {
		t.Errorf("after reopen, a late save replaced the newer record: %+v", got)
	}
}

// testLogCursors: a log check's cursor is saved with the state in one
// record and read back byte for byte (device and inode numbers beyond
// 2^63 included); a record saved without a cursor (a delivery outcome)
// keeps the stored one; a new cursor replaces it; a reopened store still
// has it.
func testLogCursors(t *testing.T, open Open) {
	ctx := context.Background()
	s, _, reopen := fresh(t, open)
	at := time.Date(2026, 7, 1, 0, 0, 0, 0, time.UTC)
	first := &engine.LogCursor{Path: "/var/log/app/error.log", File: &engine.LogFile{Device: 2049, Inode: 1<<63 + 5, Offset: 1 << 40}}
	rotated := &engine.LogCursor{
		Path:    "/var/log/app/error.log",
		File:    &engine.LogFile{Device: 2049, Inode: 77, Offset: 120},
		Rotated: &engine.LogFile{Device: 2049, Inode: 1<<63 + 5, Offset: 1<<40 + 4096},
	}
	missing := &engine.LogCursor{Path: "/var/log/other.log"}
	rec := engine.MonitorRecord{Monitor: "app-errors", Host: "web-01", State: engine.StateCritical, Since: at,
		Consecutive: 1, Firing: true, LastOutput: "3 lines match", LastAt: at, LogCursor: first}
	steps := []struct {
		name string
		save engine.MonitorRecord
		want *engine.LogCursor
	}{
		{"a result saves its cursor", rec, first},
		{"a state alone keeps the cursor", func() engine.MonitorRecord {
			r := rec
			r.Notified, r.LogCursor = true, nil
			return r
		}(), first},
		{"a later result moves it", func() engine.MonitorRecord {
			r := rec
			r.State, r.LastOutput, r.LogCursor = engine.StateOK, "no new matches", rotated
			return r
		}(), rotated},
		{"a cursor without a file", func() engine.MonitorRecord {
			r := rec
			r.LogCursor = missing
			return r
		}(), missing},
	}
	for _, st := range steps {
		if err := s.SaveMonitorState(ctx, st.save); err != nil {
			t.Fatalf("%s: %v", st.name, err)
		}
		got := cursorOf(t, s, "app-errors", "web-01")
		if diff := cmp.Diff(st.want, got); diff != "" {
			t.Errorf("%s: cursor (-want +got):\n%s", st.name, diff)
		}
	}
	// Another pair has no cursor at all.
	if err := s.SaveMonitorState(ctx, engine.MonitorRecord{Monitor: "http", Host: "web-01", State: engine.StateOK, LastAt: at}); err != nil {
		t.Fatal(err)
	}
	if got := cursorOf(t, s, "http", "web-01"); got != nil {
		t.Errorf("cursor of a pair that never had one = %+v, want nil", got)
	}
	s = reopen()
	if diff := cmp.Diff(missing, cursorOf(t, s, "app-errors", "web-01")); diff != "" {
		t.Errorf("cursor after reopen (-want +got):\n%s", diff)
	}
}

func cursorOf(t *testing.T, s Store, monitor, host string) *engine.LogCursor {
	t.Helper()
	recs, err := s.MonitorStates(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range recs {
		if r.Monitor == monitor && r.Host == host {
			return r.LogCursor
		}
	}
	t.Fatalf("no record of %s on %s", monitor, host)
	return nil
}
