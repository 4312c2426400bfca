package gitops

import (
	"context"
	"errors"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/ripple-ops/ripple/definitions"
	"github.com/ripple-ops/ripple/engine"
	"github.com/ripple-ops/ripple/engine/cluster"
	"github.com/ripple-ops/ripple/engine/enginetest"
	"github.com/ripple-ops/ripple/engine/source"
)

// recordingNode is what a node's always-on components saw: the commits
// applied to them, and the hosts held on its monitors.
type recordingNode struct {
	mu      sync.Mutex
	commits []string
	held    map[string]int
}

func (r *recordingNode) ApplyConfig(_ context.Context, defs *definitions.Definitions) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.commits = append(r.commits, defs.Commit)
	return nil
}

func (r *recordingNode) Hold(hosts []string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, h := range hosts {
		r.held[h]++
	}
}

func (r *recordingNode) Release(_ context.Context, hosts []string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, h := range hosts {
		if r.held[h]--; r.held[h] <= 0 {
			delete(r.held, h)
		}
	}
}

func (r *recordingNode) lastCommit() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.commits) == 0 {
		return ""
	}
	return r.commits[len(r.commits)-1]
}

func (r *recordingNode) isHeld(h string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.held[h] > 0
}

// clusterNode is one daemon of a cluster test: a member, a follower, and
// while it leads, a term daemon with its hold set.
type clusterNode struct {
	name     string
	member   *cluster.Member
	follower *Follower
	seen     *recordingNode

	mu    sync.Mutex
	holds *HoldSet // the current term's
	stop  context.CancelFunc
	done  chan struct{}
}

func (n *clusterNode) termHolds() *HoldSet {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.holds
}

func startClusterNode(t *testing.T, name string, repo *enginetest.GitRepo, store *enginetest.MemStore, db *enginetest.Cluster, runner *dmRunner, edits ...func(*Options)) *clusterNode {
	t.Helper()
	log := zerolog.New(zerolog.NewTestWriter(t)).With().Str("node", name).Logger().Level(zerolog.WarnLevel)
	mopts := source.MirrorOptions{URL: repo.Dir, Branch: "main", Dir: filepath.Join(t.TempDir(), "mirror")}
	ctx, cancel := context.WithCancel(context.Background())
	mirror, err := source.OpenMirror(ctx, mopts)
	if err != nil {
		t.Fatal(err)
	}
	n := &clusterNode{name: name, seen: &recordingNode{held: map[string]int{}}, stop: cancel, done: make(chan struct{})}
	n.member, err = cluster.New(cluster.Options{Store: db, Node: name, Lease: 600 * time.Millisecond, Renew: 150 * time.Millisecond,
		Heartbeat: 100 * time.Millisecond, Logger: log,
		Lead: func(ctx context.Context, epoch int64) error {
			opts := Options{Repo: mirror, Mirror: mopts, Store: store, Runner: runner, RetryInterval: 50 * time.Millisecond, Logger: log}
			for _, edit := range edits {
				edit(&opts)
			}
			d, err := New(opts)
			if err != nil {
				return err
			}
			holds := NewHoldSet(n.seen)
			n.mu.Lock()
			n.holds = holds
			n.mu.Unlock()
			x := &cluster.Executor{Store: db, Node: name, Epoch: epoch, Handlers: Handlers(d), Poll: 10 * time.Millisecond, Logger: log}
			var wg sync.WaitGroup
			wg.Go(func() { _ = d.Run(ctx) })
			wg.Go(func() { n.follower.Lead(ctx, d, holds) })
			wg.Go(func() { _ = x.Run(ctx) })
			wg.Wait()
			holds.End(context.Background())
			return nil
		}})
	if err != nil {
		t.Fatal(err)
	}
	n.follower, err = NewFollower(FollowerOptions{Repo: mirror, Branch: "main", RepoURL: repo.Dir, Store: store, Member: n.member,
		Actions: db, Holds: n.seen, Poll: 50 * time.Millisecond, Wait: 5 * time.Second, Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	n.follower.Subscribe(n.seen)
	var wg sync.WaitGroup
	wg.Go(func() { _ = n.member.Run(ctx) })
	wg.Go(func() { _ = n.follower.Run(ctx) })
	go func() { wg.Wait(); close(n.done) }()
	t.Cleanup(n.kill)
	return n
}

func (n *clusterNode) kill() {
	n.stop()
	<-n.done
}

func (n *clusterNode) leads() bool {
	_, ok := n.member.Leading()
	return ok
}

// TestClusterFollowersServeAndTheLeaderActs: of two nodes on one store
// only the leader rolls a merge out; both nodes' monitors follow the
// applied commit; a follower's API hands runs and webhooks to the leader
// (the same delivery on both nodes acts once); the leader's holds reach
// the follower's monitors; and when the leader stops the other node takes
// over and rolls the next merge out.
func TestClusterFollowersServeAndTheLeaderActs(t *testing.T) {
	ctx := context.Background()
	repo := enginetest.NewGitRepo(t)
	head := repo.Commit("inventory and job", map[string]string{"hosts.hcl": enginetest.Inventory, "jobs/hello.hcl": enginetest.HelloJob})
	store := enginetest.NewMemStore()
	db := enginetest.NewCluster()
	runner := &dmRunner{store: store}
	a := startClusterNode(t, "a", repo, store, db, runner)
	dmWait(t, "a leads", a.leads)
	b := startClusterNode(t, "b", repo, store, db, runner)

	dmWait(t, "the merge applied", func() bool { got, _ := store.LastApplied(ctx, "main"); return got == head })
	dmWait(t, "both nodes follow the applied commit", func() bool {
		return a.seen.lastCommit() == head && b.seen.lastCommit() == head
	})
	if n := len(store.AllRuns()); n != 1 {
		t.Fatalf("%d runs of the merge, want 1 (only the leader rolls out)", n)
	}
	dmWait(t, "b shows a's status", func() bool { st := b.follower.Status(); return st.Leader == "a" && st.LastApplied == head })
	if st := b.follower.Status(); st.Node != "b" || !st.Ready || st.Head != head || b.follower.Definitions() == nil {
		t.Fatalf("b's status %+v", st)
	}
	// b names commits for its overview from its own mirror.
	if ci, err := b.follower.CommitInfo(head); err != nil || ci.SHA != head || ci.Subject != "inventory and job" {
		t.Fatalf("b's CommitInfo(head) = %+v, %v", ci, err)
	}

	// b's API: a manual run is started by the leader and returned.
	run, err := b.follower.StartRun(ctx, engine.JobRunRequest{Job: "hello", Hosts: []string{"web-02"}, Actor: "alice", Reason: "rotate logs"})
	if err != nil {
		t.Fatal(err)
	}
	if run.ID == 0 || run.Actor != "alice" || run.Commit != head || run.Trigger != engine.TriggerManual {
		t.Fatalf("run from b: %+v", run)
	}
	if _, err := b.follower.StartRun(ctx, engine.JobRunRequest{Job: "nope", Actor: "alice", Reason: "x"}); !errors.Is(err, engine.ErrNotFound) {
		t.Fatalf("unknown job through b: %v, want ErrNotFound", err)
	}

	// The same webhook delivery reaching both nodes acts once.
	head2 := repo.Commit("change job", map[string]string{"jobs/hello.hcl": strings.Replace(enginetest.HelloJob, "echo hello", "echo hi", 1)})
	ev := engine.PushEvent{DeliveryID: "d-1", Ref: "refs/heads/main", After: head2}
	if err := a.follower.Push(ctx, ev); err != nil {
		t.Fatal(err)
	}
	if err := b.follower.Push(ctx, ev); err != nil {
		t.Fatal(err)
	}
	dmWait(t, "the pushed commit applied", func() bool { got, _ := store.LastApplied(ctx, "main"); return got == head2 })
	pushes := 0
	for _, act := range db.Actions() {
		if act.Kind == actPush {
			pushes++
		}
	}
	if pushes != 1 {
		t.Fatalf("%d push actions for one delivery sent to two nodes, want 1", pushes)
	}

	// The leader's holds reach b's monitors, and their release too.
	a.termHolds().Hold([]string{"web-01"})
	dmWait(t, "b holds web-01", func() bool { return b.seen.isHeld("web-01") })
	if !a.seen.isHeld("web-01") {
		t.Fatal("the leader's own monitors do not hold web-01")
	}
	a.termHolds().Release(ctx, []string{"web-01"})
	dmWait(t, "b releases web-01", func() bool { return !b.seen.isHeld("web-01") })

	// a stops; b takes over and rolls the next merge out.
	a.termHolds().Hold([]string{"web-02"})
	dmWait(t, "b holds web-02", func() bool { return b.seen.isHeld("web-02") })
	a.kill()
	dmWait(t, "b leads", b.leads)
	dmWait(t, "b's status names itself the leader", func() bool { return b.follower.Status().Leader == "b" })
	dmWait(t, "the dead leader's holds are released", func() bool { return !b.seen.isHeld("web-02") })
	before := len(store.AllRuns())
	head3 := repo.Commit("change job again", map[string]string{"jobs/hello.hcl": strings.Replace(enginetest.HelloJob, "echo hello", "echo hey", 1)})
	if err := b.follower.Push(ctx, engine.PushEvent{DeliveryID: "d-2", Ref: "refs/heads/main", After: head3}); err != nil {
		t.Fatal(err)
	}
	dmWait(t, "b applies the next merge", func() bool { got, _ := store.LastApplied(ctx, "main"); return got == head3 })
	runs := store.AllRuns()
	if len(runs) != before+1 || !slices.ContainsFunc(runs, func(r engine.Run) bool { return r.Commit == head3 }) {
		t.Fatalf("runs after the takeover: %d, want %d", len(runs), before+1)
	}
}
