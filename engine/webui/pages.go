package webui

import (
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/ripple-ops/ripple/definitions"
	"github.com/ripple-ops/ripple/engine"
	"github.com/ripple-ops/ripple/engine/convergence"
	"github.com/ripple-ops/ripple/engine/httpapi"
)

// overviewCommits is how many recent commits the overview lists.
const overviewCommits = 8

// overviewProblems caps each list of problems on the overview; the index
// pages list the rest.
const overviewProblems = 20

type overviewData struct {
	Health *httpapi.Health
	// Waiting are the runs waiting for an operator (approval, or a step
	// whose outcome is unknown).
	Waiting []httpapi.Run
	Active  []httpapi.Run
	Queued  []httpapi.Run
	// Failed are the latest runs that failed or erred in the last day.
	Failed  []httpapi.Run
	Alerts  []httpapi.MonitorHost // non-OK (monitor, host), worst first, at most overviewProblems
	Commits []commitRow
	// Cluster, on a node of a cluster: its nodes and leader.
	Cluster *httpapi.Cluster
	// Sync is the fleet's sync state at the applied head, nil when the
	// daemon keeps none.
	Sync     *fleetSync
	Jobs     int
	Monitors int
	Hosts    int
	// Traps, while the daemon receives SNMP traps: counts and the traps
	// that matched no trap block.
	Traps *engine.TrapReport
}

// fleetSync is the sync state of the fleet, counting a host once whatever
// number of jobs it runs: in sync when every job is synced there.
type fleetSync struct {
	Hosts, InSync int
	// ByState counts the hosts by their worst sync state.
	ByState map[engine.SyncState]int
	// Jobs are the jobs with hosts to sync, most first.
	Jobs []jobSync
}

type jobSync struct {
	Job  string
	Sync httpapi.SyncCounts
}

// commitRow is one recent commit: what it is and what ripple did for it.
type commitRow struct {
	SHA      string
	Info     engine.CommitInfo // zero when the daemon cannot read it
	Head     bool
	Applied  bool
	Statuses []engine.CommitStatus
	Runs     []httpapi.Run
	// State is what ripple did with the commit, a word for the badge
	// (a run or sync state), and Text says it in a sentence.
	State, Text string
}

// commitState is what became of commit row: the applied commit by the
// fleet's sync state when the daemon keeps one (a head whose run failed is
// not "applied"), otherwise by its runs; the head not applied yet says why.
func commitState(row commitRow, st engine.DaemonStatus, fs *fleetSync) (state, text string) {
	if row.Head && !row.Applied {
		switch {
		case st.Refused != "":
			return "failed", "refused: " + st.Refused
		case st.Paused != "":
			return "waiting_approval", "not applied: " + st.Paused
		case row.SHA == st.Base:
			return "running", "rolling out"
		}
		return "queued", "not applied yet"
	}
	var failed, active, ok int
	for _, r := range row.Runs {
		switch engine.RunState(r.State) {
		case engine.RunFailed, engine.RunError, engine.RunAborted:
			failed++
		case engine.RunSucceeded:
			ok++
		default:
			active++
		}
	}
	if row.Applied && fs != nil && fs.Hosts > 0 {
		if active > 0 {
			return "running", fmt.Sprintf("rolling out: %s of %s hosts in sync", thousands(fs.InSync), thousands(fs.Hosts))
		}
		if fs.InSync == fs.Hosts {
			return "synced", fmt.Sprintf("all %s hosts in sync", thousands(fs.Hosts))
		}
		worst := engine.SyncUnknown
		var parts []string
		for _, s := range []engine.SyncState{engine.SyncOutOfSync, engine.SyncDrifted, engine.SyncUnknown} {
			if n := fs.ByState[s]; n > 0 {
				if worst == engine.SyncUnknown {
					worst = s
				}
				parts = append(parts, fmt.Sprintf("%s %s", thousands(n), strings.ReplaceAll(string(s), "_", " ")))
			}
		}
		return string(worst), fmt.Sprintf("%s of %s hosts in sync: %s", thousands(fs.InSync), thousands(fs.Hosts), strings.Join(parts, ", "))
	}
	switch {
	case active > 0:
		return "running", fmt.Sprintf("%d %s in progress", active, plural(active, "run"))
	case failed > 0:
		return "failed", fmt.Sprintf("%d of %d %s failed", failed, failed+ok, plural(failed+ok, "run"))
	case ok > 0:
		return "succeeded", fmt.Sprintf("%d %s succeeded", ok, plural(ok, "run"))
	case row.Applied:
		return "succeeded", "applied: no host needed a change"
	}
	return "", ""
}

func plural(n int, noun string) string {
	if n == 1 {
		return noun
	}
	return noun + "s"
}

func (u *UI) overview(w http.ResponseWriter, r *http.Request, v *view) {
	d, err := u.overviewData(r, v.Status)
	if err != nil {
		u.failErr(w, r, err)
		return
	}
	v.Title, v.Data = "Overview", d
	v.Poll, v.PollMS, v.Refresh = "/?part=live", u.opts.OverviewRefresh.Milliseconds(), int(u.opts.OverviewRefresh.Seconds())
	if v.Wall {
		v.Poll += "&wall=1"
	}
	if r.URL.Query().Get("part") == "live" {
		u.render(w, r, http.StatusOK, "overview", "live", v)
		return
	}
	u.render(w, r, http.StatusOK, "overview", "layout", v)
}

func (u *UI) overviewData(r *http.Request, st engine.DaemonStatus) (overviewData, error) {
	ctx := r.Context()
	inv := u.inventory()
	d := overviewData{Jobs: len(inv.Jobs), Monitors: len(inv.Monitors), Hosts: len(inv.Hosts)}
	var err error
	if d.Health, err = u.fleetHealth(ctx, inv); err != nil {
		return d, err
	}
	d.Alerts = d.Health.Problems[:min(len(d.Health.Problems), overviewProblems)]

	list := func(f engine.RunFilter) ([]httpapi.Run, error) {
		runs, err := u.opts.Store.ListRuns(ctx, f)
		return runsJSON(runs), err
	}
	if d.Waiting, err = list(engine.RunFilter{States: []engine.RunState{engine.RunNeedsOperator, engine.RunWaitingApproval}, Limit: overviewProblems}); err != nil {
		return d, err
	}
	if d.Active, err = list(engine.RunFilter{States: []engine.RunState{engine.RunRunning, engine.RunWaitingWindow}, Limit: 50}); err != nil {
		return d, err
	}
	if d.Queued, err = list(engine.RunFilter{States: []engine.RunState{engine.RunQueued}, Limit: 50}); err != nil {
		return d, err
	}
	if d.Failed, err = list(engine.RunFilter{States: []engine.RunState{engine.RunFailed, engine.RunError}, Since: u.opts.Now().Add(-24 * time.Hour), Limit: 10}); err != nil {
		return d, err
	}
	if syncs := u.syncStates(r); syncs != nil {
		fs := &fleetSync{ByState: map[engine.SyncState]int{}}
		for _, c := range httpapi.SyncByHost(syncs) {
			fs.Hosts++
			fs.ByState[c.Worst()]++
			if c.Worst() == engine.SyncSynced {
				fs.InSync++
			}
		}
		for _, js := range syncs {
			var c httpapi.SyncCounts
			for _, h := range js.Hosts {
				c[slices.Index(httpapi.SyncStates, h.State)]++
			}
			if c.NeedSync() > 0 || c.Of(engine.SyncUnknown) > 0 {
				fs.Jobs = append(fs.Jobs, jobSync{Job: js.Job, Sync: c})
			}
		}
		slices.SortStableFunc(fs.Jobs, func(a, b jobSync) int { return b.Sync.NeedSync() - a.Sync.NeedSync() })
		fs.Jobs = fs.Jobs[:min(len(fs.Jobs), overviewProblems)]
		d.Sync = fs
	}

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
		row := commitRow{SHA: sha, Info: u.commitInfo(sha), Head: sha == st.Head, Applied: sha == st.LastApplied, Statuses: statuses, Runs: byCommit[sha]}
		row.State, row.Text = commitState(row, st, d.Sync)
		d.Commits = append(d.Commits, row)
	}

	if u.opts.Cluster != nil {
		c, err := u.opts.Cluster.Cluster(ctx)
		if err != nil {
			return d, err
		}
		d.Cluster = &c
	}
	if u.opts.Traps != nil {
		if rep := u.opts.Traps.TrapReport(); rep.Listen != "" {
			d.Traps = &rep
		}
	}
	return d, nil
}

// commitInfo names a commit when the backend can read it; commits do not
// change, so what was read once is kept (a few hundred at most).
func (u *UI) commitInfo(sha string) engine.CommitInfo {
	cr, ok := u.opts.Backend.(httpapi.CommitReader)
	if !ok {
		return engine.CommitInfo{SHA: sha}
	}
	u.commitsMu.Lock()
	ci, ok := u.commits[sha]
	u.commitsMu.Unlock()
	if ok {
		return ci
	}
	ci, err := cr.CommitInfo(sha)
	if err != nil {
		return engine.CommitInfo{SHA: sha} // not fetched yet, or gone: try again next time
	}
	u.commitsMu.Lock()
	defer u.commitsMu.Unlock()
	if len(u.commits) >= 512 {
		clear(u.commits)
	}
	u.commits[sha] = ci
	return ci
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
func runJSON(r *engine.Run) httpapi.Run { return httpapi.RunJSON(r, "") }

type jobData struct {
	Job     *definitions.Job
	File    string
	Line    int
	Hosts   []string
	Waves   []string
	Runs    []httpapi.Run
	Applied string
	// Sync is the job's sync state per host; nil without sync state.
	Sync     *convergence.JobSync
	NeedSync int // hosts out of sync or drifted
	// Form is the run form, prefilled from the page's query.
	Form runForm
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
	d.Form = newRunForm(j, d.Hosts, r.URL.Query())
	if u.opts.Sync != nil && !j.Manual {
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
	// CanExec: the daemon runs ad-hoc commands, over SSH (not on a host
	// with the local transport).
	CanExec bool
	Host    *definitions.Host
	// Health counts its monitors by state; Sync its jobs by sync state.
	Health   httpapi.StateCounts
	Sync     httpapi.SyncCounts
	Jobs     []hostJob
	Monitors []hostMonitor
	Runs     []httpapi.Run
	Vars     []varRow
	// HasSync: the daemon keeps sync state.
	HasSync bool
	// Facts are the host's gathered facts and their history; nil when
	// the daemon serves no facts.
	Facts *hostFacts
}

// hostJob is one job on the host with its sync state there.
type hostJob struct {
	Name string
	// Sync is nil when the daemon keeps no sync state.
	Sync *convergence.HostSyncState
}

// hostMonitor is one monitor on the host with its recent values.
type hostMonitor struct {
	httpapi.MonitorHost
	Chart *chart // its first metric over the last hours; nil without values
}

// hostHistory is how far back the host page charts each monitor.
const hostHistory = 6 * time.Hour

func (u *UI) hostPage(w http.ResponseWriter, r *http.Request, v *view) {
	name := r.PathValue("host")
	inv := u.inventory()
	defs := inv.Defs
	if defs == nil || defs.Hosts[name] == nil {
		u.fail(w, r, http.StatusNotFound, "no host "+strconv.Quote(name)+" at the applied commit")
		return
	}
	ctx := r.Context()
	d := hostData{Host: defs.Hosts[name], Vars: hostVars(defs, defs.Hosts[name]),
		CanExec: u.opts.Exec != nil && defs.Hosts[name].Transport != "local"}
	ms, err := httpapi.HostMonitorStates(ctx, inv, u.opts.Monitors, u.opts.Store, name)
	if err != nil {
		u.failErr(w, r, err)
		return
	}
	now := u.opts.Now()
	namer, _ := u.opts.Metrics.(httpapi.MetricNamer)
	for _, m := range ms {
		d.Health[slices.Index(httpapi.HealthStates, m.State)]++
		hm := hostMonitor{MonitorHost: m}
		if namer != nil {
			if names, err := namer.MetricNames(ctx, m.Monitor, name); err == nil && len(names) > 0 {
				pts, err := u.opts.Metrics.QueryMetrics(ctx, m.Monitor, name, names[0], now.Add(-hostHistory), now.Add(time.Second))
				if err == nil && len(pts) > 0 {
					limit, has := defs.Monitors[m.Monitor].Limits[names[0]]
					c := drawChart(chartSpec{Series: httpapi.Series{Host: name, Metric: names[0], Points: pointsOf(pts)},
						Unit: unitFor(string(defs.Monitors[m.Monitor].Check.Kind), names[0]), Limit: limit, HasLimit: has,
						From: now.Add(-hostHistory), To: now, Small: true})
					hm.Chart = &c
				}
			}
		}
		d.Monitors = append(d.Monitors, hm)
	}
	var syncs []convergence.JobSync
	if jobs := inv.HostJobs[name]; u.opts.Sync != nil && len(jobs) > 0 {
		if syncs, err = u.opts.Sync.SyncStates(ctx, jobs...); err == nil {
			d.HasSync = true
		}
	}
	for _, jn := range inv.HostJobs[name] {
		hj := hostJob{Name: jn}
		for _, js := range syncs {
			if js.Job != jn {
				continue
			}
			for i := range js.Hosts {
				if js.Hosts[i].Host == name {
					hj.Sync = &js.Hosts[i]
					d.Sync[slices.Index(httpapi.SyncStates, hj.Sync.State)]++
				}
			}
		}
		d.Jobs = append(d.Jobs, hj)
	}
	runs, err := u.opts.Store.ListRuns(ctx, engine.RunFilter{Host: name, Limit: 20})
	if err != nil {
		u.failErr(w, r, err)
		return
	}
	d.Runs = runsJSON(runs)
	if d.Facts, err = u.hostFactsData(ctx, name, v); err != nil {
		u.failErr(w, r, err)
		return
	}
	v.Title, v.Data = "Host "+name, d
	u.render(w, r, http.StatusOK, "host", "layout", v)
}

func pointsOf(pts []engine.MetricPoint) []httpapi.Point {
	out := make([]httpapi.Point, len(pts))
	for i, p := range pts {
		out[i] = httpapi.Point{At: p.At, Value: p.Value}
	}
	return out
}

type monitorData struct {
	Monitor httpapi.Monitor
	Window  string
	Q       query
	Rows    []monitorRow
	Pager   pager
	// Focus is the host charted in full (?host=, else the worst host of
	// the page with values), with a chart per metric.
	Focus  string
	Charts []chart
	// Selected is the host an alert linked to (?host=): its row is marked.
	Selected string
}

type monitorRow struct {
	httpapi.MonitorHost
	// Spark is the host's first metric as a sparkline; nil without values.
	Spark *chart
}

func (u *UI) monitorPage(w http.ResponseWriter, r *http.Request, v *view) {
	name := r.PathValue("monitor")
	ctx := r.Context()
	all, err := httpapi.MonitorStatesIn(ctx, u.inventory(), u.opts.Monitors, u.opts.Store, name)
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
	q := r.URL.Query()
	window, ws := 6*time.Hour, q.Get("window")
	if ws != "" {
		if window, err = httpapi.ParseHorizon(ws); err != nil || window > 90*24*time.Hour {
			u.fail(w, r, http.StatusBadRequest, "window must be a duration up to 90d, like 6h or 7d")
			return
		}
	} else {
		ws = "6h"
	}
	hq, err := httpapi.ParseHostQuery(q, pageSize)
	if err != nil {
		u.fail(w, r, http.StatusBadRequest, err.Error())
		return
	}
	// Hosts worst first, then by name; narrowed by ?q= and ?state=.
	hosts := slices.Clone(m.Hosts)
	slices.SortStableFunc(hosts, func(a, b httpapi.MonitorHost) int {
		return slices.Index(httpapi.HealthStates, b.State) - slices.Index(httpapi.HealthStates, a.State)
	})
	hosts = slices.DeleteFunc(hosts, func(h httpapi.MonitorHost) bool {
		return !strings.Contains(strings.ToLower(h.Host), strings.ToLower(hq.Q)) ||
			hq.State != "" && h.State != hq.State && !(hq.State == "problem" && h.State != "OK" && h.State != httpapi.StatePending)
	})
	d := monitorData{Monitor: m, Window: ws, Q: newQuery(r), Focus: q.Get("host")}
	shown := hosts[min(hq.Offset, len(hosts)):min(hq.Offset+hq.Limit, len(hosts))]
	d.Pager = newPager(d.Q, hq.Page, len(shown), len(hosts))
	now := u.opts.Now()
	page := m
	page.Hosts = shown
	if d.Focus != "" && !slices.ContainsFunc(shown, func(h httpapi.MonitorHost) bool { return h.Host == d.Focus }) {
		page.Hosts = append(slices.Clone(shown), httpapi.MonitorHost{Host: d.Focus})
	}
	series, err := httpapi.MonitorSeries(ctx, u.opts.Metrics, page, now, window)
	if err != nil {
		u.failErr(w, r, err)
		return
	}
	if m.Silences, m.Events, err = httpapi.MonitorControls(ctx, u.opts.Alerts, u.opts.AlertAudit, name); err != nil {
		u.failErr(w, r, err)
		return
	}
	d.Monitor, d.Selected = m, q.Get("host")
	unit := func(metric string) string { return unitFor(m.Kind, metric) }
	for _, h := range shown {
		row := monitorRow{MonitorHost: h}
		for _, s := range series {
			if s.Host == h.Host {
				limit, has := m.Limits[s.Metric]
				c := drawChart(chartSpec{Series: s, Unit: unit(s.Metric), Limit: limit, HasLimit: has, From: now.Add(-window), To: now, Small: true})
				row.Spark = &c
				if d.Focus == "" {
					d.Focus = h.Host
				}
				break
			}
		}
		d.Rows = append(d.Rows, row)
	}
	for _, s := range series {
		if s.Host == d.Focus {
			limit, has := m.Limits[s.Metric]
			d.Charts = append(d.Charts, drawChart(chartSpec{Series: s, Unit: unit(s.Metric), Limit: limit, HasLimit: has, From: now.Add(-window), To: now}))
		}
	}
	v.Title, v.Data = "Monitor "+name, d
	v.Refresh = 30
	u.render(w, r, http.StatusOK, "monitor", "layout", v)
}

// unitFor is the unit of a metric of a check kind, where ripple knows it.
func unitFor(kind, metric string) string {
	switch {
	case (kind == "http" || kind == "tcp") && metric == "time":
		return "s"
	case kind == "snmp" && metric == "rate":
		return "/s"
	}
	return ""
}

type capacityData struct {
	Horizon   string
	Forecasts []httpapi.Forecast
	// Charts draw the history and the forecast of the metrics that reach
	// their limit within the horizon, soonest first, at most maxCharts.
	Charts     []chart
	MoreCharts int
}

// maxCapacityCharts caps the forecast charts of the capacity page.
const maxCapacityCharts = 12

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
	ctx := r.Context()
	now := u.opts.Now()
	defs := u.opts.Backend.Definitions()
	fs, err := httpapi.CapacityReport(ctx, defs, u.opts.Metrics, now, horizon)
	if err != nil {
		u.failErr(w, r, err)
		return
	}
	d := capacityData{Horizon: hs, Forecasts: fs}
	for _, f := range fs {
		if !f.Within {
			continue
		}
		if len(d.Charts) == maxCapacityCharts {
			d.MoreCharts++
			continue
		}
		pts, err := u.opts.Metrics.QueryMetrics(ctx, f.Monitor, f.Host, f.Metric, now.Add(-httpapi.CapacityHistory), now.Add(time.Second))
		if err != nil {
			u.failErr(w, r, err)
			return
		}
		kind := ""
		if defs != nil && defs.Monitors[f.Monitor] != nil {
			kind = string(defs.Monitors[f.Monitor].Check.Kind)
		}
		to := now.Add(horizon)
		if f.Crossing.After(now) && f.Crossing.Before(to) {
			// End a little past the crossing so that it stands out.
			to = f.Crossing.Add(f.Crossing.Sub(now) / 5)
		}
		c := drawChart(chartSpec{Series: httpapi.Series{Host: f.Host, Metric: f.Metric, Points: pointsOf(pts)}, Unit: unitFor(kind, f.Metric),
			Limit: f.Limit, HasLimit: true, From: now.Add(-httpapi.CapacityHistory), To: to,
			ForecastNow: now, ForecastValue: f.Current, ForecastPerDay: f.PerDay, Crossing: f.Crossing})
		c.Monitor = f.Monitor
		d.Charts = append(d.Charts, c)
	}
	v.Title, v.Data = "Capacity", d
	u.render(w, r, http.StatusOK, "capacity", "layout", v)
}
