package pgstore

import (
	"context"
	"testing"
	"time"

	"github.com/ripple-ops/ripple/engine/pgstore/pgtest"
	"github.com/ripple-ops/ripple/engine/storetest"
)

// BenchmarkJournal10kHosts is storetest's journal benchmark on PostgreSQL,
// once with group commit and once with one transaction per write. It
// starts a server of its own with fsync on, so that each commit is flushed
// to disk as SQLite's are (synchronous=FULL); the server is on loopback.
//
//	go test -run '^$' -bench Journal10kHosts -benchtime 1x ./engine/pgstore
func BenchmarkJournal10kHosts(b *testing.B) {
	c := pgtest.New(b, pgtest.Options{Fsync: true})
	modes := []struct {
		name   string
		window time.Duration
		limit  int
	}{
		{"group", groupWindow, groupLimit},
		{"tx-per-write", -1, 1},
	}
	for _, m := range modes {
		b.Run(m.name, func(b *testing.B) {
			s, err := Open(context.Background(), c.Database(b), Options{PasswordFile: c.PasswordFile(), window: m.window, limit: m.limit})
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			storetest.BenchJournal10kHosts(b, s, func() (int64, int64) { return s.gc.batches.Load(), s.gc.writes.Load() }, c.CPUTime)
		})
	}
}
