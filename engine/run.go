package engine

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Errors shared by the components and the surfaces over them; the API maps
// each to an HTTP status.
var (
	// ErrNotFound is returned by lookups that match nothing.
	ErrNotFound = errors.New("not found")
	// ErrInvalidRequest is returned for an operator request that cannot be
	// carried out as asked (a host that is not a target of the job).
	ErrInvalidRequest = errors.New("invalid request")
	// ErrConflict is returned for an operator action that does not fit the
	// current state (accepting a head that is not the paused one).
	ErrConflict = errors.New("conflict")
	// ErrNotRunning is returned for requests that need the daemon's loop
	// while it is not running (before it starts, during shutdown).
	ErrNotRunning = errors.New("daemon is not running")
	// ErrNotWaiting is returned by an approval of a run that waits for no
	// operator.
	ErrNotWaiting = errors.New("run is not waiting for an operator")
	// ErrRunFinished is returned by an abort of a run already in a final
	// state.
	ErrRunFinished = errors.New("run already finished")
	// ErrJobHeld is returned by an execution of a run whose job has an
	// earlier run stopped for an operator (needs_operator, or waiting for
	// approval): it stays queued, touching nothing, until that run ends.
	ErrJobHeld = errors.New("the job has an earlier run waiting for an operator")
)

// RunState is where a run is in its life.
type RunState string

// Run states. Final states are Succeeded, Failed, Aborted and Error;
// NeedsOperator is terminal until an operator acts (approve resumes, abort
// ends it).
const (
	RunQueued          RunState = "queued"
	RunRunning         RunState = "running"
	RunWaitingApproval RunState = "waiting_approval"
	RunWaitingWindow   RunState = "waiting_window"
	RunNeedsOperator   RunState = "needs_operator"
	RunSucceeded       RunState = "succeeded"
	RunFailed          RunState = "failed"
	RunAborted         RunState = "aborted"
	RunError           RunState = "error"
)

// UnfinishedStates are the states of runs that may still do work.
var UnfinishedStates = []RunState{RunQueued, RunRunning, RunWaitingApproval, RunWaitingWindow, RunNeedsOperator}

// Final reports whether no more work will happen in a run in state s.
func (s RunState) Final() bool {
	return s == RunSucceeded || s == RunFailed || s == RunAborted || s == RunError
}

// Run triggers: what started a run.
const (
	TriggerCommit   = "commit"    // a merge to the tracked branch
	TriggerManual   = "manual"    // an operator (`ripple run`, the API, the UI)
	TriggerSchedule = "schedule"  // a job's schedule fired
	TriggerApply    = "apply"     // the one-shot `ripple apply`
	TriggerSync     = "sync"      // an operator re-synced out-of-sync and drifted hosts
	TriggerSelfHeal = "self-heal" // ripple re-synced drifted and out-of-sync hosts by itself (self_heal)
	TriggerExec     = "exec"      // an operator's ad-hoc command (`ripple exec`); the run has no job
)

// ActorRipple is the actor of what ripple does by itself (commit and
// scheduled runs, its own run events); it names no person, so audit texts
// leave it out.
const ActorRipple = "ripple"

// ActorOr returns a, or ActorRipple when a is empty.
func ActorOr(a string) string {
	if a == "" {
		return ActorRipple
	}
	return a
}

// Run is one rollout of one job at one commit.
type Run struct {
	ID      int64
	Job     string
	Commit  string
	Branch  string
	Trigger string // one of the Trigger kinds
	Actor   string
	Reason  string
	State   RunState
	// Waves are the planned host names per wave, fixed when the run is created.
	Waves       [][]string
	CurrentWave int // index into Waves of the wave in progress or next
	// Params are the values of the job's params the run uses, by name, as
	// JSON; a sensitive param's is definitions.Masked ("***"). Nil when
	// the job has none.
	Params map[string]json.RawMessage
	// Exec is the ad-hoc command of an exec run (Trigger exec), whose Job
	// is empty; nil for every other run.
	Exec     *ExecSpec
	Summary  string
	Error    string
	Created  time.Time
	Started  time.Time
	Finished time.Time
	Updated  time.Time
}

// ExecSpec is what an exec run runs on each of its hosts: Command, as a
// run step would (through the host's shell, over SSH), MaxParallel hosts
// at once, each within Timeout.
type ExecSpec struct {
	Command     string        `json:"command"`
	Timeout     time.Duration `json:"timeout"`
	MaxParallel int           `json:"max_parallel"`
}

// Title names a run for people: its job, or "exec: COMMAND" (cut to n
// bytes) for an exec run.
func (r *Run) Title(n int) string {
	if r.Exec == nil {
		return r.Job
	}
	return FirstLine("exec: "+r.Exec.Command, n)
}

// ParamsText is a run's params for people, sorted by name: "a=1 b=x
// c=["p","q"]": strings as they are, other values as JSON.
func ParamsText(params map[string]json.RawMessage) string {
	var parts []string
	for _, name := range slices.Sorted(maps.Keys(params)) {
		parts = append(parts, name+"="+ParamText(params[name]))
	}
	return strings.Join(parts, " ")
}

// ParamText is one param value for people: a JSON string unquoted, any
// other JSON value as it is.
func ParamText(v json.RawMessage) string {
	var s string
	if err := json.Unmarshal(v, &s); err == nil {
		return s
	}
	return string(v)
}

// ParamsQuoted is ParamsText with each string value quoted when it holds
// a space or is empty, for one-line audit texts.
func ParamsQuoted(params map[string]json.RawMessage) string {
	var parts []string
	for _, name := range slices.Sorted(maps.Keys(params)) {
		t := ParamText(params[name])
		var s string
		if json.Unmarshal(params[name], &s) == nil && (t == "" || strings.ContainsAny(t, " \t\n\"")) {
			t = strconv.Quote(t)
		}
		parts = append(parts, name+"="+t)
	}
	return strings.Join(parts, " ")
}

// Hosts counts the hosts of every wave of the run.
func (r *Run) Hosts() int { return CountHosts(r.Waves) }

// CountHosts counts the hosts of waves.
func CountHosts(waves [][]string) int {
	n := 0
	for _, w := range waves {
		n += len(w)
	}
	return n
}

// RunFilter narrows a run listing. Zero fields match everything.
type RunFilter struct {
	Job     string
	Commit  string
	States  []RunState
	Actor   string
	Trigger string
	// Host keeps the runs whose journal has a row on the host: a wave of
	// the run reached it (a queued run has none yet).
	Host string
	// Since and Until keep the runs created in [Since, Until).
	Since, Until time.Time
	// Before and After keep the runs with Before > ID > After: the keyset
	// of a paginated listing (the next page of a newest-first listing is
	// Before its last ID).
	Before, After int64
	// Oldest lists oldest (lowest ID) first; the default is newest first.
	// Limit then keeps the runs nearest After.
	Oldest bool
	Limit  int
}

// Match reports whether r passes every field of f but Host, Before,
// After and Limit: what a store checks per row, for stores that keep runs
// in memory.
func (f RunFilter) Match(r *Run) bool {
	switch {
	case f.Job != "" && r.Job != f.Job,
		f.Commit != "" && r.Commit != f.Commit,
		f.Actor != "" && r.Actor != f.Actor,
		f.Trigger != "" && r.Trigger != f.Trigger,
		len(f.States) > 0 && !slices.Contains(f.States, r.State),
		!f.Since.IsZero() && r.Created.Before(f.Since),
		!f.Until.IsZero() && !r.Created.Before(f.Until):
		return false
	}
	return true
}

// RunRequest asks for a new run of one job at one commit.
type RunRequest struct {
	Job     string
	Commit  string
	Branch  string
	Trigger string // one of the Trigger kinds
	Actor   string
	Reason  string
	// Waves are the planned host names per wave; see definitions.Waves.
	Waves [][]string
	// Params are the run's param values as recorded (sensitive ones as
	// definitions.Masked); Sensitive holds the sensitive ones' real values,
	// which the runner keeps in memory only, never in the store.
	Params    map[string]json.RawMessage
	Sensitive map[string]json.RawMessage
	// Exec is set for an exec run (Trigger exec, Job empty); its Command is
	// recorded redacted and executed as given.
	Exec *ExecSpec
}

// ShortCommit abbreviates a commit id to 12 characters for logs and texts.
func ShortCommit(c string) string {
	if len(c) > 12 {
		return c[:12]
	}
	return c
}

// EncodeRunInputs is how both stores keep a run's Params and Exec: JSON
// text, "" for none.
func EncodeRunInputs(r *Run) (params, exec string, err error) {
	if len(r.Params) > 0 {
		b, err := json.Marshal(r.Params)
		if err != nil {
			return "", "", fmt.Errorf("encode params: %w", err)
		}
		params = string(b)
	}
	if r.Exec != nil {
		b, err := json.Marshal(r.Exec)
		if err != nil {
			return "", "", fmt.Errorf("encode exec: %w", err)
		}
		exec = string(b)
	}
	return params, exec, nil
}

// DecodeRunInputs reads what EncodeRunInputs wrote into r.
func DecodeRunInputs(r *Run, params, exec string) error {
	if params != "" {
		if err := json.Unmarshal([]byte(params), &r.Params); err != nil {
			return fmt.Errorf("run %d: decode params: %w", r.ID, err)
		}
	}
	if exec != "" {
		r.Exec = &ExecSpec{}
		if err := json.Unmarshal([]byte(exec), r.Exec); err != nil {
			return fmt.Errorf("run %d: decode exec: %w", r.ID, err)
		}
	}
	return nil
}

// What operators ask the daemon for (the API, the web UI, the CLI through
// them); the daemon, on the leader, carries it out.

// JobRunRequest asks for a run of a job at the applied commit.
type JobRunRequest struct {
	Job string `json:"job"`
	// Hosts narrows the run to these targets of the job; empty: all.
	Hosts []string `json:"hosts,omitempty"`
	// Params are the values for the job's params as given: JSON values,
	// where a string may also spell a number, a bool or a list (see
	// definitions.Job.ResolveParams). Missing ones take their default.
	Params map[string]json.RawMessage `json:"params,omitempty"`
	Actor  string                     `json:"actor"`
	Reason string                     `json:"reason"`
}

// ExecRequest asks for an ad-hoc command on hosts: exactly one of Hosts,
// Group and All says which.
type ExecRequest struct {
	Hosts   []string `json:"hosts,omitempty"`
	Group   string   `json:"group,omitempty"`
	All     bool     `json:"all,omitempty"`
	Command string   `json:"command"`
	// MaxParallel hosts at once; 0 is DefaultExecParallel.
	MaxParallel int `json:"max_parallel,omitempty"`
	// Timeout of the command on each host; 0 is DefaultExecTimeout.
	Timeout time.Duration `json:"timeout,omitempty"`
	Actor   string        `json:"actor"`
	Reason  string        `json:"reason"`
}

// Exec defaults and bounds.
const (
	DefaultExecParallel = 10
	MaxExecParallel     = 100000
	DefaultExecTimeout  = 5 * time.Minute
	MaxExecTimeout      = 24 * time.Hour
	// MaxExecCommand caps the command's length in bytes.
	MaxExecCommand = 64 << 10
)

// Check refuses a request that cannot be carried out as asked (an error
// wrapping ErrInvalidRequest, naming what is wrong) and fills in the
// defaults. It does not look at the hosts: the daemon resolves them.
func (r *ExecRequest) Check() error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf(format+": %w", append(args, ErrInvalidRequest)...)
	}
	n := 0
	if len(r.Hosts) > 0 {
		n++
	}
	if r.Group != "" {
		n++
	}
	if r.All {
		n++
	}
	switch {
	case n != 1:
		return bad("name the hosts with exactly one of hosts, group or all")
	case strings.TrimSpace(r.Reason) == "":
		return bad("an ad-hoc command needs a reason")
	case strings.TrimSpace(r.Command) == "":
		return bad("the command is empty")
	case len(r.Command) > MaxExecCommand:
		return bad("the command is over %d bytes", MaxExecCommand)
	case strings.ContainsRune(r.Command, 0):
		return bad("the command holds a NUL byte")
	case r.MaxParallel < 0 || r.MaxParallel > MaxExecParallel:
		return bad("max_parallel must be from 1 to %d", MaxExecParallel)
	case r.Timeout < 0 || (r.Timeout > 0 && r.Timeout < time.Second) || r.Timeout > MaxExecTimeout:
		return bad("timeout must be from 1s to %s", MaxExecTimeout)
	}
	for _, h := range r.Hosts {
		if strings.TrimSpace(h) == "" {
			return bad("hosts holds an empty name")
		}
	}
	if r.MaxParallel == 0 {
		r.MaxParallel = DefaultExecParallel
	}
	if r.Timeout == 0 {
		r.Timeout = DefaultExecTimeout
	}
	return nil
}
