package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"time"

	"github.com/mattn/go-isatty"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"
	"golang.org/x/sync/errgroup"

	"github.com/ripple-ops/ripple/definitions"
	"github.com/ripple-ops/ripple/engine"
	"github.com/ripple-ops/ripple/engine/cluster"
	"github.com/ripple-ops/ripple/engine/gitops"
	"github.com/ripple-ops/ripple/engine/httpapi"
	"github.com/ripple-ops/ripple/engine/monitor"
	"github.com/ripple-ops/ripple/engine/pgstore"
	"github.com/ripple-ops/ripple/engine/rollout"
	"github.com/ripple-ops/ripple/engine/schedule"
	"github.com/ripple-ops/ripple/engine/source"
	"github.com/ripple-ops/ripple/engine/sqlstore"
	"github.com/ripple-ops/ripple/engine/webui"
	"github.com/ripple-ops/ripple/jobs"
	"github.com/ripple-ops/ripple/webhooks"
	"github.com/ripple-ops/ripple/webhooks/notify"
)

// serveConfig is `ripple serve`'s effective configuration. Secrets are
// never held here: only the paths of the files that hold them.
type serveConfig struct {
	repo, branch, data, listen string
	store, storePasswordFile   string
	nodeName                   string
	lease                      time.Duration
	poll                       time.Duration
	publicURL                  string
	githubRepo, githubAPIURL   string
	githubTokenFile            string
	webhookSecretFile          string
	apiTokensFile              string
	logFormat, logLevel        string

	repoTokenFile, repoSSHKeyFile, repoKnownHostsFile string
	secretsDir                                        string
	allowEmpty, allowForkPRs                          bool
	shutdownTimeout, startTimeout                     time.Duration
	adminListen                                       string
	trapListen                                        string
	// revertAuthor signs revert commits: "NAME <EMAIL>"; check splits it.
	revertAuthor                        string
	revertAuthorName, revertAuthorEmail string
	factsInterval                       time.Duration
	limits                              definitions.Limits
}

func (c *serveConfig) flags(fs *flag.FlagSet) {
	fs.StringVar(&c.repo, "repo", "", "ops repo: local `PATH`, https://... or ssh://... / git@host:path (required)")
	fs.StringVar(&c.branch, "branch", "main", "tracked `BRANCH`; only refs/heads/BRANCH triggers")
	fs.StringVar(&c.data, "data", "./ripple-data", "data `DIR` (SQLite store, mirror clone)")
	fs.StringVar(&c.store, "store", "", "PostgreSQL store `URL` postgres://USER@HOST/DB, for several daemons (default: SQLite under --data)")
	fs.StringVar(&c.storePasswordFile, "store-password-file", "", "`FILE` holding the PostgreSQL password (default: PGPASSFILE or ~/.pgpass)")
	fs.StringVar(&c.nodeName, "node-name", defaultNodeName(), "this daemon's `NAME` in a cluster (several daemons on one PostgreSQL --store)")
	fs.DurationVar(&c.lease, "lease", cluster.DefaultLease, "in a cluster, how long the leader's lease lasts without renewal: a dead leader is replaced after at most this plus a renewal")
	fs.StringVar(&c.listen, "listen", "127.0.0.1:8080", "HTTP listen `ADDR`: API, webhooks, metrics")
	fs.DurationVar(&c.poll, "poll", time.Minute, "backstop poll `INTERVAL` (0 disables polling)")
	fs.DurationVar(&c.factsInterval, "facts-interval", 6*time.Hour, "how often hosts' facts are gathered, read-only (0: only on demand)")
	fs.StringVar(&c.publicURL, "public-url", "", "base `URL` of links in statuses and comments, and the origin the web UI trusts for forms behind a proxy (default from --listen)")
	fs.StringVar(&c.githubRepo, "github-repo", "", "`OWNER/NAME` to report statuses and plan comments to")
	fs.StringVar(&c.githubAPIURL, "github-api-url", "https://api.github.com/", "GitHub API `URL` (GitHub Enterprise, tests)")
	fs.StringVar(&c.githubTokenFile, "github-token-file", "", "`FILE` holding the token for statuses and comments")
	fs.StringVar(&c.webhookSecretFile, "webhook-secret-file", "", "`FILE` holding the webhook secret; enables POST /webhooks/github")
	fs.StringVar(&c.apiTokensFile, "api-tokens-file", "", "`FILE` of API tokens, lines `TOKEN ROLE [NAME]` (viewer, operator)")
	fs.StringVar(&c.logFormat, "log-format", "auto", "log `FORMAT`: console, json or auto (console on a TTY)")
	fs.StringVar(&c.logLevel, "log-level", "info", "log `LEVEL`: debug, info, warn, error")
	fs.StringVar(&c.repoTokenFile, "repo-token-file", "", "`FILE` holding a token for an https --repo")
	fs.StringVar(&c.repoSSHKeyFile, "repo-ssh-key-file", "", "private key `FILE` for an ssh --repo")
	fs.StringVar(&c.repoKnownHostsFile, "repo-known-hosts-file", "", "known_hosts `FILE` for an ssh --repo (host keys are always verified)")
	fs.StringVar(&c.secretsDir, "secrets-dir", defaultSecretsDir, "`DIR` whose regular files file() in definitions may read (empty: none)")
	fs.BoolVar(&c.allowEmpty, "allow-empty", false, "allow a commit that removes every host or every job")
	fs.BoolVar(&c.allowForkPRs, "allow-fork-prs", false, "plan pull requests from forks too")
	fs.DurationVar(&c.shutdownTimeout, "shutdown-timeout", 30*time.Second, "on SIGTERM, how long in-flight steps get to finish")
	fs.DurationVar(&c.startTimeout, "start-timeout", 30*time.Second, "how long start-up retries a PostgreSQL --store it cannot reach, then a first fetch of --repo that fails with a network error (other errors fail at once)")
	fs.StringVar(&c.trapListen, "trap-listen", "", "UDP `ADDR` to receive SNMP traps on, e.g. 0.0.0.0:162 (off when empty); authenticated by the snmp profiles")
	fs.StringVar(&c.adminListen, "admin-listen", "", "loopback `ADDR` for pprof profiles (off when empty; never on --listen)")
	fs.StringVar(&c.revertAuthor, "revert-author", "ripple <ripple@localhost>", "author and committer of the commits `ripple revert` makes, as \"NAME <EMAIL>\"")
}

// nodeNameRE is a node name: a host name's characters.
var nodeNameRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$`)

// defaultNodeName is the machine's host name, or "ripple".
func defaultNodeName() string {
	if h, err := os.Hostname(); err == nil && nodeNameRE.MatchString(h) {
		return h
	}
	return "ripple"
}

// authorRE is a git identity: a name, then an email address in angle
// brackets.
var authorRE = regexp.MustCompile(`^([^<>\n]*[^<>\s])\s*<([^<>\s]+)>$`)

// parseServeFlags parses args, then fills every flag not given on the
// command line from RIPPLE_<NAME> (dashes as underscores): flag > env >
// default.
func parseServeFlags(args []string, e env) (*serveConfig, error) {
	c := &serveConfig{}
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	c.flags(fs)
	limits := limitFlags(fs)
	fs.Usage = func() {
		fmt.Fprintln(e.stderr, "usage: ripple serve --repo REPO [flags]\n\nThe GitOps daemon: watches the branch (poll and webhook), rolls out each\nmerge, plans pull requests, serves the API and metrics. Every flag can also\nbe set as RIPPLE_<NAME> in the environment, e.g. RIPPLE_POLL=30s.")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil, err
		}
		return nil, exitError{2}
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(e.stderr, "ripple serve: unexpected argument %q\n", fs.Arg(0))
		return nil, exitError{2}
	}
	if err := fillFromEnv(fs, e, nil); err != nil {
		fmt.Fprintf(e.stderr, "ripple serve: %v\n", err)
		return nil, exitError{2}
	}
	c.limits = *limits
	if err := c.check(); err != nil {
		fmt.Fprintf(e.stderr, "ripple serve: %v\n", err)
		return nil, exitError{2}
	}
	return c, nil
}

func (c *serveConfig) check() error {
	switch {
	case c.repo == "":
		return errors.New("--repo is required")
	case c.poll < 0:
		return errors.New("--poll must not be negative")
	case c.startTimeout <= 0:
		return errors.New("--start-timeout must be positive")
	case c.lease < time.Second:
		return fmt.Errorf("--lease %s: want at least 1s", c.lease)
	case c.store != "" && !nodeNameRE.MatchString(c.nodeName):
		return fmt.Errorf("--node-name %q: want letters, digits, '.', '_' and '-' (1 to 63), unique in the cluster", c.nodeName)
	case c.webhookSecretFile != "" && c.githubRepo == "":
		return errors.New("--webhook-secret-file needs --github-repo: only that repository's deliveries are accepted")
	case c.githubRepo != "" && strings.Count(c.githubRepo, "/") != 1:
		return fmt.Errorf("--github-repo %q is not OWNER/NAME", c.githubRepo)
	}
	if c.trapListen != "" {
		if _, err := net.ResolveUDPAddr("udp", c.trapListen); err != nil {
			return fmt.Errorf("--trap-listen %q: want HOST:PORT, e.g. 0.0.0.0:162: %w", c.trapListen, err)
		}
	}
	m := authorRE.FindStringSubmatch(strings.TrimSpace(c.revertAuthor))
	if m == nil {
		return fmt.Errorf("--revert-author %q: want NAME <EMAIL>", c.revertAuthor)
	}
	c.revertAuthorName, c.revertAuthorEmail = m[1], m[2]
	switch c.logFormat {
	case "auto", "console", "json":
	default:
		return fmt.Errorf("--log-format %q: want auto, console or json", c.logFormat)
	}
	if _, err := zerolog.ParseLevel(c.logLevel); err != nil || c.logLevel == "" {
		return fmt.Errorf("--log-level %q: want debug, info, warn or error", c.logLevel)
	}
	if err := c.checkStore(); err != nil {
		return err
	}
	if c.publicURL == "" {
		host := c.listen
		if h, p, err := net.SplitHostPort(c.listen); err == nil && (h == "" || h == "0.0.0.0" || h == "::") {
			host = net.JoinHostPort("127.0.0.1", p)
		}
		c.publicURL = "http://" + host
	}
	c.publicURL = strings.TrimRight(c.publicURL, "/")
	return nil
}

// ownFiles are the files serve reads to authenticate, or to let others
// authenticate to it: file() in definitions never reads them.
func (c *serveConfig) ownFiles() []definitions.ProtectedFile {
	return []definitions.ProtectedFile{
		{Path: c.githubTokenFile, Use: "--github-token-file of ripple serve"},
		{Path: c.webhookSecretFile, Use: "--webhook-secret-file of ripple serve"},
		{Path: c.apiTokensFile, Use: "--api-tokens-file of ripple serve"},
		{Path: c.repoTokenFile, Use: "--repo-token-file of ripple serve"},
		{Path: c.repoSSHKeyFile, Use: "--repo-ssh-key-file of ripple serve"},
		{Path: c.repoKnownHostsFile, Use: "--repo-known-hosts-file of ripple serve"},
	}
}

// newServeLogger logs to w, every secret in values redacted.
func newServeLogger(c *serveConfig, w io.Writer, values *engine.SecretRegistry) zerolog.Logger {
	level, _ := zerolog.ParseLevel(c.logLevel)
	console := c.logFormat == "console"
	if c.logFormat == "auto" {
		f, ok := w.(*os.File)
		console = ok && isatty.IsTerminal(f.Fd())
	}
	w = values.Writer(w)
	if console {
		w = zerolog.ConsoleWriter{Out: w, TimeFormat: time.RFC3339}
	}
	return zerolog.New(w).Level(level).With().Timestamp().Str("service", "ripple").Logger()
}

// logConfig logs the effective configuration. Secrets are only ever file
// paths here, and credentials in the repo and store URLs are redacted.
func (c *serveConfig) log(l zerolog.Logger) {
	repo := c.repo
	if u, err := url.Parse(repo); err == nil && u.User != nil {
		repo = u.Redacted()
	}
	l.Info().Str("version", version).Str("repo", repo).Str("branch", c.branch).Str("data", c.data).Str("store", c.storeName()).
		Str("listen", c.listen).Str("trap_listen", c.trapListen).Stringer("poll", c.poll).Str("public_url", c.publicURL).
		Str("github_repo", c.githubRepo).Str("github_api_url", c.githubAPIURL).
		Bool("github_token", c.githubTokenFile != "").Bool("webhooks", c.webhookSecretFile != "").
		Bool("api_tokens", c.apiTokensFile != "").Bool("allow_empty", c.allowEmpty).
		Str("secrets_dir", c.secretsDir).Str("revert_author", c.revertAuthor).Bool("allow_fork_prs", c.allowForkPRs).Stringer("shutdown_timeout", c.shutdownTimeout).Stringer("start_timeout", c.startTimeout).
		Int64("max_definitions_size", c.limits.Bytes).Int("max_blocks", c.limits.Blocks).Int("max_hosts", c.limits.Hosts).Int("max_tokens", c.limits.Tokens).
		Int("max_targets", c.limits.Targets).Int64("max_render_size", c.limits.Render).
		Msg("starting ripple serve")
}

// runServe is `ripple serve`. It builds the components in dependency
// order, one block each, then runs them in one group (serveRun) until
// SIGINT or SIGTERM, and shuts down in a fixed order: readiness off, the
// daemon drained (no new host step; in-flight ones finish and are
// journaled), HTTP closed, background components stopped, store closed.
// It decides nothing itself: every decision lives in a component.
//
// On a PostgreSQL store the daemon is one node of a cluster (see
// serve_cluster.go): every node serves HTTP and webhooks and runs its share
// of the monitors; the leader's components (the GitOps loop, rollouts,
// schedules, the GitHub outbox) run only during this node's terms as
// leader.
func runServe(ctx context.Context, args []string, e env) error {
	c, err := parseServeFlags(args, e)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	// Every secret the process loads, redacted from all it stores, shows,
	// sends and logs.
	values := engine.NewSecretRegistry()
	log := newServeLogger(c, e.stderr, values)
	c.log(log)
	reg := httpapi.NewRegistry(version)

	// The durable store: SQLite under --data, or PostgreSQL (a cluster).
	// A cluster node's leader writes are fenced by its term.
	node := &clusterNode{name: c.nodeName}
	store, err := openStore(ctx, c, pgstore.FenceTerm(node.term), log)
	if err != nil {
		return err
	}
	defer store.Close()
	pg, _ := store.(*pgstore.Store)
	// Metrics of a cluster node carry its name.
	var metrics prometheus.Registerer = reg
	if pg != nil {
		metrics = prometheus.WrapRegistererWith(prometheus.Labels{"node": c.nodeName}, reg)
	}
	// The store says whether it can write (a full disk, a database that
	// went away): the probe the daemon resumes stopped runs after, and for
	// SQLite metrics.
	health, _ := store.(engine.StoreProbe)
	if sq, ok := store.(*sqlstore.Store); ok {
		metrics.MustRegister(sqlstore.NewCollector(sq))
	}

	// Who may use the API and the web UI.
	var tokens *httpapi.Tokens
	if c.apiTokensFile != "" {
		if tokens, err = httpapi.LoadTokens(c.apiTokensFile); err != nil {
			return err
		}
	} else {
		log.Warn().Msg("no --api-tokens-file: every /api/v1 request is refused")
	}

	// What touches hosts: SSH and local transports, monitor checks.
	sshOpts := jobs.SSHOptions{Logger: &log, Metrics: jobs.NewMetrics(metrics)}
	transport := jobs.NewTransport(jobs.NewSSH(sshOpts), jobs.NewLocal(sshOpts))
	defer transport.Close()
	checker := jobs.NewChecker(jobs.CheckerOptions{Commander: transport})
	defer checker.Close()

	// Daemon-side secrets: file() reads only inside --secrets-dir, never
	// the files serve itself authenticates with.
	secrets := newDirSecrets(c.secretsDir, values, c.ownFiles()...)

	// GitHub: the status outbox, pull request comments and revert pull
	// requests.
	var reporter *webhooks.GitHubReporter
	if c.githubRepo != "" && c.githubTokenFile != "" {
		if reporter, err = newReporter(c, store, metrics, values, log); err != nil {
			return err
		}
	} else if c.githubRepo != "" {
		log.Warn().Msg("--github-repo without --github-token-file: statuses are kept locally only")
	}

	// Monitoring: checks, alert state, notifications. In a cluster each
	// node checks its share of the (monitor, host) pairs, and each alert
	// and recovery is claimed once.
	notifiers := notify.New(notify.Options{PublicURL: c.publicURL, Secrets: secrets, Redact: values, Metrics: notify.NewMetrics(metrics), Logger: log})
	mopts := monitor.Options{
		Checker: checker, Secrets: secrets, Redact: values, Logger: log, Notifications: notifiers,
		Results: monitor.StoreResultSink{Metrics: store, States: store}, States: store, Silences: store, Acks: store,
	}
	if pg != nil {
		mopts.Owns = node.owns
		mopts.Claims = pg.Claims(c.nodeName, node.deadAfter(c))
		// A silence or acknowledgement made here reaches the other nodes
		// at once (listenControls).
		mopts.Announcer = pg
	}
	monitors := monitor.New(mopts)
	notifiers.ReportTo(monitors)
	metrics.MustRegister(monitor.NewCollector(monitors))
	// SNMP traps, on every node: a device may send to any or all of them
	// (the claims send each alert once). The receiver authenticates with
	// the applied commit's snmp profiles, after the secrets took it.
	followers := []engine.ConfigApplier{secrets, notifiers, monitors}
	var runTraps []background
	if c.trapListen != "" {
		traps, err := jobs.NewTrapReceiver(jobs.TrapReceiverOptions{Addr: c.trapListen, Sink: monitors, Secrets: secrets, Logger: log})
		if err != nil {
			return err
		}
		followers = append(followers, traps)
		runTraps = append(runTraps, background{"traps", traps.Run})
	}

	// What only the leader runs: rollouts, the GitOps loop, schedules. One
	// daemon builds them once; a cluster node once per term.
	leaders := &leaderParts{
		c: c, store: store, health: health, transport: transport, checker: checker, secrets: secrets, values: values,
		reporter: reporter, monitors: monitors, log: log,
		rolloutMetrics: rollout.NewMetrics(metrics), gitopsMetrics: gitops.NewMetrics(metrics),
		runURL: func(id int64) string { return fmt.Sprintf("%s/runs/%d", c.publicURL, id) },
	}
	var (
		backend    serveBackend
		core       background
		components []background
		trigger    func(string)
		cl         httpapi.ClusterSource
		states     httpapi.MonitorSource = monitors
	)
	if pg == nil {
		l, err := leaders.build(monitors, nil, nil)
		if err != nil {
			return err
		}
		// What follows the applied commit, in the order it takes it.
		l.daemon.Subscribe(append(followers, l.runner, l.schedules)...)
		backend, trigger = l.daemon, l.daemon.Trigger
		core = background{"daemon", l.daemon.Run}
		components = append(components,
			// The scheduler stops with the shutdown signal, before the
			// daemon drains: a firing then would be recorded as an error
			// and never caught up.
			background{"schedules", func(bg context.Context) error {
				sctx, cancel := context.WithCancel(bg)
				defer cancel()
				defer context.AfterFunc(ctx, cancel)()
				return l.schedules.Run(sctx)
			}},
			background{"compaction", func(ctx context.Context) error { return store.RunCompaction(ctx, log) }})
		if reporter != nil {
			components = append(components, background{"github", reporter.Run})
		}
	} else {
		f, err := node.start(ctx, c, pg, leaders, metrics, log)
		if err != nil {
			return err
		}
		f.Subscribe(followers...)
		backend, trigger, cl = f, f.Trigger, node
		states = clusterMonitors{runner: monitors, store: store, owns: node.owns, log: log}
		core = background{"cluster", node.run}
		components = append(components, background{"follower", f.Run},
			background{"controls", func(ctx context.Context) error { return listenControls(ctx, pg, monitors, log) }})
	}

	// The HTTP surface: webhooks, API, web UI, metrics, probes. The
	// webhook handler answers from its queue; its Run hands the events to
	// the daemon (in a cluster: to the leader, once) and stops after the
	// HTTP server (a background component).
	var hook http.Handler
	if c.webhookSecretFile != "" {
		secret, err := engine.ReadSecretFile(c.webhookSecretFile)
		if err != nil {
			return err
		}
		values.Add(secret)
		wh, err := webhooks.NewHandler(webhooks.HandlerOptions{
			Secret: []byte(secret), Repos: []string{c.githubRepo}, Sink: backend, Deliveries: store,
			Metrics: webhooks.NewHandlerMetrics(metrics), Logger: log,
		})
		if err != nil {
			return err
		}
		hook = wh
		components = append(components, background{"webhooks", wh.Run})
	}
	api := httpapi.New(httpapi.Options{
		Backend: backend, Store: store, Tokens: tokens, Webhook: hook, Registry: reg, PublicURL: c.publicURL, Logger: log,
		Monitors: states, Metrics: store, Sync: backend, Revert: backend, Exec: backend, Cluster: cl, Traps: monitors, Alerts: monitors, AlertAudit: store,
		Facts: httpapi.FactsOptions{Reader: store, Gatherer: backend, Syncs: store, Interval: c.factsInterval},
	})
	metrics.MustRegister(gitops.NewFactsCollector(store))
	ui, err := webui.New(webui.Options{
		Backend: backend, Store: store, Revert: backend, Exec: backend, Tokens: tokens, Monitors: states, Metrics: store, Sync: backend, Alerts: monitors, AlertAudit: store,
		Cluster: cl, Traps: monitors, Stopping: func() bool { return backend.Status().Stopping }, PublicURL: c.publicURL, Logger: log,
		Facts: httpapi.FactsOptions{Reader: store, Gatherer: backend, Syncs: store, Interval: c.factsInterval},
	})
	if err != nil {
		return fmt.Errorf("web ui: %w", err)
	}
	stopAdmin, err := startAdmin(c.adminListen, log)
	if err != nil {
		return err
	}
	defer stopAdmin()
	ln, err := net.Listen("tcp", c.listen)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", c.listen, err)
	}
	srv := httpapi.NewServer(c.listen, httpapi.Mount(api, ui))
	log.Info().Str("addr", ln.Addr().String()).Msg("listening")

	return serveRun(ctx, log, srv, ln, api, core, trigger, reporter, append(append(components, []background{
		{"monitors", monitors.Run},
		{"notifications", notifiers.Run},
	}...), runTraps...))
}

// serveBackend is what the HTTP surface and the webhooks drive: the daemon
// itself, or on a cluster node its follower (which hands actions to the
// leader).
type serveBackend interface {
	httpapi.Backend
	httpapi.SyncBackend
	httpapi.RevertBackend
	httpapi.CommitReader // the overview names commits on any node
	httpapi.ExecBackend
	engine.TriggerSink
	engine.FactsGatherer
}

var (
	_ serveBackend = (*gitops.Daemon)(nil)
	_ serveBackend = (*gitops.Follower)(nil)
)

// leaderParts builds the components only the leader runs.
type leaderParts struct {
	c              *serveConfig
	store          serveStore
	health         engine.StoreProbe
	transport      *jobs.Transport
	checker        *jobs.Checker
	secrets        *dirSecrets
	values         *engine.SecretRegistry
	reporter       *webhooks.GitHubReporter
	monitors       *monitor.Runner
	log            zerolog.Logger
	rolloutMetrics *rollout.Metrics
	gitopsMetrics  *gitops.Metrics
	runURL         func(int64) string
}

// leader is one set of the leader's components.
type leader struct {
	runner    *rollout.Runner
	daemon    *gitops.Daemon
	schedules *schedule.Scheduler
}

// build makes the leader's components. holds gets the alert holds of
// rollout waves; fence, when set, is asked before each host step; repo,
// when set, is the mirror already open.
func (p *leaderParts) build(holds engine.AlertHolder, fence func() error, repo *source.Mirror) (*leader, error) {
	c := p.c
	var outbox engine.StatusNotifier
	if p.reporter != nil {
		outbox = p.reporter
	}
	// Rollouts. Gates read fresh results through the monitor runner, so a
	// wave's failing host is also CRITICAL in its monitor; the runner holds
	// the wave's alerts.
	runner := rollout.New(rollout.Options{
		Store: p.store, Sync: p.store, Executor: p.transport, Secrets: p.secrets, Redact: p.values, Logger: p.log,
		Checker: monitor.GateChecker{Runner: p.monitors, Fallback: p.checker}, Holds: holds, Fence: fence,
		Outbox: outbox, Metrics: p.rolloutMetrics, RunURL: p.runURL,
	})
	// The GitOps loop.
	dopts := gitops.Options{
		Repo: repo,
		Mirror: source.MirrorOptions{
			URL: c.repo, Branch: c.branch, Dir: filepath.Join(c.data, "mirror"),
			TokenFile: c.repoTokenFile, SSHKeyFile: c.repoSSHKeyFile, KnownHostsFile: c.repoKnownHostsFile,
		},
		Store: p.store, Health: p.health, Runner: runner, Poll: c.poll, Sync: p.store, Drift: p.transport, Secrets: p.secrets, Redact: p.values, Monitors: p.monitors,
		AllowEmpty: c.allowEmpty, AllowForkPRs: c.allowForkPRs, Limits: c.limits, ShutdownTimeout: c.shutdownTimeout,
		StartTimeout: c.startTimeout, Metrics: p.gitopsMetrics, Logger: p.log,
		RevertAuthorName: c.revertAuthorName, RevertAuthorEmail: c.revertAuthorEmail, RunURL: p.runURL,
		// Facts are gathered by the leader only: once per cluster.
		Facts: jobs.NewFactsProbe(p.transport, p.checker), FactStore: p.store, FactsInterval: c.factsInterval,
	}
	if p.reporter != nil {
		dopts.Outbox, dopts.Comments, dopts.Reverts = p.reporter, p.reporter, p.reporter
	}
	daemon, err := gitops.New(dopts)
	if err != nil {
		return nil, err
	}
	// Schedules start their runs through the daemon.
	schedules := schedule.New(schedule.Options{Starter: daemon, Firings: p.store, Logger: p.log})
	return &leader{runner: runner, daemon: daemon, schedules: schedules}, nil
}

// background is a component that runs until its context ends.
type background struct {
	name string
	run  func(context.Context) error
}

// listenControls makes the monitors read silences and acknowledgements
// again whenever another node announces a change (and after each
// reconnect of the listener), until ctx ends. Should the database refuse
// to listen, the node goes on with its periodic refresh alone.
func listenControls(ctx context.Context, pg *pgstore.Store, monitors *monitor.Runner, log zerolog.Logger) error {
	if err := pg.ListenControls(ctx, monitors.RefreshControls); err != nil {
		log.Warn().Err(err).Msg("silences and acknowledgements made on other nodes reach this node at its periodic refresh only")
	}
	return nil
}

// serveRun runs the components until ctx ends and shuts them down in
// order: core (the daemon, or a cluster node's membership and terms)
// drains first, then HTTP closes, then the background components stop.
// Every goroutine belongs to one errgroup and is waited for.
func serveRun(ctx context.Context, log zerolog.Logger, srv *http.Server, ln net.Listener,
	api *httpapi.Handler, core background, trigger func(string), reporter *webhooks.GitHubReporter, components []background) error {
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)

	coreCtx, stopCore := context.WithCancel(context.WithoutCancel(ctx))
	defer stopCore()
	bgCtx, stopBackground := context.WithCancel(context.WithoutCancel(ctx))
	defer stopBackground()

	g := new(errgroup.Group)
	g.Go(func() error {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			return fmt.Errorf("http server: %w", err)
		}
		return nil
	})
	coreDone := make(chan error, 1)
	g.Go(func() error {
		err := core.run(coreCtx)
		coreDone <- err
		return err
	})
	for _, b := range components {
		g.Go(func() error {
			if err := b.run(bgCtx); err != nil && !errors.Is(err, context.Canceled) {
				return fmt.Errorf("%s: %w", b.name, err)
			}
			return nil
		})
	}
	g.Go(func() error {
		for {
			select {
			case <-bgCtx.Done():
				return nil
			case <-hup:
				log.Info().Msg("SIGHUP: reconciling now")
				trigger("sighup")
			}
		}
	})

	var runErr error
	select {
	case <-ctx.Done():
		log.Info().Msg("shutting down")
	case runErr = <-coreDone:
		coreDone <- runErr
		log.Error().Err(runErr).Str("component", core.name).Msg("stopped")
	}
	api.SetStopping()
	stopCore()
	runErr = <-coreDone
	// Let the outbox deliver the final statuses the drain produced.
	if reporter != nil {
		reporter.Notify()
	}
	shutCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutCtx); err != nil {
		log.Warn().Err(err).Msg("http shutdown")
	}
	stopBackground()
	if err := g.Wait(); err != nil && runErr == nil {
		runErr = err
	}
	log.Info().Msg("stopped")
	return runErr
}

// newReporter builds the GitHub outbox and registers its metrics with reg
// (only then: without a reporter nothing is delivered, and an outbox depth
// would only ever grow).
func newReporter(c *serveConfig, store webhooks.StatusOutbox, reg prometheus.Registerer, values *engine.SecretRegistry, log zerolog.Logger) (*webhooks.GitHubReporter, error) {
	token, err := engine.ReadSecretFile(c.githubTokenFile)
	if err != nil {
		return nil, err
	}
	values.Add(token)
	apiURL := c.githubAPIURL
	if apiURL == "https://api.github.com/" || apiURL == "https://api.github.com" {
		apiURL = ""
	}
	client, err := webhooks.NewGitHubClient(apiURL, token, nil)
	if err != nil {
		return nil, err
	}
	owner, name, _ := strings.Cut(c.githubRepo, "/")
	return webhooks.NewGitHubReporter(webhooks.GitHubReporterOptions{
		Client: client, Owner: owner, Repo: name, Store: store, Logger: log,
		Metrics: webhooks.NewMetrics(reg, store, log),
	})
}
