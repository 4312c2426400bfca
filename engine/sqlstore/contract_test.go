package sqlstore

import (
	"context"
	"testing"
	"time"

	"github.com/ripple-ops/ripple/engine/storetest"
)

// TestContract runs the store contract suite on SQLite: each test on a
// fresh data directory, reopened in place.
func TestContract(t *testing.T) {
	storetest.Run(t, func(t *testing.T, now func() time.Time) (storetest.Store, func() storetest.Store) {
		dir := t.TempDir()
		openDir := func() *Store {
			t.Helper()
			s, err := Open(context.Background(), dir)
			if err != nil {
				t.Fatalf("Open: %v", err)
			}
			s.now = now
			t.Cleanup(func() {
				if err := s.Close(); err != nil {
					t.Errorf("Close: %v", err)
				}
			})
			return s
		}
		s := openDir()
		return s, func() storetest.Store {
			if err := s.Close(); err != nil {
				t.Fatalf("Close: %v", err)
			}
			s = openDir()
			return s
		}
	})
}
