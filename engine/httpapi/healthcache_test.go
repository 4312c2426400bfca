package httpapi

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ripple-ops/ripple/engine"
)

var fixedNow = time.Date(2026, 12, 4, 22, 0, 0, 0, time.UTC)

// slowSource counts its reads and holds each until released.
type slowSource struct {
	reads   atomic.Int32
	entered chan struct{}
	release chan struct{}
	states  []engine.MonitorHostState
}

func (s *slowSource) States() []engine.MonitorHostState {
	if s.reads.Add(1) == 1 {
		close(s.entered)
	}
	<-s.release
	return s.states
}

func (s *slowSource) StatesVersion() uint64 { return 1 }

// TestHealthCacheCountsOnceForConcurrentRequests: requests that arrive
// while the states are being counted wait for that count instead of
// reading the 100,000 states each.
func TestHealthCacheCountsOnceForConcurrentRequests(t *testing.T) {
	src := &slowSource{entered: make(chan struct{}), release: make(chan struct{}),
		states: []engine.MonitorHostState{{Monitor: "m", Host: "h", State: engine.StateCritical, LastAt: fixedNow}}}
	inv := NewInventory(nil)
	var c HealthCache
	c.Now = func() time.Time { return fixedNow }
	const n = 8
	var wg sync.WaitGroup
	got := make([]*Health, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			h, err := c.Get(context.Background(), inv, src, nil)
			if err != nil {
				t.Error(err)
			}
			got[i] = h
		}()
		if i == 0 {
			<-src.entered
		}
	}
	close(src.release)
	wg.Wait()
	if r := src.reads.Load(); r != 1 {
		t.Errorf("%d requests read the states %d times, want once", n, r)
	}
	for i, h := range got {
		if h == nil || h.Total.Of("CRITICAL") != 1 {
			t.Fatalf("request %d: health %+v", i, h)
		}
	}
}

// TestHealthCacheWithoutVersion: a source that cannot say when it
// changed is counted on every request.
func TestHealthCacheWithoutVersion(t *testing.T) {
	src := &countingSource{}
	var c HealthCache
	for range 3 {
		if _, err := c.Get(context.Background(), NewInventory(nil), src, nil); err != nil {
			t.Fatal(err)
		}
	}
	if src.reads != 3 {
		t.Errorf("read %d times for 3 requests, want 3", src.reads)
	}
}

type countingSource struct{ reads int }

func (s *countingSource) States() []engine.MonitorHostState { s.reads++; return nil }

// hostOnlySource can list one host's states but not every state.
type hostOnlySource struct {
	t      *testing.T
	states []engine.MonitorHostState
}

func (s hostOnlySource) States() []engine.MonitorHostState {
	s.t.Error("a host's states read every state")
	return s.states
}

func (s hostOnlySource) HostStates(host string) []engine.MonitorHostState {
	var out []engine.MonitorHostState
	for _, st := range s.states {
		if st.Host == host {
			out = append(out, st)
		}
	}
	return out
}

// TestHostMonitorStatesReadsOneHost: a host's page asks a source that
// can for its host's states alone.
func TestHostMonitorStatesReadsOneHost(t *testing.T) {
	src := hostOnlySource{t: t, states: []engine.MonitorHostState{
		{Monitor: "m", Host: "a", State: engine.StateCritical, LastAt: fixedNow},
		{Monitor: "m", Host: "b", State: engine.StateOK, LastAt: fixedNow},
	}}
	inv := &Inventory{HostMonitors: map[string][]string{"a": {"m"}, "b": {"m"}}}
	got, err := HostMonitorStates(context.Background(), inv, src, nil, "a")
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].Host != "a" || got[0].State != "CRITICAL" {
		t.Errorf("HostMonitorStates(a) = %+v", got)
	}
}
