package sqlstore

import (
	"context"
	"errors"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/ripple-ops/ripple/engine"
	"github.com/ripple-ops/ripple/engine/enginetest"
)

// sqliteCode is the SQLite result code err carries, or -1.
func sqliteCode(err error) int {
	var se *sqlite.Error
	if errors.As(err, &se) {
		return se.Code()
	}
	return -1
}

// wantUnwritable checks that err and the store's health say the store
// cannot write, with SQLite's code and reason.
func wantUnwritable(t *testing.T, s *Store, err error, code int, why string) {
	t.Helper()
	if !errors.Is(err, engine.ErrStoreUnwritable) {
		t.Fatalf("write error %v does not wrap engine.ErrStoreUnwritable", err)
	}
	if got := sqliteCode(err); got&0xff != code {
		t.Errorf("write error %v has SQLite code %d, want %d", err, got, code)
	}
	h := s.WriteHealth()
	if h.Writable || !strings.Contains(h.Error, why) || !strings.Contains(h.Error, s.path) || h.Since.IsZero() {
		t.Errorf("WriteHealth = %+v, want unwritable since some time, naming %s and %q", h, s.path, why)
	}
	if v := storeMetrics(t, s); v["ripple_store_writable"] != 0 {
		t.Errorf("ripple_store_writable = %v while the store cannot write", v["ripple_store_writable"])
	}
}

func wantWritable(t *testing.T, s *Store) {
	t.Helper()
	if h := s.WriteHealth(); !h.Writable || h.Error != "" || !h.Since.IsZero() {
		t.Errorf("WriteHealth = %+v, want writable", h)
	}
	if v := storeMetrics(t, s); v["ripple_store_writable"] != 1 {
		t.Errorf("ripple_store_writable = %v while the store writes", v["ripple_store_writable"])
	}
}

// storeMetrics gathers the store's collector: series name -> value.
func storeMetrics(t *testing.T, s *Store) map[string]float64 {
	t.Helper()
	reg := prometheus.NewRegistry()
	reg.MustRegister(NewCollector(s))
	if problems, err := testutil.GatherAndLint(reg); err != nil || len(problems) > 0 {
		t.Errorf("lint: %v %v", problems, err)
	}
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]float64{}
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			switch {
			case m.GetGauge() != nil:
				out[mf.GetName()] = m.GetGauge().GetValue()
			case m.GetCounter() != nil:
				out[mf.GetName()] = m.GetCounter().GetValue()
			}
		}
	}
	return out
}

// TestFullDatabaseIsClassifiedAndRecovers makes SQLite itself answer
// SQLITE_FULL (the database may not grow past max_page_count, the same
// code a full disk gives) and checks that the write is classified as the
// store being unable to write, that a refused write is not, and that the
// store reports writable again once a write succeeds.
func TestFullDatabaseIsClassifiedAndRecovers(t *testing.T) {
	ctx := context.Background()
	s := openTest(t)
	id := newRun(t, s)
	wantWritable(t, s)

	var pages int
	if err := s.writer.QueryRowContext(ctx, "PRAGMA page_count").Scan(&pages); err != nil {
		t.Fatal(err)
	}
	if _, err := s.writer.ExecContext(ctx, "PRAGMA max_page_count = "+strconv.Itoa(pages)); err != nil {
		t.Fatal(err)
	}
	big := engine.HostStep{RunID: id, Host: "web-01", Step: "s", Result: engine.StepResult{Status: engine.StepOK, Stdout: strings.Repeat("x", 64<<10)}}
	err := s.FinishHostStep(ctx, big)
	wantUnwritable(t, s, err, sqlite3.SQLITE_FULL, "database or disk is full")
	if n := s.WriteErrors(); n != 1 {
		t.Errorf("WriteErrors = %d, want 1", n)
	}

	// A write refused for what it asked is no sign of a full disk.
	err = s.UpdateRun(ctx, &engine.Run{ID: id + 100, Job: "web"})
	if !errors.Is(err, engine.ErrNotFound) || errors.Is(err, engine.ErrStoreUnwritable) {
		t.Errorf("update of a missing run = %v, want not found and not unwritable", err)
	}
	if s.WriteHealth().Writable || s.WriteErrors() != 1 {
		t.Errorf("a refused write changed the health: %+v, %d errors", s.WriteHealth(), s.WriteErrors())
	}

	if _, err := s.writer.ExecContext(ctx, "PRAGMA max_page_count = 1073741823"); err != nil {
		t.Fatal(err)
	}
	if err := s.Probe(ctx); err != nil {
		t.Fatalf("probe once the database may grow: %v", err)
	}
	wantWritable(t, s)
	if err := s.FinishHostStep(ctx, big); err != nil {
		t.Fatalf("write after recovery: %v", err)
	}
	if v := storeMetrics(t, s); v["ripple_store_write_errors_total"] != 1 {
		t.Errorf("ripple_store_write_errors_total = %v, want 1", v["ripple_store_write_errors_total"])
	}
}

// TestFullDiskStoreRecovers fills the file system under a real store (a
// tmpfs): writes fail with SQLITE_FULL and leave nothing behind, reads go
// on, the probe fails until space is freed, then succeeds, and the store
// writes and checks out intact without being reopened.
func TestFullDiskStoreRecovers(t *testing.T) {
	ctx := context.Background()
	dir := enginetest.Tmpfs(t, 4<<20)
	s, err := Open(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	id := newRun(t, s)
	hs := engine.HostStep{RunID: id, Host: "web-01", Step: "reload"}

	filler := enginetest.FillDisk(t, dir, "filler")
	err = s.StartHostStep(ctx, hs)
	wantUnwritable(t, s, err, sqlite3.SQLITE_FULL, "database or disk is full")
	if err := s.Probe(ctx); !errors.Is(err, engine.ErrStoreUnwritable) {
		t.Fatalf("probe on a full disk = %v, want ErrStoreUnwritable", err)
	}
	if rows, err := s.HostSteps(ctx, id); err != nil || len(rows) != 0 {
		t.Fatalf("journal on a full disk = %v, %v; want readable and without the failed write", rows, err)
	}
	if _, err := s.GetRun(ctx, id); err != nil {
		t.Fatalf("read on a full disk: %v", err)
	}

	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	if err := s.Probe(ctx); err != nil {
		t.Fatalf("probe once space is back: %v", err)
	}
	wantWritable(t, s)
	if err := s.StartHostStep(ctx, hs); err != nil {
		t.Fatalf("write once space is back: %v", err)
	}
	if rows, err := s.HostSteps(ctx, id); err != nil || len(rows) != 1 || rows[0].Phase != engine.PhaseStarted {
		t.Fatalf("journal once space is back = %+v, %v", rows, err)
	}
	if err := s.IntegrityCheck(ctx); err != nil {
		t.Fatal(err)
	}
	if n := s.WriteErrors(); n != 2 {
		t.Errorf("WriteErrors = %d, want 2 (the write and the probe)", n)
	}
}
