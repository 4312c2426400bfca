package sqlstore

import (
	"context"
	"testing"

	"github.com/ripple-ops/ripple/engine/storetest"
)

// openTest opens a store in a fresh directory and closes it at cleanup.
func openTest(t testing.TB) *Store {
	t.Helper()
	s, err := Open(context.Background(), t.TempDir())
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	s.now = storetest.NewClock().Now
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return s
}
