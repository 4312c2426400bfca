package engine

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ripple-ops/ripple/definitions"
)

// dmStore is an in-memory Store for daemon tests.
type dmStore struct {
	mu       sync.Mutex
	runs     []*Run
	steps    map[int64][]HostStep
	events   []Event
	applied  map[string]string
	statuses map[string]CommitStatus // commit+" "+context
	history  []CommitStatus          // every SetStatus, in order
}

func newDmStore() *dmStore {
	return &dmStore{steps: map[int64][]HostStep{}, applied: map[string]string{}, statuses: map[string]CommitStatus{}}
}

func (s *dmStore) CreateRun(_ context.Context, r *Run) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	r.ID = int64(len(s.runs) + 1)
	c := *r
	s.runs = append(s.runs, &c)
	return nil
}

func (s *dmStore) UpdateRun(_ context.Context, r *Run) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if r.ID < 1 || int(r.ID) > len(s.runs) {
		return ErrNotFound
	}
	c := *r
	s.runs[r.ID-1] = &c
	return nil
}

func (s *dmStore) GetRun(_ context.Context, id int64) (*Run, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if id < 1 || int(id) > len(s.runs) {
		return nil, fmt.Errorf("run %d: %w", id, ErrNotFound)
	}
	c := *s.runs[id-1]
	return &c, nil
}

func (s *dmStore) ListRuns(_ context.Context, f RunFilter) ([]*Run, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []*Run
	for i := len(s.runs) - 1; i >= 0; i-- {
		r := s.runs[i]
		if (f.Job != "" && r.Job != f.Job) || (f.Commit != "" && r.Commit != f.Commit) || (len(f.States) > 0 && !slices.Contains(f.States, r.State)) {
			continue
		}
		c := *r
		out = append(out, &c)
		if f.Limit > 0 && len(out) == f.Limit {
			break
		}
	}
	return out, nil
}

func (s *dmStore) PlanHostSteps(_ context.Context, rows []HostStep) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, r := range rows {
		s.steps[r.RunID] = append(s.steps[r.RunID], r)
	}
	return nil
}

func (s *dmStore) StartHostStep(_ context.Context, hs HostStep) error  { return s.putStep(hs) }
func (s *dmStore) FinishHostStep(_ context.Context, hs HostStep) error { return s.putStep(hs) }

func (s *dmStore) putStep(hs HostStep) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, r := range s.steps[hs.RunID] {
		if r.Host == hs.Host && r.Step == hs.Step && r.Wave == hs.Wave && r.Rollback == hs.Rollback {
			s.steps[hs.RunID][i] = hs
			return nil
		}
	}
	s.steps[hs.RunID] = append(s.steps[hs.RunID], hs)
	return nil
}

func (s *dmStore) HostSteps(_ context.Context, id int64) ([]HostStep, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.steps[id]), nil
}

func (s *dmStore) AddEvent(_ context.Context, e Event) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.events = append(s.events, e)
	return nil
}

func (s *dmStore) Events(_ context.Context, id int64) ([]Event, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Event
	for _, e := range s.events {
		if e.RunID == id {
			out = append(out, e)
		}
	}
	return out, nil
}

func (s *dmStore) LastApplied(_ context.Context, branch string) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.applied[branch], nil
}

func (s *dmStore) SetLastApplied(_ context.Context, branch, commit string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.applied[branch] = commit
	return nil
}

func (s *dmStore) SetStatus(_ context.Context, st CommitStatus) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.statuses[st.Commit+" "+st.Context] = st
	s.history = append(s.history, st)
	return nil
}

func (s *dmStore) Statuses(_ context.Context, commit string) ([]CommitStatus, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []CommitStatus
	for _, st := range s.statuses {
		if st.Commit == commit {
			out = append(out, st)
		}
	}
	slices.SortFunc(out, func(a, b CommitStatus) int { return strings.Compare(a.Context, b.Context) })
	return out, nil
}

func (s *dmStore) PendingStatuses(context.Context, int) ([]CommitStatus, error) { return nil, nil }
func (s *dmStore) MarkStatusDelivered(context.Context, CommitStatus) error      { return nil }
func (s *dmStore) Close() error                                                 { return nil }

func (s *dmStore) status(commit, ctx string) (CommitStatus, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	st, ok := s.statuses[commit+" "+ctx]
	return st, ok
}

func (s *dmStore) statusCount(commit, ctx string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, st := range s.history {
		if st.Commit == commit && st.Context == ctx {
			n++
		}
	}
	return n
}

func (s *dmStore) allRuns() []Run {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Run, len(s.runs))
	for i, r := range s.runs {
		out[i] = *r
	}
	return out
}

// dmRunner records runs in the store and ends them with state, or holds
// them until released when hold is set.
type dmRunner struct {
	store *dmStore
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
