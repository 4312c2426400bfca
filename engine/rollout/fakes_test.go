package rollout

import (
	"context"
	"fmt"
	"sort"
	"testing"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/rs/zerolog"
	"github.com/zclconf/go-cty/cty"

	"github.com/ripple-ops/ripple/definitions"
	"github.com/ripple-ops/ripple/engine"
	"github.com/ripple-ops/ripple/engine/enginetest"
)

// fixture is a fleet, a job over it and the fakes.
type fixture struct {
	t       *testing.T
	defs    *definitions.Definitions
	job     *definitions.Job
	store   *enginetest.MemStore
	exec    *enginetest.Exec
	checker *enginetest.Checker
	clock   *enginetest.AutoClock
	events  *enginetest.ProgressLog
}

func expr(t testing.TB, tmpl string) hcl.Expression {
	t.Helper()
	e, diags := hclsyntax.ParseTemplate([]byte(tmpl), "test.hcl", hcl.InitialPos)
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	return e
}

func runStep(t testing.TB, name string) *definitions.Step {
	return &definitions.Step{Name: name, Kind: definitions.StepRun, Run: expr(t, "echo "+name+" on ${host.name}"), Timeout: time.Minute}
}

func hostName(i int) string { return fmt.Sprintf("h%02d", i) }

// newFixture makes n hosts (h01..), all in group "all", and a job "app"
// with steps "one" and "two" targeting them.
func newFixture(t *testing.T, n int) *fixture {
	defs := &definitions.Definitions{
		Commit:      "c0ffee",
		Hosts:       map[string]*definitions.Host{},
		Groups:      map[string]*definitions.Group{},
		Credentials: map[string]*definitions.Credential{"default": {Name: "default", User: "deploy"}},
		Monitors:    map[string]*definitions.Monitor{},
		Jobs:        map[string]*definitions.Job{},
	}
	for i := 1; i <= n; i++ {
		defs.Hosts[hostName(i)] = &definitions.Host{Name: hostName(i), Address: fmt.Sprintf("10.0.0.%d", i), Port: 22,
			Groups: []string{"all"}, Vars: cty.EmptyObjectVal, Transport: "ssh", Credential: "default"}
	}
	job := &definitions.Job{
		Name:    "app",
		Targets: definitions.Targets{Groups: []string{"all"}},
		Steps:   []*definitions.Step{runStep(t, "one"), runStep(t, "two")},
		Rollout: definitions.Rollout{MaxParallel: 5, OnFailure: "rollback"},
	}
	defs.Jobs[job.Name] = job
	clock := enginetest.NewAutoClock()
	return &fixture{t: t, defs: defs, job: job, store: enginetest.NewMemStore(), exec: &enginetest.Exec{},
		checker: &enginetest.Checker{Clock: clock, State: func(string, string, time.Time) engine.CheckState { return engine.StateOK }},
		clock:   clock, events: &enginetest.ProgressLog{}}
}

// addGate adds monitor "health" on every host and gates the job on it.
func (f *fixture) addGate(minHealthy, deadline time.Duration) {
	f.defs.Monitors["health"] = &definitions.Monitor{Name: "health", Targets: definitions.Targets{Groups: []string{"all"}},
		Interval: time.Minute, Timeout: time.Second, Check: definitions.Check{Kind: definitions.CheckTCP, Port: 80}}
	f.job.Rollout.HealthGate = &definitions.HealthGate{Monitors: []string{"health"}, MinHealthyTime: minHealthy, HealthyDeadline: deadline}
}

func (f *fixture) rollout(opts ...func(*Options)) *Runner {
	o := Options{Store: f.store, Sync: f.store, Executor: f.exec, Checker: f.checker, Clock: f.clock,
		Progress: f.events, Logger: zerolog.New(zerolog.NewTestWriter(f.t)).Level(zerolog.WarnLevel), GatePoll: time.Second}
	for _, fn := range opts {
		fn(&o)
	}
	return New(o)
}

// waves splits the fixture's hosts in order into waves of the given sizes.
func (f *fixture) waves(sizes ...int) [][]string {
	var names []string
	for n := range f.defs.Hosts {
		names = append(names, n)
	}
	sort.Strings(names)
	var out [][]string
	for _, s := range sizes {
		out = append(out, names[:s])
		names = names[s:]
	}
	if len(names) != 0 {
		f.t.Fatalf("waves %v leave %d hosts", sizes, len(names))
	}
	return out
}

func (f *fixture) submit(r *Runner, waves [][]string) *engine.Run {
	f.t.Helper()
	run, err := r.Submit(context.Background(), engine.RunRequest{Job: f.job.Name, Commit: f.defs.Commit, Branch: "main", Trigger: "commit", Waves: waves})
	if err != nil {
		f.t.Fatal(err)
	}
	return run
}

func (f *fixture) execute(r *Runner, id int64) *engine.Run {
	f.t.Helper()
	run, err := r.Execute(context.Background(), f.defs, id)
	if err != nil {
		f.t.Fatalf("execute: %v", err)
	}
	return run
}

// runOnce submits and executes a run over waves.
func (f *fixture) runOnce(sizes ...int) *engine.Run {
	f.t.Helper()
	r := f.rollout()
	return f.execute(r, f.submit(r, f.waves(sizes...)).ID)
}

// at parses an RFC 3339 time.
func at(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}
