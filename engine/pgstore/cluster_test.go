package pgstore

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/ripple-ops/ripple/engine"
	"github.com/ripple-ops/ripple/engine/cluster"
)

// TestLeaseOnTheDatabaseClock: one holder at a time, every acquisition a
// new epoch, a renewal only by the holder of the current epoch before
// expiry, a release frees the lease at once.
func TestLeaseOnTheDatabaseClock(t *testing.T) {
	ctx := context.Background()
	s := openTest(t)
	a, ok, err := s.AcquireLease(ctx, "a", 300*time.Millisecond)
	if err != nil || !ok || a.Holder != "a" || a.Epoch != 1 {
		t.Fatalf("a acquires: %+v %v %v", a, ok, err)
	}
	if l, ok, err := s.AcquireLease(ctx, "b", time.Second); err != nil || ok || l.Holder != "a" {
		t.Fatalf("b acquires a live lease: %+v %v %v", l, ok, err)
	}
	if l, ok, _ := s.RenewLease(ctx, "a", 1, 300*time.Millisecond); !ok || !l.Expires.After(a.Expires) {
		t.Fatalf("a renews: %+v %v", l, ok)
	}
	time.Sleep(400 * time.Millisecond)
	if _, ok, _ := s.RenewLease(ctx, "a", 1, time.Second); ok {
		t.Fatal("an expired lease was renewed")
	}
	b, ok, _ := s.AcquireLease(ctx, "b", time.Second)
	if !ok || b.Holder != "b" || b.Epoch != 2 {
		t.Fatalf("b takes the expired lease: %+v %v", b, ok)
	}
	if _, ok, _ := s.RenewLease(ctx, "a", 1, time.Second); ok {
		t.Fatal("the old holder renewed after a takeover")
	}
	if err := s.ReleaseLease(ctx, "a", 1); err != nil {
		t.Fatal(err)
	}
	if l, _ := s.CurrentLease(ctx); l.Holder != "b" {
		t.Fatalf("a released b's lease: %+v", l)
	}
	if err := s.ReleaseLease(ctx, "b", 2); err != nil {
		t.Fatal(err)
	}
	if l, ok, _ := s.AcquireLease(ctx, "a", time.Second); !ok || l.Epoch != 3 {
		t.Fatalf("a acquires a released lease: %+v %v", l, ok)
	}
}

// TestFencedWritesAfterATakeover: a leader's writes commit while its term
// holds the lease, and are refused with ErrFenced once another node took
// over; a node's own writes are never fenced.
func TestFencedWritesAfterATakeover(t *testing.T) {
	ctx := context.Background()
	dsn := pg.Database(t)
	var term atomic.Value
	term.Store([2]any{"a", int64(0)})
	fence := FenceTerm(func() (string, int64) {
		v := term.Load().([2]any)
		return v[0].(string), v[1].(int64)
	})
	s := openDSN(t, dsn, Options{Fence: fence})
	if err := s.SetLastApplied(ctx, "main", "c0"); !errors.Is(err, cluster.ErrFenced) {
		t.Fatalf("a write of a node that does not lead: %v", err)
	}
	l, _, _ := s.AcquireLease(ctx, "a", 300*time.Millisecond)
	term.Store([2]any{"a", l.Epoch})
	if err := s.SetLastApplied(ctx, "main", "c1"); err != nil {
		t.Fatalf("the leader's write: %v", err)
	}
	time.Sleep(400 * time.Millisecond)
	if err := s.SetLastApplied(ctx, "main", "c2"); !errors.Is(err, cluster.ErrFenced) {
		t.Fatalf("a write after the lease expired: %v", err)
	}
	if _, ok, _ := s.AcquireLease(ctx, "b", time.Second); !ok {
		t.Fatal("b did not take over")
	}
	if err := s.SetLastApplied(ctx, "main", "c3"); !errors.Is(err, cluster.ErrFenced) {
		t.Fatalf("the deposed leader's write: %v", err)
	}
	if got, _ := s.LastApplied(ctx, "main"); got != "c1" {
		t.Fatalf("last applied %q, want the leader's c1 only", got)
	}
	if _, err := s.RecordDelivery(ctx, "d1", "push"); err != nil {
		t.Fatalf("a node's own write: %v", err)
	}
}

// TestActionsThroughTheDatabase: a once-only key dedupes, the leader of
// the current epoch claims (others are fenced), outcomes come back, and a
// new leader sees what the old one claimed and never finished.
func TestActionsThroughTheDatabase(t *testing.T) {
	ctx := context.Background()
	s := openTest(t)
	id1, isNew, err := s.EnqueueAction(ctx, cluster.Action{Kind: "run", Payload: []byte(`{"job":"x"}`), Node: "b"})
	if err != nil || !isNew {
		t.Fatal(isNew, err)
	}
	id2, _, _ := s.EnqueueAction(ctx, cluster.Action{Kind: "push", Key: "delivery:1", Payload: []byte(`{}`), Node: "b", Redo: true})
	if id, isNew, _ := s.EnqueueAction(ctx, cluster.Action{Kind: "push", Key: "delivery:1", Payload: []byte(`{}`), Node: "c", Redo: true}); isNew || id != id2 {
		t.Fatalf("the same delivery from c: id %d new %v, want %d and not new", id, isNew, id2)
	}
	if _, err := s.ClaimActions(ctx, "a", 1, 10); !errors.Is(err, cluster.ErrFenced) {
		t.Fatalf("claim without the lease: %v", err)
	}
	l, _, _ := s.AcquireLease(ctx, "a", 200*time.Millisecond)
	acts, err := s.ClaimActions(ctx, "a", l.Epoch, 10)
	if err != nil || len(acts) != 2 || acts[0].ID != id1 || acts[0].Kind != "run" || string(acts[0].Payload) != `{"job":"x"}` ||
		acts[0].ClaimedEpoch != 0 || !acts[1].Redo || acts[1].Key != "delivery:1" {
		t.Fatalf("claimed %+v, %v", acts, err)
	}
	if again, _ := s.ClaimActions(ctx, "a", l.Epoch, 10); len(again) != 0 {
		t.Fatalf("claimed twice: %+v", again)
	}
	if err := s.FinishAction(ctx, id2, cluster.Outcome{Result: []byte(`{"ok":true}`)}); err != nil {
		t.Fatal(err)
	}
	if o, ok, _ := s.ActionOutcome(ctx, id2); !ok || string(o.Result) != `{"ok":true}` {
		t.Fatalf("outcome %+v %v", o, ok)
	}
	if _, ok, _ := s.ActionOutcome(ctx, id1); ok {
		t.Fatal("an unfinished action has an outcome")
	}
	time.Sleep(300 * time.Millisecond) // a dies
	l2, _, _ := s.AcquireLease(ctx, "c", time.Second)
	acts, err = s.ClaimActions(ctx, "c", l2.Epoch, 10)
	if err != nil || len(acts) != 1 || acts[0].ID != id1 || acts[0].ClaimedEpoch != l.Epoch {
		t.Fatalf("the new leader claims %+v, %v; want run %d claimed before by epoch %d", acts, err, id1, l.Epoch)
	}
}

// TestNotificationClaims: alerts and recoveries alternate per pair; the
// node that claimed may resend; another live node may not; a dead node's
// claim is taken over.
func TestNotificationClaims(t *testing.T) {
	ctx := context.Background()
	s := openTest(t)
	for _, n := range []string{"a", "b"} {
		if err := s.Heartbeat(ctx, cluster.NodeInfo{Name: n}); err != nil {
			t.Fatal(err)
		}
	}
	a, b := s.Claims("a", 300*time.Millisecond), s.Claims("b", 300*time.Millisecond)
	alert := engine.Notification{Kind: engine.NotifyAlert, Monitor: "web", Host: "h1"}
	claim := func(c engine.NotificationClaims, n engine.Notification) bool {
		t.Helper()
		won, err := c.ClaimNotification(ctx, n)
		if err != nil {
			t.Fatal(err)
		}
		return won
	}
	if !claim(a, alert) || claim(b, alert) || !claim(a, alert) {
		t.Fatal("the alert: a claims, b may not, a may resend")
	}
	recovery := alert
	recovery.Kind = engine.NotifyRecovery
	if !claim(b, recovery) || claim(a, recovery) {
		t.Fatal("the recovery is claimed once, by b")
	}
	if !claim(a, alert) {
		t.Fatal("the next alert after the recovery")
	}
	time.Sleep(400 * time.Millisecond)
	if err := s.Heartbeat(ctx, cluster.NodeInfo{Name: "b"}); err != nil {
		t.Fatal(err)
	}
	if !claim(b, alert) {
		t.Fatal("b did not take over the claim of a, which stopped heartbeating")
	}
}

// TestMembersOnPostgreSQL: cluster.Member over the real store: one leader
// at a time, every node live, a stopped leader's lease taken over with the
// next epoch.
func TestMembersOnPostgreSQL(t *testing.T) {
	dsn := pg.Database(t)
	type node struct {
		m    *cluster.Member
		stop context.CancelFunc
		done chan struct{}
	}
	var mu sync.Mutex
	var terms []string
	start := func(name string) *node {
		s := openDSN(t, dsn, Options{})
		m, err := cluster.New(cluster.Options{Store: s, Node: name, Lease: 600 * time.Millisecond, Renew: 150 * time.Millisecond,
			Heartbeat: 100 * time.Millisecond, Logger: zerolog.Nop(),
			Lead: func(ctx context.Context, epoch int64) error {
				mu.Lock()
				terms = append(terms, name)
				mu.Unlock()
				<-ctx.Done()
				return nil
			}})
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		n := &node{m: m, stop: cancel, done: make(chan struct{})}
		go func() { defer close(n.done); _ = m.Run(ctx) }()
		t.Cleanup(func() { cancel(); <-n.done })
		return n
	}
	wait := func(what string, cond func() bool) {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for !cond() {
			if time.Now().After(deadline) {
				t.Fatalf("timed out waiting for %s", what)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	a := start("a")
	wait("a leads", func() bool { _, ok := a.m.Leading(); return ok })
	b, c := start("b"), start("c")
	wait("three live nodes", func() bool { return len(b.m.Live()) == 3 && len(c.m.Live()) == 3 })
	if _, ok := b.m.Leading(); ok {
		t.Fatal("two leaders")
	}
	a.stop()
	<-a.done
	wait("another node leads", func() bool {
		_, bl := b.m.Leading()
		_, cl := c.m.Leading()
		return bl != cl
	})
	wait("a is no longer live", func() bool { return len(b.m.Live()) == 2 })
	mu.Lock()
	defer mu.Unlock()
	if len(terms) != 2 || terms[0] != "a" {
		t.Fatalf("terms %v", terms)
	}
}
