package httpapi

import (
	"context"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"time"

	"github.com/ripple-ops/ripple/definitions"
	"github.com/ripple-ops/ripple/engine"
	"github.com/ripple-ops/ripple/engine/facts"
)

// FactsOptions are the facts endpoints' parts of Options.
type FactsOptions struct {
	// Reader is where facts are read (the store); nil leaves facts out of
	// hosts and answers the facts endpoints 501.
	Reader engine.FactReader
	// Gatherer gathers on demand (POST /api/v1/facts); nil answers 501.
	Gatherer engine.FactsGatherer
	// Syncs, when set, gives the patch report the last successful run of
	// each job on each host.
	Syncs interface {
		HostSyncs(ctx context.Context, job string) ([]engine.HostSync, error)
	}
	// Interval is the daemon's --facts-interval: facts older than two
	// intervals are stale; 0 means gathering is off and nothing is stale.
	Interval time.Duration
}

// FactsState is what is known of a host's facts beside their values.
type FactsState struct {
	GatheredAt    *time.Time `json:"gathered_at,omitempty"`
	AttemptAt     *time.Time `json:"attempt_at,omitempty"`
	Error         string     `json:"error,omitempty"`
	Stale         bool       `json:"stale"`
	UpdatesSince  *time.Time `json:"pending_updates_since,omitempty"`
	SecuritySince *time.Time `json:"pending_security_updates_since,omitempty"`
}

// HostFacts is one host's facts: GET /api/v1/facts, POST /api/v1/facts.
type HostFacts struct {
	Host  string            `json:"host"`
	Facts *engine.HostFacts `json:"facts"`
	State FactsState        `json:"facts_state"`
}

// HostDetail is GET /api/v1/hosts/{host}: the host, its facts and their
// history (newest first).
type HostDetail struct {
	Host
	History []engine.FactChange `json:"facts_history"`
}

// FactsRequest is the body of POST /api/v1/facts.
type FactsRequest struct {
	Hosts []string `json:"hosts"`
}

func ptrTime(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

func (h *Handler) factsOf(r engine.FactsRecord, now time.Time) (*engine.HostFacts, FactsState) {
	st := FactsState{
		GatheredAt: ptrTime(r.GatheredAt), AttemptAt: ptrTime(r.AttemptAt), Error: r.Error,
		Stale:        r.Stale(now, h.opts.Facts.Interval),
		UpdatesSince: ptrTime(r.UpdatesSince), SecuritySince: ptrTime(r.SecuritySince),
	}
	if r.GatheredAt.IsZero() {
		return nil, st
	}
	f := r.Facts
	return &f, st
}

// addFacts fills the facts of hosts from the store.
func (h *Handler) addFacts(ctx context.Context, hosts []Host) error {
	if h.opts.Facts.Reader == nil {
		return nil
	}
	recs, err := h.opts.Facts.Reader.HostFacts(ctx, "")
	if err != nil {
		return err
	}
	byHost := make(map[string]engine.FactsRecord, len(recs))
	for _, r := range recs {
		byHost[r.Host] = r
	}
	now := time.Now()
	for i := range hosts {
		r, ok := byHost[hosts[i].Name]
		if !ok {
			r = engine.FactsRecord{Host: hosts[i].Name}
		}
		f, st := h.factsOf(r, now)
		hosts[i].Facts, hosts[i].FactsState = f, &st
	}
	return nil
}

func (h *Handler) getHost(w http.ResponseWriter, r *http.Request, _ Identity) {
	name := r.PathValue("host")
	inv := h.inventory()
	if inv.Defs == nil || inv.Defs.Hosts[name] == nil {
		writeError(w, http.StatusNotFound, fmt.Sprintf("host %q is not defined at the applied commit", name))
		return
	}
	states, err := hostStates(r.Context(), h.opts.Monitors, h.opts.Store, map[string]bool{name: true})
	if err != nil {
		writeBackendError(w, err)
		return
	}
	host := hostJSON(inv.Defs.Hosts[name], inv.HostJobs[name])
	var health StateCounts
	for _, m := range inv.HostMonitors[name] {
		st, ok := states[[2]string{m, name}]
		if !ok {
			st = StatePending
		}
		host.Monitors[m] = st
		health[healthRank(st)]++
	}
	host.Health = health.Worst()
	out := HostDetail{Host: host, History: []engine.FactChange{}}
	hosts := []Host{host}
	if err := h.addFacts(r.Context(), hosts); err != nil {
		writeBackendError(w, err)
		return
	}
	out.Host = hosts[0]
	if h.opts.Facts.Reader != nil {
		hist, err := h.opts.Facts.Reader.FactHistory(r.Context(), name, 200)
		if err != nil {
			writeBackendError(w, err)
			return
		}
		if hist != nil {
			out.History = hist
		}
	}
	writeJSON(w, http.StatusOK, out)
}

// listFacts is GET /api/v1/facts[?host=a&host=b]: the facts of every host
// of the applied commit (or those named), sorted by host.
func (h *Handler) listFacts(w http.ResponseWriter, r *http.Request, _ Identity) {
	if h.opts.Facts.Reader == nil {
		writeError(w, http.StatusNotImplemented, "this daemon keeps no facts")
		return
	}
	defs := h.opts.Backend.Definitions()
	names := r.URL.Query()["host"]
	var hosts []Host
	if defs != nil {
		if len(names) == 0 {
			for _, n := range sortedHosts(defs) {
				hosts = append(hosts, Host{Name: n})
			}
		}
		for _, n := range names {
			if defs.Hosts[n] == nil {
				writeError(w, http.StatusNotFound, fmt.Sprintf("host %q is not defined at the applied commit", n))
				return
			}
			hosts = append(hosts, Host{Name: n})
		}
	}
	if err := h.addFacts(r.Context(), hosts); err != nil {
		writeBackendError(w, err)
		return
	}
	out := make([]HostFacts, 0, len(hosts))
	for _, x := range hosts {
		out = append(out, HostFacts{Host: x.Name, Facts: x.Facts, State: *x.FactsState})
	}
	writeJSON(w, http.StatusOK, out)
}

// postFacts is POST /api/v1/facts: gather now (body {"hosts": [...]}, all
// hosts when empty) and answer the hosts' facts.
func (h *Handler) postFacts(w http.ResponseWriter, r *http.Request, _ Identity) {
	if h.opts.Facts.Gatherer == nil {
		writeError(w, http.StatusNotImplemented, "this daemon does not gather facts")
		return
	}
	var req FactsRequest
	if !decodeBody(w, r, &req) {
		return
	}
	recs, err := h.opts.Facts.Gatherer.GatherFacts(r.Context(), req.Hosts...)
	if err != nil {
		writeBackendError(w, err)
		return
	}
	now := time.Now()
	out := make([]HostFacts, 0, len(recs))
	for _, rec := range recs {
		f, st := h.factsOf(rec, now)
		out = append(out, HostFacts{Host: rec.Host, Facts: f, State: st})
	}
	writeJSON(w, http.StatusOK, out)
}

// BuildPatches builds the patch compliance report of defs (the applied
// commit; nil: no hosts) from the facts and, when opts has them, the sync
// records. The web UI shows the same.
func BuildPatches(ctx context.Context, defs *definitions.Definitions, opts FactsOptions) (facts.PatchReport, error) {
	if defs == nil {
		return facts.PatchReport{Hosts: []facts.PatchRow{}, Groups: []facts.PatchGroup{}}, nil
	}
	recs, err := opts.Reader.HostFacts(ctx, "")
	if err != nil {
		return facts.PatchReport{}, err
	}
	var syncs []engine.HostSync
	if opts.Syncs != nil {
		if syncs, err = opts.Syncs.HostSyncs(ctx, ""); err != nil {
			return facts.PatchReport{}, err
		}
	}
	return facts.BuildPatchReport(defs, recs, syncs, time.Now(), opts.Interval), nil
}

func (h *Handler) getPatches(w http.ResponseWriter, r *http.Request, _ Identity) {
	if h.opts.Facts.Reader == nil {
		writeError(w, http.StatusNotImplemented, "this daemon keeps no facts")
		return
	}
	rep, err := BuildPatches(r.Context(), h.opts.Backend.Definitions(), h.opts.Facts)
	if err != nil {
		writeBackendError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, rep)
}

func sortedHosts(defs *definitions.Definitions) []string {
	return slices.Sorted(maps.Keys(defs.Hosts))
}
