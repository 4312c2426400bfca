package webui

import (
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/ripple-ops/ripple/engine"
	"github.com/ripple-ops/ripple/engine/convergence"
	"github.com/ripple-ops/ripple/engine/httpapi"
)

// The index pages (/hosts, /jobs, /runs, /monitors): a GET form of
// filters, so they work without JavaScript and every view is a link to
// share; the filtering, sorting and counting is httpapi's, the same as the
// API's.

// pageSize is how many rows an index page shows.
const pageSize = 100

// query is an index page's URL: its path and the parameters it was asked
// with, for links that change one of them.
type query struct {
	Path string
	V    url.Values
}

func newQuery(r *http.Request) query {
	v := r.URL.Query()
	v.Del("token") // the session's, never in a link
	return query{Path: r.URL.Path, V: v}
}

// Get is a parameter's value.
func (q query) Get(k string) string { return q.V.Get(k) }

// Is reports whether parameter k is v.
func (q query) Is(k, v string) bool { return q.V.Get(k) == v }

// With is the page's URL with parameters set (pairs of name and value; an
// empty value removes it), back on the first page: a filter changes
// which rows there are.
func (q query) With(kv ...string) string {
	v := url.Values{}
	for k, vs := range q.V {
		v[k] = slices.Clone(vs)
	}
	for _, k := range []string{"page", "before", "after"} {
		v.Del(k)
	}
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] == "" {
			v.Del(kv[i])
		} else {
			v.Set(kv[i], kv[i+1])
		}
	}
	return q.url(v)
}

// Page is the page's URL with every parameter kept but page, which is n.
func (q query) Page(n int) string {
	v := url.Values{}
	for k, vs := range q.V {
		v[k] = slices.Clone(vs)
	}
	v.Set("page", strconv.Itoa(n))
	return q.url(v)
}

// Filtered reports whether any parameter narrows the listing.
func (q query) Filtered() bool {
	for k, vs := range q.V {
		switch k {
		case "page", "sort", "order", "before", "after", "wall":
			continue
		}
		if len(vs) > 0 && vs[0] != "" {
			return true
		}
	}
	return false
}

func (q query) url(v url.Values) string {
	if len(v) == 0 {
		return q.Path
	}
	return q.Path + "?" + v.Encode()
}

// pager says where a page of an offset listing is.
type pager struct {
	From, To, Total int
	Prev, Next      string // URLs; "" when there is none
}

func newPager(q query, p httpapi.Page, shown, total int) pager {
	pg := pager{From: p.Offset + 1, To: p.Offset + shown, Total: total}
	if shown == 0 {
		pg.From = 0
	}
	n := p.Offset/p.Limit + 1
	if n > 1 {
		pg.Prev = q.Page(n - 1)
	}
	if p.Offset+shown < total {
		pg.Next = q.Page(n + 1)
	}
	return pg
}

// facet is one of an index page's counts per choice: a link narrowing
// the listing to that choice.
type facet struct {
	Href    string
	Current bool // the listing is narrowed to it
	Text    string
}

// facets are the counts of param's choices as links, in the order of
// choices, leaving out those that count nothing; text is a link's words
// for count n of choice c.
func facets[S ~string](q query, param string, choices []S, counts map[S]int, text func(n int, c S) string) []facet {
	var out []facet
	for _, c := range choices {
		if n := counts[c]; n != 0 {
			out = append(out, facet{Href: q.With(param, string(c)), Current: q.Is(param, string(c)), Text: text(n, c)})
		}
	}
	return out
}

// label is a state as the pages write it: out_of_sync as out of sync.
func label[S ~string](s S) string { return strings.ReplaceAll(string(s), "_", " ") }

type hostsData struct {
	Q      query
	List   httpapi.HostListing
	Groups []string
	Pager  pager
	States []string
	Syncs  []engine.SyncState
	Jobs   []string
	// HasSync: the daemon keeps sync state.
	HasSync bool
	// StateFacets count the matching hosts by worst monitor state,
	// SyncFacets by worst sync state.
	StateFacets, SyncFacets []facet
}

func (u *UI) hostsPage(w http.ResponseWriter, r *http.Request, v *view) {
	hq, err := httpapi.ParseHostQuery(r.URL.Query(), pageSize)
	if err != nil {
		u.fail(w, r, http.StatusBadRequest, err.Error())
		return
	}
	inv := u.inventory()
	health, err := u.fleetHealth(r.Context(), inv)
	if err != nil {
		u.failErr(w, r, err)
		return
	}
	syncs := u.syncStates(r)
	d := hostsData{Q: newQuery(r), Groups: inv.Groups, States: httpapi.HealthStates, Syncs: httpapi.SyncStates, Jobs: inv.Jobs, HasSync: syncs != nil}
	d.List = httpapi.ListHosts(inv, health, httpapi.SyncByHost(syncs), hq)
	d.StateFacets = facets(d.Q, "state", d.States, d.List.States, func(n int, s string) string { return strconv.Itoa(n) + " " + strings.ToLower(s) })
	if d.HasSync {
		d.SyncFacets = facets(d.Q, "sync", d.Syncs, d.List.Syncs, func(n int, s engine.SyncState) string { return strconv.Itoa(n) + " " + label(s) })
	}
	d.Pager = newPager(d.Q, hq.Page, len(d.List.Rows), d.List.Total)
	v.Title, v.Data = "Hosts", d
	u.render(w, r, http.StatusOK, "hosts", "layout", v)
}

// syncStates is every job's sync state, nil when the daemon keeps none
// (or has applied nothing yet).
func (u *UI) syncStates(r *http.Request) []convergence.JobSync {
	if u.opts.Sync == nil || u.opts.Backend.Definitions() == nil {
		return nil
	}
	s, err := u.opts.Sync.SyncStates(r.Context())
	if err != nil {
		u.log.Debug().Err(err).Msg("sync state")
		return nil
	}
	if s == nil {
		s = []convergence.JobSync{}
	}
	return s
}

type jobsData struct {
	Q       query
	List    httpapi.JobListing
	Pager   pager
	States  []string
	HasSync bool
	// Facets count the matching jobs by their latest run's state.
	Facets []facet
}

func (u *UI) jobsPage(w http.ResponseWriter, r *http.Request, v *view) {
	jq, err := httpapi.ParseJobQuery(r.URL.Query(), pageSize)
	if err != nil {
		u.fail(w, r, http.StatusBadRequest, err.Error())
		return
	}
	latest, err := u.opts.Store.LatestRuns(r.Context())
	if err != nil {
		u.failErr(w, r, err)
		return
	}
	syncs := u.syncStates(r)
	d := jobsData{Q: newQuery(r), HasSync: syncs != nil}
	for _, st := range httpapi.RunStates {
		d.States = append(d.States, string(st))
	}
	d.States = append(d.States, "never")
	d.List = httpapi.ListJobs(u.inventory(), latest, syncs, jq)
	d.Facets = facets(d.Q, "state", d.States, d.List.States, func(n int, s string) string { return strconv.Itoa(n) + " " + label(s) })
	d.Pager = newPager(d.Q, jq.Page, len(d.List.Rows), d.List.Total)
	v.Title, v.Data = "Jobs", d
	u.render(w, r, http.StatusOK, "jobs", "layout", v)
}

type monitorsData struct {
	Q      query
	List   httpapi.MonitorListing
	Pager  pager
	States []string
	Kinds  []string
	// Facets count the matching monitors with a problem, then with a
	// host in each state.
	Facets []facet
}

func (u *UI) monitorsPage(w http.ResponseWriter, r *http.Request, v *view) {
	mq, err := httpapi.ParseMonitorQuery(r.URL.Query(), pageSize)
	if err != nil {
		u.fail(w, r, http.StatusBadRequest, err.Error())
		return
	}
	inv := u.inventory()
	health, err := u.fleetHealth(r.Context(), inv)
	if err != nil {
		u.failErr(w, r, err)
		return
	}
	d := monitorsData{Q: newQuery(r), States: httpapi.HealthStates}
	d.List = httpapi.ListMonitors(inv, health, mq)
	d.Facets = append(facets(d.Q, "state", []string{"problem"}, d.List.States, func(n int, _ string) string { return strconv.Itoa(n) + " with problems" }),
		facets(d.Q, "state", d.States, d.List.States, func(n int, s string) string { return strconv.Itoa(n) + " with " + strings.ToLower(s) })...)
	for k := range d.List.Kinds {
		if k != "" {
			d.Kinds = append(d.Kinds, k)
		}
	}
	slices.Sort(d.Kinds)
	d.Pager = newPager(d.Q, mq.Page, len(d.List.Rows), d.List.Total)
	v.Title, v.Data = "Monitors", d
	u.render(w, r, http.StatusOK, "monitors", "layout", v)
}

type runsData struct {
	Q      query
	Filter engine.RunFilter
	Runs   []httpapi.Run
	Counts map[engine.RunState]int
	Total  int
	// Prev and Next are the URLs of the previous and the next page in
	// the listing's order; "" at an end.
	Prev, Next string
	States     []engine.RunState
	Jobs       []string
	Triggers   []string
	// Facets count the matching runs by state.
	Facets []facet
}

func (u *UI) runsPage(w http.ResponseWriter, r *http.Request, v *view) {
	f, err := httpapi.ParseRunFilter(r.URL.Query(), u.opts.Now())
	if err != nil {
		u.fail(w, r, http.StatusBadRequest, err.Error())
		return
	}
	if f.Limit == httpapi.DefaultRunLimit {
		f.Limit = pageSize
	}
	d := runsData{Q: newQuery(r), Filter: f, States: httpapi.RunStates, Jobs: u.inventory().Jobs,
		Triggers: []string{engine.TriggerCommit, engine.TriggerManual, engine.TriggerSchedule, engine.TriggerSync, engine.TriggerSelfHeal, engine.TriggerApply}}
	// Pages go by keyset: in the listing's order, the next page is past
	// its last run (before= newest first, after= oldest first) and the
	// previous one is before its first. A previous page is read in the
	// other order, nearest the cursor, and turned round; one run more
	// than a page says whether there is a page beyond.
	fwdKey, backKey := "before", "after"
	fwd, back := f.Before > 0, f.After > 0
	if f.Oldest {
		fwdKey, backKey = backKey, fwdKey
		fwd, back = back, fwd
	}
	ask := f
	ask.Limit++
	backwards := back && !fwd
	if backwards {
		ask.Oldest = !f.Oldest
	}
	runs, err := u.opts.Store.ListRuns(r.Context(), ask)
	if err != nil {
		u.failErr(w, r, err)
		return
	}
	more := len(runs) > f.Limit
	if more {
		runs = runs[:f.Limit]
	}
	if backwards {
		slices.Reverse(runs)
	}
	counts := f
	counts.States = nil // the state choices count every state
	if d.Counts, err = u.opts.Store.CountRuns(r.Context(), counts); err != nil {
		u.failErr(w, r, err)
		return
	}
	for st, n := range d.Counts {
		if len(f.States) == 0 || slices.Contains(f.States, st) {
			d.Total += n
		}
	}
	d.Facets = facets(d.Q, "state", d.States, d.Counts, func(n int, s engine.RunState) string { return thousands(n) + " " + label(s) })
	d.Runs = runsJSON(runs)
	if len(runs) > 0 {
		first, last := strconv.FormatInt(runs[0].ID, 10), strconv.FormatInt(runs[len(runs)-1].ID, 10)
		if backwards && more || fwd {
			d.Prev = d.Q.With(backKey, first)
		}
		if !backwards && more || backwards {
			d.Next = d.Q.With(fwdKey, last)
		}
	}
	v.Title, v.Data = "Runs", d
	u.render(w, r, http.StatusOK, "runs", "layout", v)
}
