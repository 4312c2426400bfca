package jobs

import (
	"context"
	"math"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ripple-ops/ripple/definitions"
	"github.com/ripple-ops/ripple/engine"
)

const (
	oidTestC32   = ".1.3.6.1.4.1.99999.1.0"
	oidTestC64   = ".1.3.6.1.4.1.99999.2.0"
	oidTestGauge = "1.3.6.1.4.1.99999.3.0" // without the leading dot on purpose
	oidTestText  = ".1.3.6.1.4.1.99999.4.0"
	oidTestNone  = ".1.3.6.1.4.1.99999.9.0"
)

// testClock is a manual clock for rates.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *testClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func snmpEndpoint() engine.Endpoint {
	return engine.Endpoint{Host: &definitions.Host{Name: "switch-1", Address: "127.0.0.1"}}
}

func snmpCheck(acc *definitions.SNMPAccess, oids ...string) *definitions.HostCheck {
	// Generous: snmpd forks the pass script per OID, slow on a loaded machine.
	return &definitions.HostCheck{Monitor: "m", Kind: definitions.CheckSNMP, Timeout: 10 * time.Second, OIDs: oids, SNMP: acc}
}

func TestSNMPGetV2c(t *testing.T) {
	d := startSNMPD(t)
	d.Set(t, "c32", "1234")
	d.Set(t, "text", " 12.5 ")
	c := NewChecker(CheckerOptions{})
	defer c.Close()

	tests := []struct {
		name   string
		check  func(*definitions.HostCheck)
		oids   []string
		state  engine.CheckState
		output string
		metric []string
	}{
		{name: "ok", oids: []string{oidTestGauge}, state: engine.StateOK, output: "SNMP OK: .1.3.6.1.4.1.99999.3.0 = 42", metric: []string{"value"}},
		{name: "warn above", check: func(h *definitions.HostCheck) { h.WarnAbove = f64(40) }, oids: []string{oidTestGauge}, state: engine.StateWarning, output: "above warning 40"},
		{name: "crit above", check: func(h *definitions.HostCheck) { h.WarnAbove, h.CritAbove = f64(40), f64(41.5) }, oids: []string{oidTestGauge}, state: engine.StateCritical, output: "above critical 41.5"},
		{name: "warn below", check: func(h *definitions.HostCheck) { h.WarnBelow = f64(50) }, oids: []string{oidTestGauge}, state: engine.StateWarning, output: "below warning 50"},
		{name: "crit below", check: func(h *definitions.HostCheck) { h.WarnBelow, h.CritBelow = f64(50), f64(43) }, oids: []string{oidTestGauge}, state: engine.StateCritical},
		{name: "equal is not above", check: func(h *definitions.HostCheck) { h.CritAbove = f64(42) }, oids: []string{oidTestGauge}, state: engine.StateOK},
		{name: "several OIDs", oids: []string{oidTestGauge, oidTestC32, oidTestText}, state: engine.StateOK,
			metric: []string{"value:1.3.6.1.4.1.99999.3.0", "value:1.3.6.1.4.1.99999.1.0", "value:1.3.6.1.4.1.99999.4.0"}},
		{name: "missing OID is unknown", oids: []string{oidTestNone}, state: engine.StateUnknown, output: "noSuch"},
		{name: "one missing of two", oids: []string{oidTestGauge, oidTestNone}, state: engine.StateUnknown, metric: []string{"value:1.3.6.1.4.1.99999.3.0"}},
		{name: "bad OID", oids: []string{"1.3.x"}, state: engine.StateUnknown, output: "not a number"},
		{name: "rate of a gauge", check: func(h *definitions.HostCheck) { h.Rate = true }, oids: []string{oidTestGauge}, state: engine.StateUnknown, output: "rate needs a Counter32 or Counter64, got Gauge32"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			hc := snmpCheck(d.v2c(), tt.oids...)
			if tt.check != nil {
				tt.check(hc)
			}
			res := c.Check(context.Background(), snmpEndpoint(), hc)
			if res.State != tt.state || !strings.Contains(res.Output, tt.output) {
				t.Fatalf("got %v %q, want %v containing %q", res.State, res.Output, tt.state, tt.output)
			}
			if tt.metric != nil {
				var names []string
				for _, m := range res.Metrics {
					names = append(names, m.Name)
				}
				if strings.Join(names, " ") != strings.Join(tt.metric, " ") {
					t.Errorf("metrics %v, want %v", names, tt.metric)
				}
			}
		})
	}

	d.Set(t, "text", "not a number")
	res := c.Check(context.Background(), snmpEndpoint(), snmpCheck(d.v2c(), oidTestText))
	if res.State != engine.StateUnknown || !strings.Contains(res.Output, "is not a number") {
		t.Errorf("non-numeric string: %v %q", res.State, res.Output)
	}

	// A wrong community gets no answer from net-snmp: no response, CRITICAL.
	bad := d.v2c()
	bad.Community = "wrong"
	bad.Timeout, bad.Retries = 200*time.Millisecond, 0
	start := time.Now()
	res = c.Check(context.Background(), snmpEndpoint(), snmpCheck(bad, oidTestGauge))
	if res.State != engine.StateCritical || !strings.Contains(res.Output, "no response") {
		t.Errorf("wrong community: %v %q", res.State, res.Output)
	}
	if time.Since(start) > 5*time.Second {
		t.Errorf("wrong community took %v", time.Since(start))
	}
	if strings.Contains(res.Output, "ripple-test") {
		t.Errorf("output leaks the community: %q", res.Output)
	}
}

func TestSNMPv3Users(t *testing.T) {
	d := startSNMPD(t)
	c := NewChecker(CheckerOptions{})
	defer c.Close()
	for _, u := range testSNMPUsers {
		t.Run(u.Name, func(t *testing.T) {
			for i := range 2 { // the second poll reuses the discovered engine
				res := c.Check(context.Background(), snmpEndpoint(), snmpCheck(d.v3(u), oidTestGauge))
				if res.State != engine.StateOK || len(res.Metrics) != 1 || res.Metrics[0].Value != 42 {
					t.Fatalf("poll %d: %v %q %+v", i, res.State, res.Output, res.Metrics)
				}
			}
		})
	}
	t.Run("wrong auth passphrase", func(t *testing.T) {
		acc := d.v3(testSNMPUsers[0])
		acc.AuthPassphrase = "not-the-pass"
		acc.Timeout, acc.Retries = 300*time.Millisecond, 0
		res := c.Check(context.Background(), snmpEndpoint(), snmpCheck(acc, oidTestGauge))
		if res.State == engine.StateOK {
			t.Fatalf("wrong passphrase accepted: %q", res.Output)
		}
		t.Logf("wrong passphrase: %v %q", res.State, res.Output)
		if strings.Contains(res.Output, "not-the-pass") {
			t.Errorf("output leaks the passphrase: %q", res.Output)
		}
	})
	t.Run("unknown protocol", func(t *testing.T) {
		acc := d.v3(testSNMPUsers[0])
		acc.AuthProtocol = "SHA3"
		res := c.Check(context.Background(), snmpEndpoint(), snmpCheck(acc, oidTestGauge))
		if res.State != engine.StateUnknown || !strings.Contains(res.Output, "SHA3") {
			t.Errorf("got %v %q", res.State, res.Output)
		}
	})
	if n := len(c.snmp.targets); n != len(testSNMPUsers)+2 {
		t.Errorf("%d SNMP clients, want one per user and profile (%d)", n, len(testSNMPUsers)+2)
	}

	// A restarted agent (new engine boots): the cached client is refused,
	// and the check retries at once with a fresh discovery.
	d.restart(t)
	res := c.Check(context.Background(), snmpEndpoint(), snmpCheck(d.v3(testSNMPUsers[1]), oidTestGauge))
	if res.State != engine.StateOK {
		t.Errorf("first poll after agent restart: %v %q", res.State, res.Output)
	}
}

func TestSNMPRate(t *testing.T) {
	d := startSNMPD(t)
	clock := &testClock{t: time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)}
	c := NewChecker(CheckerOptions{Now: clock.Now})
	defer c.Close()

	poll := func(t *testing.T, acc *definitions.SNMPAccess, oid string, c32, c64, uptime uint64) engine.CheckResult {
		monitor := t.Name() // a series per subtest
		t.Helper()
		d.Set(t, "c32", strconv.FormatUint(c32, 10))
		d.Set(t, "c64", strconv.FormatUint(c64, 10))
		d.Set(t, "uptime", strconv.FormatUint(uptime, 10))
		hc := snmpCheck(acc, oid)
		hc.Monitor, hc.Rate = monitor, true
		hc.WarnAbove, hc.CritAbove = f64(1000), f64(5000)
		return c.Check(context.Background(), snmpEndpoint(), hc)
	}
	wantRate := func(t *testing.T, res engine.CheckResult, want float64, state engine.CheckState) {
		t.Helper()
		if res.State != state || len(res.Metrics) != 1 || res.Metrics[0].Name != "rate" || res.Metrics[0].Unit != "/s" ||
			math.Abs(res.Metrics[0].Value-want) > 1e-9 {
			t.Fatalf("got %v %q %+v, want %v rate %v", res.State, res.Output, res.Metrics, state, want)
		}
	}
	wantNoRate := func(t *testing.T, res engine.CheckResult, why string) {
		t.Helper()
		if res.State != engine.StateOK || len(res.Metrics) != 0 || !strings.Contains(res.Output, why) {
			t.Fatalf("got %v %q %+v, want OK without a metric, saying %q", res.State, res.Output, res.Metrics, why)
		}
	}

	for _, tc := range []struct {
		name string
		oid  string
		max  uint64 // counter range - 1
		acc  *definitions.SNMPAccess
	}{
		{name: "Counter32 v2c", oid: oidTestC32, max: math.MaxUint32, acc: d.v2c()},
		{name: "Counter64 v2c", oid: oidTestC64, max: math.MaxUint64, acc: d.v2c()},
		{name: "Counter64 v3", oid: oidTestC64, max: math.MaxUint64, acc: d.v3(testSNMPUsers[1])},
	} {
		t.Run(tc.name, func(t *testing.T) {
			base := tc.max - 5000 // close to the wrap
			up := uint64(500000)
			wantNoRate(t, poll(t, tc.acc, tc.oid, base, base, up), "first counter sample")

			clock.Advance(10 * time.Second)
			up += 1000
			wantRate(t, poll(t, tc.acc, tc.oid, base+1000, base+1000, up), 100, engine.StateOK)

			// Wrap: from max-4000 to 5999 is 10000 counts in 10 s.
			clock.Advance(10 * time.Second)
			up += 1000
			wantRate(t, poll(t, tc.acc, tc.oid, 5999, 5999, up), 1000, engine.StateOK)

			clock.Advance(5 * time.Second)
			up += 500
			wantRate(t, poll(t, tc.acc, tc.oid, 5999+10000, 5999+10000, up), 2000, engine.StateWarning)

			// Reboot: sysUpTime goes down, the counter restarts low. No spike.
			clock.Advance(10 * time.Second)
			wantNoRate(t, poll(t, tc.acc, tc.oid, 300, 300, 200), "counter reset")

			clock.Advance(10 * time.Second)
			wantRate(t, poll(t, tc.acc, tc.oid, 300+60000, 300+60000, 1200), 6000, engine.StateCritical)

			// Counters cleared without a reboot: a drop that would mean more
			// than half the range passed is a discontinuity, not a wrap.
			clock.Advance(10 * time.Second)
			wantNoRate(t, poll(t, tc.acc, tc.oid, 7, 7, 2200), "discontinuity")
		})
	}

	// Rate state is per (monitor, host, oid): another monitor starts fresh.
	hc := snmpCheck(d.v2c(), oidTestC32)
	hc.Monitor, hc.Rate = "other", true
	wantNoRate(t, c.Check(context.Background(), snmpEndpoint(), hc), "first counter sample")
}

func TestSNMPConcurrentPollsShareOneClient(t *testing.T) {
	d := startSNMPD(t)
	d.Set(t, "c32", "77")
	c := NewChecker(CheckerOptions{})
	defer c.Close()
	var wg sync.WaitGroup
	errs := make(chan string, 64)
	for i := range 32 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			oid, want := oidTestGauge, 42.0
			if i%2 == 1 {
				oid, want = oidTestC32, 77
			}
			acc := d.v2c()
			if i%4 >= 2 {
				acc = d.v3(testSNMPUsers[0])
			}
			hc := snmpCheck(acc, oid)
			hc.Timeout = time.Minute // includes waiting for the target's client
			res := c.Check(context.Background(), snmpEndpoint(), hc)
			if res.State != engine.StateOK || len(res.Metrics) != 1 || res.Metrics[0].Value != want {
				errs <- res.State.String() + " " + res.Output
			}
		}()
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
	if n := len(c.snmp.targets); n != 2 {
		t.Errorf("%d clients, want 2 (one per target profile)", n)
	}
}

func TestSNMPNoAgent(t *testing.T) {
	port := freeUDPPort(t) // nothing listens there
	c := NewChecker(CheckerOptions{})
	acc := &definitions.SNMPAccess{Address: "127.0.0.1", Port: port, Version: "2c", Community: "x", Timeout: 100 * time.Millisecond, Retries: 1}
	start := time.Now()
	res := c.Check(context.Background(), snmpEndpoint(), snmpCheck(acc, oidTestGauge))
	if res.State != engine.StateCritical {
		t.Errorf("no agent: %v %q, want CRITICAL", res.State, res.Output)
	}
	if time.Since(start) > 5*time.Second {
		t.Errorf("took %v", time.Since(start))
	}
	res = c.Check(context.Background(), snmpEndpoint(), &definitions.HostCheck{Kind: definitions.CheckSNMP, OIDs: []string{oidTestGauge}})
	if res.State != engine.StateUnknown {
		t.Errorf("no profile: %v %q", res.State, res.Output)
	}
}

func TestSNMPManyOIDsAreChunked(t *testing.T) {
	d := startSNMPD(t)
	c := NewChecker(CheckerOptions{})
	defer c.Close()
	// More OIDs than one request may carry (gosnmp.MaxOids = 60): the
	// gauge plus sysORUpTime.1..70 (a few rows exist, the rest do not).
	oids := []string{oidTestGauge}
	for i := 1; i <= 70; i++ {
		oids = append(oids, ".1.3.6.1.2.1.1.9.1.4."+strconv.Itoa(i))
	}
	res := c.Check(context.Background(), snmpEndpoint(), snmpCheck(d.v2c(), oids...))
	if strings.Contains(res.Output, "MaxOids") {
		t.Fatalf("not chunked: %q", res.Output)
	}
	found := false
	for _, m := range res.Metrics {
		if m.Name == "value:1.3.6.1.4.1.99999.3.0" && m.Value == 42 {
			found = true
		}
	}
	if !found || len(res.Metrics) < 2 || res.State != engine.StateUnknown {
		t.Errorf("got %v %q (%d metrics)", res.State, res.Output, len(res.Metrics))
	}
}
