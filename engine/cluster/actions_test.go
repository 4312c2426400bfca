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

func (m *memActions) EnqueueAction(_ context.Context, a Action) (int64, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, b := range m.acts {
		if a.Key != "" && b.Key == a.Key {
			return b.ID, false, nil
		}
	}
	a.ID, a.Created, a.ClaimedEpoch = int64(len(m.acts)+1), time.Now(), 0
	m.acts = append(m.acts, a)
	return a.ID, true, nil
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
// out twice: the next leader ends it with ErrLeaderGone. A trigger (Send)
// is safe to redo, and is carried out.
func TestActionOfADeadLeaderIsNotCarriedOutTwice(t *testing.T) {
	ctx := context.Background()
	store := &memActions{out: map[int64]Outcome{}, current: 1}
	id, _, _ := store.EnqueueAction(ctx, Action{Kind: "run", Payload: []byte(`{}`), Node: "b"})
	f := &Forwarder{Store: store, Node: "b"}
	if isNew, err := f.Send(ctx, "push", "delivery-1", map[string]string{}); err != nil || !isNew {
		t.Fatalf("send: %v %v", isNew, err)
	}
	if isNew, err := f.Send(ctx, "push", "delivery-1", map[string]string{}); err != nil || isNew {
		t.Fatalf("the same delivery sent again: new %v, %v", isNew, err)
	}
	if acts, err := store.ClaimActions(ctx, "a", 1, 10); err != nil || len(acts) != 2 {
		t.Fatalf("claim: %v %v", acts, err)
	}
	// a dies; c leads at epoch 2.
	store.current = 2
	ran := map[string]int{}
	count := func(kind string) Handler {
		return func(context.Context, json.RawMessage) (any, error) { ran[kind]++; return nil, nil }
	}
	x := &Executor{Store: store, Node: "c", Epoch: 2, Poll: 5 * time.Millisecond, Logger: zerolog.Nop(),
		Handlers: map[string]Handler{"run": count("run"), "push": count("push")}}
	rctx, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
	defer cancel()
	_ = x.Run(rctx)
	o, ok, _ := store.ActionOutcome(ctx, id)
	if !ok || ran["run"] != 0 || o.Message != ErrLeaderGone.Error() {
		t.Fatalf("outcome %+v (ok %v), ran %v", o, ok, ran)
	}
	if ran["push"] != 1 {
		t.Fatalf("the trigger the dead leader claimed was carried out %d times, want 1", ran["push"])
	}
	// A fenced executor stops.
	store.current = 3
	if err := x.Run(context.Background()); !errors.Is(err, ErrFenced) {
		t.Fatalf("fenced executor: %v", err)
	}
}
