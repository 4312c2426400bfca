package gitops

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/ripple-ops/ripple/engine"
	"github.com/ripple-ops/ripple/engine/enginetest"
)

// restartJob is a manual job with params over Inventory's web group, and
// a scheduled one.
const restartJob = `
job "restart-app" {
  manual = true
  param "service" {
    default = "app"
    allowed = ["app", "worker"]
  }
  param "ticket" { regex = "^OPS-[0-9]+$" }
  param "db_password" { sensitive = true }
  targets { groups = ["web"] }
  step "restart" { run = "systemctl restart ${param.service} # ${param.ticket} ${param.db_password}" }
}

job "rotate" {
  manual   = true
  schedule = "0 4 * * *"
  params   = { keep = 3 }
  param "keep" { type = number }
  param "compress" {
    type    = bool
    default = true
  }
  targets { groups = ["web"] }
  step "rotate" { run = "logrotate --keep ${param.keep}" }
}
`

// localHost is the daemon's own machine as a host, in group web.
const localHost = `
host "controller" {
  transport = "local"
  groups    = ["web"]
}
`

func raw(m map[string]string) map[string]json.RawMessage {
	out := map[string]json.RawMessage{}
	for k, v := range m {
		out[k] = json.RawMessage(v)
	}
	return out
}

// TestManualJobsRunOnlyWhenStarted: a merge that adds or changes a manual
// job runs nothing of it; it has no sync state; a run with params checks
// them first (a refusal names the param and records nothing), records
// them with the sensitive one masked and hands the runner its value for
// memory only; a schedule runs the job with its params.
func TestManualJobsRunOnlyWhenStarted(t *testing.T) {
	repo := enginetest.NewGitRepo(t)
	head := repo.Commit("first", map[string]string{"hosts.hcl": enginetest.Inventory, "jobs/hello.hcl": enginetest.HelloJob, "jobs/ops.hcl": restartJob})
	store := enginetest.NewMemStore()
	runner := &dmRunner{store: store}
	d := dmDaemon(t, repo, store, runner, func(o *Options) { o.Sync = store })
	dmRun(t, d)
	ctx := context.Background()
	dmWait(t, "applied", func() bool { a, _ := store.LastApplied(ctx, "main"); return a == head })
	if runs := store.AllRuns(); len(runs) != 1 || runs[0].Job != "hello" {
		t.Fatalf("runs of the first merge: %+v, want hello's only", runs)
	}
	head2 := repo.Commit("change the manual job", map[string]string{"jobs/ops.hcl": strings.Replace(restartJob, "systemctl restart", "systemctl try-restart", 1)})
	d.Trigger("test")
	dmWait(t, "applied", func() bool { a, _ := store.LastApplied(ctx, "main"); return a == head2 })
	if runs := store.AllRuns(); len(runs) != 1 {
		t.Fatalf("a change of a manual job ran: %+v", runs)
	}
	states, err := d.SyncStates(ctx)
	if err != nil || len(states) != 1 || states[0].Job != "hello" {
		t.Errorf("sync states %+v (%v), want hello's only", states, err)
	}
	if _, err := d.StartSync(ctx, "restart-app", nil, "alice", "x"); !errors.Is(err, engine.ErrInvalidRequest) || !strings.Contains(err.Error(), "manual") {
		t.Errorf("sync of a manual job: %v", err)
	}

	for _, tc := range []struct {
		params map[string]string
		want   string
	}{
		{map[string]string{"service": `"db"`, "ticket": `"OPS-1"`, "db_password": `"x"`}, `param service: "db" is not allowed (allowed: "app", "worker")`},
		{map[string]string{"ticket": `"ops 1"`, "db_password": `"x"`}, `param ticket: "ops 1" does not match regex "^OPS-[0-9]+$"`},
		{map[string]string{"ticket": `"OPS-1"`}, `param db_password: is required (it has no default)`},
		{map[string]string{"ticket": `"OPS-1"`, "db_password": `"x"`, "colour": `"red"`}, `param colour: job restart-app has no such param`},
	} {
		_, err := d.StartRun(ctx, engine.JobRunRequest{Job: "restart-app", Params: raw(tc.params), Actor: "alice", Reason: "x"})
		if !errors.Is(err, engine.ErrInvalidRequest) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("params %v: err = %v, want one naming %q", tc.params, err, tc.want)
		}
	}
	if runs := store.AllRuns(); len(runs) != 1 {
		t.Fatalf("refused runs were recorded: %+v", runs)
	}

	run, err := d.StartRun(ctx, engine.JobRunRequest{Job: "restart-app", Hosts: []string{"web-02"}, Actor: "alice", Reason: "hang",
		Params: raw(map[string]string{"service": `"worker"`, "ticket": `"OPS-12"`, "db_password": `"hunter2-pw"`})})
	if err != nil {
		t.Fatal(err)
	}
	got, _ := store.GetRun(ctx, run.ID)
	if engine.ParamsText(got.Params) != "db_password=*** service=worker ticket=OPS-12" {
		t.Errorf("recorded params %s", engine.ParamsText(got.Params))
	}
	runner.mu.Lock()
	held := runner.sensitive[run.ID]
	runner.mu.Unlock()
	if string(held["db_password"]) != `"hunter2-pw"` || len(held) != 1 {
		t.Errorf("the runner holds %s, want the sensitive value only", held)
	}

	started, err := d.StartScheduled(ctx, "rotate", time.Date(2026, 5, 1, 4, 0, 0, 0, time.UTC))
	if err != nil || !started {
		t.Fatalf("scheduled: %v %v", started, err)
	}
	dmWait(t, "the scheduled run", func() bool { r, _ := store.ListRuns(ctx, engine.RunFilter{Job: "rotate"}); return len(r) == 1 })
	sched, _ := store.ListRuns(ctx, engine.RunFilter{Job: "rotate"})
	if sched[0].Trigger != engine.TriggerSchedule || engine.ParamsText(sched[0].Params) != "compress=true keep=3" {
		t.Errorf("scheduled run %+v params %s", sched[0], engine.ParamsText(sched[0].Params))
	}
}

func TestExec(t *testing.T) {
	repo := enginetest.NewGitRepo(t)
	head := repo.Commit("first", map[string]string{"hosts.hcl": enginetest.Inventory + localHost})
	store := enginetest.NewMemStore()
	runner := &dmRunner{store: store}
	d := dmDaemon(t, repo, store, runner, nil)
	dmRun(t, d)
	ctx := context.Background()
	dmWait(t, "applied", func() bool { a, _ := store.LastApplied(ctx, "main"); return a == head })

	for _, tc := range []struct {
		req  engine.ExecRequest
		want string
	}{
		{engine.ExecRequest{Group: "web", Command: "uptime"}, "needs a reason"},
		{engine.ExecRequest{Group: "web", Command: " ", Reason: "x"}, "the command is empty"},
		{engine.ExecRequest{Group: "web", All: true, Command: "uptime", Reason: "x"}, "exactly one of hosts, group or all"},
		{engine.ExecRequest{Hosts: []string{"web-09"}, Command: "uptime", Reason: "x"}, `no host "web-09"`},
		{engine.ExecRequest{Hosts: []string{"controller"}, Command: "uptime", Reason: "x"}, `host "controller" uses the local transport`},
		{engine.ExecRequest{Group: "db", Command: "uptime", Reason: "x"}, `no host in group "db"`},
		{engine.ExecRequest{All: true, Command: "uptime", Reason: "x", Timeout: time.Millisecond}, "timeout must be"},
	} {
		if _, err := d.Exec(ctx, tc.req); !errors.Is(err, engine.ErrInvalidRequest) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: err = %v, want one saying %q", tc.req, err, tc.want)
		}
	}
	if runs := store.AllRuns(); len(runs) != 0 {
		t.Fatalf("refused exec requests recorded runs: %+v", runs)
	}

	// A group's hosts, the local one left out; defaults filled in.
	run, err := d.Exec(ctx, engine.ExecRequest{Group: "web", Command: "uptime", Actor: "alice", Reason: "load?"})
	if err != nil {
		t.Fatal(err)
	}
	if run.Trigger != engine.TriggerExec || run.Job != "" || run.Actor != "alice" || run.Commit != head ||
		len(run.Waves) != 1 || strings.Join(run.Waves[0], ",") != "web-01,web-02" ||
		run.Exec == nil || *run.Exec != (engine.ExecSpec{Command: "uptime", Timeout: engine.DefaultExecTimeout, MaxParallel: engine.DefaultExecParallel}) {
		t.Errorf("exec run %+v (%+v)", run, run.Exec)
	}
	dmWait(t, "the exec run executed", func() bool { r, _ := store.GetRun(ctx, run.ID); return r.State == engine.RunSucceeded })
	if st := store.StatusLog(); len(st) != 1 || st[0].Context != engine.StatusValidate {
		t.Errorf("statuses %+v: an exec run sets none", st)
	}
}

// TestClusterRunsWithParamsAndExecFromAFollower: a follower hands runs
// with params and exec runs to the leader through the database, but never
// a sensitive value: that run is refused on the follower, naming the
// leader to start it on, and nothing of it reaches the database.
func TestClusterRunsWithParamsAndExecFromAFollower(t *testing.T) {
	ctx := context.Background()
	repo := enginetest.NewGitRepo(t)
	head := repo.Commit("inventory and jobs", map[string]string{"hosts.hcl": enginetest.Inventory, "jobs/ops.hcl": restartJob})
	store := enginetest.NewMemStore()
	db := enginetest.NewCluster()
	runner := &dmRunner{store: store}
	a := startClusterNode(t, "a", repo, store, db, runner)
	dmWait(t, "a leads", a.leads)
	b := startClusterNode(t, "b", repo, store, db, runner)
	dmWait(t, "b follows the applied commit", func() bool { return b.seen.lastCommit() == head && b.follower.Definitions() != nil })
	dmWait(t, "b knows the leader", func() bool { return b.follower.Status().Leader == "a" })

	_, err := b.follower.StartRun(ctx, engine.JobRunRequest{Job: "restart-app", Actor: "alice", Reason: "x",
		Params: raw(map[string]string{"ticket": `"OPS-1"`, "db_password": `"hunter2-pw"`})})
	if !errors.Is(err, engine.ErrConflict) || !strings.Contains(err.Error(), "start the run on the leader, a") {
		t.Fatalf("a sensitive run through a follower: %v", err)
	}
	for _, act := range db.Actions() {
		if strings.Contains(string(act.Payload), "hunter2") {
			t.Fatalf("the sensitive value went through the database: %s", act.Payload)
		}
	}
	// On the leader's node the same run is fine.
	if _, err := a.follower.StartRun(ctx, engine.JobRunRequest{Job: "restart-app", Actor: "alice", Reason: "x",
		Params: raw(map[string]string{"ticket": `"OPS-1"`, "db_password": `"hunter2-pw"`})}); err != nil {
		t.Fatalf("the same run on the leader's node: %v", err)
	}

	// Params that are not sensitive, and their refusals, cross nodes.
	if _, err := b.follower.StartRun(ctx, engine.JobRunRequest{Job: "rotate", Actor: "alice", Reason: "x",
		Params: raw(map[string]string{"keep": `"many"`})}); !errors.Is(err, engine.ErrInvalidRequest) || !strings.Contains(err.Error(), "param keep: must be a number") {
		t.Fatalf("a refused param through b: %v", err)
	}
	run, err := b.follower.StartRun(ctx, engine.JobRunRequest{Job: "rotate", Actor: "alice", Reason: "x", Params: raw(map[string]string{"keep": `"7"`})})
	if err != nil {
		t.Fatal(err)
	}
	if engine.ParamsText(run.Params) != "compress=true keep=7" {
		t.Errorf("run from b: params %s", engine.ParamsText(run.Params))
	}

	x, err := b.follower.Exec(ctx, engine.ExecRequest{Hosts: []string{"web-01"}, Command: "uptime", Actor: "bob", Reason: "look"})
	if err != nil {
		t.Fatal(err)
	}
	if x.Trigger != engine.TriggerExec || x.Actor != "bob" || x.Exec == nil || x.Exec.Command != "uptime" {
		t.Errorf("exec from b: %+v", x)
	}
	if _, err := b.follower.Exec(ctx, engine.ExecRequest{Hosts: []string{"web-01"}, Command: "uptime", Actor: "bob"}); !errors.Is(err, engine.ErrInvalidRequest) {
		t.Errorf("exec without a reason through b: %v", err)
	}
}
