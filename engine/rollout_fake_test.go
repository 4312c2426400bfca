package engine

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"sync"
	"testing"
	"testing/fstest"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/rs/zerolog"
	"github.com/zclconf/go-cty/cty"

	"github.com/ripple-ops/ripple/definitions"
)

// memStore is an in-memory Store. crashAfter, when > 0, makes every write
// after that many writes fail, like a process that died.
type memStore struct {
	mu          sync.Mutex
	nextID      int64
	runs        map[int64]Run
	steps       map[int64][]HostStep
	events      map[int64][]Event
	statuses    map[string]CommitStatus // commit + context
	statusLog   []CommitStatus
	lastApplied map[string]string
	writes      int
	crashAfter  int
}

var errCrashed = errors.New("store crashed")

func newMemStore() *memStore {
	return &memStore{runs: map[int64]Run{}, steps: map[int64][]HostStep{}, events: map[int64][]Event{},
		statuses: map[string]CommitStatus{}, lastApplied: map[string]string{}}
}

func (s *memStore) write() error {
	s.writes++
	if s.crashAfter > 0 && s.writes > s.crashAfter {
		return errCrashed
	}
	return nil
}

func cloneRun(r Run) *Run {
	r.Waves = slices.Clone(r.Waves)
	return &r
}

func (s *memStore) CreateRun(_ context.Context, r *Run) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.write(); err != nil {
		return err
	}
	s.nextID++
	r.ID = s.nextID
	s.runs[r.ID] = *cloneRun(*r)
	return nil
}

func (s *memStore) UpdateRun(_ context.Context, r *Run) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.write(); err != nil {
		return err
	}
	if _, ok := s.runs[r.ID]; !ok {
		return ErrNotFound
	}
	s.runs[r.ID] = *cloneRun(*r)
	return nil
}

func (s *memStore) GetRun(_ context.Context, id int64) (*Run, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.runs[id]
	if !ok {
		return nil, ErrNotFound
	}
	return cloneRun(r), nil
}

func (s *memStore) ListRuns(_ context.Context, f RunFilter) ([]*Run, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []*Run
	for _, r := range s.runs {
		if f.Job != "" && r.Job != f.Job || f.Commit != "" && r.Commit != f.Commit {
			continue
		}
		if len(f.States) > 0 && !slices.Contains(f.States, r.State) {
			continue
		}
		out = append(out, cloneRun(r))
	}
	sort.Slice(out, func(a, b int) bool { return out[a].ID > out[b].ID })
	if f.Limit > 0 && len(out) > f.Limit {
		out = out[:f.Limit]
	}
	return out, nil
}

func (s *memStore) upsert(hs HostStep) {
	rows := s.steps[hs.RunID]
	for i, o := range rows {
		if keyOf(o) == keyOf(hs) {
			rows[i] = hs
			return
		}
	}
	s.steps[hs.RunID] = append(rows, hs)
}

func (s *memStore) PlanHostSteps(_ context.Context, rows []HostStep) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.write(); err != nil {
		return err
	}
	for _, hs := range rows {
		s.upsert(hs)
	}
	return nil
}

func (s *memStore) StartHostStep(_ context.Context, hs HostStep) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.write(); err != nil {
		return err
	}
	s.upsert(hs)
	return nil
}

func (s *memStore) FinishHostStep(_ context.Context, hs HostStep) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.write(); err != nil {
		return err
	}
	s.upsert(hs)
	return nil
}

func (s *memStore) HostSteps(_ context.Context, id int64) ([]HostStep, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.steps[id]), nil
}

func (s *memStore) AddEvent(_ context.Context, e Event) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.write(); err != nil {
		return err
	}
	s.events[e.RunID] = append(s.events[e.RunID], e)
	return nil
}

func (s *memStore) Events(_ context.Context, id int64) ([]Event, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.events[id]), nil
}

func (s *memStore) LastApplied(_ context.Context, branch string) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.lastApplied[branch], nil
}

func (s *memStore) SetLastApplied(_ context.Context, branch, commit string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.write(); err != nil {
		return err
	}
	s.lastApplied[branch] = commit
	return nil
}

func (s *memStore) SetStatus(_ context.Context, st CommitStatus) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.write(); err != nil {
		return err
	}
	s.statuses[st.Commit+" "+st.Context] = st
	s.statusLog = append(s.statusLog, st)
	return nil
}

func (s *memStore) Statuses(_ context.Context, commit string) ([]CommitStatus, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []CommitStatus
	for _, st := range s.statuses {
		if st.Commit == commit {
			out = append(out, st)
		}
	}
	return out, nil
}

func (s *memStore) PendingStatuses(context.Context, int) ([]CommitStatus, error) { return nil, nil }
func (s *memStore) MarkStatusDelivered(context.Context, CommitStatus) error      { return nil }
func (s *memStore) Close() error                                                 { return nil }

// revive makes a crashed store writable again, as a restarted process.
func (s *memStore) revive() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.crashAfter = 0
}

func (s *memStore) status(commit, job string) CommitStatus {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.statuses[commit+" "+statusContext(job)]
}

// call is one executor call.
type call struct {
	seq     int
	host    string
	step    string
	restore bool
	backup  *Backup
}

// fakeExec records calls and answers with behave (default: ok). It tracks
// how many calls run at once; each call takes delay of real time so that
// concurrency shows.
type fakeExec struct {
	mu      sync.Mutex
	calls   []call
	cur     int
	maxCur  int
	delay   time.Duration
	behave  func(host, step string) StepResult
	block   chan struct{} // when set, calls wait for it to close
	started chan string   // when set, receives host/step as calls start
}

func (e *fakeExec) RunStep(ctx context.Context, ep Endpoint, hs *definitions.HostStep) StepResult {
	return e.do(ctx, ep.Host.Name, hs.Name, false, nil)
}

func (e *fakeExec) Restore(ctx context.Context, ep Endpoint, b *Backup) StepResult {
	return e.do(ctx, ep.Host.Name, b.Destination, true, b)
}

func (e *fakeExec) do(ctx context.Context, host, step string, restore bool, b *Backup) StepResult {
	e.mu.Lock()
	e.cur++
	e.maxCur = max(e.maxCur, e.cur)
	e.calls = append(e.calls, call{seq: len(e.calls), host: host, step: step, restore: restore, backup: b})
	block, started := e.block, e.started
	e.mu.Unlock()
	if started != nil {
		started <- host + "/" + step
	}
	if block != nil {
		select {
		case <-block:
		case <-ctx.Done():
		}
	}
	time.Sleep(e.delay)
	e.mu.Lock()
	e.cur--
	behave := e.behave
	e.mu.Unlock()
	if behave != nil && !restore {
		return behave(host, step)
	}
	return StepResult{Status: StepOK}
}

func (e *fakeExec) snapshot() []call {
	e.mu.Lock()
	defer e.mu.Unlock()
	return slices.Clone(e.calls)
}

// count returns how many times step ran on host (forward or rollback).
func (e *fakeExec) count(host, step string) int {
	n := 0
	for _, c := range e.snapshot() {
		if c.host == host && c.step == step {
			n++
		}
	}
	return n
}

func (e *fakeExec) hostsTouched() []string {
	seen := map[string]bool{}
	for _, c := range e.snapshot() {
		seen[c.host] = true
	}
	var out []string
	for h := range seen {
		out = append(out, h)
	}
	sort.Strings(out)
	return out
}

// fakeChecker answers with state(monitor, host, now).
type fakeChecker struct {
	clock *autoClock
	state func(monitor, host string, now time.Time) CheckState
	mu    sync.Mutex
	n     int
}

func (c *fakeChecker) Check(_ context.Context, ep Endpoint, hc *definitions.HostCheck) CheckResult {
	c.mu.Lock()
	c.n++
	c.mu.Unlock()
	now := c.clock.Now()
	st := c.state(hc.Monitor, ep.Host.Name, now)
	return CheckResult{State: st, Output: st.String() + " from fake", At: now}
}

// autoClock is virtual time that jumps forward whenever someone waits:
// After(d) advances the clock by d and fires at once. Tests on it are
// instant and deterministic.
type autoClock struct {
	mu sync.Mutex
	t  time.Time
}

func newAutoClock() *autoClock {
	return &autoClock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
}

func (c *autoClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *autoClock) After(d time.Duration) <-chan time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
	ch := make(chan time.Time, 1)
	ch <- c.t
	return ch
}

// fixture is a fleet, a job over it and the fakes.
type fixture struct {
	t       *testing.T
	defs    *definitions.Definitions
	job     *definitions.Job
	store   *memStore
	exec    *fakeExec
	checker *fakeChecker
	clock   *autoClock
	events  *progressLog
}

type progressLog struct {
	mu  sync.Mutex
	evs []ProgressEvent
}

func (p *progressLog) Report(ev ProgressEvent) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.evs = append(p.evs, ev)
}

func expr(t testing.TB, tmpl string) hcl.Expression {
	t.Helper()
	e, diags := hclsyntax.ParseTemplate([]byte(tmpl), "test.hcl", hcl.InitialPos)
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	return e
}

func runStep(t testing.TB, name string) *definitions.Step {
	return &definitions.Step{Name: name, Kind: definitions.StepRun, Run: expr(t, "echo "+name+" on ${host.name}"), Timeout: time.Minute}
}

func hostName(i int) string { return fmt.Sprintf("h%02d", i) }

// newFixture makes n hosts (h01..), all in group "all", and a job "app"
// with steps "one" and "two" targeting them.
func newFixture(t *testing.T, n int) *fixture {
	defs := &definitions.Definitions{
		Commit:      "c0ffee",
		Hosts:       map[string]*definitions.Host{},
		Groups:      map[string]*definitions.Group{},
		Credentials: map[string]*definitions.Credential{"default": {Name: "default", User: "deploy"}},
		Monitors:    map[string]*definitions.Monitor{},
		Jobs:        map[string]*definitions.Job{},
	}
	for i := 1; i <= n; i++ {
		defs.Hosts[hostName(i)] = &definitions.Host{Name: hostName(i), Address: fmt.Sprintf("10.0.0.%d", i), Port: 22,
			Groups: []string{"all"}, Vars: cty.EmptyObjectVal, Transport: "ssh", Credential: "default"}
	}
	job := &definitions.Job{
		Name:    "app",
		Targets: definitions.Targets{Groups: []string{"all"}},
		Steps:   []*definitions.Step{runStep(t, "one"), runStep(t, "two")},
		Rollout: definitions.Rollout{MaxParallel: 5, OnFailure: "rollback"},
	}
	defs.Jobs[job.Name] = job
	clock := newAutoClock()
	return &fixture{t: t, defs: defs, job: job, store: newMemStore(), exec: &fakeExec{},
		checker: &fakeChecker{clock: clock, state: func(string, string, time.Time) CheckState { return StateOK }},
		clock:   clock, events: &progressLog{}}
}

// addGate adds monitor "health" on every host and gates the job on it.
func (f *fixture) addGate(minHealthy, deadline time.Duration) {
	f.defs.Monitors["health"] = &definitions.Monitor{Name: "health", Targets: definitions.Targets{Groups: []string{"all"}},
		Interval: time.Minute, Timeout: time.Second, Check: definitions.Check{Kind: definitions.CheckTCP, Port: 80}}
	f.job.Rollout.HealthGate = &definitions.HealthGate{Monitors: []string{"health"}, MinHealthyTime: minHealthy, HealthyDeadline: deadline}
}

func (f *fixture) rollout(opts ...func(*RolloutOptions)) *Rollout {
	o := RolloutOptions{Store: f.store, Executor: f.exec, Checker: f.checker, Clock: f.clock,
		Progress: f.events, Logger: zerolog.New(zerolog.NewTestWriter(f.t)).Level(zerolog.WarnLevel), GatePoll: time.Second}
	for _, fn := range opts {
		fn(&o)
	}
	return NewRollout(o)
}

// waves splits the fixture's hosts in order into waves of the given sizes.
func (f *fixture) waves(sizes ...int) [][]string {
	var names []string
	for n := range f.defs.Hosts {
		names = append(names, n)
	}
	sort.Strings(names)
	var out [][]string
	for _, s := range sizes {
		out = append(out, names[:s])
		names = names[s:]
	}
	if len(names) != 0 {
		f.t.Fatalf("waves %v leave %d hosts", sizes, len(names))
	}
	return out
}

func (f *fixture) submit(r *Rollout, waves [][]string) *Run {
	f.t.Helper()
	run, err := r.Submit(context.Background(), RunRequest{Job: f.job.Name, Commit: f.defs.Commit, Branch: "main", Trigger: "commit", Waves: waves})
	if err != nil {
		f.t.Fatal(err)
	}
	return run
}

func (f *fixture) execute(r *Rollout, id int64) *Run {
	f.t.Helper()
	run, err := r.Execute(context.Background(), f.defs, id)
	if err != nil {
		f.t.Fatalf("execute: %v", err)
	}
	return run
}

// runOnce submits and executes a run over waves.
func (f *fixture) runOnce(sizes ...int) *Run {
	f.t.Helper()
	r := f.rollout()
	return f.execute(r, f.submit(r, f.waves(sizes...)).ID)
}

func fstestMap(files map[string]string) fstest.MapFS {
	m := fstest.MapFS{}
	for k, v := range files {
		m[k] = &fstest.MapFile{Data: []byte(v)}
	}
	return m
}
