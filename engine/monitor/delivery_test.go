package monitor

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/ripple-ops/ripple/engine"
)

// savedStates is a ResultSink keeping the last state saved per pair, like
// the store's monitor_state table.
type savedStates struct {
	mu   sync.Mutex
	last map[entryKey]Result
}

func (s *savedStates) RecordResult(_ context.Context, r Result) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.last == nil {
		s.last = map[entryKey]Result{}
	}
	s.last[entryKey{r.Monitor, r.Host}] = r
	return nil
}

func (s *savedStates) record(monitor, host string) engine.MonitorRecord {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.last[entryKey{monitor, host}].State
	return engine.MonitorRecord{Monitor: monitor, Host: host, State: st.State, Since: st.Since, Consecutive: st.Consecutive,
		Firing: st.Firing, Notified: st.Notified, LastOutput: st.LastOutput, LastAt: st.LastAt, Pending: st.Pending}
}

func stateOf(r *Runner, monitor, host string) engine.MonitorHostState {
	for _, s := range r.States() {
		if s.Monitor == monitor && s.Host == host {
			return s
		}
	}
	return engine.MonitorHostState{}
}

// An alert whose delivery fails stays pending with the reason, is handed
// to the sink again after a restart (not restored as sent), and is cleared
// only once delivered.
func TestUndeliveredAlertStaysPendingAcrossRestart(t *testing.T) {
	ctx := context.Background()
	chk := &scriptedChecker{states: map[string]engine.CheckState{"web-01": engine.StateCritical}, calls: map[string]int{}}
	notes := &recordedNotes{}
	saved := &savedStates{}
	defs := loadMonitors(t, monitorRepo, time.Hour)
	r := New(Options{Checker: chk, Notifications: notes, Results: saved})
	r.apply(defs, nil)
	for range 2 { // alert_after = 2
		r.CheckNow(ctx, "web-http", "web-01")
	}
	sent := notes.list()
	if len(sent) != 1 || sent[0].Kind != engine.NotifyAlert {
		t.Fatalf("notifications = %+v, want one alert", sent)
	}
	alert := sent[0]
	if p := stateOf(r, "web-http", "web-01").Pending; p == nil || p.Kind != engine.NotifyAlert || len(p.Undelivered) != 1 {
		t.Fatalf("pending after the alert = %+v, want the alert owed to ops", p)
	}

	const reason = `notifier ops: url: t.hcl:1,1-14: environment variable OPS_URL is not set`
	r.NotificationOutcome(ctx, "ops", alert, reason)
	if p := stateOf(r, "web-http", "web-01").Pending; p == nil || p.Undelivered["ops"] != reason {
		t.Fatalf("pending after a failed attempt = %+v, want the reason", p)
	}
	rec := saved.record("web-http", "web-01")
	if rec.Pending == nil || rec.Pending.Undelivered["ops"] != reason || !rec.Notified {
		t.Fatalf("saved record %+v, want the alert issued and still owed", rec)
	}
	metric := `ripple_monitor_notification_undelivered{host="web-01",monitor="web-http",notifier="ops"} 1`
	want := "# HELP ripple_monitor_notification_undelivered " + undeliveredHelp + "\n# TYPE ripple_monitor_notification_undelivered gauge\n" + metric + "\n"
	if err := testutil.CollectAndCompare(NewCollector(r), strings.NewReader(want), "ripple_monitor_notification_undelivered"); err != nil {
		t.Error(err)
	}

	// Restart: the alert is still owed and handed to the sink again.
	notes2 := &recordedNotes{}
	r2 := New(Options{Checker: chk, Notifications: notes2, Results: saved})
	r2.apply(defs, nil)
	r2.RestoreStates(ctx, []engine.MonitorRecord{rec})
	again := notes2.list()
	if len(again) != 1 || again[0].Kind != engine.NotifyAlert || !again[0].At.Equal(alert.At) {
		t.Fatalf("after restart the sink got %+v, want the same alert again", again)
	}
	// Later results while still failing do not issue another alert.
	r2.CheckNow(ctx, "web-http", "web-01")
	if n := len(notes2.list()); n != 1 {
		t.Fatalf("notifications after restart = %d, want 1", n)
	}
	// An outcome for another notification changes nothing.
	stale := alert
	stale.At = alert.At.Add(-time.Minute)
	r2.NotificationOutcome(ctx, "ops", stale, "")
	if stateOf(r2, "web-http", "web-01").Pending == nil {
		t.Fatal("a stale outcome cleared the pending alert")
	}
	r2.NotificationOutcome(ctx, "ops", again[0], "")
	if p := stateOf(r2, "web-http", "web-01").Pending; p != nil {
		t.Fatalf("pending after delivery = %+v", p)
	}
	if rec := saved.record("web-http", "web-01"); rec.Pending != nil || !rec.Notified {
		t.Fatalf("saved record after delivery %+v", rec)
	}

	// The recovery is owed in turn.
	chk.set("web-01", engine.StateOK)
	r2.CheckNow(ctx, "web-http", "web-01")
	if p := stateOf(r2, "web-http", "web-01").Pending; p == nil || p.Kind != engine.NotifyRecovery {
		t.Fatalf("pending after recovery = %+v", p)
	}
}

// A monitor that notifies no one owes nothing.
func TestAlertWithoutNotifiersIsNotPending(t *testing.T) {
	ctx := context.Background()
	chk := &scriptedChecker{states: map[string]engine.CheckState{"db-01": engine.StateCritical}, calls: map[string]int{}}
	r := New(Options{Checker: chk, Notifications: &recordedNotes{}})
	r.apply(loadMonitors(t, monitorRepo, time.Hour), nil)
	r.CheckNow(ctx, "db-tcp", "db-01")
	if s := stateOf(r, "db-tcp", "db-01"); !s.Firing || s.Pending != nil {
		t.Fatalf("state %+v, want firing with nothing pending", s)
	}
}
