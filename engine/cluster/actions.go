package cluster

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/rs/zerolog"

	"github.com/ripple-ops/ripple/engine"
)

// Actions: what an operator or a webhook asks of any node, and only the
// leader carries out (approve, abort, runs, syncs, reconciles, pushes,
// pull requests), goes through the database. The asking node enqueues it
// and, for an answer, waits for the leader's outcome; the leader claims
// actions under its epoch and records each outcome. An action the leader
// claimed but never finished (it died) is not carried out twice: the next
// leader ends it with an error, and the asker says to try again.

// Action is one request for the leader.
type Action struct {
	ID      int64
	Kind    string
	Payload json.RawMessage
	Node    string // the node that enqueued it
	Created time.Time
	// Key, when set, makes the action once-only: enqueueing a second
	// action with the same key does nothing (a webhook delivery sent to
	// two nodes).
	Key string
	// Redo marks an action that is safe to carry out again (a trigger: a
	// push reconciles from git): when a leader claimed it and stopped, the
	// next leader carries it out instead of ending it with ErrLeaderGone.
	Redo bool
	// ClaimedEpoch is the epoch of the leader that claimed it; 0 while
	// unclaimed.
	ClaimedEpoch int64
}

// Outcome is the leader's answer to an action: a JSON result, or an error
// with a code that keeps engine's error kinds across nodes.
type Outcome struct {
	Result  json.RawMessage `json:"result,omitempty"`
	Code    string          `json:"code,omitempty"`
	Message string          `json:"message,omitempty"`
}

// ActionStore keeps the actions in the shared database.
type ActionStore interface {
	// EnqueueAction stores a (ID, ClaimedEpoch and Created are the
	// store's); isNew is false, and id that of the first, when an action
	// with the same non-empty Key was enqueued before.
	EnqueueAction(ctx context.Context, a Action) (id int64, isNew bool, err error)
	// ClaimActions claims up to limit actions nobody claimed, oldest
	// first, for the leader of epoch; the store refuses it (ErrFenced)
	// when epoch is not the current one. Actions an older epoch claimed
	// but never finished are returned too, with their ClaimedEpoch, for
	// the new leader to end.
	ClaimActions(ctx context.Context, node string, epoch int64, limit int) ([]Action, error)
	FinishAction(ctx context.Context, id int64, o Outcome) error
	// ActionOutcome is the outcome of action id; ok is false until the
	// leader recorded one.
	ActionOutcome(ctx context.Context, id int64) (o Outcome, ok bool, err error)
}

// Error codes of outcomes: engine's sentinel errors by name.
var codes = map[string]error{
	"not_found":    engine.ErrNotFound,
	"invalid":      engine.ErrInvalidRequest,
	"conflict":     engine.ErrConflict,
	"not_running":  engine.ErrNotRunning,
	"not_waiting":  engine.ErrNotWaiting,
	"run_finished": engine.ErrRunFinished,
}

// errorCode is the code of err: the first engine error it wraps, "error"
// otherwise.
func errorCode(err error) string {
	names := make([]string, 0, len(codes))
	for c := range codes {
		names = append(names, c)
	}
	sort.Strings(names)
	for _, c := range names {
		if errors.Is(err, codes[c]) {
			return c
		}
	}
	return "error"
}

// outcomeError is the error an outcome carries, wrapping the engine error
// its code names, so the surfaces map it as they would locally.
type outcomeError struct {
	msg  string
	kind error
}

func (e *outcomeError) Error() string { return e.msg }
func (e *outcomeError) Unwrap() error { return e.kind }

func (o Outcome) err() error {
	if o.Code == "" {
		return nil
	}
	return &outcomeError{msg: o.Message, kind: codes[o.Code]}
}

// ErrLeaderGone is the outcome of an action the leader claimed and never
// finished: it stopped. The action was not carried out; try again.
var ErrLeaderGone = errors.New("the leader stopped before carrying the request out; nothing was done, try again")

// Forwarder hands actions to the leader.
type Forwarder struct {
	Store ActionStore
	Node  string
	// Poll is how often a waiting Do looks for the outcome; default 50ms.
	Poll time.Duration
}

// Send enqueues an action that is safe to carry out twice (a trigger, a
// webhook event) and returns at once: the leader carries it out when it
// gets to it. A non-empty key makes it once-only across nodes: isNew is
// false when an action with that key was sent before.
func (f *Forwarder) Send(ctx context.Context, kind, key string, req any) (isNew bool, err error) {
	b, err := json.Marshal(req)
	if err != nil {
		return false, fmt.Errorf("%s request: %w", kind, err)
	}
	_, isNew, err = f.Store.EnqueueAction(ctx, Action{Kind: kind, Key: key, Payload: b, Node: f.Node, Redo: true})
	if err != nil {
		return false, fmt.Errorf("hand %s to the leader: %w", kind, err)
	}
	return isNew, nil
}

// Do enqueues an action, waits for the leader's outcome, and decodes its
// result into resp (when not nil). The leader's error comes back wrapping
// the same engine error. ctx bounds the wait; when it ends first, the
// action may still be carried out.
func (f *Forwarder) Do(ctx context.Context, kind string, req, resp any) error {
	b, err := json.Marshal(req)
	if err != nil {
		return fmt.Errorf("%s request: %w", kind, err)
	}
	id, _, err := f.Store.EnqueueAction(ctx, Action{Kind: kind, Payload: b, Node: f.Node})
	if err != nil {
		return fmt.Errorf("hand %s to the leader: %w", kind, err)
	}
	poll := f.Poll
	if poll <= 0 {
		poll = 50 * time.Millisecond
	}
	t := time.NewTicker(poll)
	defer t.Stop()
	for {
		o, ok, err := f.Store.ActionOutcome(ctx, id)
		switch {
		case err != nil:
			return fmt.Errorf("%s: read the leader's answer: %w", kind, err)
		case ok:
			if err := o.err(); err != nil {
				return err
			}
			if resp != nil && len(o.Result) > 0 {
				if err := json.Unmarshal(o.Result, resp); err != nil {
					return fmt.Errorf("%s: decode the leader's answer: %w", kind, err)
				}
			}
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%s: no answer from the leader yet (it may still carry it out): %w", kind, ctx.Err())
		case <-t.C:
		}
	}
}

// Handler carries out one kind of action on the leader; its result is
// sent back as JSON.
type Handler func(ctx context.Context, payload json.RawMessage) (any, error)

// Executor carries actions out on the leader, for one term.
type Executor struct {
	Store    ActionStore
	Node     string
	Epoch    int64
	Handlers map[string]Handler
	// Poll is how often it looks for new actions; default 50ms.
	Poll   time.Duration
	Logger zerolog.Logger
}

// Run claims and carries out actions until ctx ends (the term ends).
func (x *Executor) Run(ctx context.Context) error {
	poll := x.Poll
	if poll <= 0 {
		poll = 50 * time.Millisecond
	}
	log := x.Logger.With().Str("component", "actions").Int64("epoch", x.Epoch).Logger()
	t := time.NewTicker(poll)
	defer t.Stop()
	for {
		acts, err := x.Store.ClaimActions(ctx, x.Node, x.Epoch, 32)
		switch {
		case errors.Is(err, ErrFenced):
			return err
		case err != nil:
			if ctx.Err() != nil {
				return nil
			}
			log.Warn().Err(err).Msg("claim actions")
		}
		for _, a := range acts {
			x.carryOut(ctx, log, a)
		}
		if len(acts) > 0 {
			continue
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

func (x *Executor) carryOut(ctx context.Context, log zerolog.Logger, a Action) {
	var o Outcome
	switch h := x.Handlers[a.Kind]; {
	case a.ClaimedEpoch != 0 && a.ClaimedEpoch != x.Epoch && !a.Redo:
		o = Outcome{Code: "not_running", Message: ErrLeaderGone.Error()}
	case h == nil:
		o = Outcome{Code: "invalid", Message: fmt.Sprintf("this leader does not carry out %q requests", a.Kind)}
	default:
		res, err := h(ctx, a.Payload)
		if err != nil {
			o = Outcome{Code: errorCode(err), Message: err.Error()}
		} else if res != nil {
			b, merr := json.Marshal(res)
			if merr != nil {
				o = Outcome{Code: "error", Message: "encode the answer: " + merr.Error()}
			} else {
				o.Result = b
			}
		}
	}
	log.Info().Int64("action", a.ID).Str("kind", a.Kind).Str("from", a.Node).Str("code", o.Code).Msg("action carried out")
	if err := x.Store.FinishAction(context.WithoutCancel(ctx), a.ID, o); err != nil {
		log.Error().Err(err).Int64("action", a.ID).Msg("record an action's outcome")
	}
}
