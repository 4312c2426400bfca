package httpapi

import (
	"context"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/ripple-ops/ripple/definitions"
	"github.com/ripple-ops/ripple/engine"
)

// MonitorSource is the live alert state of every (monitor, host);
// *monitor.Runner implements it.
type MonitorSource interface {
	States() []engine.MonitorHostState
}

// HostStatesSource is a MonitorSource that lists one host's states
// without every pair's, for a host's page; *monitor.Runner implements
// it.
type HostStatesSource interface {
	MonitorSource
	HostStates(host string) []engine.MonitorHostState
}

// MetricNamer lists the metrics stored for one (monitor, host). A
// MetricStore that implements it lets monitor pages show every series;
// without it they show the monitor's limited metrics and the check kind's
// usual ones.
type MetricNamer interface {
	MetricNames(ctx context.Context, monitor, host string) ([]string, error)
}

// seriesWindow is how far back GET /api/v1/monitors/{monitor} reads values.
const seriesWindow = 6 * time.Hour

// MonitorHost is the state of one monitor on one host.
type MonitorHost struct {
	Monitor     string    `json:"monitor"`
	Host        string    `json:"host"`
	State       string    `json:"state"` // OK, WARNING, CRITICAL, UNKNOWN; PENDING before the first result
	Since       time.Time `json:"since,omitzero"`
	Consecutive int       `json:"consecutive"` // consecutive non-OK results
	Firing      bool      `json:"firing"`
	Flapping    bool      `json:"flapping"`
	FlapPercent float64   `json:"flap_percent"`
	Muted       bool      `json:"muted"` // a maintenance window the monitor names is open
	Held        bool      `json:"held"`  // the host is in an active rollout wave
	LastOutput  string    `json:"last_output,omitempty"`
	LastAt      time.Time `json:"last_at,omitzero"`
	// Undelivered is the latest alert or recovery while a notifier has
	// not received it; it is being retried.
	Undelivered *UndeliveredNotification `json:"undelivered,omitempty"`
	// Suppressed says why a state that is not OK does not alert (a parent
	// down, a depends_on monitor not OK, the host unreachable over SSH).
	Suppressed string `json:"suppressed,omitempty"`
	// Silence is the active silence of the pair; Ack the acknowledgement
	// of its current state.
	Silence *Silence `json:"silence,omitempty"`
	Ack     *Ack     `json:"ack,omitempty"`
	// Severity and Runbook are the monitor's, for the alert rows.
	Severity string `json:"severity,omitempty"`
	Runbook  string `json:"runbook,omitempty"`
}

// UndeliveredNotification is a notification some notifiers still owe.
type UndeliveredNotification struct {
	Kind string    `json:"kind"` // alert or recovery
	At   time.Time `json:"at"`
	// Notifiers maps each notifier that has not received it to why its
	// last attempt failed ("" before the first attempt).
	Notifiers map[string]string `json:"notifiers"`
}

func undelivered(p *engine.PendingNotification) *UndeliveredNotification {
	if p == nil {
		return nil
	}
	return &UndeliveredNotification{Kind: string(p.Kind), At: p.At, Notifiers: maps.Clone(p.Undelivered)}
}

// Monitor is a monitor at the applied commit with its state per host.
type Monitor struct {
	Name       string             `json:"name"`
	Kind       string             `json:"kind,omitempty"`
	Interval   string             `json:"interval,omitempty"`
	AlertAfter int                `json:"alert_after,omitempty"`
	Notify     []string           `json:"notify"`
	Window     string             `json:"window,omitempty"`
	Limits     map[string]float64 `json:"limits"`
	File       string             `json:"file,omitempty"`
	Line       int                `json:"line,omitempty"`
	Severity   string             `json:"severity,omitempty"`
	Labels     map[string]string  `json:"labels"`
	Runbook    string             `json:"runbook,omitempty"`
	DependsOn  []string           `json:"depends_on"`
	// Connectivity marks the hosts' connectivity monitor.
	Connectivity   bool           `json:"connectivity,omitempty"`
	RepeatInterval string         `json:"repeat_interval,omitempty"`
	Counts         map[string]int `json:"counts"` // hosts by state
	Hosts          []MonitorHost  `json:"hosts"`
	Series         []Series       `json:"series,omitempty"` // detail only
	// Silences are the monitor's active silences and Events its alert
	// audit, newest first (detail only).
	Silences []Silence    `json:"silences,omitempty"`
	Events   []AlertEvent `json:"events,omitempty"`
}

// Series is the recent values of one metric of one (monitor, host).
type Series struct {
	Host   string  `json:"host"`
	Metric string  `json:"metric"`
	Points []Point `json:"points"`
}

// Point is one value of a series.
type Point struct {
	At    time.Time `json:"t"`
	Value float64   `json:"v"`
}

// StatePending is the state of a (monitor, host) with no result yet.
const StatePending = "PENDING"

// MonitorStates returns every monitor of the applied commit (and any
// monitor that still has state after being removed), sorted by name, each
// with its target hosts' states. src may be nil: the persisted states of
// store are used when it is a MonitorStateStore.
func MonitorStates(ctx context.Context, defs *definitions.Definitions, src MonitorSource, store any) ([]Monitor, error) {
	return MonitorStatesIn(ctx, NewInventory(defs), src, store)
}

// MonitorStatesIn is MonitorStates over an inventory worked out before
// (see InventoryCache); with names, only those monitors.
func MonitorStatesIn(ctx context.Context, inv *Inventory, src MonitorSource, store any, names ...string) ([]Monitor, error) {
	only := map[string]bool{}
	for _, n := range names {
		only[n] = true
	}
	states, err := monitorHostStates(ctx, src, store, func(monitor, _ string) bool { return len(only) == 0 || only[monitor] })
	if err != nil {
		return nil, err
	}
	byMonitor := map[string]map[string]MonitorHost{}
	for _, s := range states {
		if len(only) > 0 && !only[s.Monitor] {
			continue
		}
		if byMonitor[s.Monitor] == nil {
			byMonitor[s.Monitor] = map[string]MonitorHost{}
		}
		byMonitor[s.Monitor][s.Host] = s
	}
	all := map[string]bool{}
	for n := range byMonitor {
		all[n] = true
	}
	defs := inv.Defs
	for _, n := range inv.Monitors {
		if len(only) == 0 || only[n] {
			all[n] = true
		}
	}
	out := make([]Monitor, 0, len(all))
	for _, name := range slices.Sorted(maps.Keys(all)) {
		m := Monitor{Name: name, Notify: []string{}, Limits: map[string]float64{}, Counts: map[string]int{}, Hosts: []MonitorHost{},
			Labels: map[string]string{}, DependsOn: []string{}}
		have := byMonitor[name]
		var targets []string
		if defs != nil && defs.Monitors[name] != nil {
			d := defs.Monitors[name]
			m.Kind, m.AlertAfter, m.Window = string(d.Check.Kind), d.AlertAfter, d.Window
			m.Interval = d.Interval.String()
			m.File, m.Line = d.DeclRange.Filename, d.DeclRange.Start.Line
			if d.Notify != nil {
				m.Notify = d.Notify
			}
			if d.Limits != nil {
				m.Limits = d.Limits
			}
			m.Severity, m.Runbook, m.Connectivity = d.Severity, d.Runbook, d.Connectivity
			if d.Labels != nil {
				m.Labels = d.Labels
			}
			if d.DependsOn != nil {
				m.DependsOn = d.DependsOn
			}
			if d.RepeatInterval > 0 {
				m.RepeatInterval = d.RepeatInterval.String()
			}
			targets = inv.MonitorHosts[name]
		} else {
			targets = slices.Sorted(maps.Keys(have))
		}
		for _, h := range targets {
			mh, ok := have[h]
			if !ok {
				mh = MonitorHost{Monitor: name, Host: h, State: StatePending}
			}
			mh.Severity, mh.Runbook = m.Severity, m.Runbook
			m.Counts[mh.State]++
			m.Hosts = append(m.Hosts, mh)
		}
		out = append(out, m)
	}
	return out, nil
}

// HostMonitorStates returns the state of every monitor that checks host,
// by monitor name (monitors without a result yet are PENDING).
func HostMonitorStates(ctx context.Context, inv *Inventory, src MonitorSource, store any, host string) ([]MonitorHost, error) {
	keep := func(_, h string) bool { return h == host }
	var states []MonitorHost
	if hs, ok := src.(HostStatesSource); ok {
		for _, s := range hs.HostStates(host) {
			if keep(s.Monitor, s.Host) {
				states = append(states, liveHost(s, liveState(s)))
			}
		}
	} else {
		var err error
		if states, err = monitorHostStates(ctx, src, store, keep); err != nil {
			return nil, err
		}
	}
	have := map[string]MonitorHost{}
	for _, s := range states {
		if s.Host == host {
			have[s.Monitor] = s
		}
	}
	out := []MonitorHost{}
	for _, m := range inv.HostMonitors[host] {
		mh, ok := have[m]
		if !ok {
			mh = MonitorHost{Monitor: m, Host: host, State: StatePending}
		}
		out = append(out, mh)
	}
	return out, nil
}

// liveState is s's state as the API names it: PENDING while scheduled
// without a result yet.
func liveState(s engine.MonitorHostState) string {
	if s.LastAt.IsZero() {
		return StatePending
	}
	return s.State.String()
}

// monitorHostStates is the state of each (monitor, host) keep keeps, as
// the API shows it: only those are copied into rows, so that a page of
// one host or one monitor does not build 100,000 of them.
func monitorHostStates(ctx context.Context, src MonitorSource, store any, keep func(monitor, host string) bool) ([]MonitorHost, error) {
	var out []MonitorHost
	if src != nil {
		for _, s := range src.States() {
			if !keep(s.Monitor, s.Host) {
				continue
			}
			out = append(out, liveHost(s, liveState(s)))
		}
		return out, nil
	}
	ms, ok := store.(engine.MonitorStateStore)
	if !ok {
		return nil, nil
	}
	recs, err := ms.MonitorStates(ctx)
	if err != nil {
		return nil, err
	}
	for _, r := range recs {
		if keep(r.Monitor, r.Host) {
			out = append(out, recordHost(r))
		}
	}
	return out, nil
}

// MonitorSeries reads the values of m's metrics on each of its hosts from
// now-window to now. Series without points are left out.
func MonitorSeries(ctx context.Context, metrics engine.MetricStore, m Monitor, now time.Time, window time.Duration) ([]Series, error) {
	out := []Series{}
	if metrics == nil {
		return out, nil
	}
	namer, _ := metrics.(MetricNamer)
	for _, h := range m.Hosts {
		var names []string
		if namer != nil {
			n, err := namer.MetricNames(ctx, m.Name, h.Host)
			if err != nil {
				return nil, err
			}
			names = n
		} else {
			names = guessMetricNames(m)
		}
		for _, metric := range names {
			pts, err := metrics.QueryMetrics(ctx, m.Name, h.Host, metric, now.Add(-window), now.Add(time.Second))
			if err != nil {
				return nil, err
			}
			if len(pts) == 0 {
				continue
			}
			s := Series{Host: h.Host, Metric: metric, Points: make([]Point, 0, len(pts))}
			for _, p := range pts {
				s.Points = append(s.Points, Point{At: p.At, Value: p.Value})
			}
			out = append(out, s)
		}
	}
	return out, nil
}

// guessMetricNames is the limited metrics plus what the check kind
// usually records (docs/checks.md).
func guessMetricNames(m Monitor) []string {
	names := map[string]bool{}
	for k := range m.Limits {
		names[k] = true
	}
	switch definitions.CheckKind(m.Kind) {
	case definitions.CheckHTTP, definitions.CheckTCP:
		names["time"] = true
	case definitions.CheckSNMP:
		names["value"], names["rate"] = true, true
	case definitions.CheckLog:
		names["matches"], names["bytes"], names["backlog_bytes"] = true, true, true
	}
	return slices.Sorted(maps.Keys(names))
}

// listMonitors: GET /api/v1/monitors, filtered, sorted and paged by
// ParseMonitorQuery's parameters (every monitor, by name, without them),
// X-Total-Count counting the matches.
func (h *Handler) listMonitors(w http.ResponseWriter, r *http.Request, _ Identity) {
	q := r.URL.Query()
	mq, err := ParseMonitorQuery(q, 0)
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	inv := h.inventory()
	var names []string
	if len(q) > 0 {
		health, err := h.fleetHealth(r.Context(), inv)
		if err != nil {
			writeBackendError(w, err)
			return
		}
		list := ListMonitors(inv, health, mq)
		w.Header().Set("X-Total-Count", strconv.Itoa(list.Total))
		if len(list.Rows) == 0 {
			writeJSON(w, http.StatusOK, []Monitor{})
			return
		}
		for _, row := range list.Rows {
			names = append(names, row.Name)
		}
	}
	out, err := MonitorStatesIn(r.Context(), inv, h.opts.Monitors, h.opts.Store, names...)
	if err != nil {
		writeBackendError(w, err)
		return
	}
	if names != nil {
		// In the listing's order (it may sort by problems).
		slices.SortStableFunc(out, func(a, b Monitor) int { return slices.Index(names, a.Name) - slices.Index(names, b.Name) })
	} else {
		w.Header().Set("X-Total-Count", strconv.Itoa(len(out)))
	}
	writeJSON(w, http.StatusOK, out)
}

func (h *Handler) getMonitor(w http.ResponseWriter, r *http.Request, _ Identity) {
	name := r.PathValue("monitor")
	all, err := MonitorStatesIn(r.Context(), h.inventory(), h.opts.Monitors, h.opts.Store, name)
	if err != nil {
		writeBackendError(w, err)
		return
	}
	i := slices.IndexFunc(all, func(m Monitor) bool { return m.Name == name })
	if i < 0 {
		writeError(w, http.StatusNotFound, "no monitor "+strconv.Quote(name))
		return
	}
	m := all[i]
	window := seriesWindow
	if s := r.URL.Query().Get("window"); s != "" {
		d, err := parseDays(s)
		if err != nil || d <= 0 || d > 90*24*time.Hour {
			writeError(w, http.StatusBadRequest, "window must be a duration up to 90d, like 6h or 7d")
			return
		}
		window = d
	}
	if m.Series, err = MonitorSeries(r.Context(), h.opts.Metrics, m, time.Now(), window); err != nil {
		writeBackendError(w, err)
		return
	}
	if m.Silences, m.Events, err = MonitorControls(r.Context(), h.opts.Alerts, h.opts.AlertAudit, name); err != nil {
		writeBackendError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, m)
}

// MonitorControls are the active silences of monitor and its alert audit
// (the latest 50 events), for its page.
func MonitorControls(ctx context.Context, alerts AlertActions, audit engine.AlertAuditReader, monitor string) ([]Silence, []AlertEvent, error) {
	var silences []Silence
	if alerts != nil {
		list, err := alerts.Silences(ctx, false)
		if err != nil {
			return nil, nil, err
		}
		now := time.Now()
		for _, s := range list {
			if s.Monitor == monitor {
				silences = append(silences, SilenceJSON(s, now))
			}
		}
	}
	events, err := AlertEvents(ctx, audit, engine.AlertEventFilter{Monitor: monitor, Limit: 50})
	return silences, events, err
}

// parseDays is time.ParseDuration that also takes a whole number of days
// ("30d").
func parseDays(s string) (time.Duration, error) {
	if n, ok := strings.CutSuffix(s, "d"); ok {
		days, err := strconv.Atoi(n)
		if err != nil {
			return 0, err
		}
		return time.Duration(days) * 24 * time.Hour, nil
	}
	return time.ParseDuration(s)
}
