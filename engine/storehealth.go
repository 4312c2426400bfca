package engine

import (
	"context"
	"errors"
	"time"
)

// ErrStoreUnwritable marks a write the store could not make because it
// cannot write at all right now (a full disk, an I/O error, a read-only
// file system), as opposed to a write refused for what it asked. Such a
// write was not made, or, when the commit itself failed, its outcome is
// known only by reading. Whoever was writing stops what depended on the
// write; a StoreProbe tells when the store writes again.
var ErrStoreUnwritable = errors.New("store cannot write")

// StoreHealth is whether the store can write, for the daemon's status,
// /readyz and the web UI.
type StoreHealth struct {
	// Writable is false from a write that failed with ErrStoreUnwritable
	// until a write (or a probe) succeeds again.
	Writable bool `json:"writable"`
	// Error is the failure that made the store unwritable; Since is when
	// that started. Both are empty while it writes.
	Error string    `json:"error,omitempty"`
	Since time.Time `json:"since,omitzero"`
	// StoppedRuns are the runs of this process whose execution a failed
	// write ended; they resume once the store writes again.
	StoppedRuns []int64 `json:"stopped_runs,omitempty"`
}

// StoreProbe is the store's own view of its writes.
type StoreProbe interface {
	// WriteHealth reports whether writes succeed; StoppedRuns is left
	// empty (the store does not know about runs).
	WriteHealth() StoreHealth
	// Probe makes one small durable write and returns its error (wrapping
	// ErrStoreUnwritable when the store still cannot write). A success
	// makes WriteHealth writable again.
	Probe(ctx context.Context) error
}
