package gitops

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/ripple-ops/ripple/definitions"
	"github.com/ripple-ops/ripple/engine"
	"github.com/ripple-ops/ripple/engine/enginetest"
)

// dmRunner records runs in the store and ends them with state, or holds
// them until released when hold is set.
type dmRunner struct {
	store *enginetest.MemStore
	state engine.RunState
	hold  chan struct{} // nil: finish at once
	// recovered is what Recover returns, as if an earlier process had
	// left these runs unfinished.
	recovered []*engine.Run
	// stall, when set, may end an Execute before it does anything, as a
	// write the store cannot make does.
	stall func(id int64) error

	mu       sync.Mutex
	executed []int64
	// sensitive are the values each Submit was given to hold in memory.
	sensitive map[int64]map[string]json.RawMessage
	approved  []string
	aborted   map[int64]bool
}

func (f *dmRunner) Submit(ctx context.Context, req engine.RunRequest) (*engine.Run, error) {
	r := &engine.Run{Job: req.Job, Commit: req.Commit, Branch: req.Branch, Trigger: req.Trigger, Actor: req.Actor, Reason: req.Reason, State: engine.RunQueued, Waves: req.Waves, Created: time.Now(),
		Params: req.Params, Exec: req.Exec}
	if err := f.store.CreateRun(ctx, r); err != nil {
		return nil, err
	}
	f.mu.Lock()
	if f.sensitive == nil {
		f.sensitive = map[int64]map[string]json.RawMessage{}
	}
	f.sensitive[r.ID] = req.Sensitive
	f.mu.Unlock()
	if r.Exec != nil {
		return r, nil
	}
	return r, f.store.SetStatus(ctx, engine.CommitStatus{Commit: r.Commit, Context: engine.StatusJobPrefix + r.Job, State: "pending", Description: "queued"})
}

func (f *dmRunner) Execute(ctx context.Context, _ *definitions.Definitions, id int64) (*engine.Run, error) {
	f.mu.Lock()
	f.executed = append(f.executed, id)
	f.mu.Unlock()
	if f.stall != nil {
		if err := f.stall(id); err != nil {
			return nil, err
		}
	}
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
	// Like rollout: an earlier run of the job that needs an operator
	// holds the job.
	for _, o := range f.store.AllRuns() {
		if o.Job == r.Job && o.ID < r.ID && o.State == engine.RunNeedsOperator {
			return r, fmt.Errorf("run %d: %w", r.ID, engine.ErrJobHeld)
		}
	}
	f.mu.Lock()
	aborted := f.aborted[id]
	f.mu.Unlock()
	r.State = f.state
	switch {
	case aborted:
		r.State = engine.RunAborted
	case r.State == "":
		r.State = engine.RunSucceeded
	}
	return r, f.store.UpdateRun(ctx, r)
}

func (f *dmRunner) Approve(_ context.Context, id int64, actor, reason string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.approved = append(f.approved, fmt.Sprintf("%d %s %s", id, actor, reason))
	return nil
}

func (f *dmRunner) Recover(context.Context, engine.DefinitionsLoader) ([]*engine.Run, error) {
	return f.recovered, nil
}

func (f *dmRunner) Abort(_ context.Context, id int64, _, _ string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.aborted == nil {
		f.aborted = map[int64]bool{}
	}
	f.aborted[id] = true
	return nil
}

func (f *dmRunner) executedIDs() []int64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.executed)
}

// dmHealth is a store's write health: unwritable while full, and its
// probes fail then.
type dmHealth struct {
	mu     sync.Mutex
	full   bool
	since  time.Time
	probes int
}

func (h *dmHealth) fill() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.full, h.since = true, time.Now()
}

func (h *dmHealth) free() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.full = false
}

func (h *dmHealth) isFull() bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.full
}

func (h *dmHealth) probeCount() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.probes
}

func (h *dmHealth) err() error {
	return fmt.Errorf("%w: ripple.db: commit: database or disk is full (13)", engine.ErrStoreUnwritable)
}

func (h *dmHealth) WriteHealth() engine.StoreHealth {
	h.mu.Lock()
	defer h.mu.Unlock()
	if !h.full {
		return engine.StoreHealth{Writable: true}
	}
	return engine.StoreHealth{Error: h.err().Error(), Since: h.since}
}

func (h *dmHealth) Probe(context.Context) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.probes++
	if h.full {
		return h.err()
	}
	return nil
}

func (f *dmRunner) executedCount() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.executed)
}
