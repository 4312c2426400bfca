package main

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"testing/fstest"
	"time"

	"github.com/rogpeppe/go-internal/testscript"
	"github.com/rs/zerolog"

	"github.com/ripple-ops/ripple/definitions"
	"github.com/ripple-ops/ripple/engine"
	"github.com/ripple-ops/ripple/engine/httpapi"
	"github.com/ripple-ops/ripple/engine/sqlstore"
)

const monitorsTestHCL = `
credential "default" {
  user             = "deploy"
  private_key_file = "/k"
  known_hosts_file = "/kh"
}
host "web-01" {
  address = "10.0.0.1"
  groups  = ["web"]
}
host "web-02" {
  address = "10.0.0.2"
  groups  = ["web"]
}
job "nginx" {
  targets { groups = ["web"] }
  step "reload" { run = "true" }
}
monitor "disk-root" {
  targets { groups = ["web"] }
  check "command" { run = "check_disk" }
  limits = { "/" = 100 }
}
monitor "web-http" {
  targets { groups = ["web"] }
  check "http" { url = "http://${host.address}/" }
}
`

type cliBackend struct {
	defs *definitions.Definitions
}

func (b cliBackend) Status() engine.DaemonStatus {
	return engine.DaemonStatus{Branch: "main", Ready: true}
}
func (b cliBackend) Ready() bool                                          { return true }
func (b cliBackend) Definitions() *definitions.Definitions                { return b.defs }
func (b cliBackend) Approve(context.Context, int64, string, string) error { return nil }
func (b cliBackend) Abort(context.Context, int64, string, string) error   { return nil }
func (b cliBackend) Accept(context.Context, string, string, string) error { return nil }
func (b cliBackend) Trigger(string)                                       {}
func (b cliBackend) StartRun(context.Context, string, []string, string, string) (*engine.Run, error) {
	return nil, engine.ErrNotRunning
}

type cliMonitors []engine.MonitorHostState

func (m cliMonitors) States() []engine.MonitorHostState { return m }

// TestMonitorsCapacityFollowScripts runs testdata/monitors against an API
// server over a real store: web-01's disk grows 2 a day toward 100 from 80,
// web-http is CRITICAL and flapping on web-01, and run 1 moves through its
// two waves (web-02 fails) while the scripts follow it.
func TestMonitorsCapacityFollowScripts(t *testing.T) {
	testscript.Run(t, testscript.Params{
		Dir: "testdata/monitors",
		Setup: func(env *testscript.Env) error {
			ctx, cancel := context.WithCancel(context.Background())
			store, err := sqlstore.Open(ctx, env.WorkDir+"/data")
			if err != nil {
				cancel()
				return err
			}
			defs, diags := definitions.Load(fstest.MapFS{"main.hcl": {Data: []byte(monitorsTestHCL)}}, "c0ffee", definitions.Limits{})
			if diags.HasErrors() {
				cancel()
				return diags
			}
			now := time.Now()
			var samples []engine.MetricSample
			for i := 0; i <= 20; i++ {
				at := now.Add(-10*24*time.Hour + time.Duration(i)*12*time.Hour)
				samples = append(samples,
					engine.MetricSample{Monitor: "disk-root", Host: "web-01", Metric: "/", At: at, Value: 60 + float64(i)},
					engine.MetricSample{Monitor: "disk-root", Host: "web-02", Metric: "/", At: at, Value: 30})
			}
			if err := store.AppendMetrics(ctx, samples); err != nil {
				cancel()
				return err
			}
			run := &engine.Run{Job: "nginx", Commit: "c0ffee", Trigger: "manual", State: engine.RunRunning, Waves: [][]string{{"web-01"}, {"web-02"}}}
			if err := store.CreateRun(ctx, run); err != nil {
				cancel()
				return err
			}
			tokens, err := httpapi.ParseTokens(strings.NewReader("viewer-token-0123456789 viewer ci\n"))
			if err != nil {
				cancel()
				return err
			}
			mons := cliMonitors{
				{Monitor: "web-http", Host: "web-01", State: engine.StateCritical, Since: now.Add(-time.Hour), Firing: true, Flapping: true, FlapPercent: 40, LastOutput: "HTTP 503", LastAt: now,
					Pending: &engine.PendingNotification{
						Notification: engine.Notification{Kind: engine.NotifyAlert, Monitor: "web-http", Host: "web-01", State: engine.StateCritical, At: now.Add(-50 * time.Minute)},
						Undelivered:  map[string]string{"pager": "notifier pager: url: environment variable PAGER_URL is not set"},
					}},
				{Monitor: "web-http", Host: "web-02", Held: true, State: engine.StateOK, Since: now.Add(-time.Hour), LastOutput: "HTTP 200", LastAt: now},
			}
			h := httpapi.New(httpapi.Options{Backend: cliBackend{defs: defs}, Store: store, Tokens: tokens, Monitors: mons, Metrics: store,
				EventPoll: 50 * time.Millisecond, Logger: zerolog.Nop()})
			// The run starts moving once a client asks for it, so a slow
			// start of the CLI does not miss its first state.
			asked := make(chan struct{})
			var askOnce sync.Once
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if strings.HasPrefix(r.URL.Path, "/api/v1/runs/") {
					askOnce.Do(func() { close(asked) })
				}
				h.ServeHTTP(w, r)
			}))

			// The run moves on every 300 ms, as a rollout would write it.
			var wg sync.WaitGroup
			wg.Add(1)
			go func() {
				defer wg.Done()
				select {
				case <-ctx.Done():
					return
				case <-asked:
				}
				steps := []func(){
					func() { finish(ctx, store, run.ID, 0, "web-01", engine.StepOK, "") },
					func() {
						finish(ctx, store, run.ID, 1, "web-02", engine.StepFailed, "boom: config test failed\nsecond line")
					},
					func() {
						run.State, run.Summary = engine.RunFailed, "wave 2 failed"
						_ = store.UpdateRun(ctx, run)
					},
				}
				for _, step := range steps {
					select {
					case <-ctx.Done():
						return
					case <-time.After(300 * time.Millisecond):
					}
					step()
				}
			}()
			env.Defer(func() {
				cancel()
				wg.Wait()
				srv.Close()
				store.Close()
			})
			env.Setenv("RIPPLE_SERVER", srv.URL)
			env.Setenv("RIPPLE_TOKEN", "viewer-token-0123456789")
			return nil
		},
	})
}

func finish(ctx context.Context, store *sqlstore.Store, id int64, wave int, host string, status engine.StepStatus, stderr string) {
	res := engine.StepResult{Status: status, Stderr: stderr}
	if status == engine.StepFailed {
		res.ExitCode = 1
	}
	err := store.FinishHostStep(ctx, engine.HostStep{RunID: id, Wave: wave, Host: host, Step: "reload", Phase: engine.PhaseFinished, Result: res})
	if err != nil && ctx.Err() == nil {
		panic(fmt.Sprintf("finish %s: %v", host, err))
	}
}
