package httpapi

import (
	"cmp"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/ripple-ops/ripple/engine"
	"github.com/ripple-ops/ripple/engine/convergence"
)

// The host, job and monitor listings of the API and the web UI: filters,
// sort and pages over the applied commit's inventory, with counts for
// each filter's choices (facets). The inventory is in memory; one listing
// is a pass over it and one over the monitor states.

// Page is a window of a listing: Offset rows skipped, at most Limit shown.
type Page struct {
	Offset, Limit int
}

// maxPage caps a page of hosts, jobs or monitors.
const maxPage = 1000

// parsePage reads offset and limit (or page, 1-based, in pages of limit).
func parsePage(q url.Values, def int) (Page, error) {
	p := Page{Limit: def}
	if s := q.Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > maxPage {
			return p, fmt.Errorf("limit must be a number from 1 to %d", maxPage)
		}
		p.Limit = n
	}
	if s := q.Get("offset"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 0 {
			return p, fmt.Errorf("offset must be a number from 0")
		}
		p.Offset = n
	}
	if s := q.Get("page"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			return p, fmt.Errorf("page must be a number from 1")
		}
		p.Offset = (n - 1) * p.Limit
	}
	return p, nil
}

// pageOf is p's window of rows; a zero Limit keeps every row from Offset.
func pageOf[T any](rows []T, p Page) []T {
	if p.Offset >= len(rows) {
		return nil
	}
	if p.Limit <= 0 {
		return rows[p.Offset:]
	}
	return rows[p.Offset:min(len(rows), p.Offset+p.Limit)]
}

// contains reports whether s contains sub, ignoring case; "" is in
// everything.
func contains(s, sub string) bool {
	return sub == "" || strings.Contains(strings.ToLower(s), sub)
}

// SyncStates are the sync states best first: a host's sync state over its
// jobs is the last of these it has.
var SyncStates = []engine.SyncState{engine.SyncSynced, engine.SyncUnknown, engine.SyncDrifted, engine.SyncOutOfSync}

// SyncCounts counts (job, host) pairs by sync state, indexed like
// SyncStates.
type SyncCounts [4]int

func syncRank(s engine.SyncState) int {
	switch s {
	case engine.SyncSynced:
		return 0
	case engine.SyncDrifted:
		return 2
	case engine.SyncOutOfSync:
		return 3
	}
	return 1
}

// Worst is the worst sync state counted, "" when none is.
func (c SyncCounts) Worst() engine.SyncState {
	for i := len(c) - 1; i >= 0; i-- {
		if c[i] > 0 {
			return SyncStates[i]
		}
	}
	return ""
}

// Of is the count of state s.
func (c SyncCounts) Of(s engine.SyncState) int { return c[syncRank(s)] }

// Total is the number of pairs counted.
func (c SyncCounts) Total() int { return c[0] + c[1] + c[2] + c[3] }

// NeedSync counts the pairs a sync run visits (out of sync or drifted).
func (c SyncCounts) NeedSync() int { return c[2] + c[3] }

// SyncByHost counts the sync states of each host over its jobs.
func SyncByHost(syncs []convergence.JobSync) map[string]*SyncCounts {
	out := map[string]*SyncCounts{}
	for _, js := range syncs {
		for _, h := range js.Hosts {
			c := out[h.Host]
			if c == nil {
				c = &SyncCounts{}
				out[h.Host] = c
			}
			c[syncRank(h.State)]++
		}
	}
	return out
}

// HostQuery filters and sorts the host listing.
type HostQuery struct {
	// Q is a substring of the name or the address, any case.
	Q     string
	Group string
	// Label is "key=value", or "key" for any value.
	Label   string
	Job     string // hosts the job targets
	Monitor string // hosts the monitor checks
	// State is the worst monitor state on the host (OK, WARNING,
	// CRITICAL, UNKNOWN, PENDING), or "problem" for WARNING, CRITICAL or
	// UNKNOWN.
	State string
	// Sync is the worst sync state of the host's jobs (synced,
	// out_of_sync, drifted, unknown); synced means every job is.
	Sync string
	// Sort is name (default), health (worst first), sync (worst first)
	// or address.
	Sort string
	Page
}

// ParseHostQuery reads q, group, label, job, monitor, state, sync, sort,
// and limit with offset or page (default limit def).
func ParseHostQuery(q url.Values, def int) (HostQuery, error) {
	hq := HostQuery{
		Q: strings.TrimSpace(q.Get("q")), Group: q.Get("group"), Label: strings.TrimSpace(q.Get("label")),
		Job: q.Get("job"), Monitor: q.Get("monitor"), State: strings.ToUpper(q.Get("state")), Sync: q.Get("sync"), Sort: q.Get("sort"),
	}
	if hq.State == "PROBLEM" {
		hq.State = "problem"
	}
	if hq.State != "" && hq.State != "problem" && !slices.Contains(HealthStates, hq.State) {
		return hq, fmt.Errorf("state must be one of %s or problem", strings.Join(HealthStates, ", "))
	}
	if hq.Sync != "" && !slices.Contains(SyncStates, engine.SyncState(hq.Sync)) {
		return hq, fmt.Errorf("sync must be one of synced, out_of_sync, drifted, unknown")
	}
	switch hq.Sort {
	case "", "name", "health", "sync", "address":
	default:
		return hq, fmt.Errorf("sort must be name, health, sync or address")
	}
	var err error
	hq.Page, err = parsePage(q, def)
	return hq, err
}

// HostRow is one host of a listing.
type HostRow struct {
	Name    string
	Address string
	Port    int
	Groups  []string
	Labels  map[string]string
	Jobs    []string
	// Health counts its monitors by state; Sync its jobs by sync state
	// (zero without sync state).
	Health StateCounts
	Sync   SyncCounts
}

// HostListing is a page of hosts with the counts of the whole listing.
type HostListing struct {
	Rows []HostRow
	// Total counts the hosts matching every filter.
	Total int
	// States counts the matching hosts by worst monitor state, ignoring
	// the state filter; Syncs by worst sync state, ignoring the sync
	// filter (the choices of each filter, with how many hosts each
	// would show).
	States map[string]int
	Syncs  map[engine.SyncState]int
}

// ListHosts filters, sorts and pages inv's hosts; health and sync (nil
// when unknown) are the fleet's states.
func ListHosts(inv *Inventory, health *Health, sync map[string]*SyncCounts, q HostQuery) HostListing {
	out := HostListing{States: map[string]int{}, Syncs: map[engine.SyncState]int{}}
	if inv.Defs == nil {
		return out
	}
	sub := strings.ToLower(q.Q)
	lk, lv, hasValue := strings.Cut(q.Label, "=")
	var only map[string]bool
	setOf := func(hosts []string) map[string]bool {
		m := make(map[string]bool, len(hosts))
		for _, h := range hosts {
			m[h] = true
		}
		return m
	}
	if q.Job != "" {
		only = setOf(inv.JobHosts[q.Job])
	}
	if q.Monitor != "" {
		ms := setOf(inv.MonitorHosts[q.Monitor])
		if only == nil {
			only = ms
		} else {
			for h := range only {
				if !ms[h] {
					delete(only, h)
				}
			}
		}
	}
	// Room for every host at once: at 10,000 hosts, growing the slice
	// row by row allocated twice what it keeps.
	rows := make([]HostRow, 0, len(inv.Hosts))
	for _, name := range inv.Hosts {
		h := inv.Defs.Hosts[name]
		if only != nil && !only[name] || !(contains(name, sub) || contains(h.Address, sub)) ||
			q.Group != "" && !slices.Contains(h.Groups, q.Group) {
			continue
		}
		if q.Label != "" {
			v, ok := h.Labels[lk]
			if !ok || hasValue && v != lv {
				continue
			}
		}
		row := HostRow{Name: name, Address: h.Address, Port: h.Port, Groups: h.Groups, Labels: h.Labels, Jobs: inv.HostJobs[name]}
		if c := health.Hosts[name]; c != nil {
			row.Health = *c
		}
		if c := sync[name]; c != nil {
			row.Sync = *c
		}
		worst, worstSync := row.Health.Worst(), row.Sync.Worst()
		stateOK := q.State == "" || worst == q.State || q.State == "problem" && healthRank(worst) > 1
		syncOK := q.Sync == "" || string(worstSync) == q.Sync
		if syncOK && worst != "" {
			out.States[worst]++
		}
		if stateOK && worstSync != "" {
			out.Syncs[worstSync]++
		}
		if stateOK && syncOK {
			rows = append(rows, row)
		}
	}
	switch q.Sort {
	case "health":
		slices.SortStableFunc(rows, func(a, b HostRow) int {
			return cmp.Or(healthRank(b.Health.Worst())-healthRank(a.Health.Worst()), b.Health.Total()-b.Health.Of("OK")-(a.Health.Total()-a.Health.Of("OK")))
		})
	case "sync":
		slices.SortStableFunc(rows, func(a, b HostRow) int {
			return cmp.Or(syncRank(b.Sync.Worst())-syncRank(a.Sync.Worst()), b.Sync.NeedSync()-a.Sync.NeedSync())
		})
	case "address":
		slices.SortStableFunc(rows, func(a, b HostRow) int { return cmp.Compare(a.Address, b.Address) })
	}
	out.Total = len(rows)
	out.Rows = pageOf(rows, q.Page)
	return out
}

// JobQuery filters and sorts the job listing.
type JobQuery struct {
	// Q is a substring of the name or the description, any case.
	Q string
	// State is the state of the job's latest run, or "never".
	State string
	// Sync is "needs_sync" (some host out of sync or drifted) or
	// "synced" (every host is).
	Sync string
	// Schedule is "scheduled" or "unscheduled".
	Schedule string
	// Sort is name (default), last (latest run first), hosts (most
	// first) or sync (most hosts to sync first).
	Sort string
	Page
}

// ParseJobQuery reads q, state, sync, schedule, sort, and limit with
// offset or page.
func ParseJobQuery(q url.Values, def int) (JobQuery, error) {
	jq := JobQuery{Q: strings.TrimSpace(q.Get("q")), State: q.Get("state"), Sync: q.Get("sync"), Schedule: q.Get("schedule"), Sort: q.Get("sort")}
	if jq.State != "" && jq.State != "never" && !validState(engine.RunState(jq.State)) {
		return jq, fmt.Errorf("state must be a run state (%s) or never", joinStates(RunStates))
	}
	if jq.Sync != "" && jq.Sync != "needs_sync" && jq.Sync != "synced" {
		return jq, fmt.Errorf("sync must be needs_sync or synced")
	}
	if jq.Schedule != "" && jq.Schedule != "scheduled" && jq.Schedule != "unscheduled" {
		return jq, fmt.Errorf("schedule must be scheduled or unscheduled")
	}
	switch jq.Sort {
	case "", "name", "last", "hosts", "sync":
	default:
		return jq, fmt.Errorf("sort must be name, last, hosts or sync")
	}
	var err error
	jq.Page, err = parsePage(q, def)
	return jq, err
}

// JobRow is one job of a listing.
type JobRow struct {
	Name, Description string
	Hosts             int
	Schedule, Window  string
	Last              *engine.Run // nil when it never ran
	Sync              SyncCounts
	HasSync           bool // the daemon keeps sync state
}

// JobListing is a page of jobs with the counts of the whole listing.
type JobListing struct {
	Rows  []JobRow
	Total int
	// States counts the matching jobs by their latest run's state
	// ("never" when none), ignoring the state filter.
	States map[string]int
}

// ListJobs filters, sorts and pages inv's jobs; latest are the latest run
// of each job, syncs the sync state (nil when unknown).
func ListJobs(inv *Inventory, latest []*engine.Run, syncs []convergence.JobSync, q JobQuery) JobListing {
	out := JobListing{States: map[string]int{}}
	if inv.Defs == nil {
		return out
	}
	last := map[string]*engine.Run{}
	for _, r := range latest {
		last[r.Job] = r
	}
	bySync := map[string]*SyncCounts{}
	for _, js := range syncs {
		c := &SyncCounts{}
		for _, h := range js.Hosts {
			c[syncRank(h.State)]++
		}
		bySync[js.Job] = c
	}
	sub := strings.ToLower(q.Q)
	var rows []JobRow
	for _, name := range inv.Jobs {
		j := inv.Defs.Jobs[name]
		if !contains(name, sub) && !contains(j.Description, sub) ||
			q.Schedule == "scheduled" && j.Schedule == "" || q.Schedule == "unscheduled" && j.Schedule != "" {
			continue
		}
		row := JobRow{Name: name, Description: j.Description, Hosts: len(inv.JobHosts[name]), Schedule: j.Schedule, Window: j.Window, Last: last[name]}
		if c := bySync[name]; c != nil {
			row.Sync, row.HasSync = *c, true
		}
		if q.Sync == "needs_sync" && row.Sync.NeedSync() == 0 || q.Sync == "synced" && (!row.HasSync || row.Sync.NeedSync() > 0) {
			continue
		}
		state := "never"
		if row.Last != nil {
			state = string(row.Last.State)
		}
		out.States[state]++
		if q.State != "" && q.State != state {
			continue
		}
		rows = append(rows, row)
	}
	switch q.Sort {
	case "last":
		slices.SortStableFunc(rows, func(a, b JobRow) int { return cmp.Compare(lastID(b), lastID(a)) })
	case "hosts":
		slices.SortStableFunc(rows, func(a, b JobRow) int { return b.Hosts - a.Hosts })
	case "sync":
		slices.SortStableFunc(rows, func(a, b JobRow) int { return b.Sync.NeedSync() - a.Sync.NeedSync() })
	}
	out.Total = len(rows)
	out.Rows = pageOf(rows, q.Page)
	return out
}

func lastID(j JobRow) int64 {
	if j.Last == nil {
		return 0
	}
	return j.Last.ID
}

// MonitorQuery filters and sorts the monitor listing.
type MonitorQuery struct {
	// Q is a substring of the name, any case.
	Q    string
	Kind string
	// State keeps monitors with a host in that state (OK, WARNING,
	// CRITICAL, UNKNOWN, PENDING), or "problem" for a host in WARNING,
	// CRITICAL or UNKNOWN.
	State string
	// Sort is name (default), problems (most hosts not OK first) or
	// hosts (most targets first).
	Sort string
	Page
}

// ParseMonitorQuery reads q, kind, state, sort, and limit with offset or
// page.
func ParseMonitorQuery(q url.Values, def int) (MonitorQuery, error) {
	mq := MonitorQuery{Q: strings.TrimSpace(q.Get("q")), Kind: q.Get("kind"), State: strings.ToUpper(q.Get("state")), Sort: q.Get("sort")}
	if mq.State == "PROBLEM" {
		mq.State = "problem"
	}
	if mq.State != "" && mq.State != "problem" && !slices.Contains(HealthStates, mq.State) {
		return mq, fmt.Errorf("state must be one of %s or problem", strings.Join(HealthStates, ", "))
	}
	switch mq.Sort {
	case "", "name", "problems", "hosts":
	default:
		return mq, fmt.Errorf("sort must be name, problems or hosts")
	}
	var err error
	mq.Page, err = parsePage(q, def)
	return mq, err
}

// MonitorRow is one monitor of a listing.
type MonitorRow struct {
	Name, Kind, Interval string
	Hosts                int // target hosts
	Counts               StateCounts
	Firing               int // hosts alerting
}

// Problems counts the hosts in WARNING, CRITICAL or UNKNOWN.
func (m MonitorRow) Problems() int { return m.Counts[2] + m.Counts[3] + m.Counts[4] }

// MonitorListing is a page of monitors with the counts of the listing.
type MonitorListing struct {
	Rows  []MonitorRow
	Total int
	// Kinds counts the matching monitors by check kind, ignoring the kind
	// filter; States the monitors with a host in each state, ignoring the
	// state filter.
	Kinds  map[string]int
	States map[string]int
}

// ListMonitors filters, sorts and pages inv's monitors (and monitors the
// commit removed that still have state).
func ListMonitors(inv *Inventory, health *Health, q MonitorQuery) MonitorListing {
	out := MonitorListing{Kinds: map[string]int{}, States: map[string]int{}}
	names := slices.Clone(inv.Monitors)
	for n := range health.Monitors {
		if inv.Defs == nil || inv.Defs.Monitors[n] == nil {
			names = append(names, n)
		}
	}
	slices.Sort(names)
	sub := strings.ToLower(q.Q)
	var rows []MonitorRow
	for _, name := range names {
		if !contains(name, sub) {
			continue
		}
		row := MonitorRow{Name: name, Hosts: len(inv.MonitorHosts[name]), Firing: health.Firing[name]}
		if inv.Defs != nil {
			if d := inv.Defs.Monitors[name]; d != nil {
				row.Kind, row.Interval = string(d.Check.Kind), d.Interval.String()
			}
		}
		if c := health.Monitors[name]; c != nil {
			row.Counts = *c
		}
		stateOK := q.State == "" || q.State == "problem" && row.Problems() > 0 || q.State != "problem" && row.Counts.Of(q.State) > 0
		kindOK := q.Kind == "" || row.Kind == q.Kind
		if stateOK {
			out.Kinds[row.Kind]++
		}
		if kindOK {
			for i, n := range row.Counts {
				if n > 0 {
					out.States[HealthStates[i]]++
				}
			}
			if row.Problems() > 0 {
				out.States["problem"]++
			}
		}
		if stateOK && kindOK {
			rows = append(rows, row)
		}
	}
	switch q.Sort {
	case "problems":
		slices.SortStableFunc(rows, func(a, b MonitorRow) int {
			return cmp.Or(b.Counts.Of("CRITICAL")-a.Counts.Of("CRITICAL"), b.Problems()-a.Problems())
		})
	case "hosts":
		slices.SortStableFunc(rows, func(a, b MonitorRow) int { return b.Hosts - a.Hosts })
	}
	out.Total = len(rows)
	out.Rows = pageOf(rows, q.Page)
	return out
}
