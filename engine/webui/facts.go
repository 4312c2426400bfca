package webui

import (
	"context"
	"net/http"
	"strconv"
	"time"

	"github.com/ripple-ops/ripple/engine"
	"github.com/ripple-ops/ripple/engine/facts"
	"github.com/ripple-ops/ripple/engine/httpapi"
)

// hostFacts is the facts section of a host page: the last facts, when and
// whether the last gathering failed, and the history of changes.
type hostFacts struct {
	Host      string
	Record    engine.FactsRecord
	Stale     bool
	Facts     []factValue
	History   []engine.FactChange
	CanGather bool
}

type factValue struct{ Name, Value string }

// hostFactsData reads host's facts section; nil when the UI has no facts.
func (u *UI) hostFactsData(ctx context.Context, host string, v *view) (*hostFacts, error) {
	if u.opts.Facts.Reader == nil {
		return nil, nil
	}
	recs, err := u.opts.Facts.Reader.HostFacts(ctx, host)
	if err != nil {
		return nil, err
	}
	hist, err := u.opts.Facts.Reader.FactHistory(ctx, host, 100)
	if err != nil {
		return nil, err
	}
	out := &hostFacts{Host: host, Record: engine.FactsRecord{Host: host}, History: hist, CanGather: v.CanAct && u.opts.Facts.Gatherer != nil}
	if len(recs) == 1 {
		out.Record = recs[0]
	}
	out.Stale = !out.Record.GatheredAt.IsZero() && out.Record.Stale(u.opts.Now(), u.opts.Facts.Interval)
	if !out.Record.GatheredAt.IsZero() {
		flat := facts.Flat(out.Record.Facts)
		for _, n := range facts.FactNames() {
			if val, ok := flat[n]; ok {
				if n == "memory_bytes" {
					if b, err := strconv.ParseInt(val, 10, 64); err == nil {
						val += " (" + facts.HumanBytes(b) + ")"
					}
				}
				out.Facts = append(out.Facts, factValue{n, val})
			}
		}
	}
	return out, nil
}

// gatherFacts is POST /hosts/{host}/facts: gather the host's facts now and
// show its page again.
func (u *UI) gatherFacts(w http.ResponseWriter, r *http.Request, id httpapi.Identity) {
	host := r.PathValue("host")
	if u.opts.Facts.Gatherer == nil {
		u.fail(w, r, http.StatusNotImplemented, "this daemon does not gather facts")
		return
	}
	if _, err := u.opts.Facts.Gatherer.GatherFacts(r.Context(), host); err != nil {
		u.failErr(w, r, err)
		return
	}
	u.log.Info().Str("host", host).Str("actor", id.Name).Msg("facts gathered from the web UI")
	http.Redirect(w, r, "/hosts/"+host+"#facts", http.StatusSeeOther)
}

// patchRow is one host row of the patches page, formatted.
type patchRow struct {
	Host, Security, Updates, Since, Reboot, Gathered, Error string
	SecurityBad, RebootBad, Stale                           bool
	Runs                                                    []facts.PatchRun
}

type patchesData struct {
	Rows                               []patchRow
	Groups                             []facts.PatchGroup
	OldestHost, OldestSince, OldestAge string
}

func (u *UI) patchesPage(w http.ResponseWriter, r *http.Request, v *view) {
	if u.opts.Facts.Reader == nil {
		u.fail(w, r, http.StatusNotImplemented, "this daemon keeps no facts")
		return
	}
	rep, err := httpapi.BuildPatches(r.Context(), u.opts.Backend.Definitions(), u.opts.Facts)
	if err != nil {
		u.failErr(w, r, err)
		return
	}
	d := patchesData{Groups: rep.Groups}
	whenp := func(t *time.Time) string {
		if t == nil {
			return "-"
		}
		return funcs["when"].(func(time.Time) string)(*t)
	}
	num := func(p *int) string {
		if p == nil {
			return "-"
		}
		return strconv.Itoa(*p)
	}
	for _, h := range rep.Hosts {
		row := patchRow{Host: h.Host, Security: num(h.PendingSecurityUpdates), Updates: num(h.PendingUpdates),
			Gathered: "never", Error: h.Error, Stale: h.Stale, Runs: h.LastRuns, Reboot: "-"}
		row.SecurityBad = h.PendingSecurityUpdates != nil && *h.PendingSecurityUpdates > 0
		switch {
		case h.SecuritySince != nil:
			row.Since = whenp(h.SecuritySince)
		default:
			row.Since = whenp(h.UpdatesSince)
		}
		if h.RebootRequired != nil {
			row.Reboot, row.RebootBad = "no", *h.RebootRequired
		}
		if h.GatheredAt != nil {
			row.Gathered = whenp(h.GatheredAt)
		}
		d.Rows = append(d.Rows, row)
	}
	if rep.OldestSecurity != nil {
		d.OldestHost, d.OldestSince = rep.OldestSecurityHost, whenp(rep.OldestSecurity)
		d.OldestAge = facts.RoundAge(u.opts.Now().Sub(*rep.OldestSecurity)).String()
	}
	v.Title, v.Data = "Patches", d
	u.render(w, r, http.StatusOK, "patches", "layout", v)
}
