package engine

import (
	"context"
	"errors"
	"time"
)

// The store: one interface per concern (a component declares the union
// of those it uses), its errors, its write health and its compaction.

// The durable state, one small interface per concern. Implementations
// (engine/sqlstore, engine/pgstore) make each write durable before
// returning, and batch concurrent journal writes into shared commits so
// that many hosts pay for one commit. A component declares the union of the
// few it uses; the surfaces (API, web UI) take the readers. Both stores
// pass one contract test suite, engine/storetest.

// ErrClosed is wrapped by a store's writes after its Close.
var ErrClosed = errors.New("store closed")

// Retention, the same on every store: raw metric samples are kept for
// MetricRawRetention, then Compact folds them into MetricRollupInterval
// averages, which are kept for MetricRollupRetention; webhook delivery ids
// are kept for DeliveryRetention (GitHub lets an operator redeliver for 3
// days; a week leaves a margin).
const (
	MetricRawRetention    = 48 * time.Hour
	MetricRollupInterval  = 5 * time.Minute
	MetricRollupRetention = 90 * 24 * time.Hour
	DeliveryRetention     = 7 * 24 * time.Hour
)

// Compactor applies a store's retention as of now. It is idempotent.
type Compactor interface {
	Compact(ctx context.Context, now time.Time) error
}

// RunStore keeps runs.
type RunStore interface {
	CreateRun(ctx context.Context, r *Run) error // sets r.ID
	UpdateRun(ctx context.Context, r *Run) error
	RunReader
}

// RunReader reads runs.
type RunReader interface {
	GetRun(ctx context.Context, id int64) (*Run, error)
	// ListRuns returns the runs matching f, newest first (oldest first
	// with f.Oldest), at most f.Limit of them when f.Limit > 0. It is one
	// indexed query however many runs the store keeps.
	ListRuns(ctx context.Context, f RunFilter) ([]*Run, error)
	// CountRuns counts the runs matching f by state, ignoring f's
	// Before, After, Oldest and Limit (the counts of a whole listing).
	CountRuns(ctx context.Context, f RunFilter) (map[RunState]int, error)
	// LatestRuns returns the latest run (highest ID) of each job that has
	// one, by job name.
	LatestRuns(ctx context.Context) ([]*Run, error)
}

// JournalStore keeps the host-step journal of runs.
type JournalStore interface {
	// PlanHostSteps records planned rows for a wave in one commit.
	PlanHostSteps(ctx context.Context, rows []HostStep) error
	// StartHostStep marks a host-step started; it must be durable before
	// the step touches the host.
	StartHostStep(ctx context.Context, hs HostStep) error
	// FinishHostStep records the result.
	FinishHostStep(ctx context.Context, hs HostStep) error
	JournalReader
}

// JournalReader reads a run's journal.
type JournalReader interface {
	HostSteps(ctx context.Context, runID int64) ([]HostStep, error)
}

// EventStore keeps the audit events of runs.
type EventStore interface {
	AddEvent(ctx context.Context, e Event) error
	EventReader
}

// EventReader reads a run's audit events, in the order they were added.
type EventReader interface {
	Events(ctx context.Context, runID int64) ([]Event, error)
}

// StatusWriter records the latest state for (commit, context), both for
// local display and for the outbox that delivers it to GitHub.
type StatusWriter interface {
	SetStatus(ctx context.Context, s CommitStatus) error
}

// StatusReader reads the statuses recorded on a commit.
type StatusReader interface {
	Statuses(ctx context.Context, commit string) ([]CommitStatus, error)
}

// AppliedStore keeps the last applied commit of each line of history (a
// branch, or "apply" for `ripple apply`).
type AppliedStore interface {
	LastApplied(ctx context.Context, branch string) (string, error) // "" when none
	SetLastApplied(ctx context.Context, branch, commit string) error
}

// DeliveryStore remembers which webhook deliveries (X-GitHub-Delivery ids)
// have been acted on, so that a redelivery is answered but not acted on
// again.
//
// The webhook handler checks DeliverySeen and queues the event in memory
// (answering 202); it hands the event to the TriggerSink and calls
// RecordDelivery only after the sink accepted it, remembering the id itself
// until then so that a redelivery meanwhile is a duplicate too. A crash
// before the record means a redelivery is processed twice, which is
// harmless because triggers are idempotent (a push reconciles from git, a
// plan comment is edited in place); the other order would lose the event.
type DeliveryStore interface {
	// DeliverySeen reports whether id was recorded before.
	DeliverySeen(ctx context.Context, id string) (bool, error)
	// RecordDelivery records id with its event name; isNew is false when
	// it was already recorded.
	RecordDelivery(ctx context.Context, id, event string) (isNew bool, err error)
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
	// LogCursor is where the log check of the pair stopped reading. A
	// record saved with a nil LogCursor leaves the stored cursor as it
	// is: only a log check's result moves it, in the same write as the
	// state it led to, so a crash loses or repeats no line.
	LogCursor *LogCursor
	// NotifiedAt is when the last alert of the current problem was sent
	// (for repeat_interval); zero when none.
	NotifiedAt time.Time
	// Suppressed is why the state does not alert (a parent down, a
	// dependency failing); "" when it is not suppressed. Saved so that
	// every node of a cluster can show it.
	Suppressed string
}

// MonitorStateStore keeps the latest MonitorRecord per (monitor, host).
type MonitorStateStore interface {
	// SaveMonitorState replaces the record of (m.Monitor, m.Host) in one
	// write, its log cursor included (kept when m.LogCursor is nil),
	// unless the stored record's LastAt is after m.LastAt: a record of an
	// older observation (a node of a cluster saving a trap state after
	// another saved the next trap's) changes nothing and is no error.
	SaveMonitorState(ctx context.Context, m MonitorRecord) error
	// MonitorStates lists every record, ordered by monitor then host.
	MonitorStates(ctx context.Context) ([]MonitorRecord, error)
}

// FiringOutcome says what became of one schedule firing.
type FiringOutcome string

// Firing outcomes.
const (
	FiringStarted        FiringOutcome = "started"
	FiringSkippedActive  FiringOutcome = "skipped: previous run still going"
	FiringMissedOutside  FiringOutcome = "missed: ripple was down and the window has closed"
	FiringMissedNoWindow FiringOutcome = "missed: ripple was down and the job has no window"
	FiringError          FiringOutcome = "error"
)

// Firing is the record of one schedule firing.
type Firing struct {
	Job     string
	At      time.Time // the cron time, not when ripple noticed it
	Outcome FiringOutcome
	Error   string
}

// FiringStore remembers schedule firings, so a restart knows what it
// missed.
type FiringStore interface {
	LastFiring(ctx context.Context, job string) (time.Time, error) // zero when none
	RecordFiring(ctx context.Context, f Firing) error
}

// ErrStoreUnwritable marks a write the store could not make because it
// cannot write at all right now (a full disk, an I/O error, a read-only
// file system), as opposed to a write refused for what it asked. Such a
// write was not made, or, when the commit itself failed, its outcome is
// known only by reading. Whoever was writing stops what depended on the
// write; a StoreProbe tells when the store writes again.
var ErrStoreUnwritable = errors.New("store cannot write")

// StoreHealth is whether the store can write, for the daemon's status,
// /readyz and the web UI.
type StoreHealth struct {
	// Writable is false from a write that failed with ErrStoreUnwritable
	// until a write (or a probe) succeeds again.
	Writable bool `json:"writable"`
	// Error is the failure that made the store unwritable; Since is when
	// that started. Both are empty while it writes.
	Error string    `json:"error,omitempty"`
	Since time.Time `json:"since,omitzero"`
	// StoppedRuns are the runs of this process whose execution a failed
	// write ended; they resume once the store writes again.
	StoppedRuns []int64 `json:"stopped_runs,omitempty"`
}

// StoreProbe is the store's own view of its writes.
type StoreProbe interface {
	// WriteHealth reports whether writes succeed; StoppedRuns is left
	// empty (the store does not know about runs).
	WriteHealth() StoreHealth
	// Probe makes one small durable write and returns its error (wrapping
	// ErrStoreUnwritable when the store still cannot write). A success
	// makes WriteHealth writable again.
	Probe(ctx context.Context) error
}

// CompactEvery is how often RunCompaction applies a store's retention.
const CompactEvery = 5 * time.Minute

// RunCompaction applies c's retention once at start, then every interval
// until ctx ends, and returns nil then. Each pass is reported to done with
// how long it took and its error; a failed pass is tried again at the next
// tick, it never stops the loop.
func RunCompaction(ctx context.Context, c Compactor, interval time.Duration, clock Clock, done func(took time.Duration, err error)) {
	for {
		start := clock.Now()
		err := c.Compact(ctx, start)
		if ctx.Err() != nil {
			return
		}
		done(clock.Now().Sub(start), err)
		select {
		case <-ctx.Done():
			return
		case <-clock.After(interval):
		}
	}
}
