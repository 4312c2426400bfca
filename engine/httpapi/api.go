package httpapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/ripple-ops/ripple/engine"
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

func (h *Handler) listRuns(w http.ResponseWriter, r *http.Request, _ Identity) {
	q := r.URL.Query()
	f := engine.RunFilter{Job: q.Get("job"), Commit: q.Get("commit"), Limit: 50}
	if s := q.Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > maxListRuns {
			writeError(w, http.StatusBadRequest, fmt.Sprintf("limit must be a number from 1 to %d", maxListRuns))
			return
		}
		f.Limit = n
	}
	if s := q.Get("state"); s != "" {
		for _, st := range strings.Split(s, ",") {
			rs := engine.RunState(st)
			if !validState(rs) {
				writeError(w, http.StatusBadRequest, "unknown run state "+strconv.Quote(st))
				return
			}
			f.States = append(f.States, rs)
		}
	}
	runs, err := h.opts.Store.ListRuns(r.Context(), f)
	if err != nil {
		writeBackendError(w, err)
		return
	}
	out := make([]Run, 0, len(runs))
	for _, run := range runs {
		out = append(out, runJSON(run, h.opts.PublicURL))
	}
	writeJSON(w, http.StatusOK, out)
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
	writeJSON(w, http.StatusOK, runJSON(run, h.opts.PublicURL))
}

func (h *Handler) listJobs(w http.ResponseWriter, r *http.Request, _ Identity) {
	defs := h.opts.Backend.Definitions()
	out := []Job{}
	if defs == nil {
		writeJSON(w, http.StatusOK, out)
		return
	}
	for _, name := range slices.Sorted(maps.Keys(defs.Jobs)) {
		j := jobJSON(defs, defs.Jobs[name])
		runs, err := h.opts.Store.ListRuns(r.Context(), engine.RunFilter{Job: name, Limit: 1})
		if err != nil {
			writeBackendError(w, err)
			return
		}
		if len(runs) > 0 {
			lr := runJSON(runs[0], h.opts.PublicURL)
			j.LastRun = &lr
		}
		out = append(out, j)
	}
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
		j.Runs = append(j.Runs, runJSON(run, h.opts.PublicURL))
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
	run, err := h.opts.Backend.StartRun(r.Context(), r.PathValue("job"), req.Hosts, who.Name, reasonOr(req.Reason))
	if err != nil {
		writeBackendError(w, err)
		return
	}
	writeJSON(w, http.StatusAccepted, runJSON(run, h.opts.PublicURL))
}

func (h *Handler) listHosts(w http.ResponseWriter, r *http.Request, _ Identity) {
	defs := h.opts.Backend.Definitions()
	out := []Host{}
	if defs != nil {
		monitors, err := MonitorStates(r.Context(), defs, h.opts.Monitors, h.opts.Store)
		if err != nil {
			writeBackendError(w, err)
			return
		}
		jobs := jobsByHost(defs)
		for _, name := range slices.Sorted(maps.Keys(defs.Hosts)) {
			host := hostJSON(defs.Hosts[name], jobs[name])
			for _, m := range monitors {
				for _, mh := range m.Hosts {
					if mh.Host == name {
						host.Monitors[m.Name] = mh.State
					}
				}
			}
			out = append(out, host)
		}
	}
	if err := h.addFacts(r.Context(), out); err != nil {
		writeBackendError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, out)
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
	for _, s := range statuses {
		out.Statuses = append(out.Statuses, CommitStatus{Context: s.Context, State: s.State, Description: s.Description, TargetURL: s.TargetURL, Updated: s.Updated})
	}
	for _, run := range runs {
		out.Runs = append(out.Runs, runJSON(run, h.opts.PublicURL))
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
