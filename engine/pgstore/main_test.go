package pgstore

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/ripple-ops/ripple/engine/pgstore/pgtest"
)

// pg is this package's test server: one per test run, a fresh database per
// test.
var pg pgtest.Shared

func TestMain(m *testing.M) {
	code := m.Run()
	if err := pg.Stop(); err != nil {
		fmt.Fprintln(os.Stderr, "stop PostgreSQL:", err)
		code = 1
	}
	os.Exit(code)
}

// openDSN opens a store on dsn with the test server's password and closes
// it at cleanup.
func openDSN(t testing.TB, dsn string, o Options) *Store {
	t.Helper()
	o.PasswordFile = pg.Cluster(t).PasswordFile()
	s, err := Open(context.Background(), dsn, o)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return s
}

// openTest opens a store on a fresh database.
func openTest(t testing.TB) *Store {
	t.Helper()
	return openDSN(t, pg.Database(t), Options{now: time.Now})
}

// openTuned opens a store on a fresh database with explicit group commit
// settings (a negative window is none).
func openTuned(t testing.TB, window time.Duration, limit int) *Store {
	t.Helper()
	return openDSN(t, pg.Database(t), Options{window: window, limit: limit})
}
