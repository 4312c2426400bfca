package monitor

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ripple-ops/ripple/definitions"
	"github.com/ripple-ops/ripple/engine"
	"github.com/ripple-ops/ripple/engine/enginetest"
)

const logRepo = `
credential "default" {
  user             = "ops"
  private_key_file = "/keys/ops"
  known_hosts_file = "/keys/known_hosts"
}
host "web-01" {
  address = "10.0.0.1"
  groups  = ["web"]
}
monitor "app-errors" {
  targets { groups = ["web"] }
  interval = "1h"
  check "log" {
    path    = "/var/log/app.log"
    pattern = "ERROR"
  }
}
`

// fakeLog is a log file the fake log checker reads: offsets are line
// numbers. It fails the test when two checks of one pair read at once and
// counts how often each line was served.
type fakeLog struct {
	t        *testing.T
	mu       sync.Mutex
	lines    []string
	served   map[int]int
	inflight int
	froms    []*engine.LogCursor
}

func (f *fakeLog) add(lines ...string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.lines = append(f.lines, lines...)
}

func (f *fakeLog) Check(context.Context, engine.Endpoint, *definitions.HostCheck) engine.CheckResult {
	return engine.CheckResult{State: engine.StateUnknown, Output: "not a log check"}
}

func (f *fakeLog) CheckLog(_ context.Context, _ engine.Endpoint, hc *definitions.HostCheck, from *engine.LogCursor) (engine.CheckResult, *engine.LogCursor) {
	f.mu.Lock()
	f.inflight++
	if f.inflight > 1 {
		f.t.Errorf("two checks of %s read the log at once", hc.Monitor)
	}
	f.froms = append(f.froms, from)
	end := len(f.lines)
	start := end
	if from != nil && from.File != nil {
		start = int(from.File.Offset)
	}
	var matched []string
	for i := start; i < end; i++ {
		f.served[i]++
		if strings.Contains(f.lines[i], "ERROR") {
			matched = append(matched, f.lines[i])
		}
	}
	f.mu.Unlock()
	time.Sleep(time.Millisecond) // let a concurrent check try
	f.mu.Lock()
	f.inflight--
	f.mu.Unlock()
	st := engine.StateOK
	if len(matched) > 0 {
		st = engine.StateCritical
	}
	return engine.CheckResult{State: st, Output: fmt.Sprintf("%d matching lines", len(matched)),
			Metrics: []engine.Metric{{Name: "matches", Value: float64(len(matched))}}},
		&engine.LogCursor{Path: hc.Log.Path, File: &engine.LogFile{Device: 1, Inode: 1, Offset: int64(end)}}
}

func newLogRunner(t *testing.T, log *fakeLog, store *enginetest.MemStore) *Runner {
	t.Helper()
	r := New(Options{Checker: log, States: store, Results: StoreResultSink{Metrics: store, States: store}})
	if err := r.ApplyConfig(context.Background(), loadMonitors(t, logRepo, time.Hour)); err != nil {
		t.Fatal(err)
	}
	return r
}

func storedCursor(t *testing.T, store *enginetest.MemStore) *engine.LogCursor {
	t.Helper()
	recs, err := store.MonitorStates(context.Background())
	if err != nil || len(recs) != 1 {
		t.Fatalf("stored states = %v, %v", recs, err)
	}
	return recs[0].LogCursor
}

// TestLogCursorSurvivesRestart: the cursor moves with each result, in the
// same stored record; a restarted runner reads on from it before its first
// check, so nothing is read twice and nothing is skipped.
func TestLogCursorSurvivesRestart(t *testing.T) {
	ctx := context.Background()
	log := &fakeLog{t: t, served: map[int]int{}}
	log.add("INFO boot", "ERROR before ripple watched")
	store := enginetest.NewMemStore()
	r := newLogRunner(t, log, store)

	res, _ := r.CheckNow(ctx, "app-errors", "web-01")
	if res.State != engine.StateOK || storedCursor(t, store).File.Offset != 2 {
		t.Fatalf("first check = %s, cursor %+v; want OK from the end", res.State, storedCursor(t, store).File)
	}
	log.add("ERROR one", "INFO fine", "ERROR two")
	res, _ = r.CheckNow(ctx, "app-errors", "web-01")
	if res.State != engine.StateCritical || res.Output != "2 matching lines" || storedCursor(t, store).File.Offset != 5 {
		t.Fatalf("second check = %s %q, cursor %+v", res.State, res.Output, storedCursor(t, store).File)
	}

	// The daemon stops; lines arrive; a new one starts.
	log.add("ERROR while down")
	r2 := newLogRunner(t, log, store)
	res, _ = r2.CheckNow(ctx, "app-errors", "web-01")
	if res.Output != "1 matching lines" {
		t.Errorf("after restart = %q, want the one line written while down", res.Output)
	}
	for i, n := range log.served {
		if n != 1 {
			t.Errorf("line %d (%q) read %d times", i, log.lines[i], n)
		}
	}
	if log.served[0]+log.served[1] != 0 {
		t.Errorf("lines from before the first check were read: %v", log.served)
	}
}

// TestLogChecksOfOnePairNeverOverlap: scheduled checks and gate checks
// (CheckNow) of the same pair take turns, so each line is read once.
func TestLogChecksOfOnePairNeverOverlap(t *testing.T) {
	ctx := context.Background()
	log := &fakeLog{t: t, served: map[int]int{}}
	store := enginetest.NewMemStore()
	r := New(Options{Checker: log, States: store, Results: StoreResultSink{Metrics: store, States: store}})
	if err := r.ApplyConfig(ctx, loadMonitors(t, logRepo, 2*time.Millisecond)); err != nil {
		t.Fatal(err)
	}
	startRunner(t, r)
	var wg sync.WaitGroup
	for range 2 {
		wg.Go(func() {
			for range 50 {
				r.CheckNow(ctx, "app-errors", "web-01")
			}
		})
	}
	for i := range 300 {
		log.add(fmt.Sprintf("ERROR %d", i))
		if i%20 == 0 {
			time.Sleep(time.Millisecond)
		}
	}
	wg.Wait()
	r.CheckNow(ctx, "app-errors", "web-01")
	log.mu.Lock()
	defer log.mu.Unlock()
	for i := range log.lines {
		if log.served[i] > 1 {
			t.Errorf("line %d read %d times", i, log.served[i])
		}
	}
}

// A changed log monitor (another pattern) reads on from the old cursor.
func TestChangedLogMonitorKeepsCursor(t *testing.T) {
	ctx := context.Background()
	log := &fakeLog{t: t, served: map[int]int{}}
	store := enginetest.NewMemStore()
	r := newLogRunner(t, log, store)
	r.CheckNow(ctx, "app-errors", "web-01")
	log.add("ERROR written before the reload")
	changed := loadMonitors(t, strings.Replace(logRepo, `pattern = "ERROR"`, `pattern = "ERROR|FATAL"`, 1), time.Hour)
	if err := r.ApplyConfig(ctx, changed); err != nil {
		t.Fatal(err)
	}
	if res, _ := r.CheckNow(ctx, "app-errors", "web-01"); res.Output != "1 matching lines" {
		t.Errorf("after the reload = %q, want the line written before it", res.Output)
	}
}
