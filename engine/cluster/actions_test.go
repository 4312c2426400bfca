package cluster

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/ripple-ops/ripple/engine"
)

// memActions is an ActionStore in memory.
type memActions struct {
	mu      sync.Mutex
	acts    []Action
	out     map[int64]Outcome
	current int64 // the epoch the store lets claim
}

func (m *memActions) EnqueueAction(_ context.Context, kind string, payload []byte, node string) (int64, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	id := int64(len(m.acts) + 1)
	m.acts = append(m.acts, Action{ID: id, Kind: kind, Payload: payload, Node: node, Created: time.Now()})
	return id, nil
}

func (m *memActions) ClaimActions(_ context.Context, _ string, epoch int64, limit int) ([]Action, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if epoch != m.current {
		return nil, ErrFenced
	}
	var out []Action
	for i := range m.acts {
		a := &m.acts[i]
		if _, done := m.out[a.ID]; done || a.ClaimedEpoch == epoch {
			continue
		}
		out = append(out, *a)
		a.ClaimedEpoch = epoch
		if len(out) == limit {
			break
		}
	}
	return out, nil
}

func (m *memActions) FinishAction(_ context.Context, id int64, o Outcome) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.out[id] = o
	return nil
}

func (m *memActions) ActionOutcome(_ context.Context, id int64) (Outcome, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	o, ok := m.out[id]
	return o, ok, nil
}

func TestActionsGoToTheLeaderAndComeBack(t *testing.T) {
	store := &memActions{out: map[int64]Outcome{}, current: 1}
	var approved []string
	var mu sync.Mutex
	x := &Executor{Store: store, Node: "a", Epoch: 1, Poll: 5 * time.Millisecond, Logger: zerolog.Nop(), Handlers: map[string]Handler{
		"approve": func(_ context.Context, p json.RawMessage) (any, error) {
			var req struct{ Run int64 }
			if err := json.Unmarshal(p, &req); err != nil {
				return nil, err
			}
			if req.Run == 7 {
				return nil, fmt.Errorf("approve run 7 (succeeded): %w", engine.ErrNotWaiting)
			}
			mu.Lock()
			approved = append(approved, fmt.Sprint(req.Run))
			mu.Unlock()
			return map[string]string{"state": "running"}, nil
		},
	}}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() { _ = x.Run(ctx) }()

	f := &Forwarder{Store: store, Node: "b", Poll: 5 * time.Millisecond}
	var resp struct{ State string }
	if err := f.Do(ctx, "approve", map[string]int64{"run": 3}, &resp); err != nil || resp.State != "running" {
		t.Fatalf("approve 3: %+v %v", resp, err)
	}
	err := f.Do(ctx, "approve", map[string]int64{"run": 7}, nil)
	if !errors.Is(err, engine.ErrNotWaiting) || err.Error() != "approve run 7 (succeeded): run is not waiting for an operator" {
		t.Fatalf("approve 7: %v", err)
	}
	if err := f.Do(ctx, "nope", nil, nil); !errors.Is(err, engine.ErrInvalidRequest) {
		t.Fatalf("unknown kind: %v", err)
	}
}

// An action the previous leader claimed and never finished is not carried
// out twice: the next leader ends it with ErrLeaderGone.
func TestActionOfADeadLeaderIsNotCarriedOutTwice(t *testing.T) {
	store := &memActions{out: map[int64]Outcome{}, current: 1}
	id, _ := store.EnqueueAction(context.Background(), "run", []byte(`{}`), "b")
	if acts, err := store.ClaimActions(context.Background(), "a", 1, 10); err != nil || len(acts) != 1 {
		t.Fatalf("claim: %v %v", acts, err)
	}
	// a dies; c leads at epoch 2.
	store.current = 2
	ran := 0
	x := &Executor{Store: store, Node: "c", Epoch: 2, Poll: 5 * time.Millisecond, Logger: zerolog.Nop(),
		Handlers: map[string]Handler{"run": func(context.Context, json.RawMessage) (any, error) { ran++; return nil, nil }}}
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	_ = x.Run(ctx)
	o, ok, _ := store.ActionOutcome(context.Background(), id)
	if !ok || ran != 0 || o.Message != ErrLeaderGone.Error() {
		t.Fatalf("outcome %+v (ok %v), ran %d", o, ok, ran)
	}
	// A fenced executor stops.
	store.current = 3
	if err := x.Run(context.Background()); !errors.Is(err, ErrFenced) {
		t.Fatalf("fenced executor: %v", err)
	}
}
