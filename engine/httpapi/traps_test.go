package httpapi

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/ripple-ops/ripple/engine"
)

type fakeTraps engine.TrapReport

func (f fakeTraps) TrapReport() engine.TrapReport { return engine.TrapReport(f) }

// TestTrapsEndpoint: GET /api/v1/traps shows viewers the receiver's
// address, its counts and the traps that matched nothing; without a
// receiver it says so with an empty address and list.
func TestTrapsEndpoint(t *testing.T) {
	f := newFixture(t, nil)
	code, body := f.do(t, "GET", "/api/v1/traps", viewerToken, "")
	var none engine.TrapReport
	if err := json.Unmarshal([]byte(body), &none); code != 200 || err != nil || none.Listen != "" || none.Unknown == nil || len(none.Unknown) != 0 {
		t.Errorf("no receiver: %d %s %v", code, body, err)
	}
	at := time.Date(2026, 12, 4, 20, 0, 0, 0, time.UTC)
	f.h.opts.Traps = fakeTraps{Listen: "127.0.0.1:1162", Counts: engine.TrapCounts{Matched: 2, UnknownSource: 1, Rejected: 3},
		Unknown: []engine.UnknownTrap{{Source: "127.0.0.99", OID: "1.3.6.1.6.3.1.1.5.3", Version: "2c", Reason: "unknown source", Count: 1, First: at, Last: at}}}
	code, body = f.do(t, "GET", "/api/v1/traps", viewerToken, "")
	var rep engine.TrapReport
	if err := json.Unmarshal([]byte(body), &rep); code != 200 || err != nil || rep.Listen != "127.0.0.1:1162" ||
		rep.Counts.UnknownSource != 1 || rep.Counts.Rejected != 3 || len(rep.Unknown) != 1 || rep.Unknown[0].Source != "127.0.0.99" {
		t.Errorf("traps: %d %s %v", code, body, err)
	}
	if code, _ := f.do(t, "GET", "/api/v1/traps", "", ""); code != 401 {
		t.Errorf("without a token: %d", code)
	}
}
