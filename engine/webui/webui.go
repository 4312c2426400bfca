package webui

import (
	"bytes"
	"context"
	"crypto/rand"
	"embed"
	"encoding/base64"
	"errors"
	"html/template"
	"io/fs"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/rs/zerolog"

	"github.com/ripple-ops/ripple/engine"
	"github.com/ripple-ops/ripple/engine/httpapi"
)

//go:embed templates/*.html
var templateFS embed.FS

// Options configure the UI. Backend and Store are required.
type Options struct {
	Backend httpapi.Backend
	Store   httpapi.Store
	// Tokens are the API's tokens; the UI signs people in with the same
	// ones. Nil lets nobody in.
	Tokens *httpapi.Tokens
	// Monitors is the live monitor state; nil falls back to the state the
	// Store persisted, when it keeps one.
	Monitors httpapi.MonitorSource
	// Sync is the daemon's convergence: the job page shows each host's
	// sync state and offers a sync run; nil shows none.
	Sync httpapi.SyncBackend
	// Cluster, on a node of a cluster, describes its nodes and leader (the
	// overview shows them); nil: one daemon.
	Cluster httpapi.ClusterSource
	// Traps reports the SNMP trap receiver, shown on the overview while it
	// listens.
	Traps httpapi.TrapSource
	// Metrics feed the monitor charts and the capacity page; nil shows none.
	Metrics engine.MetricStore
	// Revert proposes the revert of a failed run's commit (a button on its
	// page); nil shows no button.
	Revert httpapi.RevertBackend
	// Exec runs ad-hoc commands (the host page's form); nil shows none.
	Exec httpapi.ExecBackend
	// Alerts takes silences and acknowledgements (buttons on alert rows);
	// nil refuses them.
	Alerts httpapi.AlertActions
	// AlertAudit reads the alert audit for monitor pages; nil shows none.
	AlertAudit engine.AlertAuditReader
	// Facts show on host pages (with their history) and on /patches; the
	// zero value shows none.
	Facts httpapi.FactsOptions
	// Stopping ends live streams once it reports true (shutdown).
	Stopping func() bool
	// EventPoll is how often a run page's live stream reads the store;
	// 0 is httpapi.DefaultEventPoll.
	EventPoll time.Duration
	// OverviewRefresh is how often the overview reloads its live part;
	// 0 is 5 seconds.
	OverviewRefresh time.Duration
	// PublicURL is the absolute URL people open the UI at. Its origin is
	// trusted for POSTs beside the UI's own (a reverse proxy may rewrite
	// Host), and an https URL marks the session cookie Secure. "" trusts
	// only the UI's own origin; New refuses a URL without scheme and host.
	PublicURL string
	Logger    zerolog.Logger
	// Now is the clock; nil is time.Now.
	Now func() time.Time
}

// UI is the web UI's http.Handler.
type UI struct {
	opts    Options
	log     zerolog.Logger
	mux     *http.ServeMux
	handler http.Handler // mux behind the cross-origin check
	pages   map[string]*template.Template
	inv     httpapi.InventoryCache
	health  httpapi.HealthCache
	// commits caches what commits are (subject, author), by sha.
	commitsMu sync.Mutex
	commits   map[string]engine.CommitInfo
}

// inventory is the applied commit's inventory.
func (u *UI) inventory() *httpapi.Inventory { return u.inv.For(u.opts.Backend.Definitions()) }

// fleetHealth is inv's monitor states counted, shared among requests
// (httpapi.HealthCache).
func (u *UI) fleetHealth(ctx context.Context, inv *httpapi.Inventory) (*httpapi.Health, error) {
	return u.health.Get(ctx, inv, u.opts.Monitors, u.opts.Store)
}

// New parses the embedded templates and builds the UI's routes. Mount it
// beside the API with httpapi.Mount.
func New(opts Options) (*UI, error) {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.EventPoll <= 0 {
		opts.EventPoll = httpapi.DefaultEventPoll
	}
	if opts.OverviewRefresh <= 0 {
		opts.OverviewRefresh = 5 * time.Second
	}
	cop, err := newCrossOriginProtection(opts.PublicURL)
	if err != nil {
		return nil, err
	}
	pages, err := parseTemplates(templateFS)
	if err != nil {
		return nil, err
	}
	u := &UI{opts: opts, log: opts.Logger.With().Str("component", "webui").Logger(), mux: http.NewServeMux(), pages: pages, commits: map[string]engine.CommitInfo{}}
	u.health.Now = opts.Now
	cop.SetDenyHandler(http.HandlerFunc(u.refuseCrossOrigin))
	// Every route is behind the check, so a POST route added later is too.
	u.handler = cop.Handler(u.mux)
	m := u.mux
	m.HandleFunc("GET /login", u.loginForm)
	m.HandleFunc("POST /login", u.login)
	m.Handle("POST /logout", u.action(httpapi.RoleViewer, u.logout))
	m.Handle("GET /{$}", u.page(u.overview))
	m.Handle("GET /hosts", u.page(u.hostsPage))
	m.Handle("GET /jobs", u.page(u.jobsPage))
	m.Handle("GET /runs", u.page(u.runsPage))
	m.Handle("GET /monitors", u.page(u.monitorsPage))
	m.Handle("GET /runs/{id}", u.page(u.runPage))
	m.Handle("GET /runs/{id}/live", u.page(u.runLive))
	m.Handle("GET /jobs/{job}", u.page(u.jobPage))
	m.Handle("GET /monitors/{monitor}", u.page(u.monitorPage))
	m.Handle("GET /hosts/{host}", u.page(u.hostPage))
	m.Handle("GET /groups/{group}", u.page(u.groupPage))
	m.Handle("GET /capacity", u.page(u.capacityPage))
	m.Handle("GET /patches", u.page(u.patchesPage))
	m.Handle("POST /hosts/{host}/facts", u.action(httpapi.RoleOperator, u.gatherFacts))
	m.Handle("POST /runs/{id}/approve", u.action(httpapi.RoleOperator, u.approve))
	m.Handle("POST /runs/{id}/abort", u.action(httpapi.RoleOperator, u.abort))
	m.Handle("POST /runs/{id}/revert", u.action(httpapi.RoleOperator, u.revert))
	m.Handle("POST /jobs/{job}/run", u.action(httpapi.RoleOperator, u.startRun))
	m.Handle("POST /jobs/{job}/sync", u.action(httpapi.RoleOperator, u.startSync))
	m.Handle("POST /hosts/{host}/exec", u.action(httpapi.RoleOperator, u.execHost))
	m.Handle("POST /groups/{group}/exec", u.action(httpapi.RoleOperator, u.execGroup))
	m.Handle("POST /monitors/{monitor}/hosts/{host}/ack", u.action(httpapi.RoleOperator, u.ack))
	m.Handle("POST /monitors/{monitor}/hosts/{host}/silence", u.action(httpapi.RoleOperator, u.silence))
	m.Handle("POST /monitors/{monitor}/silence", u.action(httpapi.RoleOperator, u.silence))
	m.Handle("POST /silences/{id}/expire", u.action(httpapi.RoleOperator, u.expireSilence))
	m.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		u.fail(w, r, http.StatusNotFound, "no page "+r.URL.Path)
	})
	return u, nil
}

// ServeHTTP implements http.Handler.
func (u *UI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "same-origin")
	u.handler.ServeHTTP(w, r)
}

// parseTemplates builds one template set per page: the layout plus the
// page's own file, so every page can define "content" and "title".
func parseTemplates(fsys fs.FS) (map[string]*template.Template, error) {
	names, err := fs.Glob(fsys, "templates/*.html")
	if err != nil {
		return nil, err
	}
	out := map[string]*template.Template{}
	for _, n := range names {
		base := strings.TrimSuffix(strings.TrimPrefix(n, "templates/"), ".html")
		if base == "layout" || base == "parts" || base == "factsparts" {
			continue
		}
		t, err := template.New(base).Funcs(funcs).ParseFS(fsys, "templates/layout.html", "templates/parts.html", "templates/factsparts.html", n)
		if err != nil {
			return nil, err
		}
		out[base] = t
	}
	return out, nil
}

// view is what every page template gets.
type view struct {
	Title   string
	Who     httpapi.Identity
	CanAct  bool   // the viewer is an operator: action forms are shown
	Nonce   string // CSP nonce of the page's inline script
	Status  engine.DaemonStatus
	Now     time.Time
	Live    string // SSE URL of the page's live part
	Poll    string // URL the live part is reloaded from
	PollMS  int64
	Refresh int // seconds, for the no-JavaScript fallback
	// Path is the page's path, for the navigation to mark where you are.
	Path string
	// Wall: ?wall=1, large type for a screen on the wall.
	Wall bool
	Data any
}

// Section is the top navigation entry the page belongs to.
func (v *view) Section() string {
	switch p := v.Path; {
	case p == "/":
		return "/"
	case strings.HasPrefix(p, "/hosts"):
		return "/hosts"
	case strings.HasPrefix(p, "/jobs"):
		return "/jobs"
	case strings.HasPrefix(p, "/runs"):
		return "/runs"
	case strings.HasPrefix(p, "/monitors"):
		return "/monitors"
	case strings.HasPrefix(p, "/capacity"):
		return "/capacity"
	case strings.HasPrefix(p, "/patches"):
		return "/patches"
	}
	return ""
}

// render executes a page into a buffer and writes it only if that worked,
// so a failing template never sends half a page with a 200.
func (u *UI) render(w http.ResponseWriter, r *http.Request, code int, page, tmpl string, v *view) {
	t := u.pages[page]
	if t == nil {
		u.fail(w, r, http.StatusInternalServerError, "no template "+page)
		return
	}
	nonce := make([]byte, 16)
	_, _ = rand.Read(nonce)
	v.Nonce = base64.RawStdEncoding.EncodeToString(nonce)
	if v.Now.IsZero() {
		v.Now = u.opts.Now()
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, tmpl, v); err != nil {
		u.log.Error().Err(err).Str("page", page).Msg("render")
		http.Error(w, "internal error rendering the page", http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; script-src 'nonce-"+v.Nonce+"'")
	w.WriteHeader(code)
	_, _ = w.Write(buf.Bytes())
}

// fragment renders one named template of a page, without the layout.
func (u *UI) fragment(page, tmpl string, v *view) ([]byte, error) {
	var buf bytes.Buffer
	if err := u.pages[page].ExecuteTemplate(&buf, tmpl, v); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// fail renders the error page.
func (u *UI) fail(w http.ResponseWriter, r *http.Request, code int, msg string) {
	v := &view{Title: http.StatusText(code), Data: msg}
	if id, ok := u.identify(r); ok {
		v.Who = id
	}
	u.render(w, r, code, "error", "layout", v)
}

// failErr maps an engine error to a status, as the API does.
func (u *UI) failErr(w http.ResponseWriter, r *http.Request, err error) {
	code := http.StatusInternalServerError
	switch {
	case errors.Is(err, engine.ErrNotFound):
		code = http.StatusNotFound
	case errors.Is(err, engine.ErrConflict), errors.Is(err, engine.ErrNotWaiting), errors.Is(err, engine.ErrRunFinished):
		code = http.StatusConflict
	case errors.Is(err, engine.ErrInvalidRequest):
		code = http.StatusBadRequest
	case errors.Is(err, engine.ErrNotRunning), errors.Is(err, engine.ErrStoreUnwritable):
		code = http.StatusServiceUnavailable
	}
	u.fail(w, r, code, err.Error())
}
