package rollout

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/zclconf/go-cty/cty"

	"github.com/ripple-ops/ripple/definitions"
	"github.com/ripple-ops/ripple/engine"
)

const paramSecret = "pw-s3cret-77"

// withParams gives the fixture's job params service (default "app") and
// password (sensitive, required), read by its first step.
func (f *fixture) withParams() {
	f.job.Manual = true
	f.job.Params = []*definitions.Param{
		{Name: "service", Type: definitions.ParamString, Default: cty.StringVal("app"), HasDefault: true},
		{Name: "password", Type: definitions.ParamString, Sensitive: true},
	}
	f.job.Steps[0].Run = expr(f.t, "restart ${param.service} --password ${param.password}")
}

func (f *fixture) submitParams(r *Runner, params, sensitive map[string]string) *engine.Run {
	f.t.Helper()
	raw := func(m map[string]string) map[string]json.RawMessage {
		if m == nil {
			return nil
		}
		out := map[string]json.RawMessage{}
		for k, v := range m {
			out[k] = json.RawMessage(v)
		}
		return out
	}
	run, err := r.Submit(context.Background(), engine.RunRequest{Job: f.job.Name, Commit: f.defs.Commit, Branch: "main",
		Trigger: engine.TriggerManual, Actor: "alice", Reason: "restart for OPS-1",
		Waves: f.waves(1, 2), Params: raw(params), Sensitive: raw(sensitive)})
	if err != nil {
		f.t.Fatal(err)
	}
	return run
}

// stored is everything the store keeps of run id, as text.
func (f *fixture) stored(id int64) string {
	f.t.Helper()
	ctx := context.Background()
	run, _ := f.store.GetRun(ctx, id)
	steps, _ := f.store.HostSteps(ctx, id)
	events, _ := f.store.Events(ctx, id)
	b, _ := json.Marshal([]any{run, steps, events, f.store.StatusLog()})
	return string(b)
}

func TestRunWithParamsRendersThemAndStoresSensitiveOnesMasked(t *testing.T) {
	f := newFixture(t, 3)
	f.withParams()
	f.exec.SetBehave(func(host, step string) engine.StepResult {
		// A host that prints what it was given.
		return engine.StepResult{Status: engine.StepOK, Stdout: "password is " + paramSecret + "\n"}
	})
	reg := engine.NewSecretRegistry()
	r := f.rollout(func(o *Options) { o.Redact = reg })
	run := f.submitParams(r, map[string]string{"service": `"worker"`, "password": `"***"`}, map[string]string{"password": `"` + paramSecret + `"`})
	if got := f.execute(r, run.ID); got.State != engine.RunSucceeded {
		t.Fatalf("state %s: %s", got.State, got.Error)
	}
	// The value reached every host, and every step knows it as a secret.
	for _, c := range f.exec.Calls() {
		if c.Step != "one" {
			continue
		}
		if want := "restart worker --password " + paramSecret; c.HostStep.Command != want {
			t.Errorf("%s ran %q, want %q", c.Host, c.HostStep.Command, want)
		}
		if !strings.Contains(strings.Join(c.HostStep.Secrets, " "), paramSecret) {
			t.Errorf("%s: the step's secrets %q lack the sensitive value", c.Host, c.HostStep.Secrets)
		}
	}
	got, _ := f.store.GetRun(context.Background(), run.ID)
	if string(got.Params["service"]) != `"worker"` || string(got.Params["password"]) != `"***"` {
		t.Errorf("recorded params %s", got.Params)
	}
	all := f.stored(run.ID)
	if strings.Contains(all, paramSecret) {
		t.Errorf("the store holds the sensitive value:\n%s", all)
	}
	if !strings.Contains(all, "[redacted]") {
		t.Errorf("the hosts' output is not there, redacted:\n%s", all)
	}
	events, _ := f.store.Events(context.Background(), run.ID)
	if want := "restart for OPS-1 (params: password=*** service=worker)"; events[0].Reason != want {
		t.Errorf("submit event %q, want %q", events[0].Reason, want)
	}
	if r.recall(run.ID) != nil {
		t.Error("the run ended but its inputs are still held")
	}
}

// TestSensitiveRunDoesNotResumeInAnotherProcess: a run with a sensitive
// param that another Runner (a restarted daemon, another node) finds
// unfinished ends in error without touching a host; the step it cut short
// is recorded as unknown. A run without sensitive params resumes.
func TestSensitiveRunDoesNotResumeInAnotherProcess(t *testing.T) {
	f := newFixture(t, 3)
	f.withParams()
	first := f.rollout()
	run := f.submitParams(first, map[string]string{"password": `"***"`}, map[string]string{"password": `"` + paramSecret + `"`})
	// The first process started h01's first step, then died.
	f.store.Upsert(engine.HostStep{RunID: run.ID, Wave: 0, Host: "h01", Step: "one", Phase: engine.PhaseStarted})
	f.store.Upsert(engine.HostStep{RunID: run.ID, Wave: 0, Host: "h01", Step: "two", Phase: engine.PhasePlanned})

	second := f.rollout()
	recovered, err := second.Recover(context.Background(), f.loader())
	if err != nil {
		t.Fatal(err)
	}
	if len(recovered) != 1 || recovered[0].State != engine.RunError {
		t.Fatalf("recovered %+v, want the run in error", recovered)
	}
	got := recovered[0]
	if !strings.Contains(got.Summary, "sensitive param password was held in memory only") || !strings.Contains(got.Error, "result unknown on h01") {
		t.Errorf("summary %q, error %q", got.Summary, got.Error)
	}
	if calls := f.exec.Calls(); len(calls) != 0 {
		t.Errorf("a run without its sensitive value touched hosts: %+v", calls)
	}
	steps, _ := f.store.HostSteps(context.Background(), run.ID)
	for _, hs := range steps {
		if hs.Host == "h01" && hs.Step == "one" && (hs.Phase != engine.PhaseFinished || !strings.Contains(hs.Result.Error, "result is unknown")) {
			t.Errorf("the interrupted step is %+v", hs)
		}
	}
	if st := f.store.Status(run.Commit, "app"); st.State != "error" {
		t.Errorf("status %+v, want error", st)
	}

	// Without sensitive params, the stored values are all a run needs.
	g := newFixture(t, 3)
	g.withParams()
	g.job.Params[1].Default, g.job.Params[1].HasDefault, g.job.Params[1].Sensitive = cty.StringVal("none"), true, false
	run = g.submitParams(g.rollout(), map[string]string{"service": `"worker"`}, nil)
	if got := g.execute(g.rollout(), run.ID); got.State != engine.RunSucceeded {
		t.Fatalf("state %s: %s", got.State, got.Error)
	}
	if c := g.exec.Calls()[0]; c.HostStep.Command != "restart worker --password none" {
		t.Errorf("resumed with %q", c.HostStep.Command)
	}
}

func (f *fixture) submitExec(r *Runner, cmd string, parallel int, hosts ...string) *engine.Run {
	f.t.Helper()
	run, err := r.Submit(context.Background(), engine.RunRequest{Commit: f.defs.Commit, Branch: "main",
		Trigger: engine.TriggerExec, Actor: "alice", Reason: "look around", Waves: [][]string{hosts},
		Exec: &engine.ExecSpec{Command: cmd, Timeout: 30 * time.Second, MaxParallel: parallel}})
	if err != nil {
		f.t.Fatal(err)
	}
	return run
}

func TestExecRunsTheCommandOnEveryHost(t *testing.T) {
	f := newFixture(t, 6)
	f.exec.Delay = 2 * time.Millisecond
	f.exec.SetBehave(func(host, step string) engine.StepResult {
		if host == "h03" || host == "h05" {
			return engine.StepResult{Status: engine.StepFailed, ExitCode: 2, Error: "command: exit status 2"}
		}
		return engine.StepResult{Status: engine.StepOK, Stdout: "up 3 days, token tok-0042\n"}
	})
	reg := engine.NewSecretRegistry()
	reg.Add("tok-0042") // loaded by some job or monitor
	r := f.rollout(func(o *Options) { o.Redact = reg })
	hosts := []string{"h01", "h02", "h03", "h04", "h05", "h06"}
	run := f.submitExec(r, "uptime; echo ${HOME} tok-0042", 2, hosts...)
	if run.Job != "" || run.Trigger != engine.TriggerExec {
		t.Errorf("exec run recorded as job %q trigger %q", run.Job, run.Trigger)
	}
	got := f.execute(r, run.ID)
	if got.State != engine.RunFailed || got.Summary != "2 of 6 hosts failed: h03, h05" {
		t.Errorf("state %s, summary %q", got.State, got.Summary)
	}
	calls := f.exec.Calls()
	if len(calls) != 6 {
		t.Fatalf("%d calls, want one per host", len(calls))
	}
	for _, c := range calls {
		// As given: not an HCL template, secrets and all.
		if c.Step != ExecStep || c.HostStep.Command != "uptime; echo ${HOME} tok-0042" || c.HostStep.Timeout != 30*time.Second {
			t.Errorf("%s: %+v", c.Host, c.HostStep)
		}
	}
	if n := f.exec.MaxConcurrent(); n > 2 {
		t.Errorf("%d hosts at once, max_parallel 2", n)
	}
	if log := f.store.StatusLog(); len(log) != 0 {
		t.Errorf("an exec run set commit statuses: %+v", log)
	}
	if recs, _ := f.store.HostSyncs(context.Background(), ""); len(recs) != 0 {
		t.Errorf("an exec run recorded sync state: %+v", recs)
	}
	all := f.stored(run.ID)
	if strings.Contains(all, "tok-0042") || !strings.Contains(all, "echo ${HOME} [redacted]") {
		t.Errorf("stored exec run:\n%s", all)
	}
	events, _ := f.store.Events(context.Background(), run.ID)
	if want := "look around (command: uptime; echo ${HOME} [redacted])"; events[0].Reason != want || events[0].Actor != "alice" {
		t.Errorf("submit event %+v, want reason %q", events[0], want)
	}

	// Exec runs wait for no job: one waiting for an operator holds
	// nothing back.
	f.store.SetRun(engine.Run{ID: 99, Trigger: engine.TriggerExec, State: engine.RunNeedsOperator, Exec: &engine.ExecSpec{Command: "x"}, Waves: [][]string{{"h01"}}})
	f.exec.SetBehave(nil)
	if got := f.execute(r, f.submitExec(r, "true", 5, "h01").ID); got.State != engine.RunSucceeded || got.Summary != "1/1 host ok" {
		t.Errorf("second exec run: %s %q %s", got.State, got.Summary, got.Error)
	}
}

func TestExecRunIsNeverResumedByAnotherProcess(t *testing.T) {
	f := newFixture(t, 2)
	run := f.submitExec(f.rollout(), "reboot", 1, "h01", "h02")
	f.store.Upsert(engine.HostStep{RunID: run.ID, Wave: 0, Host: "h01", Step: ExecStep, Phase: engine.PhaseStarted})
	got := f.execute(f.rollout(), run.ID)
	if got.State != engine.RunError || !strings.Contains(got.Summary, "an exec run is never resumed") {
		t.Fatalf("state %s summary %q", got.State, got.Summary)
	}
	if want := "interrupted, result unknown on h01; reached 1 host, never started on 1 host"; !strings.Contains(got.Error, want) {
		t.Errorf("error %q lacks %q", got.Error, want)
	}
	if calls := f.exec.Calls(); len(calls) != 0 {
		t.Errorf("calls %+v", calls)
	}
}

func TestSubmitRefusesAMalformedExecRun(t *testing.T) {
	f := newFixture(t, 2)
	r := f.rollout()
	for i, req := range []engine.RunRequest{
		{Job: "app", Trigger: engine.TriggerExec, Waves: [][]string{{"h01"}}, Exec: &engine.ExecSpec{Command: "true"}},
		{Trigger: engine.TriggerExec, Waves: [][]string{{"h01"}}, Exec: &engine.ExecSpec{}},
		{Trigger: engine.TriggerExec, Waves: [][]string{{"h01"}, {"h02"}}, Exec: &engine.ExecSpec{Command: "true"}},
	} {
		if _, err := r.Submit(context.Background(), req); err == nil {
			t.Errorf("request %d accepted", i)
		}
	}
	if runs := f.store.AllRuns(); len(runs) != 0 {
		t.Errorf("runs recorded: %v", fmt.Sprint(runs))
	}
}
