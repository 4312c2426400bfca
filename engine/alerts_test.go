package engine

import (
	"testing"
	"time"
)

func TestAlertEventText(t *testing.T) {
	at := time.Date(2026, 7, 1, 12, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		e    AlertEvent
		want string
	}{
		{AlertEvent{Action: AlertEventSilence, Monitor: "web-http", Host: "web-01", Actor: "alice", Reason: "replacing a disk\nticket OPS-1", Until: at},
			"silenced web-http@web-01 until 2026-07-01 12:00 UTC by alice: replacing a disk"},
		{AlertEvent{Action: AlertEventExpire, Monitor: "disk-root", SilenceID: 3, Actor: "bob", Reason: "done"},
			"expired silence 3 of disk-root by bob: done"},
		{AlertEvent{Action: AlertEventAck, Monitor: "app", Host: "web-01", State: StateCritical, Actor: "carol", Reason: "on it"},
			"acknowledged CRITICAL app@web-01 by carol: on it"},
	} {
		if got := tc.e.Text(); got != tc.want {
			t.Errorf("Text() = %q, want %q", got, tc.want)
		}
	}
}
