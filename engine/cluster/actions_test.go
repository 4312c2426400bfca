package cluster_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/ripple-ops/ripple/engine/cluster"

	"github.com/rs/zerolog"

	"github.com/ripple-ops/ripple/engine"
	"github.com/ripple-ops/ripple/engine/enginetest"
)

func TestActionsGoToTheLeaderAndComeBack(t *testing.T) {
	store := enginetest.NewCluster()
	store.SetLease(cluster.Lease{Holder: "a", Epoch: 1, Expires: time.Now().Add(time.Hour)})
	var approved []string
	var mu sync.Mutex
	x := &cluster.Executor{Store: store, Node: "a", Epoch: 1, Poll: 5 * time.Millisecond, Logger: zerolog.Nop(), Handlers: map[string]cluster.Handler{
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

	f := &cluster.Forwarder{Store: store, Node: "b", Poll: 5 * time.Millisecond}
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
	store := enginetest.NewCluster()
	store.SetLease(cluster.Lease{Holder: "a", Epoch: 1, Expires: time.Now().Add(time.Hour)})
	id, _, _ := store.EnqueueAction(ctx, cluster.Action{Kind: "run", Payload: []byte(`{}`), Node: "b"})
	f := &cluster.Forwarder{Store: store, Node: "b"}
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
	store.SetLease(cluster.Lease{Holder: "c", Epoch: 2, Expires: time.Now().Add(time.Hour)})
	ran := map[string]int{}
	count := func(kind string) cluster.Handler {
		return func(context.Context, json.RawMessage) (any, error) { ran[kind]++; return nil, nil }
	}
	x := &cluster.Executor{Store: store, Node: "c", Epoch: 2, Poll: 5 * time.Millisecond, Logger: zerolog.Nop(),
		Handlers: map[string]cluster.Handler{"run": count("run"), "push": count("push")}}
	rctx, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
	defer cancel()
	_ = x.Run(rctx)
	o, ok, _ := store.ActionOutcome(ctx, id)
	if !ok || ran["run"] != 0 || o.Message != cluster.ErrLeaderGone.Error() {
		t.Fatalf("outcome %+v (ok %v), ran %v", o, ok, ran)
	}
	if ran["push"] != 1 {
		t.Fatalf("the trigger the dead leader claimed was carried out %d times, want 1", ran["push"])
	}
	// A fenced executor stops.
	store.SetLease(cluster.Lease{Holder: "d", Epoch: 3, Expires: time.Now().Add(time.Hour)})
	if err := x.Run(context.Background()); !errors.Is(err, cluster.ErrFenced) {
		t.Fatalf("fenced executor: %v", err)
	}
}
