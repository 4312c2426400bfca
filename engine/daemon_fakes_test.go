package engine

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ripple-ops/ripple/definitions"
)

// The daemon tests use the rollout tests' memStore, plus these readers.

func (s *memStore) statusOf(commit, ctx string) (CommitStatus, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	st, ok := s.statuses[commit+" "+ctx]
	return st, ok
}

func (s *memStore) statusCount(commit, ctx string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, st := range s.statusLog {
		if st.Commit == commit && st.Context == ctx {
			n++
		}
	}
	return n
}

// allRuns lists every run, oldest first.
func (s *memStore) allRuns() []Run {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Run, 0, len(s.runs))
	for id := int64(1); id <= s.nextID; id++ {
		if r, ok := s.runs[id]; ok {
			out = append(out, r)
		}
	}
	return out
}

// dmRunner records runs in the store and ends them with state, or holds
// them until released when hold is set.
type dmRunner struct {
	store *memStore
	state RunState
	hold  chan struct{} // nil: finish at once
	// recovered is what Recover returns, as if an earlier process had
	// left these runs unfinished.
	recovered []*Run

	mu       sync.Mutex
	executed []int64
	approved []string
}

func (f *dmRunner) Submit(ctx context.Context, req RunRequest) (*Run, error) {
	r := &Run{Job: req.Job, Commit: req.Commit, Branch: req.Branch, Trigger: req.Trigger, Actor: req.Actor, Reason: req.Reason, State: RunQueued, Waves: req.Waves, Created: time.Now()}
	if err := f.store.CreateRun(ctx, r); err != nil {
		return nil, err
	}
	return r, f.store.SetStatus(ctx, CommitStatus{Commit: r.Commit, Context: StatusJobPrefix + r.Job, State: "pending", Description: "queued"})
}

func (f *dmRunner) Execute(ctx context.Context, _ *definitions.Definitions, id int64) (*Run, error) {
	f.mu.Lock()
	f.executed = append(f.executed, id)
	f.mu.Unlock()
	if f.hold != nil {
		select {
		case <-f.hold:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	r, err := f.store.GetRun(ctx, id)
	if err != nil {
		return nil, err
	}
	r.State = f.state
	if r.State == "" {
		r.State = RunSucceeded
	}
	return r, f.store.UpdateRun(ctx, r)
}

func (f *dmRunner) Approve(_ context.Context, id int64, actor, reason string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.approved = append(f.approved, fmt.Sprintf("%d %s %s", id, actor, reason))
	return nil
}

func (f *dmRunner) Recover(context.Context, DefinitionsLoader) ([]*Run, error) {
	return f.recovered, nil
}

func (f *dmRunner) Abort(context.Context, int64, string, string) error { return nil }

func (f *dmRunner) executedCount() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.executed)
}

// dmRepo is a throw-away repository driven with the git binary.
type dmRepo struct {
	t   *testing.T
	dir string
}

func newDmRepo(t *testing.T) *dmRepo {
	t.Helper()
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git binary not found")
	}
	r := &dmRepo{t: t, dir: t.TempDir()}
	r.git("init", "-q", "-b", "main")
	return r
}

func (r *dmRepo) git(args ...string) string {
	r.t.Helper()
	cmd := exec.Command("git", append([]string{"-c", "user.name=test", "-c", "user.email=test@example.com", "-c", "commit.gpgsign=false"}, args...)...)
	cmd.Dir = r.dir
	cmd.Env = append(os.Environ(), "GIT_CONFIG_NOSYSTEM=1", "GIT_CONFIG_GLOBAL="+os.DevNull, "HOME="+r.dir)
	out, err := cmd.CombinedOutput()
	if err != nil {
		r.t.Fatalf("git %v: %v\n%s", args, err, out)
	}
	return strings.TrimSpace(string(out))
}

// commit writes files (a nil value deletes) and commits them; it returns
// the new head.
func (r *dmRepo) commit(msg string, files map[string]string) string {
	r.t.Helper()
	for name, body := range files {
		p := filepath.Join(r.dir, name)
		if body == "" {
			_ = os.Remove(p)
			continue
		}
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			r.t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			r.t.Fatal(err)
		}
	}
	r.git("add", "-A")
	r.git("commit", "-q", "--allow-empty", "-m", msg)
	return r.git("rev-parse", "HEAD")
}

const dmInventory = `
credential "default" {
  user             = "deploy"
  private_key_file = "/etc/ripple/key"
  known_hosts_file = "/etc/ripple/known_hosts"
}

host "web-01" {
  address = "127.0.0.1"
  groups  = ["web"]
}

host "web-02" {
  address = "127.0.0.2"
  groups  = ["web"]
}
`

const dmJob = `
job "hello" {
  targets { groups = ["web"] }
  step "say" { run = "echo hello" }
  rollout { waves = [1, "100%"] }
}
`
