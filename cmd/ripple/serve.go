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
	"github.com/ripple-ops/ripple/engine/gitops"
	"github.com/ripple-ops/ripple/engine/httpapi"
	"github.com/ripple-ops/ripple/engine/monitor"
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
	// revertAuthor signs revert commits: "NAME <EMAIL>"; check splits it.
	revertAuthor                        string
	revertAuthorName, revertAuthorEmail string
	factsInterval                       time.Duration
}

func (c *serveConfig) flags(fs *flag.FlagSet) {
	fs.StringVar(&c.repo, "repo", "", "ops repo: local `PATH`, https://... or ssh://... / git@host:path (required)")
	fs.StringVar(&c.branch, "branch", "main", "tracked `BRANCH`; only refs/heads/BRANCH triggers")
	fs.StringVar(&c.data, "data", "./ripple-data", "data `DIR` (SQLite store, mirror clone)")
	fs.StringVar(&c.store, "store", "", "PostgreSQL store `URL` postgres://USER@HOST/DB, for several daemons (default: SQLite under --data)")
	fs.StringVar(&c.storePasswordFile, "store-password-file", "", "`FILE` holding the PostgreSQL password (default: PGPASSFILE or ~/.pgpass)")
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
	fs.StringVar(&c.adminListen, "admin-listen", "", "loopback `ADDR` for pprof profiles (off when empty; never on --listen)")
	fs.StringVar(&c.revertAuthor, "revert-author", "ripple <ripple@localhost>", "author and committer of the commits `ripple revert` makes, as \"NAME <EMAIL>\"")
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
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	var envErr error
	fs.VisitAll(func(f *flag.Flag) {
		if set[f.Name] || envErr != nil {
			return
		}
		name := "RIPPLE_" + strings.ToUpper(strings.ReplaceAll(f.Name, "-", "_"))
		if v := e.getenv(name); v != "" {
			if err := f.Value.Set(v); err != nil {
				envErr = fmt.Errorf("%s: %w", name, err)
			}
		}
	})
	if envErr != nil {
		fmt.Fprintf(e.stderr, "ripple serve: %v\n", envErr)
		return nil, exitError{2}
	}
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
	case c.webhookSecretFile != "" && c.githubRepo == "":
		return errors.New("--webhook-secret-file needs --github-repo: only that repository's deliveries are accepted")
	case c.githubRepo != "" && strings.Count(c.githubRepo, "/") != 1:
		return fmt.Errorf("--github-repo %q is not OWNER/NAME", c.githubRepo)
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
		Str("listen", c.listen).Dur("poll", c.poll).Str("public_url", c.publicURL).
		Str("github_repo", c.githubRepo).Str("github_api_url", c.githubAPIURL).
		Bool("github_token", c.githubTokenFile != "").Bool("webhooks", c.webhookSecretFile != "").
		Bool("api_tokens", c.apiTokensFile != "").Bool("allow_empty", c.allowEmpty).
		Str("secrets_dir", c.secretsDir).Str("revert_author", c.revertAuthor).Bool("allow_fork_prs", c.allowForkPRs).Dur("shutdown_timeout", c.shutdownTimeout).Dur("start_timeout", c.startTimeout).
		Msg("starting ripple serve")
}

// runServe is `ripple serve`. It builds the components in dependency
// order, one block each, then runs them in one group (serveRun) until
// SIGINT or SIGTERM, and shuts down in a fixed order: readiness off, the
// daemon drained (no new host step; in-flight ones finish and are
// journaled), HTTP closed, background components stopped, store closed.
// It decides nothing itself: every decision lives in a component.
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

	// The durable store: SQLite under --data, or PostgreSQL.
	store, err := openStore(ctx, c, log)
	if err != nil {
		return err
	}
	defer store.Close()
	// A SQLite store says whether it can write (a full disk): metrics, and
	// the probe the daemon resumes stopped runs after.
	var health engine.StoreProbe
	if sq, ok := store.(*sqlstore.Store); ok {
		reg.MustRegister(sqlstore.NewCollector(sq))
		health = sq
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
	sshOpts := jobs.SSHOptions{Logger: &log, Metrics: jobs.NewMetrics(reg)}
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
		if reporter, err = newReporter(c, store, reg, values, log); err != nil {
			return err
		}
	} else if c.githubRepo != "" {
		log.Warn().Msg("--github-repo without --github-token-file: statuses are kept locally only")
	}
	var outbox engine.StatusNotifier
	if reporter != nil {
		outbox = reporter
	}

	// Monitoring: checks, alert state, notifications.
	notifiers := notify.New(notify.Options{PublicURL: c.publicURL, Secrets: secrets, Redact: values, Metrics: notify.NewMetrics(reg), Logger: log})
	monitors := monitor.New(monitor.Options{
		Checker: checker, Secrets: secrets, Redact: values, Logger: log, Notifications: notifiers,
		Results: monitor.StoreResultSink{Metrics: store, States: store}, States: store,
	})
	notifiers.ReportTo(monitors)
	reg.MustRegister(monitor.NewCollector(monitors))

	// Rollouts. Gates read fresh results through the monitor runner, so a
	// wave's failing host is also CRITICAL in its monitor; the runner holds
	// the wave's alerts.
	runURL := func(id int64) string { return fmt.Sprintf("%s/runs/%d", c.publicURL, id) }
	runner := rollout.New(rollout.Options{
		Store: store, Sync: store, Executor: transport, Secrets: secrets, Redact: values, Logger: log,
		Checker: monitor.GateChecker{Runner: monitors, Fallback: checker}, Holds: monitors,
		Outbox: outbox, Metrics: rollout.NewMetrics(reg), RunURL: runURL,
	})

	// The GitOps loop.
	dopts := gitops.Options{
		Mirror: source.MirrorOptions{
			URL: c.repo, Branch: c.branch, Dir: filepath.Join(c.data, "mirror"),
			TokenFile: c.repoTokenFile, SSHKeyFile: c.repoSSHKeyFile, KnownHostsFile: c.repoKnownHostsFile,
		},
		Store: store, Health: health, Runner: runner, Poll: c.poll, Sync: store, Drift: transport, Secrets: secrets, Redact: values, Monitors: monitors,
		AllowEmpty: c.allowEmpty, AllowForkPRs: c.allowForkPRs, ShutdownTimeout: c.shutdownTimeout,
		StartTimeout: c.startTimeout, Metrics: gitops.NewMetrics(reg), Logger: log,
		RevertAuthorName: c.revertAuthorName, RevertAuthorEmail: c.revertAuthorEmail, RunURL: runURL,
		Facts: jobs.NewFactsProbe(transport, checker), FactStore: store, FactsInterval: c.factsInterval,
	}
	if reporter != nil {
		dopts.Outbox, dopts.Comments, dopts.Reverts = reporter, reporter, reporter
	}
	daemon, err := gitops.New(dopts)
	if err != nil {
		return err
	}

	// Schedules start their runs through the daemon.
	schedules := schedule.New(schedule.Options{Starter: daemon, Firings: store, Logger: log})

	// What follows the applied commit, in the order it takes it.
	daemon.Subscribe(secrets, notifiers, monitors, runner, schedules)

	// The HTTP surface: webhooks, API, web UI, metrics, probes. The
	// webhook handler answers from its queue; its Run hands the events to
	// the daemon and stops after the HTTP server (a background component).
	var hook http.Handler
	var components []background
	if c.webhookSecretFile != "" {
		secret, err := engine.ReadSecretFile(c.webhookSecretFile)
		if err != nil {
			return err
		}
		values.Add(secret)
		wh, err := webhooks.NewHandler(webhooks.HandlerOptions{
			Secret: []byte(secret), Repos: []string{c.githubRepo}, Sink: daemon, Deliveries: store,
			Metrics: webhooks.NewHandlerMetrics(reg), Logger: log,
		})
		if err != nil {
			return err
		}
		hook = wh
		components = append(components, background{"webhooks", wh.Run})
	}
	api := httpapi.New(httpapi.Options{
		Backend: daemon, Store: store, Tokens: tokens, Webhook: hook, Registry: reg, PublicURL: c.publicURL, Logger: log,
		Monitors: monitors, Metrics: store, Sync: daemon, Revert: daemon,
		Facts: httpapi.FactsOptions{Reader: store, Gatherer: daemon, Syncs: store, Interval: c.factsInterval},
	})
	reg.MustRegister(gitops.NewFactsCollector(store))
	ui, err := webui.New(webui.Options{
		Backend: daemon, Store: store, Revert: daemon, Tokens: tokens, Monitors: monitors, Metrics: store, Sync: daemon,
		Stopping: func() bool { return daemon.Status().Stopping }, PublicURL: c.publicURL, Logger: log,
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

	return serveRun(ctx, log, srv, ln, api, daemon, reporter, append(components, []background{
		{"monitors", monitors.Run},
		{"notifications", notifiers.Run},
		// The scheduler stops with the shutdown signal, before the daemon
		// drains: a firing then would be recorded as an error and never
		// caught up.
		{"schedules", func(bg context.Context) error {
			sctx, cancel := context.WithCancel(bg)
			defer cancel()
			defer context.AfterFunc(ctx, cancel)()
			return schedules.Run(sctx)
		}},
		{"compaction", func(ctx context.Context) error { return store.RunCompaction(ctx, log) }},
	}...))
}

var (
	_ httpapi.Backend       = (*gitops.Daemon)(nil)
	_ httpapi.SyncBackend   = (*gitops.Daemon)(nil)
	_ httpapi.RevertBackend = (*gitops.Daemon)(nil)
)

// background is a component that runs until its context ends.
type background struct {
	name string
	run  func(context.Context) error
}

// serveRun runs the components until ctx ends and shuts them down in
// order. Every goroutine belongs to one errgroup and is waited for.
func serveRun(ctx context.Context, log zerolog.Logger, srv *http.Server, ln net.Listener,
	api *httpapi.Handler, daemon *gitops.Daemon, reporter *webhooks.GitHubReporter, components []background) error {
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)

	daemonCtx, stopDaemon := context.WithCancel(context.WithoutCancel(ctx))
	defer stopDaemon()
	bgCtx, stopBackground := context.WithCancel(context.WithoutCancel(ctx))
	defer stopBackground()

	g := new(errgroup.Group)
	g.Go(func() error {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			return fmt.Errorf("http server: %w", err)
		}
		return nil
	})
	daemonDone := make(chan error, 1)
	g.Go(func() error {
		err := daemon.Run(daemonCtx)
		daemonDone <- err
		return err
	})
	for _, b := range components {
		g.Go(func() error {
			if err := b.run(bgCtx); err != nil {
				return fmt.Errorf("%s: %w", b.name, err)
			}
			return nil
		})
	}
	if reporter != nil {
		g.Go(func() error {
			if err := reporter.Run(bgCtx); err != nil && !errors.Is(err, context.Canceled) {
				return err
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
				daemon.Trigger("sighup")
			}
		}
	})

	var runErr error
	select {
	case <-ctx.Done():
		log.Info().Msg("shutting down")
	case runErr = <-daemonDone:
		daemonDone <- runErr
		log.Error().Err(runErr).Msg("daemon stopped")
	}
	api.SetStopping()
	stopDaemon()
	runErr = <-daemonDone
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
