package engine

import (
	"context"
	"time"

	"github.com/ripple-ops/ripple/definitions"
)

// What the daemon gives the components it runs and shows of itself: the
// definitions of the applied commit (ConfigApplier), the clock, and its
// status.

// ConfigApplier follows the applied commit, like a Prometheus component
// follows its configuration file: the daemon calls ApplyConfig from its
// goroutine with the definitions of the base commit at start-up and of
// each commit that becomes the base. A component keeps what did not change
// running, swaps what did, and on error keeps the last good configuration
// (the error says what it could not take).
type ConfigApplier interface {
	ApplyConfig(ctx context.Context, defs *definitions.Definitions) error
}

// ConfigApplierFunc adapts a function to ConfigApplier.
type ConfigApplierFunc func(ctx context.Context, defs *definitions.Definitions) error

// ApplyConfig calls f(ctx, defs).
func (f ConfigApplierFunc) ApplyConfig(ctx context.Context, defs *definitions.Definitions) error {
	return f(ctx, defs)
}

// DaemonStatus is what the daemon is doing, for the API and logs.
type DaemonStatus struct {
	Branch string `json:"branch"`
	Repo   string `json:"repo"`
	// Head is the branch head at the last fetch.
	Head string `json:"head,omitempty"`
	// LastApplied is the last commit whose runs all ended.
	LastApplied string `json:"last_applied,omitempty"`
	// Base is the last commit whose runs were started; the next diff starts
	// here. It runs ahead of LastApplied while runs are in progress.
	Base     string `json:"base,omitempty"`
	Ready    bool   `json:"ready"`
	Stopping bool   `json:"stopping,omitempty"`
	Paused   string `json:"paused,omitempty"`  // why reconciling waits for an operator
	Refused  string `json:"refused,omitempty"` // why the head is not applied
	// LastError says what is wrong now: the store's write error while it
	// cannot write, else the last fetch or reconcile error.
	LastError string    `json:"last_error,omitempty"`
	LastFetch time.Time `json:"last_fetch,omitzero"`
	PollEvery string    `json:"poll,omitempty"`
	// Node and Leader, in a cluster, are the node that answers and the
	// node that holds the leader lease ("" while none does); the rest is
	// the leader's status as it last published it.
	Node   string `json:"node,omitempty"`
	Leader string `json:"leader,omitempty"`
	// Store is whether the store can write; nil when the daemon has no
	// view of it (taken as writable).
	Store *StoreHealth `json:"store,omitempty"`
}

// StoreFailing reports whether the store is known not to write.
func (s DaemonStatus) StoreFailing() bool { return s.Store != nil && !s.Store.Writable }

// Clock is the time source of rollouts: gate timers, pauses and the times
// recorded on runs. Tests substitute virtual time.
type Clock interface {
	Now() time.Time
	// After fires once d has passed. It must not block.
	After(d time.Duration) <-chan time.Time
}

// RealClock is the wall clock.
type RealClock struct{}

// Now returns time.Now().
func (RealClock) Now() time.Time { return time.Now() }

// After returns time.After(d).
func (RealClock) After(d time.Duration) <-chan time.Time { return time.After(d) }
