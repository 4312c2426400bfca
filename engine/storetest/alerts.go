package storetest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/ripple-ops/ripple/engine"
)

// testSilences: a silence is kept with who made it and why, listed while
// it runs, expired early once (a second expiry or an unknown id is
// refused, naming why), and each change is in the alert audit, newest
// first.
func testSilences(t *testing.T, open Open) {
	ctx := context.Background()
	s, _, _ := fresh(t, open)
	at := time.Date(2026, 7, 1, 10, 0, 0, 0, time.UTC)
	host := &engine.Silence{Monitor: "web-http", Host: "web-01", Actor: "alice", Reason: "replacing a disk", Created: at, Ends: at.Add(2 * time.Hour)}
	all := &engine.Silence{Monitor: "disk-root", Actor: "bob", Reason: "noisy after the upgrade", Created: at.Add(time.Minute), Ends: at.Add(time.Hour)}
	for _, sl := range []*engine.Silence{host, all} {
		if err := s.AddSilence(ctx, sl); err != nil {
			t.Fatal(err)
		}
	}
	if host.ID <= 0 || all.ID <= host.ID {
		t.Fatalf("silence ids %d, %d: want increasing positive ids", host.ID, all.ID)
	}
	got, err := s.Silences(ctx, at.Add(90*time.Minute), 0)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]engine.Silence{*host}, got); diff != "" {
		t.Errorf("silences ending after 11:30 (-want +got):\n%s", diff)
	}
	if got, err = s.Silences(ctx, time.Time{}, 1); err != nil || len(got) != 1 || got[0].ID != all.ID {
		t.Errorf("newest silence: %+v, %v; want %d", got, err, all.ID)
	}

	end := at.Add(30 * time.Minute)
	exp, err := s.ExpireSilence(ctx, host.ID, end, "carol", "disk replaced")
	if err != nil {
		t.Fatal(err)
	}
	want := *host
	want.Ends, want.ExpiredBy, want.ExpireReason = end, "carol", "disk replaced"
	if diff := cmp.Diff(want, exp); diff != "" {
		t.Errorf("expired silence (-want +got):\n%s", diff)
	}
	if _, err := s.ExpireSilence(ctx, host.ID, end.Add(time.Minute), "carol", "again"); !errors.Is(err, engine.ErrConflict) {
		t.Errorf("second expiry: %v, want ErrConflict", err)
	}
	if _, err := s.ExpireSilence(ctx, 9999, end, "carol", "typo"); !errors.Is(err, engine.ErrNotFound) {
		t.Errorf("expiry of an unknown silence: %v, want ErrNotFound", err)
	}
	if got, err = s.Silences(ctx, end, 0); err != nil || len(got) != 1 || got[0].ID != all.ID {
		t.Errorf("silences running after the expiry: %+v, %v; want only %d", got, err, all.ID)
	}

	evs, err := s.AlertEvents(ctx, engine.AlertEventFilter{})
	if err != nil {
		t.Fatal(err)
	}
	wantEvs := []engine.AlertEvent{
		{Action: engine.AlertEventExpire, Monitor: "web-http", Host: "web-01", Actor: "carol", Reason: "disk replaced", SilenceID: host.ID, At: end, Until: end},
		{Action: engine.AlertEventSilence, Monitor: "disk-root", Actor: "bob", Reason: "noisy after the upgrade", SilenceID: all.ID, At: all.Created, Until: all.Ends},
		{Action: engine.AlertEventSilence, Monitor: "web-http", Host: "web-01", Actor: "alice", Reason: "replacing a disk", SilenceID: host.ID, At: at, Until: host.Ends},
	}
	if diff := cmp.Diff(wantEvs, evs, cmpIgnoreEventID); diff != "" {
		t.Errorf("alert audit (-want +got):\n%s", diff)
	}
	if len(evs) == 3 && !(evs[0].ID > evs[1].ID && evs[1].ID > evs[2].ID) {
		t.Errorf("audit event ids %d, %d, %d: want newest first", evs[0].ID, evs[1].ID, evs[2].ID)
	}
}

var cmpIgnoreEventID = cmp.Transformer("noID", func(e engine.AlertEvent) engine.AlertEvent { e.ID = 0; return e })

// testSilencesAcrossReopen: silences, acks and their audit survive a
// restart.
func testSilencesAcrossReopen(t *testing.T, open Open) {
	ctx := context.Background()
	s, _, reopen := fresh(t, open)
	at := time.Date(2026, 7, 1, 10, 0, 0, 0, time.UTC)
	sl := &engine.Silence{Monitor: "m", Host: "h", Actor: "alice", Reason: "r", Created: at, Ends: at.Add(time.Hour)}
	if err := s.AddSilence(ctx, sl); err != nil {
		t.Fatal(err)
	}
	ack := engine.Ack{Monitor: "m", Host: "h", State: engine.StateCritical, StateSince: at, Actor: "bob", Reason: "on it", At: at.Add(time.Minute)}
	if err := s.AddAck(ctx, ack); err != nil {
		t.Fatal(err)
	}
	s = reopen()
	if got, err := s.Silences(ctx, at, 0); err != nil || len(got) != 1 || got[0] != *sl {
		t.Errorf("silences after reopen: %+v, %v", got, err)
	}
	if got, err := s.Acks(ctx); err != nil || len(got) != 1 || got[0] != ack {
		t.Errorf("acks after reopen: %+v, %v", got, err)
	}
	if evs, err := s.AlertEvents(ctx, engine.AlertEventFilter{}); err != nil || len(evs) != 2 {
		t.Errorf("audit after reopen: %+v, %v", evs, err)
	}
}

// testAcks: the latest acknowledgement per (monitor, host) is kept, with
// the state and when it began; every one is in the audit.
func testAcks(t *testing.T, open Open) {
	ctx := context.Background()
	s, _, _ := fresh(t, open)
	at := time.Date(2026, 7, 1, 10, 0, 0, 0, time.UTC)
	acks := []engine.Ack{
		{Monitor: "web-http", Host: "web-02", State: engine.StateCritical, StateSince: at, Actor: "alice", Reason: "looking", At: at.Add(time.Minute)},
		{Monitor: "app", Host: "web-01", State: engine.StateWarning, StateSince: at, Actor: "bob", Reason: "known", At: at.Add(2 * time.Minute)},
		// Replaces the first: the state changed and was acknowledged again.
		{Monitor: "web-http", Host: "web-02", State: engine.StateWarning, StateSince: at.Add(5 * time.Minute), Actor: "carol", Reason: "degraded only", At: at.Add(6 * time.Minute)},
	}
	for _, a := range acks {
		if err := s.AddAck(ctx, a); err != nil {
			t.Fatal(err)
		}
	}
	got, err := s.Acks(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]engine.Ack{acks[1], acks[2]}, got); diff != "" {
		t.Errorf("acks (-want +got):\n%s", diff)
	}
	if !got[1].Covers(engine.StateWarning, at.Add(5*time.Minute)) || got[1].Covers(engine.StateWarning, at.Add(7*time.Minute)) {
		t.Errorf("Covers: the ack of WARNING since 10:05 must cover that state only")
	}
	evs, err := s.AlertEvents(ctx, engine.AlertEventFilter{Monitor: "web-http"})
	if err != nil {
		t.Fatal(err)
	}
	wantEvs := []engine.AlertEvent{
		{Action: engine.AlertEventAck, Monitor: "web-http", Host: "web-02", Actor: "carol", Reason: "degraded only", At: acks[2].At, State: engine.StateWarning},
		{Action: engine.AlertEventAck, Monitor: "web-http", Host: "web-02", Actor: "alice", Reason: "looking", At: acks[0].At, State: engine.StateCritical},
	}
	if diff := cmp.Diff(wantEvs, evs, cmpIgnoreEventID); diff != "" {
		t.Errorf("audit of web-http (-want +got):\n%s", diff)
	}
}

// testAlertEventsFilter: the audit of a (monitor, host) holds its own
// events and the silences of the monitor's every host; a host alone
// selects its events; a limit keeps the newest.
func testAlertEventsFilter(t *testing.T, open Open) {
	ctx := context.Background()
	s, _, _ := fresh(t, open)
	at := time.Date(2026, 7, 1, 10, 0, 0, 0, time.UTC)
	for i, sl := range []*engine.Silence{
		{Monitor: "web-http", Host: "web-01"}, {Monitor: "web-http", Host: "web-02"}, {Monitor: "web-http"}, {Monitor: "disk", Host: "web-01"},
	} {
		sl.Actor, sl.Reason, sl.Created, sl.Ends = "alice", "r", at.Add(time.Duration(i)*time.Minute), at.Add(time.Hour)
		if err := s.AddSilence(ctx, sl); err != nil {
			t.Fatal(err)
		}
	}
	targets := func(evs []engine.AlertEvent, err error) []string {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, e := range evs {
			out = append(out, e.Monitor+"@"+e.Host)
		}
		return out
	}
	if diff := cmp.Diff([]string{"web-http@", "web-http@web-01"}, targets(s.AlertEvents(ctx, engine.AlertEventFilter{Monitor: "web-http", Host: "web-01"}))); diff != "" {
		t.Errorf("web-http@web-01 (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"disk@web-01", "web-http@web-01"}, targets(s.AlertEvents(ctx, engine.AlertEventFilter{Host: "web-01"}))); diff != "" {
		t.Errorf("host web-01 (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"disk@web-01", "web-http@"}, targets(s.AlertEvents(ctx, engine.AlertEventFilter{Limit: 2}))); diff != "" {
		t.Errorf("newest two (-want +got):\n%s", diff)
	}
}
