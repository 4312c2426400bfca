package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/ripple-ops/ripple/engine"
	"github.com/ripple-ops/ripple/engine/httpapi"
	"github.com/ripple-ops/ripple/jobs/lab"
)

// demoConfig is `ripple demo`'s flags.
type demoConfig struct {
	exit   bool
	hosts  int
	listen string
	dir    string
}

// runDemo is `ripple demo`: a lab fleet, an ops repo and the daemon, all in
// this process, then two commits: a release rolled out in waves, and a
// broken one halted at the canary and rolled back. With --exit it ends
// after the script (exit 0 when everything behaved as expected); otherwise
// the daemon and the lab keep serving until Ctrl-C.
func runDemo(ctx context.Context, args []string, e env) error {
	c := demoConfig{}
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	fs.BoolVar(&c.exit, "exit", false, "end after the script: exit 0 when the rollout, the halt and the rollback behaved as expected")
	fs.IntVar(&c.hosts, "hosts", 12, "lab hosts (`N`, 4 to 100)")
	fs.StringVar(&c.listen, "listen", "127.0.0.1:8080", "`ADDR` of the daemon's web UI and API (port 0: any free port)")
	fs.StringVar(&c.dir, "dir", "", "keep the demo's files (lab, ops repo, data, log) in `DIR` instead of a temporary directory")
	fs.Usage = func() {
		fmt.Fprintln(e.stderr, "usage: ripple demo [--exit] [--hosts N] [--listen ADDR] [--dir DIR]\n\n"+
			"Starts a lab fleet of SSH servers on loopback, writes an ops repo into a\n"+
			"temporary git repository, runs the daemon on it, then commits a release\n"+
			"(rolled out in waves behind a health gate) and a broken one (halted at\n"+
			"the canary and rolled back). Nothing outside the demo's directory is\n"+
			"touched.")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return exitError{2}
	}
	if fs.NArg() > 0 || c.hosts < 4 || c.hosts > 100 {
		fs.Usage()
		return exitError{2}
	}
	listen, err := demoListenAddr(c.listen)
	if err != nil {
		return err
	}
	c.listen = listen

	dir := c.dir
	if dir == "" {
		if dir, err = os.MkdirTemp("", "ripple-demo-"); err != nil {
			return fmt.Errorf("demo directory: %w", err)
		}
	} else if dir, err = filepath.Abs(dir); err != nil {
		return fmt.Errorf("demo directory: %w", err)
	}
	d := &demo{cfg: c, dir: dir, out: e.stdout, start: time.Now()}
	err = d.run(ctx)
	interrupted := err != nil && ctx.Err() != nil
	if c.dir == "" {
		// A temporary directory goes, unless the demo went wrong: then its
		// daemon log and data are what someone needs to look at.
		if err != nil && !interrupted {
			fmt.Fprintf(e.stderr, "ripple demo: kept %s (daemon log, data, lab, ops repo)\n", dir)
		} else {
			os.RemoveAll(dir)
		}
	}
	if interrupted {
		fmt.Fprintln(e.stdout, "\ninterrupted.")
		return exitError{130}
	}
	return err
}

// demoListenAddr resolves port 0 to a free port now, so the address can be
// printed and polled before the daemon listens.
func demoListenAddr(addr string) (string, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "", fmt.Errorf("--listen %q: %w", addr, err)
	}
	if port != "0" {
		return addr, nil
	}
	ln, err := net.Listen("tcp", net.JoinHostPort(host, "0"))
	if err != nil {
		return "", fmt.Errorf("--listen %q: %w", addr, err)
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// demo is one run of the demo script.
type demo struct {
	cfg   demoConfig
	dir   string
	out   io.Writer
	start time.Time

	lab    *lab.Lab
	repo   *demoRepo
	api    *apiClient
	url    string
	token  string
	log    string
	checks []demoCheck
	// serveDone receives runServe's result; whoever takes it puts it back.
	serveDone chan error
}

// demoCheck is one expectation of the script, shown in the final summary.
type demoCheck struct {
	what string
	ok   bool
}

func (d *demo) expect(ok bool, format string, args ...any) {
	d.checks = append(d.checks, demoCheck{what: fmt.Sprintf(format, args...), ok: ok})
}

func (d *demo) printf(format string, args ...any) { fmt.Fprintf(d.out, format, args...) }

func (d *demo) heading(title string) {
	d.printf("\n── %s %s\n", title, strings.Repeat("─", max(0, 66-len([]rune(title)))))
}

func (d *demo) run(ctx context.Context) error {
	d.printf("ripple demo: GitOps for a fleet of %d lab hosts, all inside this process\n", d.cfg.hosts)
	d.heading("Setup")
	if err := d.startLab(); err != nil {
		return err
	}
	defer d.lab.Close()
	d.printf("  lab       %s … %s: %d SSH servers on 127.0.0.1, real SSH, host keys checked\n",
		d.lab.Hosts[0].Name, d.lab.Hosts[len(d.lab.Hosts)-1].Name, len(d.lab.Hosts))

	base, err := d.writeRepo()
	if err != nil {
		return err
	}
	d.printf("  ops repo  %s (commit %s \"ripple demo: lab inventory and monitors\")\n", d.repo.dir, shortSHA(base))

	serveCtx, stopServe := context.WithCancel(context.WithoutCancel(ctx))
	defer stopServe()
	serveDone, err := d.startDaemon(serveCtx)
	if err != nil {
		return err
	}
	d.serveDone = serveDone
	defer func() {
		stopServe()
		<-serveDone
	}()
	if err := d.waitReady(ctx, base); err != nil {
		return err
	}
	d.printf("  daemon    ripple serve --repo %s --poll 1s (log: %s)\n", d.repo.dir, d.log)
	d.banner()

	if err := d.actRelease(ctx); err != nil {
		return err
	}
	if err := d.actBrokenCanary(ctx); err != nil {
		return err
	}
	ok := d.summary()
	if d.cfg.exit {
		if !ok {
			return exitError{1}
		}
		return nil
	}
	d.printf("\nStill serving the web UI and the API; Ctrl-C stops the daemon and the lab. Try:\n"+
		"  RIPPLE_TOKEN=%s go run ./cmd/ripple runs --server %s\n", d.token, d.url)
	select {
	case <-ctx.Done():
		d.printf("\nstopping.\n")
	case err := <-serveDone:
		serveDone <- err
		return fmt.Errorf("daemon stopped: %w (log: %s)", err, d.log)
	}
	return nil
}

func (d *demo) banner() {
	d.printf("\n  ▶ web UI  %s/?token=%s  (a sign-in link)\n", d.url, d.token)
	d.printf("    token   %s  (operator: the UI's sign-in form, the API)\n", d.token)
}

// startLab starts the fleet: the first third are web front ends, the rest
// app servers, each with app 1.4.0 "installed by hand" in its sandbox.
func (d *demo) startLab() error {
	web := max(1, d.cfg.hosts/3)
	l, err := lab.Start(lab.Options{Hosts: d.cfg.hosts, Dir: filepath.Join(d.dir, "lab"), Groups: func(i int) []string {
		if i < web {
			return []string{"web"}
		}
		return []string{"app"}
	}})
	if err != nil {
		return err
	}
	d.lab = l
	for i, h := range l.Hosts {
		workers := 8
		if i < web {
			workers = 4
		}
		files := map[string]string{
			"app.conf":   fmt.Sprintf("# app.conf for %s: written by hand\nversion  = 1.4.0\nworkers  = %d\ncache_mb = 256\n", h.Name, workers),
			"health":     "OK app 1.4.0 serving\n",
			"latency_ms": "41\n",
			"history":    "1.4.0\n",
		}
		for name, content := range files {
			if err := os.WriteFile(filepath.Join(h.Sandbox, name), []byte(content), 0o644); err != nil {
				l.Close()
				return fmt.Errorf("seed %s: %w", h.Name, err)
			}
		}
	}
	return nil
}

func (d *demo) writeRepo() (string, error) {
	repo, err := newDemoRepo(filepath.Join(d.dir, "ops-repo"))
	if err != nil {
		return "", err
	}
	d.repo = repo
	files, err := demoBaseFiles(d.lab.HCL())
	if err != nil {
		return "", err
	}
	return repo.commit(files, "ripple demo: lab inventory and monitors")
}

// startDaemon runs `ripple serve` in a goroutine owned by the caller: it
// ends when ctx does, and its result arrives on the returned channel. Its
// log goes to a file, not the terminal.
func (d *demo) startDaemon(ctx context.Context) (chan error, error) {
	tok := make([]byte, 16)
	if _, err := rand.Read(tok); err != nil {
		return nil, fmt.Errorf("api token: %w", err)
	}
	d.token = "demo-" + hex.EncodeToString(tok)
	tokens := filepath.Join(d.dir, "api-tokens")
	if err := os.WriteFile(tokens, []byte(d.token+" operator demo\n"), 0o600); err != nil {
		return nil, fmt.Errorf("api tokens file: %w", err)
	}
	d.log = filepath.Join(d.dir, "ripple.log")
	logf, err := os.Create(d.log)
	if err != nil {
		return nil, fmt.Errorf("daemon log: %w", err)
	}
	d.url = "http://" + d.cfg.listen
	d.api = &apiClient{server: d.url, token: d.token, http: &http.Client{Timeout: 10 * time.Second}}

	args := []string{
		"--repo", d.repo.dir, "--branch", "main", "--data", filepath.Join(d.dir, "data"),
		"--listen", d.cfg.listen, "--poll", "1s", "--api-tokens-file", tokens,
		"--log-format", "json", "--shutdown-timeout", "5s",
	}
	// The daemon sees no RIPPLE_* variables of the user's shell.
	se := env{stdin: strings.NewReader(""), stdout: logf, stderr: logf, getenv: func(string) string { return "" }}
	done := make(chan error, 1)
	go func() {
		err := runServe(ctx, args, se)
		logf.Close()
		done <- err
	}()
	return done, nil
}

// waitReady waits until the daemon answers /readyz and has applied the
// first commit.
func (d *demo) waitReady(ctx context.Context, base string) error {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	for {
		var st struct {
			LastApplied string `json:"last_applied"`
			Refused     string `json:"refused"`
			LastError   string `json:"last_error"`
		}
		_, err := d.api.do(ctx, "GET", "/api/v1/status", nil, &st)
		switch {
		case err == nil && st.LastApplied == base:
			return nil
		case err == nil && st.Refused != "":
			return fmt.Errorf("the daemon refused the demo repo: %s", st.Refused)
		}
		select {
		case err := <-d.serveDone:
			d.serveDone <- err
			return fmt.Errorf("daemon stopped: %w (log: %s)", err, d.log)
		case <-ctx.Done():
			if err == nil && st.LastError != "" {
				return fmt.Errorf("daemon not ready: %s (log: %s)", st.LastError, d.log)
			}
			return fmt.Errorf("daemon not ready (log: %s): %w", d.log, ctx.Err())
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// actRelease commits the job: release 1.5.0 rolls out in waves.
func (d *demo) actRelease(ctx context.Context) error {
	d.heading("Act 1: a release rolls out in waves")
	job, err := demoJob()
	if err != nil {
		return err
	}
	msg := "app-config: ripple manages app.conf; release 1.5.0"
	sha, err := d.repo.commit(map[string]string{demoJobFile: job}, msg)
	if err != nil {
		return err
	}
	d.printf("  commit %s %q\n", shortSHA(sha), msg)
	d.printf("  job app-config: waves [1, \"25%%\", \"100%%\"], health gate app-health OK for 2s (deadline 10s)\n")
	run, err := d.watch(ctx, sha)
	if err != nil {
		return err
	}
	fleet := d.fleet()
	d.printFleet(fleet)

	d.expect(run.State == "succeeded", "release 1.5.0: run %d succeeded", run.ID)
	d.expect(len(run.Waves) == 3 && len(run.Waves[0]) == 1, "release 1.5.0: a canary then %d more waves (%s)", len(run.Waves)-1, waveSizes(run.Waves))
	all := true
	for _, h := range fleet {
		all = all && h.version == "1.5.0" && strings.HasPrefix(h.health, "OK")
	}
	d.expect(all, "release 1.5.0: every host runs 1.5.0 and is healthy")
	return nil
}

// actBrokenCanary commits release 1.6.0 with the cache off: the canary's
// steps succeed, its health goes CRITICAL, the gate fails, the run halts at
// wave 1 and rolls the canary back.
func (d *demo) actBrokenCanary(ctx context.Context) error {
	d.heading("Act 2: a bad release stops at the canary")
	job, err := demoJob()
	if err != nil {
		return err
	}
	broken, err := demoBrokenJob(job)
	if err != nil {
		return err
	}
	before := d.fleet()
	msg := "app-config: release 1.6.0, cache_mb = 0"
	sha, err := d.repo.commit(map[string]string{demoJobFile: broken}, msg)
	if err != nil {
		return err
	}
	d.printf("  commit %s %q\n  (the steps succeed, but without its cache the app goes CRITICAL)\n", shortSHA(sha), msg)
	run, err := d.watch(ctx, sha)
	if err != nil {
		return err
	}
	after := d.fleet()
	d.printFleet(after)

	d.expect(run.State == "failed", "release 1.6.0: run %d failed", run.ID)
	d.expect(run.CurrentWave == 0 && len(run.WaveDetails) > 1 && run.WaveDetails[1].State == "not_started",
		"release 1.6.0: halted at wave 1, later waves never started")
	d.expect(strings.Contains(run.Error, "health gate"), "release 1.6.0: the canary's health gate failed")
	canary := ""
	if len(run.Waves) > 0 && len(run.Waves[0]) > 0 {
		canary = run.Waves[0][0]
	}
	d.expect(rolledBack(run, canary), "release 1.6.0: %s rolled back (restore, restart ok)", canary)
	var untouched, restored bool
	untouched = len(after) == len(before) && len(after) > 1
	for i, h := range after {
		if h.name == canary {
			restored = h.version == "1.5.0" && strings.HasPrefix(h.health, "OK") && strings.Contains(h.history, "1.6.0")
			continue
		}
		if i < len(before) && h != before[i] {
			untouched = false
		}
	}
	d.expect(restored, "release 1.6.0: %s back on 1.5.0 and healthy", canary)
	d.expect(untouched, "release 1.6.0: the other %d hosts untouched", len(after)-1)
	return nil
}

// rolledBack reports whether host has rollback steps in run, all ok.
func rolledBack(run *httpapi.RunDetail, host string) bool {
	n := 0
	for _, w := range run.WaveDetails {
		for _, h := range w.Hosts {
			for _, s := range h.Steps {
				if h.Host == host && s.Rollback {
					if s.Phase != "finished" || !engine.StepStatus(s.Status).Succeeded() {
						return false
					}
					n++
				}
			}
		}
	}
	return n > 0
}

func (d *demo) summary() bool {
	d.heading("Summary")
	ok := true
	for _, c := range d.checks {
		mark := "✔"
		if !c.ok {
			mark, ok = "✘", false
		}
		d.printf("  %s %s\n", mark, c.what)
	}
	verdict := "everything behaved as expected"
	if !ok {
		verdict = "SOMETHING DID NOT BEHAVE AS EXPECTED (daemon log: " + d.log + ")"
	}
	d.printf("\n  %s, in %s.\n", verdict, time.Since(d.start).Round(100*time.Millisecond))
	d.banner()
	return ok
}
