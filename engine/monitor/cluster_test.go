package monitor

import (
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ripple-ops/ripple/engine"
	"github.com/ripple-ops/ripple/engine/enginetest"
)

// claims is a NotificationClaims in memory: the last kind claimed per
// (monitor, host) and the node that claimed it, as the shared database
// keeps them; every node here stays alive.
type claims struct {
	mu   sync.Mutex
	last map[[2]string]claim
}

type claim struct {
	kind engine.NotificationKind
	node string
}

// node is the claims view of one node.
func (c *claims) node(name string) engine.NotificationClaims { return nodeClaims{c, name} }

type nodeClaims struct {
	c    *claims
	name string
}

func (v nodeClaims) ClaimNotification(_ context.Context, n engine.Notification) (bool, error) {
	v.c.mu.Lock()
	defer v.c.mu.Unlock()
	k := [2]string{n.Monitor, n.Host}
	if l, ok := v.c.last[k]; ok && l.kind == n.Kind {
		return l.node == v.name, nil
	}
	v.c.last[k] = claim{n.Kind, v.name}
	return true, nil
}

// Two nodes that both check a pair (a handover) send its alert once; a
// pair another node owns is not checked here until it is handed over, and
// then it continues from the state that node saved.
func TestClusterNodesShareChecksAndSendEachAlertOnce(t *testing.T) {
	store := enginetest.NewMemStore()
	cl := &claims{last: map[[2]string]claim{}}
	defs := loadMonitors(t, monitorRepo, 20*time.Millisecond)
	var aOwnsAll atomic.Bool
	aOwnsAll.Store(true)
	chkA := &scriptedChecker{states: map[string]engine.CheckState{"web-02": engine.StateCritical}, calls: map[string]int{}}
	chkB := &scriptedChecker{states: map[string]engine.CheckState{"web-02": engine.StateCritical}, calls: map[string]int{}}
	notesA, notesB := &recordedNotes{}, &recordedNotes{}
	a := New(Options{Checker: chkA, Notifications: notesA, Claims: cl.node("a"), States: store, Results: StoreResultSink{States: store},
		Owns: func(string, string) bool { return aOwnsAll.Load() }})
	b := New(Options{Checker: chkB, Notifications: notesB, Claims: cl.node("b"), States: store, Results: StoreResultSink{States: store},
		Owns: func(_, host string) bool { return host == "web-02" }})
	ctx := context.Background()
	if err := a.ApplyConfig(ctx, defs); err != nil {
		t.Fatal(err)
	}
	if err := b.ApplyConfig(ctx, defs); err != nil {
		t.Fatal(err)
	}
	startRunner(t, a)
	startRunner(t, b)
	eventually(t, "the alert", func() bool { return len(notesA.list())+len(notesB.list()) >= 1 })
	time.Sleep(200 * time.Millisecond)
	if n := len(notesA.list()) + len(notesB.list()); n != 1 {
		t.Fatalf("%d alerts for web-02 from two nodes checking it, want 1", n)
	}
	if chkB.count("web-http/web-01") != 0 || chkB.count("db-tcp/db-01") != 0 {
		t.Fatal("b checked pairs it does not own")
	}

	// a hands web-02 over (a's share shrinks); b owns it already. Then b
	// goes away: a takes every pair back, restores web-02's state (still
	// firing) and does not alert again.
	aOwnsAll.Store(false)
	a.Rebalance(ctx)
	calls := chkA.count("web-http/web-02")
	time.Sleep(100 * time.Millisecond)
	if got := chkA.count("web-http/web-02"); got > calls+1 {
		t.Fatalf("a kept checking a pair it gave up: %d -> %d", calls, got)
	}
	aOwnsAll.Store(true)
	a.Rebalance(ctx)
	eventually(t, "a checks web-02 again", func() bool { return chkA.count("web-http/web-02") > calls+2 })
	if n := len(notesA.list()) + len(notesB.list()); n != 1 {
		t.Fatalf("%d alerts after the handover, want still 1", n)
	}
	// The recovery goes out once too.
	chkA.set("web-02", engine.StateOK)
	chkB.set("web-02", engine.StateOK)
	eventually(t, "the recovery", func() bool { return len(notesA.list())+len(notesB.list()) == 2 })
	time.Sleep(100 * time.Millisecond)
	if n := len(notesA.list()) + len(notesB.list()); n != 2 {
		t.Fatalf("%d notifications, want the alert and one recovery", n)
	}
}

// Dependencies and silences across nodes: node a checks the switch, node
// b the hosts behind it. b holds its hosts' alerts while a has saved the
// switch down, with the switch as the cause; a silence made on a mutes b's
// alert once b has read it; when a saves the switch up, b's host that is
// still down alerts, once in the cluster.
func TestClusterDependenciesAndSilencesSpanNodes(t *testing.T) {
	store := enginetest.NewMemStore()
	cl := &claims{last: map[[2]string]claim{}}
	onSwitch := func(_, host string) bool { return host == "sw-01" }
	common := Options{States: store, Results: StoreResultSink{States: store}, Silences: store, Acks: store}
	optsA, optsB := common, common
	optsA.Owns, optsA.Claims = onSwitch, cl.node("a")
	optsB.Owns, optsB.Claims = func(m, h string) bool { return !onSwitch(m, h) }, cl.node("b")
	a, chkA, notesA := newDepsRunner(t, time.Hour, optsA)
	b, chkB, notesB := newDepsRunner(t, time.Hour, optsB)
	ctx := context.Background()

	chkA.set("sw-snmp/sw-01", crit("SNMP 10.0.0.1:161: no response"))
	a.CheckNow(ctx, "sw-snmp", "sw-01")
	b.refresh(ctx)
	for _, h := range []string{"app-01", "app-02"} {
		chkB.set("host-ssh/"+h, unreachable)
		chkB.set("app/"+h, unreachable)
		b.CheckNow(ctx, "host-ssh", h)
		b.CheckNow(ctx, "app", h)
	}
	if got := alertsOf(notesB, engine.NotifyAlert); len(got) != 0 {
		t.Fatalf("b alerted %v while a saw the switch down", got)
	}
	if st := stateOf(b, "host-ssh", "app-01"); st.Suppressed != "parent sw-01 is down: sw-snmp CRITICAL" {
		t.Errorf("host-ssh@app-01 on b: suppressed %q, want the switch a checks as the cause", st.Suppressed)
	}

	// a silences app-02's connectivity monitor; b reads it.
	if _, err := a.AddSilence(ctx, SilenceRequest{Monitor: "host-ssh", Host: "app-02", For: time.Hour, Actor: "alice", Reason: "rack work"}); err != nil {
		t.Fatal(err)
	}
	b.refresh(ctx)
	if st := stateOf(b, "host-ssh", "app-02"); st.Silence == nil || st.Silence.Actor != "alice" {
		t.Fatalf("host-ssh@app-02 on b: silence %+v, want alice's made on a", st.Silence)
	}

	// The switch is back; both hosts are still down. b alerts app-01 (its
	// connectivity monitor alone); app-02 is silenced.
	chkA.set("sw-snmp/sw-01", engine.CheckResult{State: engine.StateOK})
	a.CheckNow(ctx, "sw-snmp", "sw-01")
	b.refresh(ctx)
	for _, h := range []string{"app-01", "app-02"} {
		b.CheckNow(ctx, "host-ssh", h)
		b.CheckNow(ctx, "app", h)
	}
	if got := alertsOf(notesB, engine.NotifyAlert); strings.Join(got, " ") != "host-ssh@app-01" {
		t.Errorf("b's alerts after the switch came back: %v, want host-ssh@app-01 alone", got)
	}
	if got := alertsOf(notesA, engine.NotifyAlert); strings.Join(got, " ") != "sw-snmp@sw-01" {
		t.Errorf("a's alerts: %v, want the switch's alone", got)
	}
}

// announcements counts AnnounceControls calls and wakes the other nodes,
// as PostgreSQL's NOTIFY does; err makes each call fail after it counted.
type announcements struct {
	n      atomic.Int32
	err    error
	others []*Runner
}

func (a *announcements) AnnounceControls(context.Context) error {
	a.n.Add(1)
	for _, r := range a.others {
		r.RefreshControls()
	}
	return a.err
}

// Each silence, expiry and acknowledgement a node records is announced
// once, and the node that checks the pair reads it at once, long before
// its periodic refresh. A failed announcement does not fail the action
// (it is recorded; the other nodes read it at their refresh).
func TestControlChangesAreAnnouncedToOtherNodes(t *testing.T) {
	store := enginetest.NewMemStore()
	onA := func(string, string) bool { return false }
	common := Options{States: store, Results: StoreResultSink{States: store}, Silences: store, Acks: store, ControlRefresh: time.Hour}
	optsA, optsB := common, common
	ann := &announcements{err: errors.New("notify ripple_controls: connection refused")}
	optsA.Owns, optsA.Announcer = onA, ann
	optsB.Owns = func(string, string) bool { return true }
	a, _, _ := newDepsRunner(t, time.Hour, optsA)
	b, chkB, notesB := newDepsRunner(t, 20*time.Millisecond, optsB)
	ann.others = []*Runner{b}
	startRunner(t, b)
	ctx := context.Background()

	s, err := a.AddSilence(ctx, SilenceRequest{Monitor: "disk", Host: "app-01", For: time.Hour, Actor: "alice", Reason: "disks being replaced"})
	if err != nil {
		t.Fatalf("AddSilence with a failing announcement: %v", err)
	}
	eventually(t, "a's silence on b", func() bool { return stateOf(b, "disk", "app-01").Silence != nil })
	chkB.set("disk/app-01", crit("DISK CRITICAL"))
	waitChecks(t, chkB, 3, "disk/app-01")
	if got := alertsOf(notesB, engine.NotifyAlert); len(got) != 0 {
		t.Fatalf("b alerted %v while a's silence was on", got)
	}
	if _, err := a.ExpireSilence(ctx, s.ID, "alice", "disks done"); err != nil {
		t.Fatal(err)
	}
	eventually(t, "b's alert after a expired the silence", func() bool { return len(alertsOf(notesB, engine.NotifyAlert)) == 1 })
	if _, err := a.Acknowledge(ctx, "disk", "app-01", "bob", "on it"); err != nil {
		t.Fatal(err)
	}
	eventually(t, "a's acknowledgement on b", func() bool { return stateOf(b, "disk", "app-01").Ack != nil })

	// Refused requests change nothing and announce nothing.
	if _, err := a.AddSilence(ctx, SilenceRequest{Monitor: "disk", For: time.Hour}); !errors.Is(err, engine.ErrInvalidRequest) {
		t.Fatalf("silence without a reason: %v", err)
	}
	if _, err := a.ExpireSilence(ctx, s.ID, "alice", "again"); err == nil {
		t.Fatal("expired an ended silence again")
	}
	if n := ann.n.Load(); n != 3 {
		t.Errorf("%d announcements, want 3: the silence, its expiry, the acknowledgement", n)
	}
}
