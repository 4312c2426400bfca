package httpapi

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/ripple-ops/ripple/definitions"
	"github.com/ripple-ops/ripple/engine"
)

// The JSON shapes of /api/v1. The CLI decodes the same types.

// Error is the body of every error response.
type Error struct {
	Error string `json:"error"`
}

// Readiness is /readyz?format=json: ready when every check is OK.
type Readiness struct {
	Ready  bool         `json:"ready"`
	Checks []ReadyCheck `json:"checks"`
}

// ReadyCheck is one condition of readiness (store, repository, shutdown);
// Reason says why it fails.
type ReadyCheck struct {
	Name   string `json:"name"`
	OK     bool   `json:"ok"`
	Reason string `json:"reason,omitempty"`
}

// Run is a run as listed.
type Run struct {
	ID          int64      `json:"id"`
	Job         string     `json:"job"`
	Commit      string     `json:"commit"`
	Branch      string     `json:"branch,omitempty"`
	Trigger     string     `json:"trigger"`
	Actor       string     `json:"actor,omitempty"`
	Reason      string     `json:"reason,omitempty"`
	State       string     `json:"state"`
	Waves       [][]string `json:"waves"`
	CurrentWave int        `json:"current_wave"`
	Summary     string     `json:"summary,omitempty"`
	Error       string     `json:"error,omitempty"`
	Created     time.Time  `json:"created,omitzero"`
	Started     time.Time  `json:"started,omitzero"`
	Finished    time.Time  `json:"finished,omitzero"`
	Updated     time.Time  `json:"updated,omitzero"`
	URL         string     `json:"url,omitempty"`
	// Params are the values of the job's params the run uses, a sensitive
	// one as "***".
	Params map[string]json.RawMessage `json:"params,omitempty"`
	// Exec is an exec run's ad-hoc command (trigger exec; job is empty).
	Exec *Exec `json:"exec,omitempty"`
}

// Exec is what an exec run runs on each host.
type Exec struct {
	Command     string `json:"command"`
	Timeout     string `json:"timeout"`
	MaxParallel int    `json:"max_parallel"`
}

// RunDetail is a run with its waves, each host's step results and the
// audit events (who approved or aborted, and why).
type RunDetail struct {
	Run
	WaveDetails []Wave  `json:"wave_details"`
	Events      []Event `json:"events"`
}

// Wave is one wave of a run.
type Wave struct {
	Number int `json:"number"` // 1-based
	// State is pending, running, done, failed (the wave failed its budget
	// or its health gate; Reason says why) or not_started (a failed or
	// aborted run never got there).
	State  string     `json:"state"`
	Reason string     `json:"reason,omitempty"`
	Hosts  []HostRun  `json:"hosts"`
	Counts WaveCounts `json:"counts"`
}

// WaveCounts counts a wave's hosts by outcome.
type WaveCounts struct {
	OK      int `json:"ok"`
	Failed  int `json:"failed"`
	Running int `json:"running"`
	Pending int `json:"pending"`
}

// HostRun is what happened on one host of a run.
type HostRun struct {
	Host string `json:"host"`
	// State is the host's real outcome: pending, running, ok, failed (a
	// step failed), gate_failed (its steps succeeded but the health gate
	// found it unhealthy), rolled_back (the rollback undid it),
	// unreachable (nothing ran there), or not_started (a failed or aborted
	// run never got there).
	State string `json:"state"`
	// Reason says why a host failed, for failed and gate_failed.
	Reason string `json:"reason,omitempty"`
	// RolledBack says the rollback undid the host's change after it
	// failed (its state stays failed or gate_failed, which say why).
	RolledBack bool         `json:"rolled_back,omitempty"`
	Steps      []StepResult `json:"steps"`
}

// StepResult is one journal row.
type StepResult struct {
	Step       string    `json:"step"`
	Rollback   bool      `json:"rollback,omitempty"`
	Phase      string    `json:"phase"`
	Status     string    `json:"status,omitempty"`
	ExitCode   int       `json:"exit_code"`
	Stdout     string    `json:"stdout,omitempty"`
	Stderr     string    `json:"stderr,omitempty"`
	Error      string    `json:"error,omitempty"`
	Started    time.Time `json:"started,omitzero"`
	DurationMS int64     `json:"duration_ms"`
	// Diff is the change a file step made to its destination on the
	// host: a unified diff, secrets redacted (see engine.StepResult).
	Diff string `json:"diff,omitempty"`
}

// Event is an audit record of a run.
type Event struct {
	At     time.Time `json:"at"`
	Actor  string    `json:"actor"`
	Action string    `json:"action"`
	Reason string    `json:"reason,omitempty"`
}

// Text is the event as one line for people (engine.Event.Text): what the
// CLI's `ripple show` and the web UI's run page print.
func (e Event) Text() string {
	return engine.Event{At: e.At, Actor: e.Actor, Action: e.Action, Reason: e.Reason}.Text()
}

// Job is a job at the applied commit, with its recent runs.
type Job struct {
	Name        string   `json:"name"`
	Description string   `json:"description,omitempty"`
	File        string   `json:"file"`
	Line        int      `json:"line"`
	Hosts       []string `json:"hosts"`
	Steps       []string `json:"steps"`
	Schedule    string   `json:"schedule,omitempty"`
	Window      string   `json:"window,omitempty"`
	// Manual jobs never run on a commit; Params are what a run gives the
	// job (POST /api/v1/jobs/{job}/runs), with their defaults.
	Manual  bool                       `json:"manual,omitempty"`
	Params  []definitions.PlannedParam `json:"params,omitempty"`
	LastRun *Run                       `json:"last_run,omitempty"`
	Runs    []Run                      `json:"runs,omitempty"` // detail only
	// Firings are the latest schedule firings, newest first (detail
	// only, when the job has a schedule and the store keeps them).
	Firings []Firing `json:"firings,omitempty"`
}

// Firing is one schedule firing of a job: its cron time and what became of
// it (started, skipped, missed, error).
type Firing struct {
	At      time.Time `json:"at"`
	Outcome string    `json:"outcome"`
	Error   string    `json:"error,omitempty"`
}

// Host is one host of the inventory at the applied commit.
type Host struct {
	Name    string            `json:"name"`
	Address string            `json:"address"`
	Port    int               `json:"port"`
	Groups  []string          `json:"groups"`
	Labels  map[string]string `json:"labels"`
	Jobs    []string          `json:"jobs"`
	// Monitors maps each monitor that checks the host to its current
	// state (OK, WARNING, CRITICAL, UNKNOWN, PENDING).
	Monitors map[string]string `json:"monitors"`
	// Health is the worst of those states, "" without monitors.
	Health string `json:"health,omitempty"`
	// Sync is the worst sync state of the host's jobs (out_of_sync,
	// drifted, unknown, synced), when it was asked for (?sync= or
	// ?sort=sync) and the daemon keeps sync state.
	Sync string `json:"sync,omitempty"`
	// Facts are the host's last gathered facts (null before the first
	// gathering); FactsState says when, and why the last one failed.
	Facts      *engine.HostFacts `json:"facts,omitempty"`
	FactsState *FactsState       `json:"facts_state,omitempty"`
}

// Commit is what ripple did for one commit.
type Commit struct {
	SHA string `json:"sha"`
	// Subject, Author and When name the commit, when the daemon can read
	// it (see CommitReader).
	Subject  string         `json:"subject,omitempty"`
	Author   string         `json:"author,omitempty"`
	When     time.Time      `json:"when,omitzero"`
	Statuses []CommitStatus `json:"statuses"`
	Runs     []Run          `json:"runs"`
}

// CommitStatus is one status context on a commit.
type CommitStatus struct {
	Context     string    `json:"context"`
	State       string    `json:"state"`
	Description string    `json:"description"`
	TargetURL   string    `json:"target_url,omitempty"`
	Updated     time.Time `json:"updated,omitzero"`
}

// RunRequest is the body of POST /api/v1/jobs/{job}/runs (and, without
// params, of POST /api/v1/jobs/{job}/sync).
type RunRequest struct {
	Reason string   `json:"reason"`
	Hosts  []string `json:"hosts"`
	// Params are values for the job's params: JSON values of their types,
	// or strings that spell them ("3", "true", "a,b").
	Params map[string]json.RawMessage `json:"params,omitempty"`
}

// ExecRequest is the body of POST /api/v1/exec: an ad-hoc command on
// exactly one of hosts, group or all, with a reason.
type ExecRequest struct {
	Hosts       []string `json:"hosts,omitempty"`
	Group       string   `json:"group,omitempty"`
	All         bool     `json:"all,omitempty"`
	Command     string   `json:"command"`
	MaxParallel int      `json:"max_parallel,omitempty"`
	// Timeout per host, a duration such as "30s"; default 5m.
	Timeout string `json:"timeout,omitempty"`
	Reason  string `json:"reason"`
}

// ActionRequest is the body of approve, abort and reconcile.
type ActionRequest struct {
	Reason string `json:"reason"`
	// Accept is the rewritten branch head an operator accepts
	// (reconcile only).
	Accept string `json:"accept,omitempty"`
}

// RunJSON is a run as the API lists it; publicURL (may be "") is the base of
// its url.
func RunJSON(r *engine.Run, publicURL string) Run {
	out := Run{
		ID: r.ID, Job: r.Job, Commit: r.Commit, Branch: r.Branch, Trigger: r.Trigger,
		Actor: r.Actor, Reason: r.Reason, State: string(r.State), Waves: r.Waves,
		CurrentWave: r.CurrentWave, Summary: r.Summary, Error: r.Error,
		Created: r.Created, Started: r.Started, Finished: r.Finished, Updated: r.Updated,
	}
	if out.Waves == nil {
		out.Waves = [][]string{}
	}
	if publicURL != "" {
		out.URL = publicURL + "/runs/" + itoa(r.ID)
	}
	out.Params = r.Params
	if r.Exec != nil {
		out.Exec = &Exec{Command: r.Exec.Command, Timeout: r.Exec.Timeout.String(), MaxParallel: r.Exec.MaxParallel}
	}
	return out
}

func runDetail(r *engine.Run, steps []engine.HostStep, events []engine.Event, publicURL string) RunDetail {
	out := RunDetail{Run: RunJSON(r, publicURL), WaveDetails: []Wave{}, Events: []Event{}}
	byHost := map[string][]engine.HostStep{}
	for _, s := range steps {
		byHost[s.Host] = append(byHost[s.Host], s)
	}
	gate, failedWave, failReason := runFailures(events)
	final := r.State.Final()
	for i, hosts := range r.Waves {
		w := Wave{Number: i + 1, Hosts: []HostRun{}}
		for _, h := range hosts {
			hr := HostRun{Host: h, Steps: []StepResult{}}
			for _, s := range byHost[h] {
				hr.Steps = append(hr.Steps, StepResult{
					Step: s.Step, Rollback: s.Rollback, Phase: string(s.Phase), Status: string(s.Result.Status),
					ExitCode: s.Result.ExitCode, Stdout: s.Result.Stdout, Stderr: s.Result.Stderr, Error: s.Result.Error,
					Started: s.Result.Started, DurationMS: s.Result.Duration.Milliseconds(), Diff: s.Result.Diff,
				})
			}
			hr.State, hr.Reason, hr.RolledBack = hostOutcome(byHost[h], gate[h], final)
			switch hr.State {
			case "ok":
				w.Counts.OK++
			case "running":
				w.Counts.Running++
			case "pending", "not_started":
				w.Counts.Pending++
			default:
				w.Counts.Failed++
			}
			w.Hosts = append(w.Hosts, hr)
		}
		switch {
		case w.Number == failedWave:
			w.State, w.Reason = "failed", failReason
		case w.Counts.Pending == len(hosts) && final:
			w.State = "not_started"
		case w.Counts.Pending == len(hosts):
			w.State = "pending"
		case w.Counts.Running > 0 || w.Counts.Pending > 0:
			w.State = "running"
		default:
			w.State = "done"
		}
		out.WaveDetails = append(out.WaveDetails, w)
	}
	for _, e := range events {
		out.Events = append(out.Events, Event{At: e.At, Actor: e.Actor, Action: e.Action, Reason: e.Reason})
	}
	return out
}

// runFailures reads from a run's events the hosts its health gates found
// unhealthy (host -> why) and the wave that failed it (0 when none), with
// the reason's first line.
func runFailures(events []engine.Event) (gate map[string]string, wave int, reason string) {
	gate = map[string]string{}
	for _, e := range events {
		switch e.Action {
		case engine.EventGateFailed:
			lines := strings.Split(e.Reason, "\n")
			for _, l := range lines[1:] {
				if h, why, ok := strings.Cut(l, ": "); ok {
					gate[h] = why
				}
			}
		case engine.EventRollback, engine.EventFinish:
			first, _, _ := strings.Cut(e.Reason, "\n")
			var n, of int
			// "wave 2/4 failed: ..." (the finish reason starts "failed: ").
			text := strings.TrimPrefix(first, string(engine.RunFailed)+": ")
			if _, err := fmt.Sscanf(text, "wave %d/%d failed:", &n, &of); err == nil && wave == 0 {
				wave, reason = n, strings.TrimSpace(text[strings.Index(text, "failed:")+len("failed:"):])
			}
		}
	}
	return gate, wave, reason
}

// hostOutcome sums up a host's journal rows and what the gate said of it;
// rolledBack says every rollback step of the host succeeded.
func hostOutcome(rows []engine.HostStep, gate string, final bool) (state, reason string, rolledBack bool) {
	state = hostState(rows)
	var forward, rollback []engine.HostStep
	for _, s := range rows {
		if s.Rollback {
			rollback = append(rollback, s)
		} else {
			forward = append(forward, s)
		}
	}
	undone := len(rollback) > 0
	for _, s := range rollback {
		if s.Phase != engine.PhaseFinished || !s.Result.Status.Succeeded() {
			undone = false
		}
	}
	switch state {
	case "failed":
		for _, s := range forward {
			if s.Phase == engine.PhaseFinished && !s.Result.Status.Succeeded() {
				reason = "step " + s.Step + " " + string(s.Result.Status)
				if s.Result.Status == engine.StepFailed && s.Result.ExitCode > 0 {
					reason += fmt.Sprintf(" (exit %d)", s.Result.ExitCode)
				}
				// Why: the error, else what the step printed last.
				why := s.Result.Error
				for _, out := range []string{s.Result.Stderr, s.Result.Stdout} {
					if why == "" {
						why = lastLine(out)
					}
				}
				if e := engine.FirstLine(why, 200); e != "" {
					reason += ": " + e
				}
				if s.Result.Status == engine.StepUnreachable && onlyUnreachable(forward) {
					return "unreachable", reason, false
				}
				break
			}
		}
		return state, reason, undone
	case "ok":
		switch {
		case gate != "":
			return "gate_failed", "health gate: " + gate, undone
		case undone:
			return "rolled_back", "", true
		}
	case "pending":
		if final {
			return "not_started", "", false
		}
	}
	return state, "", false
}

// onlyUnreachable reports whether every step that started ended
// unreachable: nothing ran on the host.
func onlyUnreachable(rows []engine.HostStep) bool {
	for _, s := range rows {
		if s.Phase != engine.PhasePlanned && s.Result.Status != engine.StepUnreachable {
			return false
		}
	}
	return true
}

// hostState sums up a host's journal rows: failed if a forward step
// failed, running while one is started, ok when all finished well.
func hostState(rows []engine.HostStep) string {
	if len(rows) == 0 {
		return "pending"
	}
	state := "ok"
	for _, s := range rows {
		if s.Rollback {
			continue
		}
		switch s.Phase {
		case engine.PhaseFinished:
			if !s.Result.Status.Succeeded() {
				return "failed"
			}
		case engine.PhaseStarted:
			state = "running"
		default:
			if state == "ok" {
				state = "pending"
			}
		}
	}
	return state
}

func jobJSON(defs *definitions.Definitions, j *definitions.Job) Job {
	out := Job{
		Name: j.Name, Description: j.Description, File: j.DeclRange.Filename, Line: j.DeclRange.Start.Line,
		Hosts: []string{}, Steps: []string{}, Schedule: j.Schedule, Window: j.Window, Manual: j.Manual,
	}
	if len(j.Params) > 0 {
		out.Params = j.ParamSpecs()
	}
	for _, h := range defs.Select(j.Targets) {
		out.Hosts = append(out.Hosts, h.Name)
	}
	for _, s := range j.Steps {
		out.Steps = append(out.Steps, s.Name)
	}
	return out
}

func hostJSON(h *definitions.Host, jobs []string) Host {
	out := Host{Name: h.Name, Address: h.Address, Port: h.Port, Groups: h.Groups, Labels: h.Labels, Jobs: jobs, Monitors: map[string]string{}}
	if out.Groups == nil {
		out.Groups = []string{}
	}
	if out.Labels == nil {
		out.Labels = map[string]string{}
	}
	if out.Jobs == nil {
		out.Jobs = []string{}
	}
	return out
}

// lastLine is the last line of s that is not blank: what a failing
// command printed last is usually why it failed.
func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return strings.TrimSpace(lines[len(lines)-1])
}
