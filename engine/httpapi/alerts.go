package httpapi

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/ripple-ops/ripple/engine"
	"github.com/ripple-ops/ripple/engine/monitor"
)

// AlertActions are operators' say on alerts: silences and
// acknowledgements; *monitor.Runner implements it.
type AlertActions interface {
	AddSilence(ctx context.Context, req monitor.SilenceRequest) (engine.Silence, error)
	ExpireSilence(ctx context.Context, id int64, actor, reason string) (engine.Silence, error)
	Silences(ctx context.Context, all bool) ([]engine.Silence, error)
	Acknowledge(ctx context.Context, monitor, host, actor, reason string) (engine.Ack, error)
}

var _ AlertActions = (*monitor.Runner)(nil)

// Silence is a silence as the API shows it.
type Silence struct {
	ID           int64     `json:"id"`
	Monitor      string    `json:"monitor"`
	Host         string    `json:"host,omitempty"` // "": every host of the monitor
	Actor        string    `json:"actor"`
	Reason       string    `json:"reason"`
	Created      time.Time `json:"created"`
	Ends         time.Time `json:"ends"`
	Active       bool      `json:"active"`
	ExpiredBy    string    `json:"expired_by,omitempty"`
	ExpireReason string    `json:"expire_reason,omitempty"`
}

// SilenceJSON is s as the API shows it at now.
func SilenceJSON(s engine.Silence, now time.Time) Silence {
	return Silence{ID: s.ID, Monitor: s.Monitor, Host: s.Host, Actor: s.Actor, Reason: s.Reason, Created: s.Created,
		Ends: s.Ends, Active: s.Active(now), ExpiredBy: s.ExpiredBy, ExpireReason: s.ExpireReason}
}

// Ack is an acknowledgement as the API shows it.
type Ack struct {
	Monitor    string    `json:"monitor"`
	Host       string    `json:"host"`
	State      string    `json:"state"`
	StateSince time.Time `json:"state_since"`
	Actor      string    `json:"actor"`
	Reason     string    `json:"reason"`
	At         time.Time `json:"at"`
}

func ackJSON(a engine.Ack) Ack {
	return Ack{Monitor: a.Monitor, Host: a.Host, State: a.State.String(), StateSince: a.StateSince, Actor: a.Actor, Reason: a.Reason, At: a.At}
}

// AlertEvent is one record of the alert audit.
type AlertEvent struct {
	ID        int64     `json:"id"`
	At        time.Time `json:"at"`
	Action    string    `json:"action"` // silence, expire, ack
	Monitor   string    `json:"monitor"`
	Host      string    `json:"host,omitempty"`
	Actor     string    `json:"actor"`
	Reason    string    `json:"reason"`
	SilenceID int64     `json:"silence_id,omitempty"`
	Until     time.Time `json:"until,omitzero"`
	State     string    `json:"state,omitempty"`
	Text      string    `json:"text"` // the line `ripple` and the UI show
}

// AlertEventJSON is e as the API shows it.
func AlertEventJSON(e engine.AlertEvent) AlertEvent {
	out := AlertEvent{ID: e.ID, At: e.At, Action: e.Action, Monitor: e.Monitor, Host: e.Host, Actor: e.Actor,
		Reason: e.Reason, SilenceID: e.SilenceID, Until: e.Until, Text: e.Text()}
	if e.Action == engine.AlertEventAck {
		out.State = e.State.String()
	}
	return out
}

// SilenceRequest is the body of POST /api/v1/silences.
type SilenceRequest struct {
	Monitor string `json:"monitor"`
	Host    string `json:"host,omitempty"` // "": every host of the monitor
	For     string `json:"for"`            // a duration: "2h", "90m", "3d"
	Reason  string `json:"reason"`
}

// ParseSilenceFor reads a silence's duration: a Go duration or a whole
// number of days ("3d").
func ParseSilenceFor(s string) (time.Duration, error) { return parseDays(strings.TrimSpace(s)) }

func (h *Handler) listSilences(w http.ResponseWriter, r *http.Request, _ Identity) {
	if h.opts.Alerts == nil {
		writeError(w, http.StatusNotImplemented, "this daemon keeps no silences")
		return
	}
	all := r.URL.Query().Get("all") == "true"
	list, err := h.opts.Alerts.Silences(r.Context(), all)
	if err != nil {
		writeBackendError(w, err)
		return
	}
	now := time.Now()
	out := make([]Silence, 0, len(list))
	for _, s := range list {
		out = append(out, SilenceJSON(s, now))
	}
	writeJSON(w, http.StatusOK, out)
}

func (h *Handler) postSilence(w http.ResponseWriter, r *http.Request, who Identity) {
	if h.opts.Alerts == nil {
		writeError(w, http.StatusNotImplemented, "this daemon keeps no silences")
		return
	}
	var req SilenceRequest
	if !decodeBody(w, r, &req) {
		return
	}
	if req.Monitor == "" {
		writeError(w, http.StatusBadRequest, "monitor is required")
		return
	}
	d, err := ParseSilenceFor(req.For)
	if err != nil || req.For == "" {
		writeError(w, http.StatusBadRequest, "for must be a duration such as 2h, 90m or 3d, got "+strconv.Quote(req.For))
		return
	}
	s, err := h.opts.Alerts.AddSilence(r.Context(), monitor.SilenceRequest{
		Monitor: req.Monitor, Host: req.Host, For: d, Actor: who.Name, Reason: reasonOr(req.Reason),
	})
	if err != nil {
		writeBackendError(w, err)
		return
	}
	writeJSON(w, http.StatusCreated, SilenceJSON(s, time.Now()))
}

func (h *Handler) deleteSilence(w http.ResponseWriter, r *http.Request, who Identity) {
	if h.opts.Alerts == nil {
		writeError(w, http.StatusNotImplemented, "this daemon keeps no silences")
		return
	}
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		writeError(w, http.StatusBadRequest, "silence id must be a positive number")
		return
	}
	var req ActionRequest
	if !decodeBody(w, r, &req) {
		return
	}
	s, err := h.opts.Alerts.ExpireSilence(r.Context(), id, who.Name, reasonOr(req.Reason))
	if err != nil {
		writeBackendError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, SilenceJSON(s, time.Now()))
}

func (h *Handler) postAck(w http.ResponseWriter, r *http.Request, who Identity) {
	if h.opts.Alerts == nil {
		writeError(w, http.StatusNotImplemented, "this daemon keeps no acknowledgements")
		return
	}
	var req ActionRequest
	if !decodeBody(w, r, &req) {
		return
	}
	a, err := h.opts.Alerts.Acknowledge(r.Context(), r.PathValue("monitor"), r.PathValue("host"), who.Name, reasonOr(req.Reason))
	if err != nil {
		writeBackendError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, ackJSON(a))
}

func (h *Handler) listAlertEvents(w http.ResponseWriter, r *http.Request, _ Identity) {
	q := r.URL.Query()
	limit := 100
	if s := q.Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n <= 0 || n > 1000 {
			writeError(w, http.StatusBadRequest, "limit must be a number from 1 to 1000")
			return
		}
		limit = n
	}
	out, err := AlertEvents(r.Context(), h.opts.AlertAudit, engine.AlertEventFilter{Monitor: q.Get("monitor"), Host: q.Get("host"), Limit: limit})
	if err != nil {
		writeBackendError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, out)
}

// AlertEvents reads the alert audit; none without a reader.
func AlertEvents(ctx context.Context, audit engine.AlertAuditReader, f engine.AlertEventFilter) ([]AlertEvent, error) {
	out := []AlertEvent{}
	if audit == nil {
		return out, nil
	}
	evs, err := audit.AlertEvents(ctx, f)
	if err != nil {
		return nil, err
	}
	for _, e := range evs {
		out = append(out, AlertEventJSON(e))
	}
	return out, nil
}
