package webui

import (
	"context"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/ripple-ops/ripple/definitions"
	"github.com/ripple-ops/ripple/engine"
	"github.com/ripple-ops/ripple/engine/httpapi"
)

// overviewCommits is how many recent commits the overview lists.
const overviewCommits = 8

type overviewData struct {
	Health  health
	Active  []httpapi.Run
	Queued  []httpapi.Run
	Commits []commitRow
	Jobs    []jobRow
	Alerts  []httpapi.MonitorHost // non-OK (monitor, host), worst first
	// Cluster, on a node of a cluster: its nodes and leader.
	Cluster *httpapi.Cluster
}

// health counts (monitor, host) pairs by state.
type health struct {
	Total, OK, Warning, Critical, Unknown, Pending, Flapping, Muted, Held int
	Monitors                                                              []httpapi.Monitor
}

type commitRow struct {
	SHA      string
	Head     bool
	Applied  bool
	Statuses []engine.CommitStatus
	Runs     []httpapi.Run
}

type jobRow struct {
	Name, Description string
	Hosts             int
	Schedule          string
	Last              *httpapi.Run
}

func (u *UI) overview(w http.ResponseWriter, r *http.Request, v *view) {
	d, err := u.overviewData(r.Context(), v.Status)
	if err != nil {
		u.failErr(w, r, err)
		return
	}
	v.Title, v.Data = "Overview", d
	v.Poll, v.PollMS, v.Refresh = "/?part=live", u.opts.OverviewRefresh.Milliseconds(), int(u.opts.OverviewRefresh.Seconds())
	if r.URL.Query().Get("part") == "live" {
		u.render(w, r, http.StatusOK, "overview", "live", v)
		return
	}
	u.render(w, r, http.StatusOK, "overview", "layout", v)
}

func (u *UI) overviewData(ctx context.Context, st engine.DaemonStatus) (overviewData, error) {
	var d overviewData
	defs := u.opts.Backend.Definitions()
	ms, err := httpapi.MonitorStates(ctx, defs, u.opts.Monitors, u.opts.Store)
	if err != nil {
		return d, err
	}
	d.Health = countHealth(ms)
	for _, m := range ms {
		for _, h := range m.Hosts {
			if h.State != "OK" && h.State != httpapi.StatePending {
				d.Alerts = append(d.Alerts, h)
			}
		}
	}
	slices.SortStableFunc(d.Alerts, func(a, b httpapi.MonitorHost) int { return severity(b.State) - severity(a.State) })
	if len(d.Alerts) > 20 {
		d.Alerts = d.Alerts[:20]
	}

	active, err := u.opts.Store.ListRuns(ctx, engine.RunFilter{States: []engine.RunState{engine.RunRunning, engine.RunWaitingApproval, engine.RunWaitingWindow, engine.RunNeedsOperator}, Limit: 50})
	if err != nil {
		return d, err
	}
	d.Active = runsJSON(active)
	queued, err := u.opts.Store.ListRuns(ctx, engine.RunFilter{States: []engine.RunState{engine.RunQueued}, Limit: 50})
	if err != nil {
		return d, err
	}
	d.Queued = runsJSON(queued)

	// Recent commits: the head, the last applied one and those of recent
	// runs, newest first.
	recent, err := u.opts.Store.ListRuns(ctx, engine.RunFilter{Limit: 200})
	if err != nil {
		return d, err
	}
	var order []string
	byCommit := map[string][]httpapi.Run{}
	add := func(sha string) {
		if sha == "" || byCommit[sha] != nil || len(order) >= overviewCommits {
			return
		}
		byCommit[sha] = []httpapi.Run{}
		order = append(order, sha)
	}
	add(st.Head)
	add(st.LastApplied)
	for _, run := range recent {
		add(run.Commit)
		if byCommit[run.Commit] != nil && len(byCommit[run.Commit]) < 10 {
			byCommit[run.Commit] = append(byCommit[run.Commit], runJSON(run))
		}
	}
	for _, sha := range order {
		statuses, err := u.opts.Store.Statuses(ctx, sha)
		if err != nil {
			return d, err
		}
		d.Commits = append(d.Commits, commitRow{SHA: sha, Head: sha == st.Head, Applied: sha == st.LastApplied, Statuses: statuses, Runs: byCommit[sha]})
	}

	if u.opts.Cluster != nil {
		c, err := u.opts.Cluster.Cluster(ctx)
		if err != nil {
			return d, err
		}
		d.Cluster = &c
	}

	if defs != nil {
		for _, name := range slices.Sorted(maps.Keys(defs.Jobs)) {
			j := defs.Jobs[name]
			row := jobRow{Name: name, Description: j.Description, Hosts: len(defs.Select(j.Targets)), Schedule: j.Schedule}
			for _, run := range recent {
				if run.Job == name {
					rj := runJSON(run)
					row.Last = &rj
					break
				}
			}
			d.Jobs = append(d.Jobs, row)
		}
	}
	return d, nil
}

func countHealth(ms []httpapi.Monitor) health {
	h := health{Monitors: ms}
	for _, m := range ms {
		for _, s := range m.Hosts {
			h.Total++
			switch s.State {
			case "OK":
				h.OK++
			case "WARNING":
				h.Warning++
			case "CRITICAL":
				h.Critical++
			case httpapi.StatePending:
				h.Pending++
			default:
				h.Unknown++
			}
			if s.Flapping {
				h.Flapping++
			}
			if s.Muted {
				h.Muted++
			}
			if s.Held {
				h.Held++
			}
		}
	}
	return h
}

func severity(state string) int {
	switch state {
	case "CRITICAL":
		return 3
	case "WARNING":
		return 2
	case "UNKNOWN":
		return 1
	}
	return 0
}

func runsJSON(runs []*engine.Run) []httpapi.Run {
	out := make([]httpapi.Run, 0, len(runs))
	for _, r := range runs {
		out = append(out, runJSON(r))
	}
	return out
}

// runJSON is the API's listing shape, without the public URL (pages
// link relatively).
func runJSON(r *engine.Run) httpapi.Run {
	return httpapi.Run{
		ID: r.ID, Job: r.Job, Commit: r.Commit, Branch: r.Branch, Trigger: r.Trigger, Actor: r.Actor, Reason: r.Reason,
		State: string(r.State), Waves: r.Waves, CurrentWave: r.CurrentWave, Summary: r.Summary, Error: r.Error,
		Created: r.Created, Started: r.Started, Finished: r.Finished, Updated: r.Updated,
	}
}

type jobData struct {
	Job     *definitions.Job
	File    string
	Line    int
	Hosts   []string
	Waves   []string
	Runs    []httpapi.Run
	Applied string
	// Sync is the job's sync state per host; nil without sync state.
	Sync     *engine.JobSync
	NeedSync int // hosts out of sync or drifted
}

func (u *UI) jobPage(w http.ResponseWriter, r *http.Request, v *view) {
	name := r.PathValue("job")
	defs := u.opts.Backend.Definitions()
	if defs == nil || defs.Jobs[name] == nil {
		u.fail(w, r, http.StatusNotFound, "no job "+strconv.Quote(name)+" at the applied commit")
		return
	}
	j := defs.Jobs[name]
	d := jobData{Job: j, File: j.DeclRange.Filename, Line: j.DeclRange.Start.Line, Applied: defs.Commit}
	for _, h := range defs.Select(j.Targets) {
		d.Hosts = append(d.Hosts, h.Name)
	}
	for _, ws := range j.Rollout.Waves {
		if ws.Count > 0 {
			d.Waves = append(d.Waves, strconv.Itoa(ws.Count))
		} else {
			d.Waves = append(d.Waves, strconv.FormatFloat(ws.Percent, 'f', -1, 64)+"%")
		}
	}
	runs, err := u.opts.Store.ListRuns(r.Context(), engine.RunFilter{Job: name, Limit: 30})
	if err != nil {
		u.failErr(w, r, err)
		return
	}
	d.Runs = runsJSON(runs)
	if u.opts.Sync != nil {
		if states, err := u.opts.Sync.SyncStates(r.Context(), name); err == nil && len(states) == 1 {
			d.Sync = &states[0]
			for _, h := range states[0].Hosts {
				if h.NeedsSync() {
					d.NeedSync++
				}
			}
		}
	}
	v.Title, v.Data = "Job "+name, d
	u.render(w, r, http.StatusOK, "job", "layout", v)
}

type hostData struct {
	Host     *definitions.Host
	Jobs     []string
	Monitors []httpapi.MonitorHost
	Runs     []httpapi.Run
	Facts    *hostFacts
}

func (u *UI) hostPage(w http.ResponseWriter, r *http.Request, v *view) {
	name := r.PathValue("host")
	defs := u.opts.Backend.Definitions()
	if defs == nil || defs.Hosts[name] == nil {
		u.fail(w, r, http.StatusNotFound, "no host "+strconv.Quote(name)+" at the applied commit")
		return
	}
	d := hostData{Host: defs.Hosts[name]}
	for _, jn := range slices.Sorted(maps.Keys(defs.Jobs)) {
		for _, h := range defs.Select(defs.Jobs[jn].Targets) {
			if h.Name == name {
				d.Jobs = append(d.Jobs, jn)
				break
			}
		}
	}
	ms, err := httpapi.MonitorStates(r.Context(), defs, u.opts.Monitors, u.opts.Store)
	if err != nil {
		u.failErr(w, r, err)
		return
	}
	for _, m := range ms {
		for _, h := range m.Hosts {
			if h.Host == name {
				d.Monitors = append(d.Monitors, h)
			}
		}
	}
	runs, err := u.opts.Store.ListRuns(r.Context(), engine.RunFilter{Limit: 300})
	if err != nil {
		u.failErr(w, r, err)
		return
	}
	for _, run := range runs {
		if slices.ContainsFunc(run.Waves, func(w []string) bool { return slices.Contains(w, name) }) {
			d.Runs = append(d.Runs, runJSON(run))
			if len(d.Runs) == 20 {
				break
			}
		}
	}
	if d.Facts, err = u.hostFactsData(r.Context(), name, v); err != nil {
		u.failErr(w, r, err)
		return
	}
	v.Title, v.Data = "Host "+name, d
	u.render(w, r, http.StatusOK, "host", "layout", v)
}

type monitorData struct {
	Monitor httpapi.Monitor
	Window  string
	Rows    []monitorRow
}

type monitorRow struct {
	httpapi.MonitorHost
	Charts []chart
}

func (u *UI) monitorPage(w http.ResponseWriter, r *http.Request, v *view) {
	name := r.PathValue("monitor")
	all, err := httpapi.MonitorStates(r.Context(), u.opts.Backend.Definitions(), u.opts.Monitors, u.opts.Store)
	if err != nil {
		u.failErr(w, r, err)
		return
	}
	i := slices.IndexFunc(all, func(m httpapi.Monitor) bool { return m.Name == name })
	if i < 0 {
		u.fail(w, r, http.StatusNotFound, "no monitor "+strconv.Quote(name))
		return
	}
	m := all[i]
	window, ws := 6*time.Hour, r.URL.Query().Get("window")
	if ws != "" {
		if window, err = httpapi.ParseHorizon(ws); err != nil || window > 90*24*time.Hour {
			u.fail(w, r, http.StatusBadRequest, "window must be a duration up to 90d, like 6h or 7d")
			return
		}
	} else {
		ws = "6h"
	}
	series, err := httpapi.MonitorSeries(r.Context(), u.opts.Metrics, m, u.opts.Now(), window)
	if err != nil {
		u.failErr(w, r, err)
		return
	}
	d := monitorData{Monitor: m, Window: ws}
	for _, h := range m.Hosts {
		row := monitorRow{MonitorHost: h}
		for _, s := range series {
			if s.Host == h.Host {
				limit, has := m.Limits[s.Metric]
				row.Charts = append(row.Charts, newChart(s, limit, has))
			}
		}
		d.Rows = append(d.Rows, row)
	}
	v.Title, v.Data = "Monitor "+name, d
	v.Refresh = 30
	u.render(w, r, http.StatusOK, "monitor", "layout", v)
}

type capacityData struct {
	Horizon   string
	Forecasts []httpapi.Forecast
}

func (u *UI) capacityPage(w http.ResponseWriter, r *http.Request, v *view) {
	hs := r.URL.Query().Get("horizon")
	horizon, err := httpapi.ParseHorizon(hs)
	if err != nil {
		u.fail(w, r, http.StatusBadRequest, err.Error())
		return
	}
	if hs == "" {
		hs = "30d"
	}
	fs, err := httpapi.CapacityReport(r.Context(), u.opts.Backend.Definitions(), u.opts.Metrics, u.opts.Now(), horizon)
	if err != nil {
		u.failErr(w, r, err)
		return
	}
	v.Title, v.Data = "Capacity", capacityData{Horizon: hs, Forecasts: fs}
	u.render(w, r, http.StatusOK, "capacity", "layout", v)
}
