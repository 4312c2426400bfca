package webui

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/ripple-ops/ripple/engine"
	"github.com/ripple-ops/ripple/engine/httpapi"
)

// versionedMonitors is a monitor source that says when it changed, as
// the daemon's runner does.
type versionedMonitors struct {
	mu      sync.Mutex
	states  []engine.MonitorHostState
	version uint64
}

func (v *versionedMonitors) States() []engine.MonitorHostState {
	v.mu.Lock()
	defer v.mu.Unlock()
	return append([]engine.MonitorHostState(nil), v.states...)
}

// HostStates is one host's states, as the runner lists them for a host's
// page.
func (v *versionedMonitors) HostStates(host string) []engine.MonitorHostState {
	v.mu.Lock()
	defer v.mu.Unlock()
	var out []engine.MonitorHostState
	for _, s := range v.states {
		if s.Host == host {
			out = append(out, s)
		}
	}
	return out
}

func (v *versionedMonitors) StatesVersion() uint64 {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.version
}

// set changes host's state of monitor; bump says whether the version
// tells (a result of this node) or not (one another node saved).
func (v *versionedMonitors) set(monitor, host string, st engine.CheckState, bump bool) {
	v.mu.Lock()
	defer v.mu.Unlock()
	for i := range v.states {
		if v.states[i].Monitor == monitor && v.states[i].Host == host {
			v.states[i].State = st
		}
	}
	if bump {
		v.version++
	}
}

// TestIndexPagesShowAStateChange: the host and monitor pages count the
// monitor states once for many renders, yet show a change the source
// reports at the next render, and one it does not report (a state
// another cluster node saved) within httpapi.HealthMaxAge.
func TestIndexPagesShowAStateChange(t *testing.T) {
	var mons *versionedMonitors
	var clockMu sync.Mutex
	now := time.Now()
	clock := func() time.Time {
		clockMu.Lock()
		defer clockMu.Unlock()
		return now
	}
	f := newFixture(t, func(o *Options) {
		mons = &versionedMonitors{states: o.Monitors.(fakeMonitors)}
		o.Monitors, o.Now = mons, clock
	})
	problems := func(want ...string) {
		t.Helper()
		code, body, _ := f.get(t, "/hosts?state=problem", viewerToken)
		if code != 200 {
			t.Fatalf("/hosts?state=problem: %d\n%s", code, body)
		}
		if diff := cmp.Diff(want, rowsOf(body, "hosts", "host")); diff != "" {
			t.Errorf("/hosts?state=problem (-want +got):\n%s", diff)
		}
		code, body, _ = f.get(t, "/monitors?state=CRITICAL", viewerToken)
		if code != 200 {
			t.Fatalf("/monitors?state=CRITICAL: %d\n%s", code, body)
		}
		// web-07 is WARNING, the others CRITICAL.
		if crit := fmt.Sprintf("%d CRITICAL</span>", len(want)-1); !strings.Contains(body, crit) {
			t.Errorf("/monitors?state=CRITICAL lacks %q", crit)
		}
	}
	problems("web-04", "web-07")

	mons.set("web-http", "web-09", engine.StateCritical, true)
	problems("web-04", "web-07", "web-09")

	// Another node's result: no version tells of it.
	mons.set("web-http", "web-09", engine.StateOK, false)
	problems("web-04", "web-07", "web-09")
	clockMu.Lock()
	now = now.Add(httpapi.HealthMaxAge)
	clockMu.Unlock()
	problems("web-04", "web-07")
}
