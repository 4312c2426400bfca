package monitor

import (
	"context"
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
