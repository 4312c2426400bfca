package httpapi

import (
	"context"
	"net/http"
	"strings"

	"github.com/ripple-ops/ripple/engine"
	"github.com/ripple-ops/ripple/engine/convergence"
)

// SyncBackend is the daemon's convergence: sync state per (job, host),
// sync runs and drift checks; *gitops.Daemon implements it.
type SyncBackend interface {
	SyncStates(ctx context.Context, jobs ...string) ([]convergence.JobSync, error)
	StartSync(ctx context.Context, job string, hosts []string, actor, reason string) (*engine.Run, error)
	CheckDrift(ctx context.Context, jobs ...string) ([]engine.JobDrift, error)
}

// DriftRequest is the body of POST /api/v1/drift.
type DriftRequest struct {
	Jobs []string `json:"jobs"`
}

func (h *Handler) syncBackend(w http.ResponseWriter) (SyncBackend, bool) {
	if h.opts.Sync == nil {
		writeError(w, http.StatusNotImplemented, "this daemon keeps no sync state")
		return nil, false
	}
	return h.opts.Sync, true
}

// getSync: GET /api/v1/sync[?job=J...].
func (h *Handler) getSync(w http.ResponseWriter, r *http.Request, _ Identity) {
	sb, ok := h.syncBackend(w)
	if !ok {
		return
	}
	states, err := sb.SyncStates(r.Context(), r.URL.Query()["job"]...)
	if err != nil {
		writeBackendError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, states)
}

// startSync: POST /api/v1/jobs/{job}/sync with {"reason", "hosts"}.
func (h *Handler) startSync(w http.ResponseWriter, r *http.Request, who Identity) {
	sb, ok := h.syncBackend(w)
	if !ok {
		return
	}
	var req RunRequest
	if !decodeBody(w, r, &req) {
		return
	}
	if len(req.Params) > 0 {
		writeError(w, http.StatusBadRequest, "a sync run takes no params: it runs the job as the applied commit says, with the params' defaults")
		return
	}
	for _, host := range req.Hosts {
		if strings.TrimSpace(host) == "" {
			writeError(w, http.StatusBadRequest, "hosts holds an empty name")
			return
		}
	}
	run, err := sb.StartSync(r.Context(), r.PathValue("job"), req.Hosts, who.Name, reasonOr(req.Reason))
	if err != nil {
		writeBackendError(w, err)
		return
	}
	writeJSON(w, http.StatusAccepted, RunJSON(run, h.opts.PublicURL))
}

// postDrift: POST /api/v1/drift with {"jobs"}: check now, read-only.
func (h *Handler) postDrift(w http.ResponseWriter, r *http.Request, _ Identity) {
	sb, ok := h.syncBackend(w)
	if !ok {
		return
	}
	var req DriftRequest
	if !decodeBody(w, r, &req) {
		return
	}
	out, err := sb.CheckDrift(r.Context(), req.Jobs...)
	if err != nil {
		writeBackendError(w, err)
		return
	}
	if out == nil {
		out = []engine.JobDrift{}
	}
	writeJSON(w, http.StatusOK, out)
}
