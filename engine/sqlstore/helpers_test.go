package sqlstore

import (
	"context"
	"testing"
	"time"
)

// testClock returns a Store clock that starts at a fixed time and advances
// one second per call, so timestamps are distinct and predictable.
func testClock() func() time.Time {
	t := time.Date(2026, 11, 29, 10, 0, 0, 0, time.UTC)
	return func() time.Time {
		t = t.Add(time.Second)
		return t
	}
}

// openTest opens a store in a fresh directory and closes it at cleanup.
func openTest(t testing.TB) *Store {
	t.Helper()
	s, err := Open(context.Background(), t.TempDir())
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	s.now = testClock()
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return s
}
