package httpapi

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/ripple-ops/ripple/engine"
	"github.com/ripple-ops/ripple/engine/convergence"
)

// maxBody caps API request bodies.
const maxBody = 1 << 20

// maxListRuns caps GET runs?limit=.
const maxListRuns = 1000

func (h *Handler) getStatus(w http.ResponseWriter, _ *http.Request, _ Identity) {
	writeJSON(w, http.StatusOK, h.opts.Backend.Status())
}

// postReconcile triggers a reconcile; with accept=<head> (query or body) it
// accepts a rewritten history the daemon paused at.
func (h *Handler) postReconcile(w http.ResponseWriter, r *http.Request, id Identity) {
	var req ActionRequest
	if !decodeBody(w, r, &req) {
		return
	}
	if q := r.URL.Query().Get("accept"); q != "" {
		req.Accept = q
	}
	if req.Accept == "" {
		h.opts.Backend.Trigger("api:" + id.Name)
		writeJSON(w, http.StatusAccepted, h.opts.Backend.Status())
		return
	}
	if err := h.opts.Backend.Accept(r.Context(), req.Accept, id.Name, reasonOr(req.Reason)); err != nil {
		writeBackendError(w, err)
		return
	}
	writeJSON(w, http.StatusAccepted, h.opts.Backend.Status())
}

// listRuns: GET /api/v1/runs with the filters of ParseRunFilter. The body
// is the page; X-Total-Count counts every run the filters match and Link
// names the next (older) page, as GitHub's API does.
func (h *Handler) listRuns(w http.ResponseWriter, r *http.Request, _ Identity) {
	q := r.URL.Query()
	f, err := ParseRunFilter(q, time.Now())
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	runs, err := h.opts.Store.ListRuns(r.Context(), f)
	if err != nil {
		writeBackendError(w, err)
		return
	}
	counts, err := h.opts.Store.CountRuns(r.Context(), f)
	if err != nil {
		writeBackendError(w, err)
		return
	}
	total := 0
	for _, n := range counts {
		total += n
	}
	out := make([]Run, 0, len(runs))
	for _, run := range runs {
		out = append(out, RunJSON(run, h.opts.PublicURL))
	}
	w.Header().Set("X-Total-Count", strconv.Itoa(total))
	if len(runs) == f.Limit {
		next := cloneQuery(q)
		last := runs[len(runs)-1].ID
		if f.Oldest {
			next.Del("before")
			next.Set("after", itoa(last))
		} else {
			next.Del("after")
			next.Set("before", itoa(last))
		}
		w.Header().Set("Link", `<`+h.opts.PublicURL+`/api/v1/runs?`+next.Encode()+`>; rel="next"`)
	}
	writeJSON(w, http.StatusOK, out)
}

func cloneQuery(q url.Values) url.Values {
	out := url.Values{}
	for k, v := range q {
		out[k] = append([]string(nil), v...)
	}
	return out
}

func validState(s engine.RunState) bool {
	switch s {
	case engine.RunQueued, engine.RunRunning, engine.RunWaitingApproval, engine.RunWaitingWindow,
		engine.RunNeedsOperator, engine.RunSucceeded, engine.RunFailed, engine.RunAborted, engine.RunError:
		return true
	}
	return false
}

func (h *Handler) getRun(w http.ResponseWriter, r *http.Request, _ Identity) {
	id, ok := runID(w, r)
	if !ok {
		return
	}
	run, err := h.opts.Store.GetRun(r.Context(), id)
	if err != nil {
		writeBackendError(w, err)
		return
	}
	steps, err := h.opts.Store.HostSteps(r.Context(), id)
	if err != nil {
		writeBackendError(w, err)
		return
	}
	events, err := h.opts.Store.Events(r.Context(), id)
	if err != nil {
		writeBackendError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, runDetail(run, steps, events, h.opts.PublicURL))
}

func (h *Handler) approveRun(w http.ResponseWriter, r *http.Request, who Identity) {
	h.runAction(w, r, who, h.opts.Backend.Approve)
}

func (h *Handler) abortRun(w http.ResponseWriter, r *http.Request, who Identity) {
	h.runAction(w, r, who, h.opts.Backend.Abort)
}

func (h *Handler) runAction(w http.ResponseWriter, r *http.Request, who Identity, act func(ctx context.Context, id int64, actor, reason string) error) {
	id, ok := runID(w, r)
	if !ok {
		return
	}
	var req ActionRequest
	if !decodeBody(w, r, &req) {
		return
	}
	if req.Accept != "" {
		writeError(w, http.StatusBadRequest, "accept is only valid for reconcile")
		return
	}
	if err := act(r.Context(), id, who.Name, reasonOr(req.Reason)); err != nil {
		writeBackendError(w, err)
		return
	}
	run, err := h.opts.Store.GetRun(r.Context(), id)
	if err != nil {
		writeBackendError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, RunJSON(run, h.opts.PublicURL))
}

// listJobs: GET /api/v1/jobs, filtered by ParseJobQuery's parameters
// (every job without them), X-Total-Count counting the matches.
func (h *Handler) listJobs(w http.ResponseWriter, r *http.Request, _ Identity) {
	q := r.URL.Query()
	jq, err := ParseJobQuery(q, 0)
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	inv := h.inventory()
	latest, err := h.opts.Store.LatestRuns(r.Context())
	if err != nil {
		writeBackendError(w, err)
		return
	}
	var syncs []convergence.JobSync
	if h.opts.Sync != nil && inv.Defs != nil && (jq.Sync != "" || jq.Sort == "sync") {
		if syncs, err = h.opts.Sync.SyncStates(r.Context()); err != nil {
			writeBackendError(w, err)
			return
		}
	}
	list := ListJobs(inv, latest, syncs, jq)
	out := []Job{}
	for _, row := range list.Rows {
		j := jobJSON(inv.Defs, inv.Defs.Jobs[row.Name])
		if row.Last != nil {
			lr := RunJSON(row.Last, h.opts.PublicURL)
			j.LastRun = &lr
		}
		out = append(out, j)
	}
	w.Header().Set("X-Total-Count", strconv.Itoa(list.Total))
	writeJSON(w, http.StatusOK, out)
}

func (h *Handler) getJob(w http.ResponseWriter, r *http.Request, _ Identity) {
	name := r.PathValue("job")
	defs := h.opts.Backend.Definitions()
	if defs == nil || defs.Jobs[name] == nil {
		writeError(w, http.StatusNotFound, "no job "+strconv.Quote(name)+" at the applied commit")
		return
	}
	j := jobJSON(defs, defs.Jobs[name])
	runs, err := h.opts.Store.ListRuns(r.Context(), engine.RunFilter{Job: name, Limit: 20})
	if err != nil {
		writeBackendError(w, err)
		return
	}
	j.Runs = []Run{}
	for _, run := range runs {
		j.Runs = append(j.Runs, RunJSON(run, h.opts.PublicURL))
	}
	if len(j.Runs) > 0 {
		j.LastRun = &j.Runs[0]
	}
	if fl, ok := h.opts.Store.(FiringLister); ok && defs.Jobs[name].Schedule != "" {
		firings, err := fl.Firings(r.Context(), name, 20)
		if err != nil {
			writeBackendError(w, err)
			return
		}
		for _, f := range firings {
			j.Firings = append(j.Firings, Firing{At: f.At, Outcome: string(f.Outcome), Error: f.Error})
		}
	}
	writeJSON(w, http.StatusOK, j)
}

// CommitReader names commits: the subject, author and time of a full
// commit id. A Backend that implements it (the daemon, from its mirror)
// adds them to GET /api/v1/commits/{sha} and the UI's overview.
type CommitReader interface {
	CommitInfo(sha string) (engine.CommitInfo, error)
}

// FiringLister lists a job's latest schedule firings, newest first. A
// Store that implements it adds them to GET /api/v1/jobs/{job}.
type FiringLister interface {
	Firings(ctx context.Context, job string, limit int) ([]engine.Firing, error)
}

func (h *Handler) startRun(w http.ResponseWriter, r *http.Request, who Identity) {
	var req RunRequest
	if !decodeBody(w, r, &req) {
		return
	}
	for _, host := range req.Hosts {
		if strings.TrimSpace(host) == "" {
			writeError(w, http.StatusBadRequest, "hosts holds an empty name")
			return
		}
	}
	run, err := h.opts.Backend.StartRun(r.Context(), engine.JobRunRequest{
		Job: r.PathValue("job"), Hosts: req.Hosts, Params: req.Params, Actor: who.Name, Reason: reasonOr(req.Reason),
	})
	if err != nil {
		writeBackendError(w, err)
		return
	}
	writeJSON(w, http.StatusAccepted, RunJSON(run, h.opts.PublicURL))
}

// listHosts: GET /api/v1/hosts, filtered, sorted and paged by
// ParseHostQuery's parameters (every host, by name, without them),
// X-Total-Count counting the matches.
func (h *Handler) listHosts(w http.ResponseWriter, r *http.Request, _ Identity) {
	hq, err := ParseHostQuery(r.URL.Query(), 0)
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	inv := h.inventory()
	out := []Host{}
	if inv.Defs == nil {
		w.Header().Set("X-Total-Count", "0")
		writeJSON(w, http.StatusOK, out)
		return
	}
	health, err := h.fleetHealth(r.Context(), inv)
	if err != nil {
		writeBackendError(w, err)
		return
	}
	var sync map[string]*SyncCounts
	if h.opts.Sync != nil && (hq.Sync != "" || hq.Sort == "sync") {
		syncs, err := h.opts.Sync.SyncStates(r.Context())
		if err != nil {
			writeBackendError(w, err)
			return
		}
		sync = SyncByHost(syncs)
	}
	list := ListHosts(inv, health, sync, hq)
	page := map[string]bool{}
	for _, row := range list.Rows {
		page[row.Name] = true
	}
	states, err := hostStates(r.Context(), h.opts.Monitors, h.opts.Store, page)
	if err != nil {
		writeBackendError(w, err)
		return
	}
	for _, row := range list.Rows {
		host := hostJSON(inv.Defs.Hosts[row.Name], row.Jobs)
		host.Health = row.Health.Worst()
		host.Sync = string(row.Sync.Worst())
		for _, m := range inv.HostMonitors[row.Name] {
			st, ok := states[[2]string{m, row.Name}]
			if !ok {
				st = StatePending
			}
			host.Monitors[m] = st
		}
		out = append(out, host)
	}
	if err := h.addFacts(r.Context(), out); err != nil {
		writeBackendError(w, err)
		return
	}
	w.Header().Set("X-Total-Count", strconv.Itoa(list.Total))
	writeJSON(w, http.StatusOK, out)
}

// hostStates is the state of each (monitor, host) of hosts, in one pass.
func hostStates(ctx context.Context, src MonitorSource, store any, hosts map[string]bool) (map[[2]string]string, error) {
	out := map[[2]string]string{}
	if src != nil {
		for _, s := range src.States() {
			if hosts[s.Host] {
				st := StatePending
				if !s.LastAt.IsZero() {
					st = s.State.String()
				}
				out[[2]string{s.Monitor, s.Host}] = st
			}
		}
		return out, nil
	}
	ms, ok := store.(engine.MonitorStateStore)
	if !ok {
		return out, nil
	}
	recs, err := ms.MonitorStates(ctx)
	if err != nil {
		return nil, err
	}
	for _, r := range recs {
		if hosts[r.Host] {
			out[[2]string{r.Monitor, r.Host}] = r.State.String()
		}
	}
	return out, nil
}

func (h *Handler) getCommit(w http.ResponseWriter, r *http.Request, _ Identity) {
	sha := strings.ToLower(r.PathValue("sha"))
	if len(sha) != 40 || strings.Trim(sha, "0123456789abcdef") != "" {
		// An abbreviated sha or a branch name is resolved in the daemon's
		// mirror when the backend can.
		rr, ok := h.opts.Backend.(interface{ ResolveCommit(string) (string, error) })
		if !ok {
			writeError(w, http.StatusBadRequest, "commit must be a full 40-character sha")
			return
		}
		full, err := rr.ResolveCommit(r.PathValue("sha"))
		if err != nil {
			writeError(w, http.StatusNotFound, err.Error())
			return
		}
		sha = full
	}
	statuses, err := h.opts.Store.Statuses(r.Context(), sha)
	if err != nil {
		writeBackendError(w, err)
		return
	}
	runs, err := h.opts.Store.ListRuns(r.Context(), engine.RunFilter{Commit: sha, Limit: maxListRuns})
	if err != nil {
		writeBackendError(w, err)
		return
	}
	out := Commit{SHA: sha, Statuses: []CommitStatus{}, Runs: []Run{}}
	if cr, ok := h.opts.Backend.(CommitReader); ok {
		if ci, err := cr.CommitInfo(sha); err == nil {
			out.Subject, out.Author, out.When = ci.Subject, ci.Author, ci.When
		}
	}
	for _, s := range statuses {
		out.Statuses = append(out.Statuses, CommitStatus{Context: s.Context, State: s.State, Description: s.Description, TargetURL: s.TargetURL, Updated: s.Updated})
	}
	for _, run := range runs {
		out.Runs = append(out.Runs, RunJSON(run, h.opts.PublicURL))
	}
	writeJSON(w, http.StatusOK, out)
}

func runID(w http.ResponseWriter, r *http.Request) (int64, bool) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		writeError(w, http.StatusBadRequest, "run id must be a positive number")
		return 0, false
	}
	return id, true
}

// decodeBody reads a JSON object into v. An empty body is an empty object;
// anything else that is not one JSON object of known fields is a 400.
func decodeBody(w http.ResponseWriter, r *http.Request, v any) bool {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			writeError(w, http.StatusRequestEntityTooLarge, "request body over 1 MiB")
			return false
		}
		writeError(w, http.StatusBadRequest, "read request body: "+err.Error())
		return false
	}
	if len(strings.TrimSpace(string(body))) == 0 {
		return true
	}
	dec := json.NewDecoder(strings.NewReader(string(body)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		writeError(w, http.StatusBadRequest, "malformed JSON body: "+err.Error())
		return false
	}
	if dec.More() {
		writeError(w, http.StatusBadRequest, "malformed JSON body: more than one value")
		return false
	}
	return true
}

func reasonOr(s string) string {
	s = strings.TrimSpace(s)
	if len(s) > 1000 {
		s = s[:1000]
	}
	return s
}

// writeBackendError maps engine errors to statuses: unknown things are
// 404, requests that do not fit the current state 409, bad input 400, a
// daemon not running or a store that cannot write (a full disk) 503.
func writeBackendError(w http.ResponseWriter, err error) {
	switch {
	case errors.Is(err, engine.ErrNotFound):
		writeError(w, http.StatusNotFound, err.Error())
	case errors.Is(err, engine.ErrConflict), errors.Is(err, engine.ErrNotWaiting), errors.Is(err, engine.ErrRunFinished):
		writeError(w, http.StatusConflict, err.Error())
	case errors.Is(err, engine.ErrInvalidRequest):
		writeError(w, http.StatusBadRequest, err.Error())
	case errors.Is(err, engine.ErrNotRunning), errors.Is(err, engine.ErrStoreUnwritable):
		writeError(w, http.StatusServiceUnavailable, err.Error())
	default:
		writeError(w, http.StatusInternalServerError, err.Error())
	}
}
