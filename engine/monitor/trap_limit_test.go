package monitor

import (
	"fmt"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/ripple-ops/ripple/definitions"
	"github.com/ripple-ops/ripple/engine"
)

// Traps kept for later are bounded in bytes over all sources: spoofed
// sources flooding large traps keep at most maxDeferredBytes, and what
// release hands back frees its share.
func TestTrapLimiterBoundsKeptBytes(t *testing.T) {
	l := newTrapLimiter(1, 1)
	now := time.Unix(1_700_000_000, 0)
	big := strings.Repeat("v", 60<<10)
	kept := 0
	for src := range 200 {
		addr := netip.AddrFrom4([4]byte{10, 9, byte(src / 250), byte(src%250 + 1)})
		for oid := range maxDeferredPerSource + 2 {
			tr := engine.Trap{Source: addr, OID: fmt.Sprintf("1.3.6.1.4.1.9.%d", oid), At: now,
				Varbinds: []definitions.TrapVarbind{{OID: "1.3.6.1.2.1.1.5.0", Value: big}}}
			if !l.allow(tr, now) {
				kept++
			}
		}
		if l.deferred > maxDeferredBytes {
			t.Fatalf("%d bytes kept after %d sources, bound %d", l.deferred, src+1, maxDeferredBytes)
		}
	}
	if l.deferred < maxDeferredBytes-(64<<10) {
		t.Errorf("only %d bytes kept of %d: the bound was not reached", l.deferred, maxDeferredBytes)
	}
	out := l.release(now.Add(time.Hour))
	if len(out) == 0 || l.deferred >= maxDeferredBytes-(64<<10) {
		t.Errorf("release handed back %d traps and %d bytes stay kept", len(out), l.deferred)
	}
	total := 0
	for _, b := range l.sources {
		for _, tr := range b.deferred {
			total += trapSize(tr)
		}
	}
	if total != l.deferred {
		t.Errorf("accounted %d bytes, %d kept", l.deferred, total)
	}
}
