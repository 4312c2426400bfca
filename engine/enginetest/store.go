package enginetest

import (
	"context"
	"errors"
	"maps"
	"slices"
	"sort"
	"sync"
	"time"

	"github.com/ripple-ops/ripple/engine"
)

// ErrCrashed is what a MemStore past its crash point returns for writes.
var ErrCrashed = errors.New("store crashed")

// MemStore is an in-memory store of runs, journal, events, statuses, last
// applied commits, monitor states, metrics and firings. With CrashAfter, every
// write after that many writes fails, like a process that died.
type MemStore struct {
	mu          sync.Mutex
	nextID      int64
	runs        map[int64]engine.Run
	steps       map[int64][]engine.HostStep
	events      map[int64][]engine.Event
	statuses    map[string]engine.CommitStatus // commit + context
	statusLog   []engine.CommitStatus
	lastApplied map[string]string
	monitors    map[string]engine.MonitorRecord
	metrics     []engine.MetricSample
	firings     []engine.Firing
	sync        map[[2]string]engine.HostSync
	prev        map[[2]string]engine.SyncMark // the deployment before the current one
	silences    []engine.Silence
	acks        map[[2]string]engine.Ack
	alertEvents []engine.AlertEvent
	writes      int
	crashAfter  int
}

// NewMemStore returns an empty store.
func NewMemStore() *MemStore {
	return &MemStore{runs: map[int64]engine.Run{}, steps: map[int64][]engine.HostStep{}, events: map[int64][]engine.Event{},
		statuses: map[string]engine.CommitStatus{}, lastApplied: map[string]string{}, monitors: map[string]engine.MonitorRecord{}}
}

func (s *MemStore) write() error {
	s.writes++
	if s.crashAfter > 0 && s.writes > s.crashAfter {
		return ErrCrashed
	}
	return nil
}

func cloneRun(r engine.Run) *engine.Run {
	r.Waves = slices.Clone(r.Waves)
	r.Params = maps.Clone(r.Params)
	if r.Exec != nil {
		e := *r.Exec
		r.Exec = &e
	}
	return &r
}

// CreateRun implements engine.RunStore.
func (s *MemStore) CreateRun(_ context.Context, r *engine.Run) error {
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

// UpdateRun implements engine.RunStore.
func (s *MemStore) UpdateRun(_ context.Context, r *engine.Run) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.write(); err != nil {
		return err
	}
	if _, ok := s.runs[r.ID]; !ok {
		return engine.ErrNotFound
	}
	s.runs[r.ID] = *cloneRun(*r)
	return nil
}

// GetRun implements engine.RunReader.
func (s *MemStore) GetRun(_ context.Context, id int64) (*engine.Run, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.runs[id]
	if !ok {
		return nil, engine.ErrNotFound
	}
	return cloneRun(r), nil
}

// ListRuns implements engine.RunReader: newest first.
func (s *MemStore) ListRuns(_ context.Context, f engine.RunFilter) ([]*engine.Run, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := s.match(f)
	if f.Before > 0 {
		out = slices.DeleteFunc(out, func(r *engine.Run) bool { return r.ID >= f.Before })
	}
	if f.After > 0 {
		out = slices.DeleteFunc(out, func(r *engine.Run) bool { return r.ID <= f.After })
	}
	if f.Oldest {
		slices.Reverse(out)
	}
	if f.Limit > 0 && len(out) > f.Limit {
		out = out[:f.Limit]
	}
	return out, nil
}

// CountRuns implements engine.RunReader.
func (s *MemStore) CountRuns(_ context.Context, f engine.RunFilter) (map[engine.RunState]int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[engine.RunState]int{}
	for _, r := range s.match(f) {
		out[r.State]++
	}
	return out, nil
}

// LatestRuns implements engine.RunReader.
func (s *MemStore) LatestRuns(_ context.Context) ([]*engine.Run, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	latest := map[string]*engine.Run{}
	for _, r := range s.match(engine.RunFilter{}) {
		if latest[r.Job] == nil {
			latest[r.Job] = r
		}
	}
	out := make([]*engine.Run, 0, len(latest))
	for _, job := range slices.Sorted(maps.Keys(latest)) {
		out = append(out, latest[job])
	}
	return out, nil
}

// match is the runs f matches, newest first. The caller holds s.mu.
func (s *MemStore) match(f engine.RunFilter) []*engine.Run {
	var out []*engine.Run
	for _, r := range s.runs {
		if !f.Match(&r) {
			continue
		}
		if f.Host != "" && !slices.ContainsFunc(s.steps[r.ID], func(hs engine.HostStep) bool { return hs.Host == f.Host }) {
			continue
		}
		out = append(out, cloneRun(r))
	}
	sort.Slice(out, func(a, b int) bool { return out[a].ID > out[b].ID })
	return out
}

func sameRow(a, b engine.HostStep) bool {
	return a.Wave == b.Wave && a.Host == b.Host && a.Step == b.Step && a.Rollback == b.Rollback
}

// Upsert writes a journal row directly, bypassing the crash switch.
func (s *MemStore) Upsert(hs engine.HostStep) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.upsert(hs)
}

func (s *MemStore) upsert(hs engine.HostStep) {
	rows := s.steps[hs.RunID]
	for i, o := range rows {
		if sameRow(o, hs) {
			rows[i] = hs
			return
		}
	}
	s.steps[hs.RunID] = append(rows, hs)
}

// PlanHostSteps implements engine.JournalStore.
func (s *MemStore) PlanHostSteps(_ context.Context, rows []engine.HostStep) error {
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

// StartHostStep implements engine.JournalStore.
func (s *MemStore) StartHostStep(_ context.Context, hs engine.HostStep) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.write(); err != nil {
		return err
	}
	s.upsert(hs)
	return nil
}

// FinishHostStep implements engine.JournalStore.
func (s *MemStore) FinishHostStep(_ context.Context, hs engine.HostStep) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.write(); err != nil {
		return err
	}
	s.upsert(hs)
	return nil
}

// HostSteps implements engine.JournalReader.
func (s *MemStore) HostSteps(_ context.Context, id int64) ([]engine.HostStep, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.steps[id]), nil
}

// AddEvent implements engine.EventStore.
func (s *MemStore) AddEvent(_ context.Context, e engine.Event) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.write(); err != nil {
		return err
	}
	s.events[e.RunID] = append(s.events[e.RunID], e)
	return nil
}

// AppendEvent adds an event directly, bypassing the crash switch.
func (s *MemStore) AppendEvent(e engine.Event) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.events[e.RunID] = append(s.events[e.RunID], e)
}

// Events implements engine.EventReader.
func (s *MemStore) Events(_ context.Context, id int64) ([]engine.Event, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.events[id]), nil
}

// LastApplied implements engine.AppliedStore.
func (s *MemStore) LastApplied(_ context.Context, branch string) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.lastApplied[branch], nil
}

// SetLastApplied implements engine.AppliedStore.
func (s *MemStore) SetLastApplied(_ context.Context, branch, commit string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.write(); err != nil {
		return err
	}
	s.lastApplied[branch] = commit
	return nil
}

// SetStatus implements engine.StatusWriter.
func (s *MemStore) SetStatus(_ context.Context, st engine.CommitStatus) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.write(); err != nil {
		return err
	}
	s.statuses[st.Commit+" "+st.Context] = st
	s.statusLog = append(s.statusLog, st)
	return nil
}

// Statuses implements engine.StatusReader.
func (s *MemStore) Statuses(_ context.Context, commit string) ([]engine.CommitStatus, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []engine.CommitStatus
	for _, st := range s.statuses {
		if st.Commit == commit {
			out = append(out, st)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Context < out[j].Context })
	return out, nil
}

// SaveMonitorState implements engine.MonitorStateStore.
func (s *MemStore) SaveMonitorState(_ context.Context, m engine.MonitorRecord) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.write(); err != nil {
		return err
	}
	key := m.Monitor + "\x00" + m.Host
	if old, ok := s.monitors[key]; ok && old.LastAt.After(m.LastAt) {
		return nil // an older observation loses
	}
	if m.LogCursor == nil {
		m.LogCursor = s.monitors[key].LogCursor // a state alone keeps the cursor
	}
	s.monitors[key] = m
	return nil
}

// MonitorStates implements engine.MonitorStateStore.
func (s *MemStore) MonitorStates(context.Context) ([]engine.MonitorRecord, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]engine.MonitorRecord, 0, len(s.monitors))
	for _, m := range s.monitors {
		out = append(out, m)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Monitor != out[j].Monitor {
			return out[i].Monitor < out[j].Monitor
		}
		return out[i].Host < out[j].Host
	})
	return out, nil
}

// AppendMetrics implements engine.MetricStore.
func (s *MemStore) AppendMetrics(_ context.Context, samples []engine.MetricSample) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.write(); err != nil {
		return err
	}
	s.metrics = append(s.metrics, samples...)
	return nil
}

// QueryMetrics implements engine.MetricStore.
func (s *MemStore) QueryMetrics(_ context.Context, monitor, host, metric string, from, to time.Time) ([]engine.MetricPoint, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []engine.MetricPoint
	for _, m := range s.metrics {
		if m.Monitor == monitor && m.Host == host && m.Metric == metric && !m.At.Before(from) && m.At.Before(to) {
			out = append(out, engine.MetricPoint{At: m.At, Value: m.Value})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].At.Before(out[j].At) })
	return out, nil
}

// LastFiring implements engine.FiringStore.
func (s *MemStore) LastFiring(_ context.Context, job string) (time.Time, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var last time.Time
	for _, f := range s.firings {
		if f.Job == job && f.At.After(last) {
			last = f.At
		}
	}
	return last, nil
}

// RecordFiring implements engine.FiringStore.
func (s *MemStore) RecordFiring(_ context.Context, f engine.Firing) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.write(); err != nil {
		return err
	}
	s.firings = append(s.firings, f)
	return nil
}

// Firings lists the recorded firings in order.
func (s *MemStore) Firings() []engine.Firing {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.firings)
}

// Writes counts the writes so far, failed ones included.
func (s *MemStore) Writes() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.writes
}

// CrashAfter makes every write after the n-th (counted from the store's
// start) fail with ErrCrashed; 0 never crashes.
func (s *MemStore) CrashAfter(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.crashAfter = n
}

// Revive makes a crashed store writable again, as a restarted process.
func (s *MemStore) Revive() { s.CrashAfter(0) }

// SetRun replaces a run's record directly, bypassing the crash switch.
func (s *MemStore) SetRun(r engine.Run) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.runs[r.ID] = *cloneRun(r)
}

// Status returns the latest status of job's runs on commit.
func (s *MemStore) Status(commit, job string) engine.CommitStatus {
	st, _ := s.StatusOf(commit, engine.StatusContext(job))
	return st
}

// StatusOf returns the latest status of context on commit.
func (s *MemStore) StatusOf(commit, context string) (engine.CommitStatus, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	st, ok := s.statuses[commit+" "+context]
	return st, ok
}

// StatusLog lists every status written, in order.
func (s *MemStore) StatusLog() []engine.CommitStatus {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.statusLog)
}

// StatusCount counts the statuses written for context on commit.
func (s *MemStore) StatusCount(commit, context string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, st := range s.statusLog {
		if st.Commit == commit && st.Context == context {
			n++
		}
	}
	return n
}

// AllRuns lists every run, oldest first.
func (s *MemStore) AllRuns() []engine.Run {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]engine.Run, 0, len(s.runs))
	for id := int64(1); id <= s.nextID; id++ {
		if r, ok := s.runs[id]; ok {
			out = append(out, r)
		}
	}
	return out
}

// RecordSync implements engine.SyncStore.
func (s *MemStore) RecordSync(_ context.Context, updates []engine.SyncUpdate) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.write(); err != nil {
		return err
	}
	if s.sync == nil {
		s.sync, s.prev = map[[2]string]engine.HostSync{}, map[[2]string]engine.SyncMark{}
	}
	for _, u := range updates {
		k := [2]string{u.Job, u.Host}
		h := s.sync[k]
		h.Job, h.Host = u.Job, u.Host
		if u.Deployed != nil {
			if h.Deployed.Run != u.Deployed.Run {
				s.prev[k] = h.Deployed
			}
			h.Deployed, h.Attempt, h.Outcome, h.Error = *u.Deployed, engine.SyncMark{}, "", ""
		}
		if u.Attempt != nil {
			h.Attempt, h.Outcome, h.Error = *u.Attempt, u.Outcome, u.Error
			if u.Undeploy && h.Deployed.Run == u.Attempt.Run {
				h.Deployed = s.prev[k]
				delete(s.prev, k)
			}
		}
		if u.Drift != nil {
			h.Drift = *u.Drift
		}
		s.sync[k] = h
	}
	return nil
}

// HostSyncs implements engine.SyncStore.
func (s *MemStore) HostSyncs(_ context.Context, job string) ([]engine.HostSync, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []engine.HostSync
	for _, h := range s.sync {
		if job == "" || h.Job == job {
			out = append(out, h)
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Job != out[j].Job {
			return out[i].Job < out[j].Job
		}
		return out[i].Host < out[j].Host
	})
	return out, nil
}
