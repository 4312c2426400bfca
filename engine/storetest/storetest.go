package storetest

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/ripple-ops/ripple/engine"
)

// Store is every store interface of engine together with what the other
// consumers look for: the commit status outbox (webhooks.StatusOutbox),
// schedule firings and metric names (httpapi.FiringLister,
// httpapi.MetricNamer), delivery bookkeeping and retention.
type Store interface {
	engine.RunStore
	engine.JournalStore
	engine.EventStore
	engine.StatusWriter
	engine.StatusReader
	engine.AppliedStore
	engine.DeliveryStore
	engine.FiringStore
	engine.MonitorStateStore
	engine.MetricStore
	engine.SyncStore
	engine.SilenceStore
	engine.AckStore
	engine.AlertAuditReader
	engine.FactStore
	engine.Compactor

	// PendingStatuses lists at most limit undelivered statuses (all when
	// limit <= 0), in the order they were queued.
	PendingStatuses(ctx context.Context, limit int) ([]engine.CommitStatus, error)
	// MarkStatusDelivered marks a status delivered if it still holds the
	// given state, description and URL.
	MarkStatusDelivered(ctx context.Context, st engine.CommitStatus) error
	// OutboxStats counts undelivered statuses and says when the oldest
	// was set.
	OutboxStats(ctx context.Context) (depth int, oldest time.Time, err error)

	// Firings lists a job's latest firings, newest first.
	Firings(ctx context.Context, job string, limit int) ([]engine.Firing, error)
	// MetricNames lists the metrics stored for one (monitor, host).
	MetricNames(ctx context.Context, monitor, host string) ([]string, error)

	// MarkDeliveryProcessed records that a webhook delivery was acted on.
	MarkDeliveryProcessed(ctx context.Context, id string) error
	// UnprocessedDeliveries lists deliveries recorded but not processed.
	UnprocessedDeliveries(ctx context.Context) ([]string, error)

	// Close releases the store; writes after it fail with
	// engine.ErrClosed, and closing again is a no-op.
	Close() error
}

// Open opens a fresh, empty store for t whose clock is now, and returns it
// with its reopen hook: reopen closes that store (when it is still open)
// and opens the same one again, as a restarted daemon would, with the same
// clock. Every store it opens is closed at t's cleanup.
type Open func(t *testing.T, now func() time.Time) (s Store, reopen func() Store)

// Run runs the contract suite, each test on a fresh store from open.
func Run(t *testing.T, open Open) {
	tests := []struct {
		name string
		fn   func(t *testing.T, open Open)
	}{
		{"RunRoundTrip", testRunRoundTrip},
		{"ListRuns", testListRuns},
		{"Events", testEvents},
		{"LastApplied", testLastApplied},
		{"ReopenKeepsData", testReopenKeepsData},
		{"CloseDuringWrites", testCloseDuringWrites},
		{"Journal", testJournal},
		{"JournalConcurrentHosts", testJournalConcurrentHosts},
		{"JournalIsolatesFailures", testJournalIsolatesFailures},
		{"CanceledWrite", testCanceledWrite},
		{"Ordering", testOrdering},
		{"LargeOutput", testLargeOutput},
		{"HostTextIsKeptByteForByte", testHostTextBytes},
		{"Times", testTimes},
		{"StatusOutbox", testStatusOutbox},
		{"PendingStatusesLimit", testPendingStatusesLimit},
		{"OutboxStats", testOutboxStats},
		{"Deliveries", testDeliveries},
		{"CompactDeliveries", testCompactDeliveries},
		{"Firings", testFirings},
		{"MetricsRetention", testMetricsRetention},
		{"MetricNames", testMetricNames},
		{"MonitorStates", testMonitorStates},
		{"LateMonitorStateLoses", testLateMonitorStateLoses},
		{"LogCursors", testLogCursors},
		{"Silences", testSilences},
		{"SilencesAcrossReopen", testSilencesAcrossReopen},
		{"Acks", testAcks},
		{"AlertEventsFilter", testAlertEventsFilter},
		{"SyncAcrossReopen", testSyncAcrossReopen},
		{"SyncRollback", testSyncRollback},
		{"FactsAcrossReopen", testFactsAcrossReopen},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { tt.fn(t, open) })
	}
}

// Clock is the suite's clock: it starts at a fixed time and advances one
// second per reading, so timestamps are distinct and predictable.
type Clock struct {
	mu sync.Mutex
	t  time.Time
}

// NewClock returns a Clock at 2026-11-29 10:00 UTC.
func NewClock() *Clock {
	return &Clock{t: time.Date(2026, 11, 29, 10, 0, 0, 0, time.UTC)}
}

// Now returns the clock's time, then advances it by a second.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.t
	c.t = c.t.Add(time.Second)
	return now
}

// Set makes t the next reading.
func (c *Clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}

// fresh opens a fresh store on a new Clock.
func fresh(t *testing.T, open Open) (Store, *Clock, func() Store) {
	t.Helper()
	c := NewClock()
	s, reopen := open(t, c.Now)
	return s, c, reopen
}

// newRun creates a run and returns its id.
func newRun(t testing.TB, s Store) int64 {
	t.Helper()
	r := &engine.Run{Job: "web", Commit: "c1"}
	if err := s.CreateRun(context.Background(), r); err != nil {
		t.Fatal(err)
	}
	return r.ID
}
