package cluster

import (
	"context"
	"encoding/json"
	"errors"
	"time"
)

// ErrFenced is returned by a store write refused because the writer's
// lease epoch is no longer the current one: another node took over.
var ErrFenced = errors.New("fenced: this node no longer holds the leader lease")

// Lease is the leader lease as the database has it. Expires is the
// database's clock: nodes never compare it with their own.
type Lease struct {
	Holder  string    `json:"holder"`
	Epoch   int64     `json:"epoch"`
	Expires time.Time `json:"expires,omitzero"`
}

// NodeInfo is one daemon of the cluster, as its heartbeats say.
type NodeInfo struct {
	Name      string    `json:"name"`
	URL       string    `json:"url,omitempty"` // its public URL
	Version   string    `json:"version,omitempty"`
	Started   time.Time `json:"started"`
	Heartbeat time.Time `json:"heartbeat"` // the database's clock at the last heartbeat
	// State is what the node last published (Member.Publish): the
	// leader's daemon status and alert holds, for the followers.
	State json.RawMessage `json:"state,omitempty"`
	// Age is how long ago, on the database's clock, the last heartbeat
	// was taken (Nodes sets it).
	Age time.Duration `json:"-"`
}

// Store is what the cluster keeps in the shared database. Times that
// decide (expiry, liveness) are the database's, so that clock skew between
// nodes does not matter.
type Store interface {
	// AcquireLease makes node the leader when the lease is free or
	// expired, moving the epoch on; ok is false while another node holds
	// a live lease (lease is then that node's).
	AcquireLease(ctx context.Context, node string, ttl time.Duration) (lease Lease, ok bool, err error)
	// RenewLease extends node's lease of epoch by ttl; ok is false when
	// node no longer holds it.
	RenewLease(ctx context.Context, node string, epoch int64, ttl time.Duration) (lease Lease, ok bool, err error)
	// ReleaseLease gives the lease up (a clean shutdown), so that another
	// node takes over at once.
	ReleaseLease(ctx context.Context, node string, epoch int64) error
	// CurrentLease is the lease as it is now.
	CurrentLease(ctx context.Context) (Lease, error)
	// Heartbeat records that node is alive, with its URL, version, start
	// and published State.
	Heartbeat(ctx context.Context, n NodeInfo) error
	// Nodes lists every node that ever heartbeat, with the age of its last
	// heartbeat.
	Nodes(ctx context.Context) ([]NodeInfo, error)
}
