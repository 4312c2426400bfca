package httpapi

import (
	"context"
	"net/http"
	"time"

	"github.com/ripple-ops/ripple/engine"
)

// ExecBackend runs ad-hoc commands; *gitops.Daemon implements it.
type ExecBackend interface {
	// Exec records and queues an exec run; a request that cannot be
	// carried out (no reason, no such host) is an error wrapping
	// engine.ErrInvalidRequest.
	Exec(ctx context.Context, req engine.ExecRequest) (*engine.Run, error)
}

// postExec: POST /api/v1/exec with an ExecRequest; answers 202 with the
// run, which executes like any run (follow it on GET runs/{id}/events).
func (h *Handler) postExec(w http.ResponseWriter, r *http.Request, who Identity) {
	if h.opts.Exec == nil {
		writeError(w, http.StatusNotImplemented, "this daemon runs no ad-hoc commands")
		return
	}
	var req ExecRequest
	if !decodeBody(w, r, &req) {
		return
	}
	var timeout time.Duration
	if req.Timeout != "" {
		d, err := time.ParseDuration(req.Timeout)
		if err != nil || d <= 0 {
			writeError(w, http.StatusBadRequest, "timeout must be a duration such as \"30s\" or \"5m\"")
			return
		}
		timeout = d
	}
	run, err := h.opts.Exec.Exec(r.Context(), engine.ExecRequest{
		Hosts: req.Hosts, Group: req.Group, All: req.All, Command: req.Command,
		MaxParallel: req.MaxParallel, Timeout: timeout, Actor: who.Name, Reason: reasonOr(req.Reason),
	})
	if err != nil {
		writeBackendError(w, err)
		return
	}
	writeJSON(w, http.StatusAccepted, RunJSON(run, h.opts.PublicURL))
}
