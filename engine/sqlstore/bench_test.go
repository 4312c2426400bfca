package sqlstore

import (
	"testing"
	"time"

	"github.com/ripple-ops/ripple/engine/storetest"
)

// BenchmarkJournal10kHosts is storetest's journal benchmark on SQLite, once
// with group commit and once with one transaction (one fsync) per write.
//
//	go test -run '^$' -bench Journal10kHosts -benchtime 1x ./engine/sqlstore
func BenchmarkJournal10kHosts(b *testing.B) {
	modes := []struct {
		name   string
		window time.Duration
		limit  int
	}{
		{"group", groupWindow, groupLimit},
		{"tx-per-write", 0, 1},
	}
	for _, m := range modes {
		b.Run(m.name, func(b *testing.B) {
			s := openTuned(b, m.window, m.limit)
			storetest.BenchJournal10kHosts(b, s, func() (int64, int64) { return s.gc.batches.Load(), s.gc.writes.Load() }, nil)
		})
	}
}
