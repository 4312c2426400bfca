package engine

import (
	"context"
	"errors"
	"time"
)

// ErrNotFound is returned by Store lookups that match nothing.
var ErrNotFound = errors.New("not found")

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

// Final reports whether no more work will happen in a run in state s.
func (s RunState) Final() bool {
	return s == RunSucceeded || s == RunFailed || s == RunAborted || s == RunError
}

// Run is one rollout of one job at one commit.
type Run struct {
	ID      int64
	Job     string
	Commit  string
	Branch  string
	Trigger string // "commit", "manual", "schedule", "apply"
	Actor   string
	Reason  string
	State   RunState
	// Waves are the planned host names per wave, fixed when the run is created.
	Waves       [][]string
	CurrentWave int // index into Waves of the wave in progress or next
	Summary     string
	Error       string
	Created     time.Time
	Started     time.Time
	Finished    time.Time
	Updated     time.Time
}

// StepPhase is where a host-step is in the journal.
type StepPhase string

// Journal phases: every (run, wave, host, step) moves planned -> started ->
// finished, and each move is durable before the action it precedes.
const (
	PhasePlanned  StepPhase = "planned"
	PhaseStarted  StepPhase = "started"
	PhaseFinished StepPhase = "finished"
)

// HostStep is a journal row.
type HostStep struct {
	RunID    int64
	Wave     int
	Host     string
	Step     string
	Rollback bool // a rollback step rather than a forward one
	Phase    StepPhase
	Result   StepResult // valid when Phase == PhaseFinished
}

// RunFilter narrows ListRuns. Zero fields match everything.
type RunFilter struct {
	Job    string
	Commit string
	States []RunState
	Limit  int
}

// Event is an audit record: who did what to which run, and why.
type Event struct {
	RunID  int64
	At     time.Time
	Actor  string
	Action string // "approve", "abort", "start", ...
	Reason string
}

// CommitStatus is a status ripple reports on a commit (ripple/validate,
// ripple/plan, ripple/job/<job>). The outbox keeps only the latest state per
// (commit, context) until it is delivered.
type CommitStatus struct {
	Commit      string
	Context     string
	State       string // "pending", "success", "failure", "error"
	Description string
	TargetURL   string
	Updated     time.Time
}

// Store is the durable state. Implementations make each write durable
// (fsynced) before returning, and batch concurrent journal writes into shared
// commits so that many hosts pay for one fsync.
type Store interface {
	CreateRun(ctx context.Context, r *Run) error // sets r.ID
	UpdateRun(ctx context.Context, r *Run) error
	GetRun(ctx context.Context, id int64) (*Run, error)
	ListRuns(ctx context.Context, f RunFilter) ([]*Run, error)

	// PlanHostSteps records planned rows for a wave in one commit.
	PlanHostSteps(ctx context.Context, rows []HostStep) error
	// StartHostStep marks a host-step started; it must be durable before
	// the step touches the host.
	StartHostStep(ctx context.Context, hs HostStep) error
	// FinishHostStep records the result.
	FinishHostStep(ctx context.Context, hs HostStep) error
	HostSteps(ctx context.Context, runID int64) ([]HostStep, error)

	AddEvent(ctx context.Context, e Event) error
	Events(ctx context.Context, runID int64) ([]Event, error)

	LastApplied(ctx context.Context, branch string) (string, error) // "" when none
	SetLastApplied(ctx context.Context, branch, commit string) error

	// SetStatus records the latest state for (commit, context), both for
	// local display and for the outbox.
	SetStatus(ctx context.Context, s CommitStatus) error
	Statuses(ctx context.Context, commit string) ([]CommitStatus, error)
	// PendingStatuses lists statuses not yet delivered, oldest first.
	PendingStatuses(ctx context.Context, limit int) ([]CommitStatus, error)
	// MarkStatusDelivered clears the outbox entry if it still holds the
	// state that was delivered (a newer state stays queued).
	MarkStatusDelivered(ctx context.Context, s CommitStatus) error

	Close() error
}

// MetricSample is one stored value of one metric of one (monitor, host).
type MetricSample struct {
	Monitor string
	Host    string
	Metric  string
	At      time.Time
	Value   float64
}

// MetricPoint is one point of a queried series. Points older than the raw
// retention are 5-minute averages stamped with the start of their bucket.
type MetricPoint struct {
	At    time.Time
	Value float64
}

// MetricStore keeps check metrics as time series.
type MetricStore interface {
	// AppendMetrics stores samples durably, in one commit.
	AppendMetrics(ctx context.Context, samples []MetricSample) error
	// QueryMetrics returns the points of one series with from <= At < to,
	// oldest first.
	QueryMetrics(ctx context.Context, monitor, host, metric string, from, to time.Time) ([]MetricPoint, error)
}

// MonitorRecord is the persisted part of the alert state of one
// (monitor, host), so that a restart neither re-sends nor forgets an alert.
type MonitorRecord struct {
	Monitor     string
	Host        string
	State       CheckState
	Since       time.Time
	Consecutive int
	Firing      bool
	Notified    bool
	LastOutput  string
	LastAt      time.Time
	// Pending is a notification some notifier has not received yet; nil
	// when there is none.
	Pending *PendingNotification
}

// MonitorStateStore keeps the latest MonitorRecord per (monitor, host).
type MonitorStateStore interface {
	SaveMonitorState(ctx context.Context, m MonitorRecord) error
	// MonitorStates lists every record, ordered by monitor then host.
	MonitorStates(ctx context.Context) ([]MonitorRecord, error)
}
