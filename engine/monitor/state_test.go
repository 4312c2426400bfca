package monitor

import (
	"strings"
	"testing"
	"time"

	"github.com/ripple-ops/ripple/engine"
)

type obs struct {
	state engine.CheckState
	sup   Suppression
}

func feed(a *AlertState, alertAfter int, seq []obs) []engine.Notification {
	var out []engine.Notification
	at := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, o := range seq {
		at = at.Add(time.Minute)
		out = append(out, a.Observe("web-http", "web-01", engine.CheckResult{State: o.state, At: at, Output: o.state.String()}, alertAfter, 0, o.sup)...)
	}
	return out
}

func kinds(ns []engine.Notification) []string {
	var k []string
	for _, n := range ns {
		k = append(k, string(n.Kind)+":"+n.State.String())
	}
	return k
}

func TestAlertAfterAndRecovery(t *testing.T) {
	var a AlertState
	crit := obs{state: engine.StateCritical}
	ok := obs{state: engine.StateOK}
	got := kinds(feed(&a, 3, []obs{ok, crit, crit, crit, crit, ok, ok}))
	want := []string{"alert:CRITICAL", "recovery:OK"}
	var b AlertState
	ns := feed(&b, 3, []obs{ok, {state: engine.StateWarning}, crit, crit, ok})
	if len(ns) != 2 || ns[0].Previous != engine.StateOK || ns[1].Previous != engine.StateCritical {
		t.Fatalf("previous states = %+v; an alert names the state before the problem (OK), a recovery the alerted one", ns)
	}
	if len(got) != len(want) || got[0] != want[0] || got[1] != want[1] {
		t.Fatalf("notifications = %v, want %v", got, want)
	}
}

func TestSuppressedAlertIsSentWhenReleasedIfStillFiring(t *testing.T) {
	var a AlertState
	held := Suppression{Held: true}
	crit := obs{state: engine.StateCritical, sup: held}
	if n := feed(&a, 2, []obs{crit, crit, crit}); len(n) != 0 {
		t.Fatalf("held alerts went out: %v", kinds(n))
	}
	if !a.Firing {
		t.Fatal("state is not firing while held")
	}
	n := a.Release("web-http", "web-01", time.Now(), Suppression{})
	if got := kinds(n); len(got) != 1 || got[0] != "alert:CRITICAL" {
		t.Fatalf("release = %v, want one alert", got)
	}

	// A held alert that cleared before the release is dropped, not sent.
	var b AlertState
	feed(&b, 1, []obs{{engine.StateCritical, held}, {engine.StateOK, held}})
	if n := b.Release("m", "h", time.Now(), Suppression{}); len(n) != 0 {
		t.Fatalf("cleared held alert sent on release: %v", kinds(n))
	}
}

func TestMutedRecoveryIsNotSentAfterUnsentAlert(t *testing.T) {
	var a AlertState
	muted := Suppression{Muted: true}
	n := feed(&a, 1, []obs{{engine.StateCritical, muted}, {engine.StateOK, Suppression{}}})
	if len(n) != 0 {
		t.Fatalf("got %v; a recovery for an alert never sent must not go out", kinds(n))
	}
}

func TestFlappingSuppressesAlertStorm(t *testing.T) {
	var a AlertState
	var seq []obs
	for i := 0; i < 40; i++ {
		s := engine.StateOK
		if i%2 == 1 {
			s = engine.StateCritical
		}
		seq = append(seq, obs{state: s})
	}
	n := feed(&a, 1, seq)
	if !a.Flapping {
		t.Fatalf("alternating states not flapping (%.1f%%)", a.FlapPercent)
	}
	// The first few changes happen before the history shows flapping; after
	// that, nothing goes out.
	if len(n) > 4 {
		t.Fatalf("%d notifications for a flapping service: %v", len(n), kinds(n))
	}
	// Stable again: flapping ends and the final state is reconciled.
	for i := 0; i < flapHistory; i++ {
		n = append(n, a.Observe("m", "h", engine.CheckResult{State: engine.StateOK, At: time.Now()}, 1, 0, Suppression{})...)
	}
	if a.Flapping {
		t.Fatalf("still flapping after %d OK results (%.1f%%)", flapHistory, a.FlapPercent)
	}
	if a.Notified {
		t.Fatal("alert still open after the service recovered")
	}
}

func TestFlapPercentBounds(t *testing.T) {
	all := make([]engine.CheckState, flapHistory)
	if p := flapPercent(all); p != 0 {
		t.Errorf("steady history = %.1f%%, want 0", p)
	}
	for i := range all {
		all[i] = engine.CheckState(i % 2)
	}
	if p := flapPercent(all); p < 99.9 || p > 100.1 {
		t.Errorf("alternating full history = %.1f%%, want 100", p)
	}
}

func TestShortBlipDoesNotAlert(t *testing.T) {
	var a AlertState
	n := feed(&a, 3, []obs{{engine.StateCritical, Suppression{}}, {engine.StateCritical, Suppression{}}, {engine.StateOK, Suppression{}}})
	if len(n) != 0 {
		t.Fatalf("2 of alert_after=3 results alerted: %v", kinds(n))
	}
}

// feedAt feeds results one minute apart from start and returns what each
// result sent, in order, as "kind:STATE" with a "+repeat" mark.
func feedAt(a *AlertState, alertAfter int, repeat time.Duration, seq []obs) []string {
	var out []string
	at := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, o := range seq {
		at = at.Add(time.Minute)
		for _, n := range a.Observe("app", "web-01", engine.CheckResult{State: o.state, At: at}, alertAfter, repeat, o.sup) {
			k := string(n.Kind) + ":" + n.State.String()
			if n.Repeat {
				k += "+repeat(from " + n.Previous.String() + ")"
			}
			out = append(out, k)
		}
	}
	return out
}

func TestAlertRepeatsUntilAcknowledgedAndAgainOnChange(t *testing.T) {
	crit := obs{state: engine.StateCritical}
	acked := obs{state: engine.StateCritical, sup: Suppression{Acked: true}}
	warnAckedBefore := obs{state: engine.StateWarning, sup: Suppression{}}
	ok := obs{state: engine.StateOK}
	var a AlertState
	// Alert at 1m; repeat every 3m while it fires: at 4m and 7m; then
	// acknowledged (8m-12m): silence; the state changes to WARNING (13m):
	// an alert names the change, and repeats go on from there (16m);
	// recovery at 17m.
	seq := []obs{crit, crit, crit, crit, crit, crit, crit, acked, acked, acked, acked, acked, warnAckedBefore, warnAckedBefore, warnAckedBefore, warnAckedBefore, ok}
	got := feedAt(&a, 1, 3*time.Minute, seq)
	want := []string{"alert:CRITICAL", "alert:CRITICAL+repeat(from CRITICAL)", "alert:CRITICAL+repeat(from CRITICAL)",
		"alert:WARNING+repeat(from CRITICAL)", "alert:WARNING+repeat(from WARNING)", "recovery:OK"}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Fatalf("notifications:\n got %v\nwant %v", got, want)
	}

	// Without repeat_interval, only a change of state is told again.
	var b AlertState
	got = feedAt(&b, 1, 0, []obs{crit, crit, crit, warnAckedBefore, crit, ok})
	want = []string{"alert:CRITICAL", "alert:WARNING+repeat(from CRITICAL)", "alert:CRITICAL+repeat(from WARNING)", "recovery:OK"}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Fatalf("no repeat interval:\n got %v\nwant %v", got, want)
	}
}

func TestAcknowledgedBeforeItsAlertWentOutIsNeverSent(t *testing.T) {
	var a AlertState
	silenced := obs{state: engine.StateCritical, sup: Suppression{Silenced: true}}
	acked := obs{state: engine.StateCritical, sup: Suppression{Acked: true}}
	got := feedAt(&a, 1, time.Hour, []obs{silenced, acked, acked, {state: engine.StateOK}})
	if len(got) != 0 {
		t.Fatalf("sent %v; an acknowledged alert that never went out must stay unsent, and so its recovery", got)
	}
}

func TestSilenceAndDependencyHoldEverythingUntilReleased(t *testing.T) {
	for _, sup := range []Suppression{{Silenced: true}, {Cause: "parent sw-01 is down: sw-ping CRITICAL"}} {
		var a AlertState
		held := obs{state: engine.StateCritical, sup: sup}
		if got := feedAt(&a, 1, time.Minute, []obs{held, held, held}); len(got) != 0 {
			t.Fatalf("%+v: sent %v while held (no repeat either)", sup, got)
		}
		if a.Suppressed != sup.Cause {
			t.Errorf("Suppressed = %q, want the cause %q", a.Suppressed, sup.Cause)
		}
		n := a.Release("app", "web-01", time.Date(2026, 1, 1, 1, 0, 0, 0, time.UTC), Suppression{})
		if k := kinds(n); len(k) != 1 || k[0] != "alert:CRITICAL" || n[0].Repeat {
			t.Fatalf("%+v: release sent %v, want the first alert", sup, k)
		}
		if a.Suppressed != "" {
			t.Errorf("Suppressed = %q after the release", a.Suppressed)
		}
	}
}
