package pgstore

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ripple-ops/ripple/engine"
	"github.com/ripple-ops/ripple/engine/pgstore/pgtest"
)

// TestServerCrashKeepsAcknowledgedWrites crashes PostgreSQL (an immediate
// stop: no checkpoint, recovery from the WAL at the next start) while 16
// hosts journal in a loop, on a server with fsync on, and checks that every
// write the store acknowledged is there after the restart; writes in
// flight fail instead of hanging, and the store works again once the
// server is back.
func TestServerCrashKeepsAcknowledgedWrites(t *testing.T) {
	if testing.Short() {
		t.Skip("starts its own PostgreSQL server")
	}
	ctx := context.Background()
	c := pgtest.New(t, pgtest.Options{Fsync: true})
	dsn := c.Database(t)
	s, err := Open(ctx, dsn, Options{PasswordFile: c.PasswordFile()})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	id := newRun(t, s)

	type key struct{ host, step string }
	var (
		mu      sync.Mutex
		acked   = map[key]engine.StepPhase{}
		stop    atomic.Bool
		failed  atomic.Int64
		writers sync.WaitGroup
	)
	for w := range 16 {
		writers.Add(1)
		go func() {
			defer writers.Done()
			for i := 0; !stop.Load(); i++ {
				hs := engine.HostStep{RunID: id, Host: fmt.Sprintf("h%02d", w), Step: fmt.Sprintf("s%06d", i)}
				if err := s.StartHostStep(ctx, hs); err != nil {
					failed.Add(1)
					return
				}
				mu.Lock()
				acked[key{hs.Host, hs.Step}] = engine.PhaseStarted
				mu.Unlock()
				hs.Result = engine.StepResult{Status: engine.StepOK, Stdout: strings.Repeat("x", i%500), Duration: time.Millisecond}
				if err := s.FinishHostStep(ctx, hs); err != nil {
					failed.Add(1)
					return
				}
				mu.Lock()
				acked[key{hs.Host, hs.Step}] = engine.PhaseFinished
				mu.Unlock()
			}
		}()
	}
	time.Sleep(500 * time.Millisecond)
	if err := c.Crash(); err != nil {
		t.Fatal(err)
	}
	stop.Store(true)
	writers.Wait()
	if err := c.Restart(); err != nil {
		t.Fatal(err)
	}

	// The pool reconnects; a pooled connection that died with the server
	// and was idle for less than the pool's ping threshold fails its first
	// use and is dropped (a reader sees one error, as a client would), so
	// a read may take a second try.
	rows, err := s.HostSteps(ctx, id)
	for try := 1; err != nil && try < 3; try++ {
		t.Logf("read after the restart, try %d: %v", try, err)
		rows, err = s.HostSteps(ctx, id)
	}
	if err != nil {
		t.Fatal(err)
	}
	got := map[key]engine.HostStep{}
	for _, r := range rows {
		got[key{r.Host, r.Step}] = r
	}
	missing := 0
	for k, phase := range acked {
		r, ok := got[k]
		switch {
		case !ok:
			missing++
		case phase == engine.PhaseFinished && (r.Phase != engine.PhaseFinished || r.Result.Status != engine.StepOK):
			t.Errorf("%v acked finished, stored %s %q", k, r.Phase, r.Result.Status)
		}
	}
	if missing > 0 {
		t.Errorf("%d acknowledged writes missing after the crash", missing)
	}
	if len(acked) == 0 {
		t.Fatal("nothing was written before the crash")
	}
	t.Logf("%d acknowledged host-steps present; %d writers saw the crash as an error", len(acked), failed.Load())
	// The writer's connection died with the server; the next write gets a
	// new one.
	if err := s.StartHostStep(ctx, engine.HostStep{RunID: id, Host: "after", Step: "s"}); err != nil {
		t.Errorf("write after the restart: %v", err)
	}
}
