package webui

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/ripple-ops/ripple/engine/httpapi"
	"github.com/ripple-ops/ripple/engine/monitor"
)

// alertRow is a not-OK (monitor, host) row with what its actions need.
type alertRow struct {
	httpapi.MonitorHost
	CanAct bool   // the viewer is an operator
	Return string // the page the forms come back to
}

// The alert actions: acknowledge, silence (a host, or every host of a
// monitor) and expire a silence. Each needs a reason, is recorded in the
// alert audit with the operator's name, and returns to the page it came
// from.

func (u *UI) ack(w http.ResponseWriter, r *http.Request, who httpapi.Identity) {
	if u.opts.Alerts == nil {
		u.fail(w, r, http.StatusNotImplemented, "this daemon keeps no acknowledgements")
		return
	}
	mon, host := r.PathValue("monitor"), r.PathValue("host")
	if _, err := u.opts.Alerts.Acknowledge(r.Context(), mon, host, who.Name, formReason(r)); err != nil {
		u.failErr(w, r, err)
		return
	}
	u.back(w, r, "/monitors/"+url.PathEscape(mon))
}

func (u *UI) silence(w http.ResponseWriter, r *http.Request, who httpapi.Identity) {
	if u.opts.Alerts == nil {
		u.fail(w, r, http.StatusNotImplemented, "this daemon keeps no silences")
		return
	}
	mon := r.PathValue("monitor")
	d, err := httpapi.ParseSilenceFor(r.PostFormValue("for"))
	if err != nil {
		u.fail(w, r, http.StatusBadRequest, "for must be a duration such as 2h, 90m or 3d, got "+strconv.Quote(r.PostFormValue("for")))
		return
	}
	if _, err := u.opts.Alerts.AddSilence(r.Context(), monitor.SilenceRequest{
		Monitor: mon, Host: r.PathValue("host"), For: d, Actor: who.Name, Reason: formReason(r),
	}); err != nil {
		u.failErr(w, r, err)
		return
	}
	u.back(w, r, "/monitors/"+url.PathEscape(mon))
}

func (u *UI) expireSilence(w http.ResponseWriter, r *http.Request, who httpapi.Identity) {
	if u.opts.Alerts == nil {
		u.fail(w, r, http.StatusNotImplemented, "this daemon keeps no silences")
		return
	}
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		u.fail(w, r, http.StatusBadRequest, "silence id must be a positive number")
		return
	}
	s, err := u.opts.Alerts.ExpireSilence(r.Context(), id, who.Name, formReason(r))
	if err != nil {
		u.failErr(w, r, err)
		return
	}
	u.back(w, r, "/monitors/"+url.PathEscape(s.Monitor))
}

// back redirects to the form's return page when it is a page of this UI,
// else to fallback.
func (u *UI) back(w http.ResponseWriter, r *http.Request, fallback string) {
	to := r.PostFormValue("return")
	if !strings.HasPrefix(to, "/") || strings.HasPrefix(to, "//") || strings.ContainsAny(to, "\\\r\n") {
		to = fallback
	}
	http.Redirect(w, r, to, http.StatusSeeOther)
}
