package monitor

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/ripple-ops/ripple/definitions"
	"github.com/ripple-ops/ripple/engine"
	"github.com/ripple-ops/ripple/engine/enginetest"
)

// trapDepsRepo: a switch whose linkDown/linkUp traps are its
// connectivity (sw-link), an app host behind it with an app check, and
// a RAID controller trap on the app host that its disk check depends on.
const trapDepsRepo = `
credential "default" {
  user  = "ops"
  agent = true
}
snmp "v2" {
  version   = "2c"
  community = env("C")
}
host "sw-01" {
  address = "192.0.2.1"
  snmp    = "v2"
  groups  = ["switch"]
}
host "app-01" {
  address = "192.0.2.11"
  snmp    = "v2"
  groups  = ["app"]
  parents = ["sw-01"]
}
notifier "webhook" "pager" { url = env("U") }
trap "sw-link" {
  targets { groups = ["switch"] }
  oid          = "1.3.6.1.6.3.1.1.5.3"
  clear        = "1.3.6.1.6.3.1.1.5.4"
  connectivity = true
  notify       = ["pager"]
}
trap "raid" {
  targets { groups = ["app"] }
  oid         = "1.3.6.1.4.1.232.0.3046"
  clear       = "1.3.6.1.4.1.232.0.3047"
  clear_after = "1h"
  notify      = ["pager"]
}
monitor "app" {
  targets { groups = ["app"] }
  check "command" { run = "check_app" }
  notify = ["pager"]
}
monitor "disk" {
  targets { groups = ["app"] }
  check "command" { run = "check_disk" }
  depends_on = ["raid"]
  notify     = ["pager"]
}
`

const (
	raidDegraded = "1.3.6.1.4.1.232.0.3046"
	raidOK       = "1.3.6.1.4.1.232.0.3047"
)

// newTrapDepsRunner runs trapDepsRepo with the polled monitors an hour
// apart, so nothing but a trap can release what they hold in a test.
func newTrapDepsRunner(t *testing.T, opts Options) (*Runner, *pairChecker, *recordedNotes) {
	t.Helper()
	chk := newPairChecker()
	notes := &recordedNotes{}
	opts.Checker, opts.Notifications, opts.Secrets = chk, notes, depsSecrets
	r := New(opts)
	defs, diags := definitions.Load(fstestMap(trapDepsRepo), "", definitions.Limits{})
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	for _, m := range defs.Monitors {
		if m.Check.Kind != definitions.CheckTrap {
			m.Interval = time.Hour
		}
	}
	if err := r.ApplyConfig(context.Background(), defs); err != nil {
		t.Fatal(err)
	}
	startRunner(t, r)
	return r, chk, notes
}

func trapFrom(addr, oid string) engine.Trap {
	return swTrap(addr, oid, "v2")
}

func sequence(notes *recordedNotes) string {
	var seq []string
	for _, n := range notes.list() {
		seq = append(seq, string(n.Kind)+" "+n.Monitor+"@"+n.Host)
	}
	return strings.Join(seq, ", ")
}

// A switch's linkDown trap is its connectivity: the failing app behind
// it is held with the switch as the cause; the linkUp trap releases the
// app's alert at once, not at the app's next check an hour later.
func TestTrapGuardReleasesChildOnClear(t *testing.T) {
	r, chk, notes := newTrapDepsRunner(t, Options{})
	ctx := context.Background()
	r.ReceiveTrap(ctx, trapFrom("192.0.2.1", linkDown))
	eventually(t, "the switch's alert", func() bool { return len(notes.list()) == 1 })

	chk.set("app/app-01", crit("PROCS CRITICAL: 0 processes"))
	r.CheckNow(ctx, "app", "app-01")
	if st := stateOf(r, "app", "app-01"); st.Suppressed != "parent sw-01 is down: sw-link CRITICAL" {
		t.Fatalf("app@app-01 suppressed %q, want the switch's trap as the cause", st.Suppressed)
	}

	r.ReceiveTrap(ctx, trapFrom("192.0.2.1", linkUp))
	want := "alert sw-link@sw-01, recovery sw-link@sw-01, alert app@app-01"
	eventually(t, "the app's alert released", func() bool { return sequence(notes) == want })
	if st := stateOf(r, "app", "app-01"); st.Suppressed != "" || !st.Notified {
		t.Errorf("app@app-01 after linkUp: suppressed %q notified %v", st.Suppressed, st.Notified)
	}
	if n := chk.count("app/app-01"); n != 1 {
		t.Errorf("app@app-01 checked %d times, want once: the trap released it", n)
	}
}

// A trap that goes down holds the alert of a monitor that depends on it
// and fails after; a child that recovers while the trap holds it sends
// nothing, and the trap's clear sends only its own recovery.
func TestTrapGuardHoldsDependentsWhileDown(t *testing.T) {
	r, chk, notes := newTrapDepsRunner(t, Options{})
	ctx := context.Background()
	r.ReceiveTrap(ctx, trapFrom("192.0.2.11", raidDegraded))
	eventually(t, "the RAID alert", func() bool { return len(notes.list()) == 1 })

	chk.set("disk/app-01", crit("DISK CRITICAL: I/O errors"))
	r.CheckNow(ctx, "disk", "app-01")
	if st := stateOf(r, "disk", "app-01"); st.Suppressed != "depends on raid, which is CRITICAL on app-01" {
		t.Fatalf("disk@app-01 suppressed %q, want the RAID trap as the cause", st.Suppressed)
	}
	chk.set("disk/app-01", engine.CheckResult{State: engine.StateOK})
	r.CheckNow(ctx, "disk", "app-01")

	r.ReceiveTrap(ctx, trapFrom("192.0.2.11", raidOK))
	want := "alert raid@app-01, recovery raid@app-01"
	eventually(t, "the RAID recovery", func() bool { return len(notes.list()) == 2 })
	if got := sequence(notes); got != want {
		t.Errorf("notifications %q, want %q", got, want)
	}
}

// depends_on a trap: a check failing while the trap is down is held, and
// alerts as soon as the clear trap comes if it still fails.
func TestTrapDependencyReleasesOnClear(t *testing.T) {
	r, chk, notes := newTrapDepsRunner(t, Options{})
	ctx := context.Background()
	r.ReceiveTrap(ctx, trapFrom("192.0.2.11", raidDegraded))
	eventually(t, "the RAID alert", func() bool { return len(notes.list()) == 1 })
	chk.set("disk/app-01", crit("DISK CRITICAL: I/O errors"))
	r.CheckNow(ctx, "disk", "app-01")
	if len(notes.list()) != 1 {
		t.Fatalf("notifications %q while the RAID trap is down", sequence(notes))
	}
	r.ReceiveTrap(ctx, trapFrom("192.0.2.11", raidOK))
	want := "alert raid@app-01, recovery raid@app-01, alert disk@app-01"
	eventually(t, "the disk alert released", func() bool { return sequence(notes) == want })
}

// A trap guard that clears by itself (clear_after) releases what it held
// then, as its clear trap does.
func TestTrapDependencyReleasesOnClearAfter(t *testing.T) {
	clock := newManualClock(time.Now())
	r, chk, notes := newTrapDepsRunner(t, Options{Now: clock.Now})
	ctx := context.Background()
	r.ReceiveTrap(ctx, trapFrom("192.0.2.11", raidDegraded))
	eventually(t, "the RAID alert", func() bool { return len(notes.list()) == 1 })
	chk.set("disk/app-01", crit("DISK CRITICAL: I/O errors"))
	r.CheckNow(ctx, "disk", "app-01")
	if st := stateOf(r, "disk", "app-01"); st.Suppressed != "depends on raid, which is CRITICAL on app-01" {
		t.Fatalf("disk@app-01 suppressed %q, want the RAID trap as the cause", st.Suppressed)
	}
	clock.Advance(time.Hour + time.Minute)
	r.signal()
	want := "alert raid@app-01, recovery raid@app-01, alert disk@app-01"
	eventually(t, "the disk alert released", func() bool { return sequence(notes) == want })
}

// A trap guard in a cluster: the switch's traps reach node a only (a
// virtual IP), node b owns every pair, the trap's included. b holds the
// app behind the switch once it has read the trap state a saved, and
// alerts it once it has read the clear; a, which received the traps, acts
// on them at once for what it owns.
func TestClusterTrapGuardSpansNodes(t *testing.T) {
	store := enginetest.NewMemStore()
	cl := &claims{last: map[[2]string]claim{}}
	defs, diags := definitions.Load(fstestMap(trapDepsRepo), "", definitions.Limits{})
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	for _, m := range defs.Monitors {
		if m.Check.Kind != definitions.CheckTrap {
			m.Interval = time.Hour
		}
	}
	node := func(name string, owns func(string, string) bool) (*Runner, *pairChecker, *recordedNotes) {
		chk, notes := newPairChecker(), &recordedNotes{}
		r := New(Options{Checker: chk, Notifications: notes, Secrets: depsSecrets, Claims: cl.node(name),
			States: store, Results: StoreResultSink{States: store}, Owns: owns})
		if err := r.ApplyConfig(context.Background(), defs); err != nil {
			t.Fatal(err)
		}
		startRunner(t, r)
		return r, chk, notes
	}
	a, chkA, notesA := node("a", func(m, _ string) bool { return m == "disk" })
	b, chkB, notesB := node("b", func(m, _ string) bool { return m != "disk" })
	ctx := context.Background()
	saved := func(state engine.CheckState) func() bool {
		return func() bool {
			recs, _ := store.MonitorStates(ctx)
			for _, rec := range recs {
				if rec.Monitor == "sw-link" && rec.Host == "sw-01" {
					return rec.State == state
				}
			}
			return false
		}
	}

	a.ReceiveTrap(ctx, trapFrom("192.0.2.1", linkDown))
	eventually(t, "a saving the linkDown", saved(engine.StateCritical))
	b.refresh(ctx)
	chkB.set("app/app-01", crit("PROCS CRITICAL: 0 processes"))
	b.CheckNow(ctx, "app", "app-01")
	if st := stateOf(b, "app", "app-01"); st.Suppressed != "parent sw-01 is down: sw-link CRITICAL" {
		t.Fatalf("app@app-01 on b: suppressed %q, want the trap a received as the cause", st.Suppressed)
	}
	// a owns the disk check: the trap it received holds it at once.
	chkA.set("disk/app-01", crit("DISK CRITICAL"))
	a.CheckNow(ctx, "disk", "app-01")
	if st := stateOf(a, "disk", "app-01"); st.Suppressed != "parent sw-01 is down: sw-link CRITICAL" {
		t.Fatalf("disk@app-01 on a: suppressed %q, want the trap it received as the cause", st.Suppressed)
	}

	a.ReceiveTrap(ctx, trapFrom("192.0.2.1", linkUp))
	eventually(t, "a releasing the disk alert", func() bool {
		return strings.Contains(sequence(notesA), "alert disk@app-01")
	})
	eventually(t, "a saving the linkUp", saved(engine.StateOK))
	b.refresh(ctx)
	eventually(t, "b releasing the app alert", func() bool {
		return strings.Contains(sequence(notesB), "alert app@app-01")
	})
	if n := chkB.count("app/app-01"); n != 1 {
		t.Errorf("app@app-01 checked %d times on b, want once: the trap released it", n)
	}
}
