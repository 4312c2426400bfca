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
