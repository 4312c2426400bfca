package pgstore

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"testing/fstest"
	"time"

	"github.com/rs/zerolog"

	"github.com/ripple-ops/ripple/definitions"
	"github.com/ripple-ops/ripple/engine"
	"github.com/ripple-ops/ripple/engine/monitor"
)

// A silence, its expiry and an acknowledgement recorded on one node are in
// force on the node that checks the pair at once, not at its next refresh
// (an hour here): the nodes announce them to each other.
func TestControlsReachEveryNodeAtOnce(t *testing.T) {
	const src = `
credential "default" {
  user             = "ops"
  private_key_file = "/keys/ops"
}
host "web-01" { address = "10.0.0.1" }
notifier "webhook" "ops" {
  url = "https://hooks.example.com/ops"
}
monitor "app" {
  targets { hosts = ["web-01"] }
  check "command" { run = "true" }
  alert_after = 1
  notify      = ["ops"]
}
`
	defs, diags := definitions.Load(fstest.MapFS{"main.hcl": {Data: []byte(src)}}, "", definitions.Limits{})
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	defs.Monitors["app"].Interval = 20 * time.Millisecond
	dsn := pg.Database(t)
	storeA := openDSN(t, dsn, Options{now: time.Now})
	storeB := openDSN(t, dsn, Options{now: time.Now})

	// Node a checks nothing; node b checks app@web-01.
	chk := &stateChecker{}
	chk.state.Store(int32(engine.StateOK))
	var notesA, notesB noteList
	node := func(s *Store, notes *noteList, owns bool) *monitor.Runner {
		return monitor.New(monitor.Options{
			Checker: chk, Notifications: notes, Logger: zerolog.Nop(), ControlRefresh: time.Hour,
			States: s, Results: monitor.StoreResultSink{States: s}, Silences: s, Acks: s, Announcer: s,
			Owns: func(string, string) bool { return owns },
		})
	}
	a, b := node(storeA, &notesA, false), node(storeB, &notesB, true)
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	t.Cleanup(func() { cancel(); wg.Wait() })
	for _, n := range []struct {
		s *Store
		r *monitor.Runner
	}{{storeA, a}, {storeB, b}} {
		if err := n.r.ApplyConfig(ctx, defs); err != nil {
			t.Fatal(err)
		}
		listening := make(chan struct{})
		var once sync.Once
		wg.Go(func() {
			if err := n.s.ListenControls(ctx, func() { n.r.RefreshControls(); once.Do(func() { close(listening) }) }); err != nil {
				t.Errorf("ListenControls: %v", err)
			}
			once.Do(func() { close(listening) })
		})
		<-listening
		wg.Go(func() { _ = n.r.Run(ctx) })
	}
	state := func() engine.MonitorHostState {
		t.Helper()
		states := b.States()
		if len(states) != 1 {
			t.Fatalf("b has %d states, want app@web-01's", len(states))
		}
		return states[0]
	}
	waitFor(t, "b's first check", func() bool { return chk.calls.Load() > 0 && state().State == engine.StateOK })

	// Silenced on a: b, which checks the pair, holds its alert back.
	sil, err := a.AddSilence(ctx, monitor.SilenceRequest{Monitor: "app", Host: "web-01", For: time.Hour, Actor: "alice", Reason: "replacing a disk"})
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, "a's silence on b", func() bool { return state().Silence != nil })
	chk.state.Store(int32(engine.StateCritical))
	waitFor(t, "b to check the failure", func() bool { return state().State == engine.StateCritical })
	after := chk.calls.Load()
	waitFor(t, "b's next checks", func() bool { return chk.calls.Load() >= after+3 })
	if n := notesB.len(); n != 0 {
		t.Fatalf("b sent %d notifications of a silenced pair", n)
	}

	// Expired on a: b sends the alert the silence held.
	if _, err := a.ExpireSilence(ctx, sil.ID, "alice", "disk replaced"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "b's alert after the silence ended on a", func() bool { return notesB.len() == 1 })

	// Acknowledged on a: b knows it.
	if _, err := a.Acknowledge(ctx, "app", "web-01", "bob", "on it"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "a's acknowledgement on b", func() bool { _, ok := b.AckOf("app", "web-01"); return ok })
	if n := notesA.len(); n != 0 {
		t.Errorf("a, which checks nothing, sent %d notifications", n)
	}
}

// stateChecker returns state to every check and counts them.
type stateChecker struct {
	state atomic.Int32
	calls atomic.Int64
}

func (c *stateChecker) Check(context.Context, engine.Endpoint, *definitions.HostCheck) engine.CheckResult {
	c.calls.Add(1)
	st := engine.CheckState(c.state.Load())
	return engine.CheckResult{State: st, Output: "APP " + st.String(), At: time.Now()}
}

type noteList struct {
	mu    sync.Mutex
	notes []engine.Notification
}

func (l *noteList) Notify(_ context.Context, _ []string, n engine.Notification) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.notes = append(l.notes, n)
}

func (l *noteList) len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.notes)
}

// waitFor waits up to 5 seconds for cond.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
