package pgstore

import (
	"testing"
	"time"

	"github.com/ripple-ops/ripple/engine/storetest"
)

// TestContract runs the store contract suite on PostgreSQL: each test on a
// fresh database, reopened with a new connection pool.
func TestContract(t *testing.T) {
	storetest.Run(t, func(t *testing.T, now func() time.Time) (storetest.Store, func() storetest.Store) {
		dsn := pg.Database(t)
		s := openDSN(t, dsn, Options{now: now})
		return s, func() storetest.Store {
			if err := s.Close(); err != nil {
				t.Fatalf("Close: %v", err)
			}
			s = openDSN(t, dsn, Options{now: now})
			return s
		}
	})
}
