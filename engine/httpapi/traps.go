package httpapi

import (
	"net/http"

	"github.com/ripple-ops/ripple/engine"
)

// TrapSource reports the SNMP trap receiver of this daemon: where it
// listens, what became of the packets it got, and the traps that matched
// no trap block (the monitor runner).
type TrapSource interface {
	TrapReport() engine.TrapReport
}

// getTraps: GET /api/v1/traps. listen is "" when the daemon runs without
// --trap-listen. In a cluster each node reports the traps it received.
func (h *Handler) getTraps(w http.ResponseWriter, _ *http.Request, _ Identity) {
	if h.opts.Traps == nil {
		writeJSON(w, http.StatusOK, engine.TrapReport{Unknown: []engine.UnknownTrap{}})
		return
	}
	rep := h.opts.Traps.TrapReport()
	if rep.Unknown == nil {
		rep.Unknown = []engine.UnknownTrap{}
	}
	writeJSON(w, http.StatusOK, rep)
}
