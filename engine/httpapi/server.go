// Package httpapi is ripple's HTTP surface: health and readiness probes,
// Prometheus metrics, the GitHub webhook endpoint (when a secret is
// configured) and the /api/v1 JSON API with bearer-token roles.
//
// It starts no goroutines; the caller serves the handler with NewServer,
// whose timeouts suit a daemon facing the internet.
package httpapi

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/rs/zerolog"

	"github.com/ripple-ops/ripple/definitions"
	"github.com/ripple-ops/ripple/engine"
)

// Backend is what the API drives; *gitops.Daemon implements it.
type Backend interface {
	Status() engine.DaemonStatus
	// Ready reports whether the repository is fetched and the daemon is
	// not shutting down.
	Ready() bool
	// Definitions are those of the applied commit; nil before the first.
	Definitions() *definitions.Definitions
	Approve(ctx context.Context, runID int64, actor, reason string) error
	Abort(ctx context.Context, runID int64, actor, reason string) error
	// StartRun starts a run of a job at the applied commit; a param value
	// the job refuses is an error wrapping engine.ErrInvalidRequest that
	// names the param.
	StartRun(ctx context.Context, req engine.JobRunRequest) (*engine.Run, error)
	Accept(ctx context.Context, head, actor, reason string) error
	Trigger(source string)
}

// Store is what the API reads: runs with their journal and events, and
// the statuses recorded on commits.
type Store interface {
	engine.RunReader
	engine.JournalReader
	engine.EventReader
	engine.StatusReader
}

// Options configures the handler. Backend and Store are required.
type Options struct {
	Backend Backend
	Store   Store
	// Tokens authenticate /api/v1; nil refuses every API request.
	Tokens *Tokens
	// Webhook serves POST /webhooks/github; nil leaves the route out
	// (no secret, no endpoint).
	Webhook http.Handler
	// Registry is served at /metrics; see NewRegistry.
	Registry *prometheus.Registry
	// PublicURL is the base of run links in responses.
	PublicURL string
	// Monitors is the live monitor state for /api/v1/monitors; nil falls
	// back to the state persisted in Store, when it keeps one.
	Monitors MonitorSource
	// Metrics is read by /api/v1/monitors/{monitor} and /api/v1/capacity;
	// nil means no series and no forecasts.
	Metrics engine.MetricStore
	// Sync is the daemon's convergence (sync state, sync runs, drift
	// checks); nil answers those endpoints 501.
	Sync SyncBackend
	// Revert proposes reverts (POST /api/v1/commits/{sha}/revert); nil
	// answers 501.
	Revert RevertBackend
	// Exec runs ad-hoc commands (POST /api/v1/exec); nil answers 501.
	Exec ExecBackend
	// Alerts takes silences and acknowledgements; nil answers 501.
	Alerts AlertActions
	// AlertAudit reads the alert audit (silences, expiries, acks); nil
	// shows none.
	AlertAudit engine.AlertAuditReader
	// Facts serves facts and patch compliance; its zero value leaves
	// them out.
	Facts FactsOptions
	// Cluster describes the daemons sharing the store (GET
	// /api/v1/cluster); nil (one daemon on SQLite) answers 501.
	Cluster ClusterSource
	// Traps reports the SNMP trap receiver (GET /api/v1/traps).
	Traps TrapSource
	// EventPoll is how often a run's event stream reads the store;
	// 0 is DefaultEventPoll.
	EventPoll time.Duration
	Logger    zerolog.Logger
}

// Handler is the daemon's http.Handler.
type Handler struct {
	opts       Options
	log        zerolog.Logger
	mux        *http.ServeMux
	stopping   atomic.Bool
	deliveries *prometheus.CounterVec
	inv        InventoryCache
	health     HealthCache
}

// inventory is the applied commit's inventory.
func (h *Handler) inventory() *Inventory { return h.inv.For(h.opts.Backend.Definitions()) }

// fleetHealth is inv's monitor states counted, shared among requests
// (HealthCache).
func (h *Handler) fleetHealth(ctx context.Context, inv *Inventory) (*Health, error) {
	return h.health.Get(ctx, inv, h.opts.Monitors, h.opts.Store)
}

// NewRegistry returns a private registry with the Go and process
// collectors and ripple_build_info.
func NewRegistry(version string) *prometheus.Registry {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	info := prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "ripple_build_info",
		Help: "Always 1; labelled with the ripple version.",
	}, []string{"version"})
	info.WithLabelValues(version).Set(1)
	reg.MustRegister(info)
	return reg
}

// New builds the handler with Go 1.22 method-and-path patterns.
func New(opts Options) *Handler {
	if opts.Registry == nil {
		opts.Registry = prometheus.NewRegistry()
	}
	opts.PublicURL = strings.TrimRight(opts.PublicURL, "/")
	h := &Handler{opts: opts, log: opts.Logger.With().Str("component", "http").Logger(), mux: http.NewServeMux()}
	h.deliveries = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "ripple_webhook_deliveries_total",
		Help: "Webhook deliveries answered 2xx, by GitHub event (push, pull_request, ping, other).",
	}, []string{"event"})
	for _, e := range []string{"push", "pull_request", "ping", "other"} {
		h.deliveries.WithLabelValues(e)
	}
	if err := opts.Registry.Register(h.deliveries); err != nil {
		var are prometheus.AlreadyRegisteredError
		if errors.As(err, &are) {
			h.deliveries = are.ExistingCollector.(*prometheus.CounterVec)
		}
	}

	m := h.mux
	m.HandleFunc("GET /livez", h.livez)
	m.HandleFunc("GET /healthz", h.livez)
	m.HandleFunc("GET /readyz", h.readyz)
	m.Handle("GET /metrics", promhttp.HandlerFor(opts.Registry, promhttp.HandlerOpts{Registry: opts.Registry}))
	if opts.Webhook != nil {
		m.Handle("POST /webhooks/github", h.countDeliveries(opts.Webhook))
	}

	m.Handle("GET /api/v1/status", h.auth(RoleViewer, h.getStatus))
	m.Handle("POST /api/v1/reconcile", h.auth(RoleOperator, h.postReconcile))
	m.Handle("GET /api/v1/runs", h.auth(RoleViewer, h.listRuns))
	m.Handle("GET /api/v1/runs/{id}", h.auth(RoleViewer, h.getRun))
	m.Handle("POST /api/v1/runs/{id}/approve", h.auth(RoleOperator, h.approveRun))
	m.Handle("POST /api/v1/runs/{id}/abort", h.auth(RoleOperator, h.abortRun))
	m.Handle("GET /api/v1/jobs", h.auth(RoleViewer, h.listJobs))
	m.Handle("GET /api/v1/jobs/{job}", h.auth(RoleViewer, h.getJob))
	m.Handle("POST /api/v1/jobs/{job}/runs", h.auth(RoleOperator, h.startRun))
	m.Handle("GET /api/v1/hosts", h.auth(RoleViewer, h.listHosts))
	m.Handle("GET /api/v1/hosts/{host}", h.auth(RoleViewer, h.getHost))
	m.Handle("GET /api/v1/facts", h.auth(RoleViewer, h.listFacts))
	m.Handle("POST /api/v1/facts", h.auth(RoleOperator, h.postFacts))
	m.Handle("GET /api/v1/patches", h.auth(RoleViewer, h.getPatches))
	m.Handle("GET /api/v1/commits/{sha}", h.auth(RoleViewer, h.getCommit))
	m.Handle("GET /api/v1/runs/{id}/events", h.auth(RoleViewer, h.runEvents))
	m.Handle("GET /api/v1/monitors", h.auth(RoleViewer, h.listMonitors))
	m.Handle("GET /api/v1/monitors/{monitor}", h.auth(RoleViewer, h.getMonitor))
	m.Handle("GET /api/v1/capacity", h.auth(RoleViewer, h.getCapacity))
	m.Handle("GET /api/v1/silences", h.auth(RoleViewer, h.listSilences))
	m.Handle("POST /api/v1/silences", h.auth(RoleOperator, h.postSilence))
	m.Handle("DELETE /api/v1/silences/{id}", h.auth(RoleOperator, h.deleteSilence))
	m.Handle("POST /api/v1/monitors/{monitor}/hosts/{host}/ack", h.auth(RoleOperator, h.postAck))
	m.Handle("GET /api/v1/alert-events", h.auth(RoleViewer, h.listAlertEvents))
	m.Handle("GET /api/v1/sync", h.auth(RoleViewer, h.getSync))
	m.Handle("POST /api/v1/jobs/{job}/sync", h.auth(RoleOperator, h.startSync))
	m.Handle("POST /api/v1/drift", h.auth(RoleOperator, h.postDrift))
	m.Handle("POST /api/v1/commits/{sha}/revert", h.auth(RoleOperator, h.postRevert))
	m.Handle("POST /api/v1/exec", h.auth(RoleOperator, h.postExec))
	m.Handle("GET /api/v1/cluster", h.auth(RoleViewer, h.getCluster))
	m.Handle("GET /api/v1/traps", h.auth(RoleViewer, h.getTraps))
	m.HandleFunc("/api/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, "no such endpoint: "+r.Method+" "+r.URL.Path)
	})
	return h
}

// ServeHTTP implements http.Handler.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	sw := &statusWriter{ResponseWriter: w, code: http.StatusOK}
	h.mux.ServeHTTP(sw, r)
	h.log.Debug().Str("method", r.Method).Str("path", r.URL.Path).Int("status", sw.code).Stringer("took", time.Since(start)).Msg("request")
}

// SetStopping flips /readyz to 503; call it when shutdown begins, before
// the server drains.
func (h *Handler) SetStopping() { h.stopping.Store(true) }

func (h *Handler) livez(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	_, _ = w.Write([]byte("ok\n"))
}

// readyz answers 200 while the daemon can do its work: the store is open
// and writes, the repository was fetched, and shutdown has not begun;
// else 503. ?verbose lists the checks, with why a failing one fails;
// ?format=json (or Accept: application/json) answers a Readiness.
func (h *Handler) readyz(w http.ResponseWriter, r *http.Request) {
	st := h.opts.Backend.Status()
	store := ReadyCheck{Name: "store", OK: h.opts.Store != nil && !st.StoreFailing()}
	switch {
	case h.opts.Store == nil:
		store.Reason = "no store"
	case st.StoreFailing():
		store.Reason = st.LastError // the store's error, since when, the runs it stopped
	}
	repo := ReadyCheck{Name: "repository", OK: st.Ready}
	if !repo.OK {
		repo.Reason = "the repository has not been fetched yet"
	}
	shutdown := ReadyCheck{Name: "shutdown", OK: !h.stopping.Load() && !st.Stopping}
	if !shutdown.OK {
		shutdown.Reason = "shutting down"
	}
	out := Readiness{Ready: true, Checks: []ReadyCheck{store, repo, shutdown}}
	for _, c := range out.Checks {
		out.Ready = out.Ready && c.OK
	}
	code := http.StatusOK
	if !out.Ready {
		code = http.StatusServiceUnavailable
	}
	q := r.URL.Query()
	if q.Get("format") == "json" || strings.Contains(r.Header.Get("Accept"), "application/json") {
		writeJSON(w, code, out)
		return
	}
	var b strings.Builder
	if _, verbose := q["verbose"]; verbose {
		for _, c := range out.Checks {
			if c.OK {
				b.WriteString("[+]" + c.Name + "\n")
			} else {
				b.WriteString("[-]" + c.Name + ": " + c.Reason + "\n")
			}
		}
	}
	if out.Ready {
		b.WriteString("ok\n")
	} else {
		b.WriteString("not ready\n")
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	_, _ = w.Write([]byte(b.String()))
}

func (h *Handler) countDeliveries(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sw := &statusWriter{ResponseWriter: w, code: http.StatusOK}
		next.ServeHTTP(sw, r)
		if sw.code/100 != 2 {
			return
		}
		ev := r.Header.Get("X-GitHub-Event")
		switch ev {
		case "push", "pull_request", "ping":
		default:
			ev = "other"
		}
		h.deliveries.WithLabelValues(ev).Inc()
	})
}

// auth checks the bearer token and role, then calls next with the
// caller's identity in the request context.
func (h *Handler) auth(need Role, next func(http.ResponseWriter, *http.Request, Identity)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tok, ok := bearer(r)
		if !ok {
			w.Header().Set("WWW-Authenticate", `Bearer realm="ripple"`)
			writeError(w, http.StatusUnauthorized, "missing bearer token")
			return
		}
		id, ok := h.opts.Tokens.lookup(tok)
		if !ok {
			w.Header().Set("WWW-Authenticate", `Bearer realm="ripple", error="invalid_token"`)
			writeError(w, http.StatusUnauthorized, "unknown token")
			return
		}
		if !id.Role.allows(need) {
			writeError(w, http.StatusForbidden, "token "+id.Name+" has role "+string(id.Role)+"; this needs "+string(need))
			return
		}
		next(w, r, id)
	})
}

func bearer(r *http.Request) (string, bool) {
	a := r.Header.Get("Authorization")
	scheme, tok, ok := strings.Cut(a, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	tok = strings.TrimSpace(tok)
	return tok, tok != ""
}

type statusWriter struct {
	http.ResponseWriter
	code  int
	wrote bool
}

func (s *statusWriter) WriteHeader(code int) {
	if !s.wrote {
		s.code, s.wrote = code, true
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusWriter) Write(b []byte) (int, error) {
	s.wrote = true
	return s.ResponseWriter.Write(b)
}

func (s *statusWriter) Unwrap() http.ResponseWriter { return s.ResponseWriter }

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}

func writeError(w http.ResponseWriter, code int, msg string) {
	writeJSON(w, code, Error{Error: msg})
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// NewServer returns an http.Server for h with timeouts: slow clients cannot
// hold connections, and webhook bodies (up to 25 MiB) still fit. A client
// that trickles its headers is cut after ReadHeaderTimeout before any
// handler runs; the webhook handler reads bodies under a shorter deadline
// of its own (webhooks.DefaultBodyTimeout), taking memory only as bytes
// arrive, so ReadTimeout only bounds the API's small bodies.
func NewServer(addr string, h http.Handler) *http.Server {
	return &http.Server{
		Addr:              addr,
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       60 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
	}
}
