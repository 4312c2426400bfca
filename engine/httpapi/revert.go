package httpapi

import (
	"context"
	"net/http"

	"github.com/ripple-ops/ripple/engine"
)

// RevertBackend proposes reverts of ops repo commits as branches (and pull
// requests); *gitops.Daemon implements it.
type RevertBackend interface {
	Revert(ctx context.Context, commit string, runID int64, actor, reason string) (engine.RevertResult, error)
}

// RevertRequest is the body of POST /api/v1/commits/{sha}/revert: why
// (required), and the failed run it is asked from, if any.
type RevertRequest struct {
	Reason string `json:"reason"`
	Run    int64  `json:"run,omitempty"`
}

// postRevert: POST /api/v1/commits/{sha}/revert. It answers 201 with the
// RevertResult; a pull request that could not be opened is in its
// pull_request_error (the branch exists all the same).
func (h *Handler) postRevert(w http.ResponseWriter, r *http.Request, who Identity) {
	if h.opts.Revert == nil {
		writeError(w, http.StatusNotImplemented, "this daemon makes no reverts")
		return
	}
	var req RevertRequest
	if !decodeBody(w, r, &req) {
		return
	}
	res, err := h.opts.Revert.Revert(r.Context(), r.PathValue("sha"), req.Run, who.Name, reasonOr(req.Reason))
	if err != nil {
		writeBackendError(w, err)
		return
	}
	writeJSON(w, http.StatusCreated, res)
}
