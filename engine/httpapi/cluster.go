package httpapi

import (
	"context"
	"net/http"
	"time"
)

// ClusterSource describes the cluster of daemons that share this daemon's
// store (several `ripple serve` on one PostgreSQL).
type ClusterSource interface {
	Cluster(ctx context.Context) (Cluster, error)
}

// Cluster is GET /api/v1/cluster: the nodes, the leader and its lease, and
// how the monitor checks are shared.
type Cluster struct {
	// Node is the node that answers.
	Node string `json:"node"`
	// Leader holds the lease at Epoch until LeaseExpires (the database's
	// clock); "" while no node holds it (a failover in progress).
	Leader       string    `json:"leader"`
	Epoch        int64     `json:"epoch"`
	LeaseExpires time.Time `json:"lease_expires,omitzero"`
	// Lease is how long a lease lasts without renewal (--lease).
	Lease string        `json:"lease"`
	Nodes []ClusterNode `json:"nodes"`
}

// ClusterNode is one daemon of the cluster.
type ClusterNode struct {
	Name      string    `json:"name"`
	URL       string    `json:"url,omitempty"`
	Version   string    `json:"version,omitempty"`
	Started   time.Time `json:"started,omitzero"`
	Heartbeat time.Time `json:"heartbeat,omitzero"`
	// HeartbeatAge is how long ago its last heartbeat was, in seconds.
	HeartbeatAge float64 `json:"heartbeat_age_seconds"`
	// Live: its heartbeat is recent; a dead node checks nothing.
	Live   bool `json:"live"`
	Leader bool `json:"leader"`
	// Checks is its share of the (monitor, host) checks.
	Checks int `json:"checks"`
}

// getCluster: GET /api/v1/cluster.
func (h *Handler) getCluster(w http.ResponseWriter, r *http.Request, _ Identity) {
	if h.opts.Cluster == nil {
		writeError(w, http.StatusNotImplemented, "this daemon is not part of a cluster: it keeps its state in SQLite (several daemons share a PostgreSQL --store)")
		return
	}
	c, err := h.opts.Cluster.Cluster(r.Context())
	if err != nil {
		writeBackendError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, c)
}
