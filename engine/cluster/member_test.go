package cluster_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/ripple-ops/ripple/engine/cluster"

	"github.com/rs/zerolog"

	"github.com/ripple-ops/ripple/engine/enginetest"
)

// terms records the terms each node led.
type terms struct {
	mu  sync.Mutex
	log []string
}

func (tr *terms) lead(node string) func(ctx context.Context, epoch int64) error {
	return func(ctx context.Context, epoch int64) error {
		tr.mu.Lock()
		tr.log = append(tr.log, fmt.Sprintf("%s:%d", node, epoch))
		tr.mu.Unlock()
		<-ctx.Done()
		return nil
	}
}

func (tr *terms) list() []string {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	return append([]string(nil), tr.log...)
}

// testLease is long beside the 100ms renewals, so that a loaded machine
// does not fence a leader that renews late.
const testLease = 2 * time.Second

func start(t *testing.T, s cluster.Store, node string, tr *terms) (*cluster.Member, context.CancelFunc, <-chan struct{}) {
	t.Helper()
	m, err := cluster.New(cluster.Options{Store: s, Node: node, Lease: testLease, Renew: 100 * time.Millisecond, Heartbeat: 100 * time.Millisecond,
		Lead: tr.lead(node), Logger: zerolog.New(zerolog.NewTestWriter(t)).Level(zerolog.WarnLevel)})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = m.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	return m, cancel, done
}

func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestOneLeaderAndATakeoverOnStop(t *testing.T) {
	s := enginetest.NewCluster()
	tr := &terms{}
	a, stopA, doneA := start(t, s, "a", tr)
	eventually(t, "a leads", func() bool { _, ok := a.Leading(); return ok })
	b, _, _ := start(t, s, "b", tr)
	eventually(t, "b sees both nodes", func() bool { return len(b.Live()) == 2 })
	if _, ok := b.Leading(); ok || b.Fence() == nil {
		t.Fatal("two leaders")
	}
	if a.Fence() != nil {
		t.Fatal("the leader is fenced")
	}
	stopA()
	<-doneA
	eventually(t, "b takes over", func() bool { _, ok := b.Leading(); return ok })
	if got := tr.list(); len(got) != 2 || got[0] != "a:1" || got[1] != "b:2" {
		t.Fatalf("terms %v", got)
	}
}

// A leader that cannot reach the database stops acting before its lease
// expires (Fence), its term ends, and another node takes over after the
// lease expired.
func TestLeaderCutOffFromTheDatabaseStepsDown(t *testing.T) {
	s := enginetest.NewCluster()
	tr := &terms{}
	a, _, _ := start(t, s, "a", tr)
	eventually(t, "a leads", func() bool { _, ok := a.Leading(); return ok })
	b, _, _ := start(t, s, "b", tr)
	s.SetDown("a", true)
	cut := time.Now()
	eventually(t, "a fenced", func() bool { return a.Fence() != nil })
	if took := time.Since(cut); took > testLease {
		t.Errorf("a kept acting %s after it last renewed; the lease is %s", took, testLease)
	}
	eventually(t, "b takes over", func() bool { _, ok := b.Leading(); return ok })
	if l, _ := s.CurrentLease(context.Background()); l.Holder != "b" || l.Epoch != 2 {
		t.Fatalf("lease %+v", l)
	}
	s.SetDown("a", false)
	time.Sleep(300 * time.Millisecond)
	if _, ok := a.Leading(); ok {
		t.Fatal("the old leader leads again while b holds the lease")
	}
}

func TestOwnerMovesOnlyTheDeadNodesShare(t *testing.T) {
	// Names that differ in one character, and keys that differ in their
	// last ones, are spread too.
	for _, nodes := range [][]string{{"a", "b", "c"}, {"node1", "node2", "node3"}} {
		owners := map[string]string{}
		count := map[string]int{}
		for i := range 3000 {
			k := cluster.CheckKey(fmt.Sprintf("monitor-%d", i%7), fmt.Sprintf("host-%02d", i))
			owners[k] = cluster.Owner(nodes, k)
			count[owners[k]]++
		}
		for _, n := range nodes {
			if count[n] < 800 {
				t.Errorf("node %s owns %d of 3000 keys: not spread", n, count[n])
			}
		}
		moved := 0
		for k, o := range owners {
			now := cluster.Owner([]string{nodes[0], nodes[2]}, k)
			if o != nodes[1] && now != o {
				moved++
			}
			if now == nodes[1] {
				t.Fatal("a dead node owns a key")
			}
		}
		if moved != 0 {
			t.Errorf("%d keys of live nodes moved when %s died", moved, nodes[1])
		}
	}
}
