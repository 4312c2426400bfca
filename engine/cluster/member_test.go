package cluster

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"
)

// memStore is a Store in memory with its own clock, standing for the
// database's; down makes every call fail, like an unreachable database.
type memStore struct {
	mu    sync.Mutex
	lease Lease
	nodes map[string]NodeInfo
	down  map[string]bool // node -> its calls fail
}

var errDown = errors.New("database unreachable")

func newMemStore() *memStore { return &memStore{nodes: map[string]NodeInfo{}, down: map[string]bool{}} }

func (s *memStore) setDown(node string, down bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.down[node] = down
}

func (s *memStore) AcquireLease(_ context.Context, node string, ttl time.Duration) (Lease, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.down[node] {
		return Lease{}, false, errDown
	}
	now := time.Now()
	if s.lease.Holder != "" && now.Before(s.lease.Expires) {
		return s.lease, s.lease.Holder == node, nil
	}
	s.lease = Lease{Holder: node, Epoch: s.lease.Epoch + 1, Expires: now.Add(ttl)}
	return s.lease, true, nil
}

func (s *memStore) RenewLease(_ context.Context, node string, epoch int64, ttl time.Duration) (Lease, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.down[node] {
		return Lease{}, false, errDown
	}
	if s.lease.Holder != node || s.lease.Epoch != epoch {
		return s.lease, false, nil
	}
	s.lease.Expires = time.Now().Add(ttl)
	return s.lease, true, nil
}

func (s *memStore) ReleaseLease(_ context.Context, node string, epoch int64) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.lease.Holder == node && s.lease.Epoch == epoch {
		s.lease.Holder, s.lease.Expires = "", time.Time{}
	}
	return nil
}

func (s *memStore) CurrentLease(context.Context) (Lease, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.lease, nil
}

func (s *memStore) Heartbeat(_ context.Context, n NodeInfo) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.down[n.Name] {
		return errDown
	}
	n.Heartbeat = time.Now()
	s.nodes[n.Name] = n
	return nil
}

func (s *memStore) Nodes(context.Context) ([]NodeInfo, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []NodeInfo
	for _, n := range s.nodes {
		n.Age = time.Since(n.Heartbeat)
		out = append(out, n)
	}
	return out, nil
}

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

func start(t *testing.T, s Store, node string, tr *terms) (*Member, context.CancelFunc, <-chan struct{}) {
	t.Helper()
	m, err := New(Options{Store: s, Node: node, Lease: 400 * time.Millisecond, Renew: 100 * time.Millisecond, Heartbeat: 100 * time.Millisecond,
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
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestOneLeaderAndATakeoverOnStop(t *testing.T) {
	s := newMemStore()
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
	s := newMemStore()
	tr := &terms{}
	a, _, _ := start(t, s, "a", tr)
	eventually(t, "a leads", func() bool { _, ok := a.Leading(); return ok })
	b, _, _ := start(t, s, "b", tr)
	s.setDown("a", true)
	cut := time.Now()
	eventually(t, "a fenced", func() bool { return a.Fence() != nil })
	if took := time.Since(cut); took > 400*time.Millisecond {
		t.Errorf("a kept acting %s after it last renewed; the lease is 400ms", took)
	}
	eventually(t, "b takes over", func() bool { _, ok := b.Leading(); return ok })
	if l := s.lease; l.Holder != "b" || l.Epoch != 2 {
		t.Fatalf("lease %+v", l)
	}
	s.setDown("a", false)
	time.Sleep(300 * time.Millisecond)
	if _, ok := a.Leading(); ok {
		t.Fatal("the old leader leads again while b holds the lease")
	}
}

func TestOwnerMovesOnlyTheDeadNodesShare(t *testing.T) {
	nodes := []string{"a", "b", "c"}
	owners := map[string]string{}
	count := map[string]int{}
	for i := range 3000 {
		k := fmt.Sprintf("monitor-%d@host-%d", i%7, i)
		owners[k] = Owner(nodes, k)
		count[owners[k]]++
	}
	for _, n := range nodes {
		if count[n] < 800 {
			t.Errorf("node %s owns %d of 3000 keys: not spread", n, count[n])
		}
	}
	moved := 0
	for k, o := range owners {
		now := Owner([]string{"a", "c"}, k)
		if o != "b" && now != o {
			moved++
		}
		if now == "b" {
			t.Fatal("a dead node owns a key")
		}
	}
	if moved != 0 {
		t.Errorf("%d keys of live nodes moved when b died", moved)
	}
}
