package monitor

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/ripple-ops/ripple/definitions"
	"github.com/ripple-ops/ripple/engine"
	"github.com/ripple-ops/ripple/engine/enginetest"
)

// depsRepo: a switch (polled over SNMP, its connectivity monitor
// sw-snmp) in front of two app hosts, each with an SSH connectivity
// monitor (host-ssh), an app check depending on it, and a disk check.
const depsRepo = `
credential "default" {
  user  = "ops"
  agent = true
}
snmp "v2" {
  version   = "2c"
  community = env("C")
}
host "sw-01" {
  address = "10.0.0.1"
  snmp    = "v2"
  groups  = ["switch"]
}
host "app-01" {
  address = "10.0.1.1"
  groups  = ["app"]
  parents = ["sw-01"]
}
host "app-02" {
  address = "10.0.1.2"
  groups  = ["app"]
  parents = ["sw-01"]
}
notifier "webhook" "pager" { url = env("U") }
monitor "sw-snmp" {
  targets { groups = ["switch"] }
  check "snmp" { oid = "1.3.6.1.2.1.1.3.0" }
  connectivity = true
  notify       = ["pager"]
}
monitor "host-ssh" {
  targets { groups = ["app"] }
  check "command" { run = "true" }
  connectivity = true
  notify       = ["pager"]
}
monitor "app" {
  targets { groups = ["app"] }
  check "command" { run = "check_app" }
  depends_on = ["host-ssh"]
  severity   = "warning"
  labels     = { team = "app" }
  runbook    = "restart-app"
  notify     = ["pager"]
}
monitor "disk" {
  targets { groups = ["app"] }
  check "command" { run = "check_disk" }
  notify = ["pager"]
}
job "restart-app" {
  targets { groups = ["app"] }
  step "restart" { run = "systemctl restart app" }
}
`

// pairChecker answers each (monitor, host) as set, OK by default, and
// counts calls.
type pairChecker struct {
	mu    sync.Mutex
	res   map[string]engine.CheckResult // "monitor/host"
	calls map[string]int
}

func newPairChecker() *pairChecker {
	return &pairChecker{res: map[string]engine.CheckResult{}, calls: map[string]int{}}
}

func (c *pairChecker) Check(_ context.Context, ep engine.Endpoint, hc *definitions.HostCheck) engine.CheckResult {
	c.mu.Lock()
	defer c.mu.Unlock()
	k := hc.Monitor + "/" + ep.Host.Name
	c.calls[k]++
	r := c.res[k]
	r.At = time.Now()
	if r.Output == "" {
		r.Output = r.State.String()
	}
	return r
}

func (c *pairChecker) set(key string, r engine.CheckResult) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.res[key] = r
}

func (c *pairChecker) count(key string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.calls[key]
}

// unreachable is what an SSH check sees when sshd is gone.
var unreachable = engine.CheckResult{State: engine.StateUnknown, Output: "could not run command: host unreachable", Unreachable: true}

func crit(out string) engine.CheckResult {
	return engine.CheckResult{State: engine.StateCritical, Output: out}
}

// envSecrets resolves env() from a map.
type envSecrets map[string]string

func (s envSecrets) Env(name string) (string, bool) { v, ok := s[name]; return v, ok }
func (envSecrets) ReadFile(path string, _ []definitions.ProtectedFile) ([]byte, error) {
	return nil, errors.New("no files here: " + path)
}

var depsSecrets = envSecrets{"C": "public", "U": "http://127.0.0.1:1/hook"}

func newDepsRunner(t *testing.T, interval time.Duration, opts Options) (*Runner, *pairChecker, *recordedNotes) {
	t.Helper()
	chk := newPairChecker()
	notes := &recordedNotes{}
	opts.Checker, opts.Notifications, opts.Secrets = chk, notes, depsSecrets
	r := New(opts)
	if err := r.ApplyConfig(context.Background(), loadMonitors(t, depsRepo, interval)); err != nil {
		t.Fatal(err)
	}
	return r, chk, notes
}

func alertsOf(notes *recordedNotes, kind engine.NotificationKind) []string {
	var out []string
	for _, n := range notes.list() {
		if n.Kind == kind {
			out = append(out, n.Monitor+"@"+n.Host)
		}
	}
	return out
}

// waitChecks waits until every key was checked n more times than now.
func waitChecks(t *testing.T, chk *pairChecker, n int, keys ...string) {
	t.Helper()
	start := map[string]int{}
	for _, k := range keys {
		start[k] = chk.count(k)
	}
	for _, k := range keys {
		eventually(t, "more checks of "+k, func() bool { return chk.count(k) >= start[k]+n })
	}
}

// A host whose SSH connection fails: every SSH check fails, and only its
// connectivity monitor alerts; the others show suppressed with the cause,
// the app also because it depends on host-ssh. When SSH is back, all
// recover and nothing else is sent.
func TestOneUnreachableHostRaisesOneAlert(t *testing.T) {
	r, chk, notes := newDepsRunner(t, 20*time.Millisecond, Options{})
	for _, m := range []string{"host-ssh", "app", "disk"} {
		chk.set(m+"/app-01", unreachable)
	}
	startRunner(t, r)
	eventually(t, "the host-ssh alert", func() bool { return len(notes.list()) >= 1 })
	waitChecks(t, chk, 5, "host-ssh/app-01", "app/app-01", "disk/app-01")
	if got := alertsOf(notes, engine.NotifyAlert); strings.Join(got, " ") != "host-ssh@app-01" {
		t.Fatalf("alerts %v, want one: host-ssh@app-01", got)
	}
	for _, m := range []string{"app", "disk"} {
		st := stateOf(r, m, "app-01")
		if st.State != engine.StateUnknown || !strings.Contains(st.Suppressed, "app-01 is down: host-ssh UNKNOWN") {
			t.Errorf("%s@app-01: %v suppressed %q, want UNKNOWN suppressed by host-ssh", m, st.State, st.Suppressed)
		}
	}
	if st := stateOf(r, "host-ssh", "app-01"); st.Suppressed != "" || !st.Notified {
		t.Errorf("host-ssh@app-01 %+v, want alerting and not suppressed", st)
	}
	if err := testutil.CollectAndCompare(NewCollector(r), strings.NewReader(`
# HELP ripple_monitor_suppressed 1 while the monitor is not OK on the host and does not alert, by reason: dependency (a parent down, a depends_on monitor not OK, the host unreachable over SSH), silence, ack (the state is acknowledged). Only pairs held back are exported.
# TYPE ripple_monitor_suppressed gauge
ripple_monitor_suppressed{host="app-01",monitor="app",reason="dependency"} 1
ripple_monitor_suppressed{host="app-01",monitor="disk",reason="dependency"} 1
`), "ripple_monitor_suppressed"); err != nil {
		t.Error(err)
	}
	if st := stateOf(r, "app", "app-02"); st.Suppressed != "" || st.State != engine.StateOK {
		t.Errorf("app@app-02 (reachable) %+v", st)
	}
	for _, m := range []string{"host-ssh", "app", "disk"} {
		chk.set(m+"/app-01", engine.CheckResult{State: engine.StateOK})
	}
	eventually(t, "the host-ssh recovery", func() bool { return len(alertsOf(notes, engine.NotifyRecovery)) >= 1 })
	waitChecks(t, chk, 3, "host-ssh/app-01", "app/app-01", "disk/app-01")
	if got := notes.list(); len(got) != 2 {
		t.Fatalf("notifications %+v, want one alert and one recovery of host-ssh", got)
	}
}

// The implicit rule alone: an SSH check that could not reach its host is
// suppressed behind the host's connectivity monitor even while that
// monitor still reads OK (its next check has not run yet).
func TestUnreachableSSHCheckWaitsBehindConnectivity(t *testing.T) {
	r, chk, notes := newDepsRunner(t, time.Hour, Options{})
	ctx := context.Background()
	r.CheckNow(ctx, "sw-snmp", "sw-01")   // OK
	r.CheckNow(ctx, "host-ssh", "app-01") // OK
	chk.set("disk/app-01", unreachable)
	r.CheckNow(ctx, "disk", "app-01")
	st := stateOf(r, "disk", "app-01")
	if !strings.Contains(st.Suppressed, "cannot be reached over SSH") || len(notes.list()) != 0 {
		t.Fatalf("disk@app-01 %+v, notes %v: want suppressed behind host-ssh, no alert", st, notes.list())
	}
	// A failure that is not about reaching the host alerts as usual, once
	// host-ssh (checked before it began) has confirmed the host is up.
	chk.set("disk/app-01", crit("DISK CRITICAL - / 97% full"))
	r.CheckNow(ctx, "disk", "app-01")
	if st := stateOf(r, "disk", "app-01"); !strings.Contains(st.Suppressed, "waiting for host-ssh on app-01") || len(notes.list()) != 0 {
		t.Fatalf("disk@app-01 %+v: want it waiting for host-ssh", st)
	}
	r.CheckNow(ctx, "host-ssh", "app-01")
	if st := stateOf(r, "disk", "app-01"); !strings.Contains(st.Suppressed, "waiting for sw-snmp on sw-01") || len(notes.list()) != 0 {
		t.Fatalf("disk@app-01 %+v: want it waiting for its parent's connectivity", st)
	}
	r.CheckNow(ctx, "sw-snmp", "sw-01")
	if got := alertsOf(notes, engine.NotifyAlert); len(got) != 1 || got[0] != "disk@app-01" {
		t.Fatalf("alerts %v, want disk@app-01", got)
	}
}

// A parent that goes down suppresses its children's alerts, connectivity
// monitors included; when it is back, a child still failing alerts then,
// and one that recovered meanwhile sends nothing.
func TestParentDownSuppressesChildrenUntilItRecovers(t *testing.T) {
	r, chk, notes := newDepsRunner(t, time.Hour, Options{})
	ctx := context.Background()
	chk.set("sw-snmp/sw-01", crit("SNMP 10.0.0.1:161: no response"))
	r.CheckNow(ctx, "sw-snmp", "sw-01")
	for _, h := range []string{"app-01", "app-02"} {
		chk.set("host-ssh/"+h, unreachable)
		chk.set("app/"+h, unreachable)
		r.CheckNow(ctx, "host-ssh", h)
		r.CheckNow(ctx, "app", h)
	}
	if got := alertsOf(notes, engine.NotifyAlert); strings.Join(got, " ") != "sw-snmp@sw-01" {
		t.Fatalf("alerts %v, want only the switch's", got)
	}
	for _, k := range [][2]string{{"host-ssh", "app-01"}, {"app", "app-01"}, {"host-ssh", "app-02"}} {
		if st := stateOf(r, k[0], k[1]); st.Suppressed != "parent sw-01 is down: sw-snmp CRITICAL" {
			t.Errorf("%s@%s suppressed %q, want the parent as the cause", k[0], k[1], st.Suppressed)
		}
	}
	// app-02 comes back while the switch is still down; app-01 does not.
	chk.set("host-ssh/app-02", engine.CheckResult{State: engine.StateOK})
	chk.set("app/app-02", engine.CheckResult{State: engine.StateOK})
	r.CheckNow(ctx, "host-ssh", "app-02")
	r.CheckNow(ctx, "app", "app-02")
	// The switch recovers: its recovery, then app-01's connectivity
	// alerts (still unreachable); its app stays suppressed behind it.
	chk.set("sw-snmp/sw-01", engine.CheckResult{State: engine.StateOK})
	r.CheckNow(ctx, "sw-snmp", "sw-01")
	got := notes.list()
	var seq []string
	for _, n := range got {
		seq = append(seq, string(n.Kind)+" "+n.Monitor+"@"+n.Host)
	}
	want := "alert sw-snmp@sw-01 recovery sw-snmp@sw-01 alert host-ssh@app-01"
	if strings.Join(seq, " ") != want {
		t.Fatalf("notifications %q, want %q", strings.Join(seq, " "), want)
	}
	if st := stateOf(r, "app", "app-01"); !strings.Contains(st.Suppressed, "host app-01 is down") {
		t.Errorf("app@app-01 suppressed %q, want behind its host", st.Suppressed)
	}
}

// depends_on: the app does not alert while host-ssh is not OK on the same
// host, for any reason, and alerts when host-ssh is OK again; the alert
// carries the monitor's severity, labels and runbook.
func TestDependsOnHoldsAlertUntilDependencyIsOK(t *testing.T) {
	r, chk, notes := newDepsRunner(t, time.Hour, Options{})
	ctx := context.Background()
	r.CheckNow(ctx, "sw-snmp", "sw-01") // OK
	chk.set("host-ssh/app-01", engine.CheckResult{State: engine.StateWarning, Output: "slow login"})
	r.CheckNow(ctx, "host-ssh", "app-01")
	chk.set("app/app-01", crit("PROCS CRITICAL: 0 processes"))
	r.CheckNow(ctx, "app", "app-01")
	if st := stateOf(r, "app", "app-01"); st.Suppressed != "depends on host-ssh, which is WARNING on app-01" {
		t.Fatalf("app@app-01 suppressed %q", st.Suppressed)
	}
	if len(notes.list()) != 0 {
		t.Fatalf("sent %+v while host-ssh is WARNING", notes.list())
	}
	chk.set("host-ssh/app-01", engine.CheckResult{State: engine.StateOK})
	r.CheckNow(ctx, "host-ssh", "app-01")
	// The switch was checked before the app failed: its fresh result is
	// waited for too (the runner's loop would check it at once).
	r.CheckNow(ctx, "sw-snmp", "sw-01")
	got := notes.list()
	if len(got) != 1 || got[0].Monitor != "app" || got[0].Kind != engine.NotifyAlert {
		t.Fatalf("notifications %+v, want the app alert once host-ssh is OK", got)
	}
	if n := got[0]; n.Severity != "warning" || n.Labels["team"] != "app" || n.Runbook != "restart-app" {
		t.Errorf("alert carries severity %q labels %v runbook %q", n.Severity, n.Labels, n.Runbook)
	}
}

// A child that fails before its parent's next check waits for it (and
// has it checked at once), so a dead switch does not page for each host
// behind it in the seconds before its own check finds it down.
func TestChildAlertWaitsForParentsFreshCheck(t *testing.T) {
	r, chk, notes := newDepsRunner(t, time.Hour, Options{})
	startRunner(t, r)
	ctx := context.Background()
	r.CheckNow(ctx, "sw-snmp", "sw-01") // OK; its next check is an hour away
	before := chk.count("sw-snmp/sw-01")
	// The switch dies; app-01's SSH check notices first.
	chk.set("sw-snmp/sw-01", crit("SNMP 10.0.0.1:161: no response"))
	chk.set("host-ssh/app-01", unreachable)
	r.CheckNow(ctx, "host-ssh", "app-01")
	eventually(t, "the switch checked at once", func() bool { return chk.count("sw-snmp/sw-01") > before })
	eventually(t, "the switch's alert", func() bool { return len(notes.list()) >= 1 })
	if got := alertsOf(notes, engine.NotifyAlert); strings.Join(got, " ") != "sw-snmp@sw-01" {
		t.Fatalf("alerts %v, want only the switch's", got)
	}
	if st := stateOf(r, "host-ssh", "app-01"); !strings.Contains(st.Suppressed, "parent sw-01 is down") {
		t.Errorf("host-ssh@app-01 suppressed %q", st.Suppressed)
	}
}

// Silences: made with a reason for a while, they hold a monitor's alerts
// (on one host or all); expired by an operator, a still-firing alert goes
// out at once; ending by themselves, likewise. Both are in the audit.
func TestSilenceHoldsAlertsUntilItEnds(t *testing.T) {
	store := enginetest.NewMemStore()
	r, chk, notes := newDepsRunner(t, 20*time.Millisecond, Options{Silences: store, Acks: store})
	ctx := context.Background()
	all, err := r.AddSilence(ctx, SilenceRequest{Monitor: "disk", For: time.Hour, Actor: "alice", Reason: "disks being replaced"})
	if err != nil {
		t.Fatal(err)
	}
	short, err := r.AddSilence(ctx, SilenceRequest{Monitor: "app", Host: "app-02", For: 300 * time.Millisecond, Actor: "bob", Reason: "deploying"})
	if err != nil {
		t.Fatal(err)
	}
	chk.set("disk/app-01", crit("DISK CRITICAL"))
	chk.set("app/app-02", crit("PROCS CRITICAL"))
	startRunner(t, r)
	eventually(t, "the app alert after its silence ended", func() bool { return len(alertsOf(notes, engine.NotifyAlert)) >= 1 })
	if got := notes.list(); got[0].Monitor != "app" || got[0].At.Before(short.Ends) {
		t.Fatalf("first alert %+v; want app@app-02 once its silence ended (%s)", got[0], short.Ends)
	}
	waitChecks(t, chk, 3, "disk/app-01")
	if got := alertsOf(notes, engine.NotifyAlert); strings.Join(got, " ") != "app@app-02" {
		t.Fatalf("alerts %v while disk is silenced", got)
	}
	if st := stateOf(r, "disk", "app-01"); st.Silence == nil || st.Silence.ID != all.ID || st.Silence.Actor != "alice" {
		t.Errorf("disk@app-01 silence %+v", st.Silence)
	}
	if _, err := r.ExpireSilence(ctx, all.ID, "alice", "disks done"); err != nil {
		t.Fatal(err)
	}
	if got := alertsOf(notes, engine.NotifyAlert); strings.Join(got, " ") != "app@app-02 disk@app-01" {
		t.Fatalf("alerts %v; the expiry must send the disk alert at once", got)
	}
	evs, _ := store.AlertEvents(ctx, engine.AlertEventFilter{})
	var audit []string
	for _, e := range evs {
		audit = append(audit, e.Action+" "+e.Monitor+"@"+e.Host+" by "+e.Actor+": "+e.Reason)
	}
	want := "expire disk@ by alice: disks done|silence app@app-02 by bob: deploying|silence disk@ by alice: disks being replaced"
	if strings.Join(audit, "|") != want {
		t.Errorf("audit %q, want %q", strings.Join(audit, "|"), want)
	}
}

// Bad requests change nothing and say what is wrong.
func TestSilenceAndAckRefuseBadRequests(t *testing.T) {
	store := enginetest.NewMemStore()
	r, chk, _ := newDepsRunner(t, time.Hour, Options{Silences: store, Acks: store})
	ctx := context.Background()
	for _, tc := range []struct {
		req  SilenceRequest
		want error
		msg  string
	}{
		{SilenceRequest{Monitor: "disk", For: time.Hour}, engine.ErrInvalidRequest, "needs a reason"},
		{SilenceRequest{Monitor: "disk", Reason: "r"}, engine.ErrInvalidRequest, "positive duration"},
		{SilenceRequest{Monitor: "disk", For: 100 * 24 * time.Hour, Reason: "r"}, engine.ErrInvalidRequest, "at most"},
		{SilenceRequest{Monitor: "dsik", For: time.Hour, Reason: "r"}, engine.ErrNotFound, `no monitor "dsik"`},
		{SilenceRequest{Monitor: "disk", Host: "sw-01", For: time.Hour, Reason: "r"}, engine.ErrNotFound, `does not run on host "sw-01"`},
	} {
		if _, err := r.AddSilence(ctx, tc.req); !errors.Is(err, tc.want) || !strings.Contains(err.Error(), tc.msg) {
			t.Errorf("AddSilence(%+v) = %v, want %v saying %q", tc.req, err, tc.want, tc.msg)
		}
	}
	if _, err := r.Acknowledge(ctx, "disk", "app-01", "alice", "on it"); !errors.Is(err, engine.ErrConflict) {
		t.Errorf("ack before any result: %v, want ErrConflict", err)
	}
	r.CheckNow(ctx, "disk", "app-01")
	if _, err := r.Acknowledge(ctx, "disk", "app-01", "alice", "on it"); !errors.Is(err, engine.ErrConflict) || !strings.Contains(err.Error(), "is OK") {
		t.Errorf("ack of an OK state: %v, want ErrConflict", err)
	}
	chk.set("disk/app-01", crit("DISK CRITICAL"))
	r.CheckNow(ctx, "disk", "app-01")
	if _, err := r.Acknowledge(ctx, "disk", "app-01", "alice", " "); !errors.Is(err, engine.ErrInvalidRequest) {
		t.Errorf("ack without a reason: %v", err)
	}
	if _, err := r.ExpireSilence(ctx, 42, "alice", "typo"); !errors.Is(err, engine.ErrNotFound) {
		t.Errorf("expire of an unknown silence: %v", err)
	}
	if evs, _ := store.AlertEvents(ctx, engine.AlertEventFilter{}); len(evs) != 0 {
		t.Errorf("refused requests left audit events: %+v", evs)
	}
}

// An acknowledgement stops the repeats of an alert until its state
// changes; the change is sent, and repeats resume.
func TestAckStopsRepeatsUntilStateChanges(t *testing.T) {
	store := enginetest.NewMemStore()
	defs := loadMonitors(t, depsRepo, 10*time.Millisecond)
	defs.Monitors["disk"].RepeatInterval = 30 * time.Millisecond
	chk := newPairChecker()
	notes := &recordedNotes{}
	r := New(Options{Checker: chk, Notifications: notes, Silences: store, Acks: store, Secrets: depsSecrets})
	if err := r.ApplyConfig(context.Background(), defs); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	chk.set("disk/app-01", crit("DISK CRITICAL"))
	startRunner(t, r)
	eventually(t, "two repeats", func() bool { return len(notes.list()) >= 3 })
	ack, err := r.Acknowledge(ctx, "disk", "app-01", "alice", "cleaning up")
	if err != nil {
		t.Fatal(err)
	}
	if ack.State != engine.StateCritical {
		t.Fatalf("ack %+v", ack)
	}
	n := len(notes.list())
	waitChecks(t, chk, 10, "disk/app-01") // 100ms: three repeat intervals
	if got := len(notes.list()); got != n && got != n+1 {
		// One repeat may have been decided before the ack landed.
		t.Fatalf("%d notifications after the ack, want none", got-n)
	}
	n = len(notes.list())
	if st := stateOf(r, "disk", "app-01"); st.Ack == nil || st.Ack.Actor != "alice" {
		t.Errorf("state %+v lacks the ack", st.Ack)
	}
	chk.set("disk/app-01", engine.CheckResult{State: engine.StateWarning, Output: "DISK WARNING"})
	eventually(t, "the change of state", func() bool { return len(notes.list()) > n })
	if got := notes.list()[n]; got.State != engine.StateWarning || got.Previous != engine.StateCritical || !got.Repeat {
		t.Fatalf("after the change: %+v", got)
	}
	eventually(t, "repeats again", func() bool { return len(notes.list()) >= n+3 })
	if st := stateOf(r, "disk", "app-01"); st.Ack != nil {
		t.Errorf("the ack of CRITICAL still shows on WARNING: %+v", st.Ack)
	}
}
