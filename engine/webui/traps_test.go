package webui

import (
	"strings"
	"testing"
	"time"

	"github.com/ripple-ops/ripple/definitions"
	"github.com/ripple-ops/ripple/engine"
)

type fakeTraps engine.TrapReport

func (f fakeTraps) TrapReport() engine.TrapReport { return engine.TrapReport(f) }

// TestOverviewShowsTraps: while the daemon receives traps, the overview
// shows its address, the counts and the traps no trap block matched with
// their varbinds (escaped); without a receiver it shows nothing of it.
func TestOverviewShowsTraps(t *testing.T) {
	at := time.Now().Add(-time.Minute)
	rep := fakeTraps{Listen: "0.0.0.0:162", Counts: engine.TrapCounts{Matched: 12, UnknownSource: 3, Rejected: 2},
		Unknown: []engine.UnknownTrap{{Source: "192.0.2.99", OID: "1.3.6.1.6.3.1.1.5.3", Version: "2c", Reason: "unknown source", Count: 3, First: at, Last: at,
			Varbinds: []definitions.TrapVarbind{{OID: "1.3.6.1.2.1.2.2.1.2.3", Value: "<script>Gi0/3"}}}}}
	f := newFixture(t, func(o *Options) { o.Traps = rep })
	_, body, _ := f.get(t, "/", viewerToken)
	for _, want := range []string{`<span class="mono">0.0.0.0:162</span>: 12 matched`, "3 unknown source", "2 rejected",
		`<tr data-source="192.0.2.99"><td class="mono">192.0.2.99</td><td><span class="dim">none</span></td><td class="mono">1.3.6.1.6.3.1.1.5.3</td>`,
		"1.3.6.1.2.1.2.2.1.2.3 = &lt;script&gt;Gi0/3"} {
		if !strings.Contains(body, want) {
			t.Errorf("the overview lacks %q", want)
		}
	}
	f = newFixture(t, func(o *Options) { o.Traps = fakeTraps{} })
	if _, body, _ := f.get(t, "/", viewerToken); strings.Contains(body, `id="traps"`) {
		t.Error("a daemon without --trap-listen shows a trap panel")
	}
}
