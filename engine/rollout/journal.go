package rollout

import (
	"context"
	"fmt"
	"sort"
	"sync"

	"github.com/ripple-ops/ripple/engine"
)

// stepKey identifies one journal row within a run.
type stepKey struct {
	wave     int
	host     string
	step     string
	rollback bool
}

func keyOf(hs engine.HostStep) stepKey {
	return stepKey{wave: hs.Wave, host: hs.Host, step: hs.Step, rollback: hs.Rollback}
}

// journal is the in-memory mirror of a run's host-step rows. Every change
// is written to the Store first and mirrored only once the Store accepted
// it, so the mirror never claims more than is durable. Safe for concurrent
// use by host goroutines.
type journal struct {
	store Store
	run   int64

	mu   sync.Mutex
	rows map[stepKey]engine.HostStep
}

func loadJournal(ctx context.Context, s Store, run int64) (*journal, error) {
	rows, err := s.HostSteps(ctx, run)
	if err != nil {
		return nil, fmt.Errorf("read journal of run %d: %w", run, err)
	}
	j := &journal{store: s, run: run, rows: make(map[stepKey]engine.HostStep, len(rows))}
	for _, hs := range rows {
		j.rows[keyOf(hs)] = hs
	}
	return j, nil
}

func (j *journal) get(k stepKey) (engine.HostStep, bool) {
	j.mu.Lock()
	defer j.mu.Unlock()
	hs, ok := j.rows[k]
	return hs, ok
}

// plan records planned rows for every key not yet in the journal, in one
// Store commit.
func (j *journal) plan(ctx context.Context, keys []stepKey) error {
	j.mu.Lock()
	var rows []engine.HostStep
	for _, k := range keys {
		if _, ok := j.rows[k]; !ok {
			rows = append(rows, engine.HostStep{RunID: j.run, Wave: k.wave, Host: k.host, Step: k.step, Rollback: k.rollback, Phase: engine.PhasePlanned})
		}
	}
	j.mu.Unlock()
	if len(rows) == 0 {
		return nil
	}
	if err := j.store.PlanHostSteps(ctx, rows); err != nil {
		return fmt.Errorf("plan %d host-steps of run %d: %w", len(rows), j.run, err)
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	for _, hs := range rows {
		j.rows[keyOf(hs)] = hs
	}
	return nil
}

// start makes "k is about to touch its host" durable.
func (j *journal) start(ctx context.Context, k stepKey) error {
	hs := engine.HostStep{RunID: j.run, Wave: k.wave, Host: k.host, Step: k.step, Rollback: k.rollback, Phase: engine.PhaseStarted}
	if err := j.store.StartHostStep(ctx, hs); err != nil {
		return fmt.Errorf("journal start of %s on %s: %w", k.step, k.host, err)
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	j.rows[k] = hs
	return nil
}

func (j *journal) finish(ctx context.Context, k stepKey, res engine.StepResult) error {
	hs := engine.HostStep{RunID: j.run, Wave: k.wave, Host: k.host, Step: k.step, Rollback: k.rollback, Phase: engine.PhaseFinished, Result: res}
	if err := j.store.FinishHostStep(ctx, hs); err != nil {
		return fmt.Errorf("journal result of %s on %s: %w", k.step, k.host, err)
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	j.rows[k] = hs
	return nil
}

// interrupted lists rows started but never finished, in a stable order.
func (j *journal) interrupted() []engine.HostStep {
	j.mu.Lock()
	defer j.mu.Unlock()
	var out []engine.HostStep
	for _, hs := range j.rows {
		if hs.Phase == engine.PhaseStarted {
			out = append(out, hs)
		}
	}
	sortHostSteps(out)
	return out
}

// rows_ lists host's rows, forward or rollback ones, in a stable order.
func (j *journal) hostRows(host string, rollback bool) []engine.HostStep {
	j.mu.Lock()
	defer j.mu.Unlock()
	var out []engine.HostStep
	for k, hs := range j.rows {
		if k.host == host && k.rollback == rollback {
			out = append(out, hs)
		}
	}
	sortHostSteps(out)
	return out
}

// touched returns every host a forward step was started on, with the wave
// it belongs to: the hosts a rollback must visit.
func (j *journal) touched() map[string]int {
	j.mu.Lock()
	defer j.mu.Unlock()
	out := map[string]int{}
	for k, hs := range j.rows {
		if !k.rollback && hs.Phase != engine.PhasePlanned {
			out[k.host] = k.wave
		}
	}
	return out
}

func sortHostSteps(rows []engine.HostStep) {
	sort.Slice(rows, func(a, b int) bool {
		x, y := rows[a], rows[b]
		if x.Wave != y.Wave {
			return x.Wave < y.Wave
		}
		if x.Host != y.Host {
			return x.Host < y.Host
		}
		if x.Rollback != y.Rollback {
			return !x.Rollback
		}
		return x.Step < y.Step
	})
}

// eventLog answers questions about a run's recorded events, in the order
// the Store returned them (the order they were added).
type eventLog []engine.Event

// last returns the index of the last event with action a, or -1.
func (l eventLog) last(a string) int {
	for i := len(l) - 1; i >= 0; i-- {
		if l[i].Action == a {
			return i
		}
	}
	return -1
}

// find returns the first event with action a.
func (l eventLog) find(a string) (engine.Event, bool) {
	for _, e := range l {
		if e.Action == a {
			return e, true
		}
	}
	return engine.Event{}, false
}

// approvedSince returns the first approval recorded after the last event
// with action a, if a was recorded and approved.
func (l eventLog) approvedSince(a string) (engine.Event, bool) {
	i := l.last(a)
	if i < 0 {
		return engine.Event{}, false
	}
	for _, e := range l[i+1:] {
		if e.Action == engine.EventApprove {
			return e, true
		}
	}
	return engine.Event{}, false
}
