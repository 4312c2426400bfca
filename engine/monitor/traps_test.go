package monitor

import (
	"context"
	"fmt"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"testing/fstest"
	"time"

	"github.com/ripple-ops/ripple/definitions"
	"github.com/ripple-ops/ripple/engine"
	"github.com/ripple-ops/ripple/engine/enginetest"
)

const trapRepo = `
snmp "sw-v2" {
  version   = "2c"
  community = env("COMMUNITY")
}
snmp "other" {
  version   = "2c"
  community = env("OTHER")
}
host "sw-01" {
  address = "192.0.2.1"
  groups  = ["switch"]
  snmp    = "sw-v2"
}
host "sw-02" {
  address = "192.0.2.2"
  groups  = ["switch"]
  snmp    = "sw-v2"
}
host "srv-01" {
  address = "192.0.2.9"
  groups  = ["server"]
}
notifier "webhook" "ops" {
  url = env("OPS_URL")
}
trap "link-down" {
  targets { groups = ["switch"] }
  oid     = "1.3.6.1.6.3.1.1.5.3"
  clear   = "1.3.6.1.6.3.1.1.5.4"
  message = "link down: ${trap.varbinds["1.3.6.1.2.1.2.2.1.2"]}"
  notify  = ["ops"]
}
trap "cold-start" {
  targets { groups = ["switch"] }
  oid         = "1.3.6.1.6.3.1.1.5.1"
  state       = "WARNING"
  clear_after = "10m"
  notify      = ["ops"]
}
`

const (
	linkDown  = "1.3.6.1.6.3.1.1.5.3"
	linkUp    = "1.3.6.1.6.3.1.1.5.4"
	coldStart = "1.3.6.1.6.3.1.1.5.1"
)

func swTrap(addr, oid string, profiles ...string) engine.Trap {
	if profiles == nil {
		profiles = []string{"sw-v2"}
	}
	return engine.Trap{Source: netip.MustParseAddr(addr), Version: "2c", Profiles: profiles, OID: oid,
		Varbinds: []definitions.TrapVarbind{{OID: "1.3.6.1.2.1.2.2.1.1.3", Value: "3"}, {OID: "1.3.6.1.2.1.2.2.1.2.3", Value: "Gi0/3"}}}
}

type trapEnv struct {
	t     *testing.T
	r     *Runner
	store *enginetest.MemStore
	notes *recordedNotes
}

// manualClock moves only when told to.
type manualClock struct {
	mu sync.Mutex
	t  time.Time
}

func newManualClock(t time.Time) *manualClock { return &manualClock{t: t} }

func (c *manualClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *manualClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func fstestMap(src string) fstest.MapFS { return fstest.MapFS{"main.hcl": {Data: []byte(src)}} }

func newTrapEnv(t *testing.T, opts Options) *trapEnv {
	t.Helper()
	e := &trapEnv{t: t, store: enginetest.NewMemStore(), notes: &recordedNotes{}}
	if opts.Notifications == nil {
		opts.Notifications = e.notes
	}
	opts.States, opts.Results = e.store, StoreResultSink{States: e.store}
	e.r = New(opts)
	if err := e.r.ApplyConfig(context.Background(), loadMonitors(t, trapRepo, time.Minute)); err != nil {
		t.Fatal(err)
	}
	startRunner(t, e.r)
	return e
}

func (e *trapEnv) state(monitor, host string) engine.MonitorHostState {
	e.t.Helper()
	for _, s := range e.r.States() {
		if s.Monitor == monitor && s.Host == host {
			return s
		}
	}
	e.t.Fatalf("no state of %s on %s", monitor, host)
	return engine.MonitorHostState{}
}

func (e *trapEnv) stored(monitor, host string) (engine.MonitorRecord, bool) {
	recs, _ := e.store.MonitorStates(context.Background())
	for _, r := range recs {
		if r.Monitor == monitor && r.Host == host {
			return r, true
		}
	}
	return engine.MonitorRecord{}, false
}

func TestTrapSetsAndClearsState(t *testing.T) {
	e := newTrapEnv(t, Options{})
	ctx := context.Background()
	if s := e.state("link-down", "sw-01"); s.State != engine.StateOK || s.LastOutput != "no trap received" {
		t.Errorf("before any trap: %s %q", s.State, s.LastOutput)
	}
	e.r.ReceiveTrap(ctx, swTrap("192.0.2.1", linkDown))
	if s := e.state("link-down", "sw-01"); s.State != engine.StateCritical || s.LastOutput != "link down: Gi0/3" {
		t.Errorf("after linkDown: %s %q", s.State, s.LastOutput)
	}
	if s := e.state("link-down", "sw-02"); s.State != engine.StateOK {
		t.Errorf("sw-02 after sw-01's linkDown: %s", s.State)
	}
	eventually(t, "the alert", func() bool { return len(e.notes.list()) == 1 })
	eventually(t, "the state saved", func() bool {
		r, ok := e.stored("link-down", "sw-01")
		return ok && r.State == engine.StateCritical && r.Notified
	})
	n := e.notes.list()[0]
	if n.Kind != engine.NotifyAlert || n.Host != "sw-01" || n.State != engine.StateCritical || n.Message != "link down: Gi0/3" {
		t.Errorf("alert = %+v", n)
	}
	// Another linkDown changes nothing to send.
	e.r.ReceiveTrap(ctx, swTrap("192.0.2.1", linkDown))
	e.r.ReceiveTrap(ctx, swTrap("192.0.2.1", linkUp))
	eventually(t, "the recovery", func() bool { return len(e.notes.list()) == 2 })
	if n := e.notes.list()[1]; n.Kind != engine.NotifyRecovery || n.State != engine.StateOK || !strings.Contains(n.Message, "cleared by trap "+linkUp) {
		t.Errorf("recovery = %+v", n)
	}
	if c := e.r.TrapReport().Counts; c.Matched != 3 || c.UnknownSource+c.Unmatched+c.RateLimited+c.WrongProfile != 0 {
		t.Errorf("counts = %+v", c)
	}
}

func TestUnknownTrapsAreListedNeverAlerted(t *testing.T) {
	e := newTrapEnv(t, Options{})
	ctx := context.Background()
	e.r.ReceiveTrap(ctx, swTrap("198.51.100.7", linkDown)) // no such host
	e.r.ReceiveTrap(ctx, swTrap("198.51.100.7", linkDown))
	e.r.ReceiveTrap(ctx, swTrap("192.0.2.1", "1.3.6.1.4.1.9.9.41.2.0.1")) // no block for the OID
	e.r.ReceiveTrap(ctx, swTrap("192.0.2.9", linkDown, "other"))          // srv-01: no trap block targets it
	e.r.ReceiveTrap(ctx, swTrap("192.0.2.2", linkDown, "other"))          // sw-02's profile is sw-v2
	time.Sleep(50 * time.Millisecond)
	if n := e.notes.list(); len(n) != 0 {
		t.Errorf("notifications for unknown traps: %+v", n)
	}
	for _, s := range e.r.States() {
		if s.State != engine.StateOK {
			t.Errorf("%s on %s is %s", s.Monitor, s.Host, s.State)
		}
	}
	rep := e.r.TrapReport()
	if c := rep.Counts; c.UnknownSource != 2 || c.Unmatched != 2 || c.WrongProfile != 1 || c.Matched != 0 {
		t.Errorf("counts = %+v", c)
	}
	got := map[string]engine.UnknownTrap{}
	for _, u := range rep.Unknown {
		got[u.Source+" "+u.OID] = u
	}
	if u := got["198.51.100.7 "+linkDown]; u.Count != 2 || u.Reason != "unknown source" || u.Host != "" || len(u.Varbinds) != 2 {
		t.Errorf("unknown source = %+v", u)
	}
	if u := got["192.0.2.1 1.3.6.1.4.1.9.9.41.2.0.1"]; u.Count != 1 || u.Reason != "no trap block" || u.Host != "sw-01" {
		t.Errorf("unmatched = %+v", u)
	}
	if len(rep.Unknown) != 3 {
		t.Errorf("unknown list = %+v", rep.Unknown)
	}
}

func TestTrapClearAfter(t *testing.T) {
	clock := newManualClock(time.Date(2026, 11, 29, 10, 0, 0, 0, time.UTC))
	e := newTrapEnv(t, Options{Now: clock.Now})
	e.r.ReceiveTrap(context.Background(), swTrap("192.0.2.2", coldStart))
	if s := e.state("cold-start", "sw-02"); s.State != engine.StateWarning {
		t.Fatalf("after coldStart: %s", s.State)
	}
	clock.Advance(9 * time.Minute)
	e.r.signal()
	time.Sleep(20 * time.Millisecond)
	if s := e.state("cold-start", "sw-02"); s.State != engine.StateWarning {
		t.Fatalf("9 minutes later: %s", s.State)
	}
	clock.Advance(2 * time.Minute)
	e.r.signal()
	eventually(t, "the clear", func() bool { return e.state("cold-start", "sw-02").State == engine.StateOK })
	if s := e.state("cold-start", "sw-02"); s.LastOutput != "cleared: no trap "+coldStart+" for 10m0s" {
		t.Errorf("output = %q", s.LastOutput)
	}
	eventually(t, "alert and recovery", func() bool { return len(e.notes.list()) == 2 })
}

// A restarted daemon re-arms clear_after from the stored state.
func TestTrapClearAfterSurvivesRestart(t *testing.T) {
	clock := newManualClock(time.Date(2026, 11, 29, 10, 0, 0, 0, time.UTC))
	store := enginetest.NewMemStore()
	rec := engine.MonitorRecord{Monitor: "cold-start", Host: "sw-01", State: engine.StateWarning, Firing: true, Notified: true,
		Since: clock.Now(), LastAt: clock.Now(), LastOutput: "trap " + coldStart}
	if err := store.SaveMonitorState(context.Background(), rec); err != nil {
		t.Fatal(err)
	}
	notes := &recordedNotes{}
	r := New(Options{Now: clock.Now, States: store, Results: StoreResultSink{States: store}, Notifications: notes})
	if err := r.ApplyConfig(context.Background(), loadMonitors(t, trapRepo, time.Minute)); err != nil {
		t.Fatal(err)
	}
	startRunner(t, r)
	clock.Advance(11 * time.Minute)
	r.signal()
	eventually(t, "the recovery after the restart", func() bool {
		n := notes.list()
		return len(n) == 1 && n[0].Kind == engine.NotifyRecovery && n[0].Host == "sw-01"
	})
}

// TestTrapFloodIsRateLimited: 10,000 traps from one flapping source are
// counted, not acted on one by one; the notifiers get a handful at most
// (then the state is flapping), and the state ends where the device left
// it.
func TestTrapFloodIsRateLimited(t *testing.T) {
	e := newTrapEnv(t, Options{TrapRate: 20, TrapBurst: 10})
	ctx := context.Background()
	for i := range 10000 {
		oid := linkDown
		if i%2 == 1 {
			oid = linkUp
		}
		e.r.ReceiveTrap(ctx, swTrap("192.0.2.1", oid))
	}
	e.r.ReceiveTrap(ctx, swTrap("192.0.2.2", linkDown)) // another source is not held back
	if s := e.state("link-down", "sw-02"); s.State != engine.StateCritical {
		t.Errorf("sw-02 = %s, held back by sw-01's flood", s.State)
	}
	c := e.r.TrapReport().Counts
	if c.RateLimited < 9900 || c.Matched+c.RateLimited != 10001 {
		t.Errorf("counts = %+v", c)
	}
	// The last trap of each OID is acted on once the source is under its
	// limit: linkDown, then linkUp; the state ends OK.
	eventually(t, "the flood's last trap applied", func() bool {
		return e.r.TrapReport().Counts.Matched == c.Matched+2 && e.state("link-down", "sw-01").State == engine.StateOK
	})
	time.Sleep(100 * time.Millisecond)
	var sw01 int
	for _, n := range e.notes.list() {
		if n.Host == "sw-01" {
			sw01++
		}
	}
	if sw01 > 4 {
		t.Errorf("%d notifications for sw-01's flood, want a handful", sw01)
	}
}

// Two nodes receive the same traps (the device sends to both): one alert,
// one recovery.
func TestTrapToTwoNodesAlertsOnce(t *testing.T) {
	cl := &claims{last: map[[2]string]claim{}}
	a := newTrapEnv(t, Options{Claims: cl.node("a")})
	b := newTrapEnv(t, Options{Claims: cl.node("b")})
	ctx := context.Background()
	count := func() (alerts, recoveries int) {
		for _, n := range append(a.notes.list(), b.notes.list()...) {
			if n.Kind == engine.NotifyAlert {
				alerts++
			} else {
				recoveries++
			}
		}
		return
	}
	var wg sync.WaitGroup
	for _, env := range []*trapEnv{a, b} {
		wg.Go(func() { env.r.ReceiveTrap(ctx, swTrap("192.0.2.1", linkDown)) })
	}
	wg.Wait()
	eventually(t, "an alert", func() bool { al, _ := count(); return al >= 1 })
	// Both nodes handled the linkDown before the linkUp comes (the claims
	// order transitions by kind: an alert sent after the recovery was
	// claimed would open the alert again).
	for _, env := range []*trapEnv{a, b} {
		eventually(t, "the linkDown saved on both nodes", func() bool {
			r, ok := env.stored("link-down", "sw-01")
			return ok && r.State == engine.StateCritical
		})
	}
	time.Sleep(50 * time.Millisecond)
	for _, env := range []*trapEnv{a, b} {
		env.r.ReceiveTrap(ctx, swTrap("192.0.2.1", linkUp))
	}
	eventually(t, "a recovery", func() bool { _, rec := count(); return rec >= 1 })
	time.Sleep(100 * time.Millisecond)
	if al, rec := count(); al != 1 || rec != 1 {
		t.Errorf("%d alerts and %d recoveries from two nodes, want 1 and 1", al, rec)
	}
}

// BenchmarkReceiveTrap: traps handled per second, each matched to its
// host and trap block and changing the state (linkDown and linkUp from
// 200 switches in turn, under the rate limit).
func BenchmarkReceiveTrap(b *testing.B) {
	var src strings.Builder
	src.WriteString("snmp \"v2\" {\n  version = \"2c\"\n  community = env(\"C\")\n}\n")
	for i := range 200 {
		fmt.Fprintf(&src, "host \"sw-%03d\" {\n  address = \"10.1.%d.%d\"\n  groups = [\"switch\"]\n  snmp = \"v2\"\n}\n", i, i/250, i%250+1)
	}
	src.WriteString(`trap "link-down" {
  targets { groups = ["switch"] }
  oid     = "1.3.6.1.6.3.1.1.5.3"
  clear   = "1.3.6.1.6.3.1.1.5.4"
  message = "link down: ${trap.varbinds["1.3.6.1.2.1.2.2.1.2"]}"
}
`)
	defs, diags := definitions.Load(fstestMap(src.String()), "", definitions.Limits{})
	if diags.HasErrors() {
		b.Fatal(diags.Error())
	}
	store := enginetest.NewMemStore()
	r := New(Options{States: store, Results: StoreResultSink{States: store}, TrapRate: 1e9, TrapBurst: 1 << 30})
	if err := r.ApplyConfig(context.Background(), defs); err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = r.Run(ctx) }()
	traps := make([]engine.Trap, 400)
	for i := range traps {
		oid := linkDown
		if i >= 200 {
			oid = linkUp
		}
		traps[i] = engine.Trap{Source: netip.AddrFrom4([4]byte{10, 1, byte((i % 200) / 250), byte(i%200%250 + 1)}), Version: "2c",
			Profiles: []string{"v2"}, OID: oid, Varbinds: []definitions.TrapVarbind{{OID: "1.3.6.1.2.1.2.2.1.2.7", Value: "Gi0/7"}}}
	}
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		r.ReceiveTrap(ctx, traps[i%len(traps)])
	}
	b.StopTimer()
	if c := r.TrapReport().Counts; c.Matched != uint64(b.N) {
		b.Fatalf("matched %d of %d", c.Matched, b.N)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "traps/s")
	cancel()
	<-done
}
