package test

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gosnmp/gosnmp"

	"github.com/ripple-ops/ripple/engine"
	"github.com/ripple-ops/ripple/engine/httpapi"
)

// trapHCL: two switches, sw-01 sending SNMPv2c traps with the community of
// profile "sw-v2" and sw-02 SNMPv3 traps of the USM user of "sw-v3"; a
// trap block turns linkDown into CRITICAL with the interface's name and
// linkUp into the recovery, through the webhook notifier. It is the
// switches' connectivity: hosts behind a switch wait for it.
const trapHCL = `
snmp "sw-v2" {
  version   = "2c"
  community = env("RIPPLE_E2E_TRAP_COMMUNITY")
}

snmp "sw-v3" {
  version         = "3"
  user            = "trapuser"
  auth_protocol   = "SHA256"
  auth_passphrase = env("RIPPLE_E2E_TRAP_AUTH")
  priv_protocol   = "AES"
  priv_passphrase = env("RIPPLE_E2E_TRAP_PRIV")
}

host "sw-01" {
  address = "127.0.0.21"
  groups  = ["switch"]
  snmp    = "sw-v2"
}

host "sw-02" {
  address = "127.0.0.22"
  groups  = ["switch"]
  snmp    = "sw-v3"
}

host "sw-03" {
  address = "127.0.0.23"
  groups  = ["switch"]
  snmp    = "sw-v2"
}

notifier "webhook" "pager" {
  url        = env(%q)
  group_wait = "0s" # each alert timed against its trap
}

trap "link-down" {
  targets { groups = ["switch"] }
  oid     = "1.3.6.1.6.3.1.1.5.3"
  state   = "CRITICAL"
  clear   = "1.3.6.1.6.3.1.1.5.4"
  message = "link down: ${trap.varbinds["1.3.6.1.2.1.2.2.1.2"]}"
  notify  = ["pager"]

  connectivity = true
}
`

// trapChildHCL: a server behind sw-01 whose TCP check fails (nothing
// listens on its port), checked every 30s.
const trapChildHCL = `
host "srv-01" {
  address = "127.0.0.31"
  parents = ["sw-01"]
}

monitor "srv-tcp" {
  targets { hosts = ["srv-01"] }
  interval = "30s"
  timeout  = "1s"
  check "tcp" {
    address = "127.0.0.31"
    port    = %d
  }
  notify = ["pager"]
}
`

// closedTCPPort is a loopback TCP port nothing listens on right now.
func closedTCPPort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	return port
}

const (
	e2eCommunity = "e2e-trap-community-7f3a"
	e2eAuthPass  = "e2e-auth-pass-5521"
	e2ePrivPass  = "e2e-priv-pass-9034"
	e2eLinkDown  = "1.3.6.1.6.3.1.1.5.3"
	e2eLinkUp    = "1.3.6.1.6.3.1.1.5.4"
)

// snmptrapE2E sends one trap with Net-SNMP's snmptrap from source address
// from to the daemon's trap port.
func snmptrapE2E(t *testing.T, target, from string, auth []string, oid, ifDescr string) {
	t.Helper()
	bin, err := exec.LookPath("snmptrap")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("snmptrap not installed (Debian package snmp): %v", err)
		}
		t.Skipf("snmptrap not installed (Debian package snmp): %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	args := append(append([]string{}, auth...), "--clientaddr="+from, target, "", oid,
		"1.3.6.1.2.1.2.2.1.1.3", "i", "3", "1.3.6.1.2.1.2.2.1.2.3", "s", ifDescr, "1.3.6.1.2.1.2.2.1.8.3", "i", "2")
	cmd := exec.CommandContext(ctx, bin, args...)
	dir := t.TempDir()
	cmd.Env = append(os.Environ(), "MIBS=", "MIBDIRS="+dir, "HOME="+dir, "SNMP_PERSISTENT_DIR="+dir, "SNMPCONFPATH="+dir)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("snmptrap %s: %v\n%s", oid, err, out)
	}
}

func v2cAuth(community string) []string { return []string{"-v", "2c", "-c", community} }

func v3Auth(authPass, privPass string) []string {
	return []string{"-v", "3", "-u", "trapuser", "-l", "authPriv", "-e", "0x80001f8880e2e0000001",
		"-a", "SHA-256", "-A", authPass, "-x", "AES", "-X", privPass}
}

// freeUDPPort is a loopback UDP port nothing listens on right now.
func freeUDPPort(t *testing.T) string {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := pc.LocalAddr().String()
	pc.Close()
	return addr
}

// page is the web UI's page at path.
func (e *monEnv) page(path string) string {
	e.t.Helper()
	req, err := http.NewRequest(http.MethodGet, "http://"+e.addr+path, nil)
	if err != nil {
		e.t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+monToken)
	resp, err := e.client.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		e.t.Fatalf("GET %s: %s: %s", path, resp.Status, b)
	}
	return string(b)
}

func (e *monEnv) traps() engine.TrapReport {
	e.t.Helper()
	var rep engine.TrapReport
	e.get("/api/v1/traps", &rep)
	return rep
}

// TestTrapsE2E: the real daemon with --trap-listen and Net-SNMP's snmptrap
// as the switches. A v2c linkDown from sw-01 alerts CRITICAL through the
// notifier with the rendered message and its linkUp recovers it; a v3
// linkDown of the profile's USM user from sw-02 alerts; a wrong community
// and a wrong v3 key are rejected and counted, a trap from an address no
// host has is counted and listed, and none of them alerts. The API, the
// metrics, the CLI and the web UI (monitor page, overview) show it; no
// community or key reaches the log or the store. The trap is sw-01's
// connectivity: a server behind it failing meanwhile is held, and alerts
// as soon as the linkUp comes, without waiting for its next check. Then
// 10,000 traps from
// one switch in a burst are rate limited: a handful of notifications, and
// the daemon keeps answering.
func TestTrapsE2E(t *testing.T) {
	if testing.Short() {
		t.Skip("trap end-to-end test runs the daemon and snmptrap")
	}
	t.Setenv("RIPPLE_E2E_TRAP_COMMUNITY", e2eCommunity)
	t.Setenv("RIPPLE_E2E_TRAP_AUTH", e2eAuthPass)
	t.Setenv("RIPPLE_E2E_TRAP_PRIV", e2ePrivPass)
	e := newMonEnv(t, 0)
	trapAddr := freeUDPPort(t)
	e.serveArgs = []string{"--trap-listen", trapAddr}
	head := e.commit("switches, a linkDown trap block and a server behind sw-01", map[string]string{
		"main.hcl": fmt.Sprintf(trapHCL, monHookEnv), "srv.hcl": fmt.Sprintf(trapChildHCL, closedTCPPort(t))})
	e.start()
	monWait(t, "the commit applied", 20*time.Second, func() bool { return e.lastApplied() == head })
	monWait(t, "the receiver authenticating with the profiles", 20*time.Second, func() bool {
		b, _ := os.ReadFile(filepath.Join(e.dir, "serve.log"))
		return strings.Contains(string(b), `"communities":1,"usm_users":1`)
	})
	if rep := e.traps(); rep.Listen != trapAddr {
		t.Fatalf("GET /api/v1/traps listen = %q, want %s", rep.Listen, trapAddr)
	}
	if m, ok := e.monitor("link-down", "sw-01"); !ok || m.State != "OK" {
		t.Fatalf("link-down on sw-01 before any trap: %+v %v, want OK", m, ok)
	}

	// linkDown from sw-01 (v2c): CRITICAL with the interface in the message.
	snmptrapE2E(t, trapAddr, "127.0.0.21", v2cAuth(e2eCommunity), e2eLinkDown, "Gi0/3")
	alert := e.waitDelivery("link-down", "sw-01", "alert")
	if alert.State != "CRITICAL" || !strings.Contains(alert.Message, "link down: Gi0/3") {
		t.Errorf("alert %s, want CRITICAL with \"link down: Gi0/3\"", alert)
	}
	if m, _ := e.monitor("link-down", "sw-01"); m.State != "CRITICAL" || !m.Firing {
		t.Errorf("API after the linkDown: %+v, want CRITICAL and firing", m)
	}
	if page := e.page("/monitors/link-down"); !strings.Contains(page, "link down: Gi0/3") || !strings.Contains(page, "sw-01") {
		t.Errorf("the monitor page of link-down lacks the state of sw-01:\n%s", page)
	}

	// What must not alert: a wrong community from sw-01, the right one
	// from an address no host has, a v3 trap with a wrong key from sw-02.
	before := e.traps().Counts
	snmptrapE2E(t, trapAddr, "127.0.0.21", v2cAuth("public"), e2eLinkDown, "Gi0/4")
	snmptrapE2E(t, trapAddr, "127.0.0.99", v2cAuth(e2eCommunity), e2eLinkDown, "Gi0/5")
	snmptrapE2E(t, trapAddr, "127.0.0.22", v3Auth("wrong-auth-pass-1", e2ePrivPass), e2eLinkDown, "Gi0/6")
	monWait(t, "the three traps counted", 15*time.Second, func() bool {
		c := e.traps().Counts
		return c.Rejected == before.Rejected+2 && c.UnknownSource == before.UnknownSource+1
	})
	rep := e.traps()
	var listed bool
	for _, u := range rep.Unknown {
		if u.Source == "127.0.0.99" && u.OID == e2eLinkDown && u.Reason == "unknown source" && u.Count == 1 {
			listed = true
		}
	}
	if !listed {
		t.Errorf("the unknown source is not listed: %+v", rep.Unknown)
	}

	// linkDown from sw-02 (v3, the profile's user and keys) alerts.
	snmptrapE2E(t, trapAddr, "127.0.0.22", v3Auth(e2eAuthPass, e2ePrivPass), e2eLinkDown, "Te1/1")
	if d := e.waitDelivery("link-down", "sw-02", "alert"); d.State != "CRITICAL" || !strings.Contains(d.Message, "link down: Te1/1") {
		t.Errorf("v3 alert %s, want CRITICAL with \"link down: Te1/1\"", d)
	}

	// The server behind sw-01 fails its check while the switch is down:
	// held, with the switch's trap as the cause.
	var held httpapi.MonitorHost
	monWait(t, "srv-tcp failing behind sw-01", 45*time.Second, func() bool {
		held, _ = e.monitor("srv-tcp", "srv-01")
		return held.State == "CRITICAL"
	})
	if held.Suppressed != "parent sw-01 is down: link-down CRITICAL" || len(e.hook.of("srv-tcp", "srv-01")) != 0 {
		t.Errorf("srv-tcp while sw-01 is down: suppressed %q, deliveries %v; want held behind link-down",
			held.Suppressed, e.hook.of("srv-tcp", "srv-01"))
	}

	// linkUp from sw-01 clears it, and releases the server's alert at
	// once: from the result it had, not from its next check.
	snmptrapE2E(t, trapAddr, "127.0.0.21", v2cAuth(e2eCommunity), e2eLinkUp, "Gi0/3")
	rec := e.waitDelivery("link-down", "sw-01", "recovery")
	if rec.State != "OK" {
		t.Errorf("recovery %s, want OK", rec)
	}
	if d := e.waitDelivery("srv-tcp", "srv-01", "alert"); d.State != "CRITICAL" {
		t.Errorf("srv-tcp alert %s, want CRITICAL", d)
	}
	if m, _ := e.monitor("srv-tcp", "srv-01"); !m.LastAt.Equal(held.LastAt) || m.Suppressed != "" {
		t.Errorf("srv-tcp after linkUp: last checked %s (held at %s), suppressed %q; want released by the trap, without a new check",
			m.LastAt, held.LastAt, m.Suppressed)
	}
	time.Sleep(2 * time.Second) // anything late would show now
	if got := e.hook.of("link-down", "sw-01"); len(got) != 2 {
		t.Errorf("deliveries for sw-01 %v, want one alert and one recovery", got)
	}
	for _, d := range e.hook.all() {
		if strings.Contains(d.Message, "Gi0/4") || strings.Contains(d.Message, "Gi0/5") || strings.Contains(d.Message, "Gi0/6") {
			t.Errorf("a dropped trap alerted: %s", d)
		}
	}

	// The surfaces.
	metrics := e.metrics()
	for _, want := range []string{
		`ripple_snmp_traps_total{result="matched"} 3`,
		`ripple_snmp_traps_total{result="unknown_source"} 1`,
		`ripple_snmp_traps_total{result="rejected"} 2`,
	} {
		if !strings.Contains(metrics, want) {
			t.Errorf("/metrics lacks %s; it has:\n%s", want, grepLines(metrics, "snmp_traps"))
		}
	}
	cli := exec.Command(rippleBin, "traps", "--server", "http://"+e.addr)
	cli.Env = append(os.Environ(), "RIPPLE_TOKEN="+monToken)
	out, err := cli.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "127.0.0.99") || !strings.Contains(string(out), "unknown source") ||
		!strings.Contains(string(out), trapAddr) {
		t.Errorf("ripple traps: %v\n%s", err, out)
	}
	if page := e.page("/"); !strings.Contains(page, `<tr data-source="127.0.0.99">`) || !strings.Contains(page, "1 unknown source") {
		t.Errorf("the overview lacks the unknown trap:\n%s", page)
	}

	// A flood from sw-03: 10,000 linkDown and linkUp in turn as fast as
	// one socket sends them. The rate limit holds the notifications to a
	// handful, and the daemon keeps answering.
	flood := floodTraps(t, trapAddr, "127.0.0.23", 10000)
	monWait(t, "the flood handled", 60*time.Second, func() bool {
		c := e.traps().Counts
		return c.RateLimited > 0 && c.Matched+c.RateLimited >= before.Matched+3+uint64(flood)*9/10
	})
	if !e.ready() {
		t.Errorf("the daemon is not ready after the flood")
	}
	time.Sleep(3 * time.Second)
	if n := len(e.hook.of("link-down", "sw-03")); n == 0 || n > 10 {
		t.Errorf("%d notifications for sw-03's flood of %d traps, want a handful", n, flood)
	}
	c := e.traps().Counts
	t.Logf("flood of %d traps: %d matched, %d rate limited, %d notifications", flood, c.Matched, c.RateLimited, len(e.hook.of("link-down", "sw-03")))

	// No secret in the log or the store.
	e.stop()
	files := []string{filepath.Join(e.dir, "serve.log")}
	_ = filepath.Walk(e.data, func(p string, fi os.FileInfo, err error) error {
		if err == nil && fi.Mode().IsRegular() && !strings.Contains(p, string(filepath.Separator)+"mirror"+string(filepath.Separator)) {
			files = append(files, p)
		}
		return nil
	})
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, secret := range []string{e2eCommunity, e2eAuthPass, e2ePrivPass} {
			if strings.Contains(string(b), secret) {
				t.Errorf("%s holds the secret %q", f, secret)
			}
		}
	}
}

// floodTraps sends n SNMPv2c traps from source address from, linkDown and
// linkUp in turn, and returns how many were sent.
func floodTraps(t *testing.T, target, from string, n int) int {
	t.Helper()
	host, portText, _ := net.SplitHostPort(target)
	port, _ := strconv.Atoi(portText)
	g := &gosnmp.GoSNMP{Target: host, Port: uint16(port), Version: gosnmp.Version2c, Community: e2eCommunity,
		Timeout: 2 * time.Second, Retries: 0, LocalAddr: from + ":0"}
	if err := g.Connect(); err != nil {
		t.Fatal(err)
	}
	defer g.Conn.Close()
	sent := 0
	for i := range n {
		oid := e2eLinkDown
		if i%2 == 1 {
			oid = e2eLinkUp
		}
		_, err := g.SendTrap(gosnmp.SnmpTrap{Variables: []gosnmp.SnmpPDU{
			{Name: ".1.3.6.1.2.1.1.3.0", Type: gosnmp.TimeTicks, Value: uint32(i)},
			{Name: ".1.3.6.1.6.3.1.1.4.1.0", Type: gosnmp.ObjectIdentifier, Value: "." + oid},
			{Name: ".1.3.6.1.2.1.2.2.1.2.7", Type: gosnmp.OctetString, Value: []byte("Gi0/7")},
		}})
		if err != nil {
			t.Fatalf("send trap %d: %v", i, err)
		}
		sent++
	}
	return sent
}

// TestClusterTrapsAlertOnce: two daemons on one PostgreSQL, each
// receiving traps; the switch sends every trap to both (snmptrap to each
// node's port). Its linkDown alerts once and its linkUp recovers once,
// whichever node claims them, and both nodes show the state, also of a
// trap only one node received.
func TestClusterTrapsAlertOnce(t *testing.T) {
	if testing.Short() {
		t.Skip("runs two daemons on PostgreSQL")
	}
	t.Setenv("RIPPLE_E2E_TRAP_COMMUNITY", e2eCommunity)
	t.Setenv("RIPPLE_E2E_TRAP_AUTH", e2eAuthPass)
	t.Setenv("RIPPLE_E2E_TRAP_PRIV", e2ePrivPass)
	e := newClusterEnv(t, 2, 0, pg.Cluster(t))
	rcv := newMonReceiver(t, newMonService(t))
	t.Setenv(monHookEnv, rcv.url)
	ports := map[string]string{}
	for _, n := range e.nodes {
		ports[n.nodeName()] = freeUDPPort(t)
		n.args = append(n.args, "--trap-listen", ports[n.nodeName()])
	}
	head := e.commit("switches and a linkDown trap block", map[string]string{"main.hcl": fmt.Sprintf(trapHCL, monHookEnv)})
	e.startAll()
	for _, n := range e.nodes {
		e.waitFor(n.nodeName()+" applying the commit and its trap profiles", 30*time.Second, func() bool {
			b, _ := os.ReadFile(n.logFile(n.logs))
			return n.status()["last_applied"] == head && strings.Contains(string(b), `"communities":1,"usm_users":1`)
		})
	}
	matched := func(n *dmEnv) uint64 {
		var rep engine.TrapReport
		if !n.tryJSON("/api/v1/traps", &rep) {
			return 0
		}
		return rep.Counts.Matched
	}
	// toBoth sends the trap to both nodes at once, as a device with two
	// trap receivers does, and waits until both have received it (their
	// notifications may still be on the way: a node that claims its alert
	// after the other claimed the next recovery is refused as stale). A
	// copy that reaches a node after the device's next trap reached the
	// other is a new transition there and alerts again.
	toBoth := func(oid string) {
		var before []uint64
		for _, n := range e.nodes {
			before = append(before, matched(n))
		}
		var wg sync.WaitGroup
		for _, n := range e.nodes {
			wg.Go(func() { snmptrapE2E(t, ports[n.nodeName()], "127.0.0.21", v2cAuth(e2eCommunity), oid, "Gi0/3") })
		}
		wg.Wait()
		for i, n := range e.nodes {
			e.waitFor(n.nodeName()+" acting on "+oid, 15*time.Second, func() bool { return matched(n) > before[i] })
		}
	}
	count := func(kind string) int {
		c := 0
		for _, d := range rcv.of("link-down", "sw-01") {
			if d.Kind == kind {
				c++
			}
		}
		return c
	}
	toBoth(e2eLinkDown)
	e.waitFor("the alert", 30*time.Second, func() bool { return count("alert") >= 1 })
	shows := func(state string) {
		for _, n := range e.nodes {
			e.waitFor("link-down "+state+" on "+n.nodeName(), 15*time.Second, func() bool {
				var ms []httpapi.Monitor
				if !n.tryJSON("/api/v1/monitors", &ms) {
					return false
				}
				for _, m := range ms {
					for _, h := range m.Hosts {
						if m.Name == "link-down" && h.Host == "sw-01" {
							return h.State == state
						}
					}
				}
				return false
			})
		}
	}
	shows("CRITICAL")
	toBoth(e2eLinkUp)
	e.waitFor("the recovery", 30*time.Second, func() bool { return count("recovery") >= 1 })
	shows("OK")
	time.Sleep(3 * time.Second) // a second alert or recovery would show now
	if a, r := count("alert"), count("recovery"); a != 1 || r != 1 {
		t.Errorf("%d alerts and %d recoveries from two nodes, want 1 and 1: %v", a, r, rcv.all())
	}
	// A trap that reaches one node only: it alerts, and the other node
	// shows the state that node saved.
	n1 := e.nodes[0]
	snmptrapE2E(t, ports[n1.nodeName()], "127.0.0.21", v2cAuth(e2eCommunity), e2eLinkDown, "Gi0/8")
	e.waitFor("the second alert", 30*time.Second, func() bool { return count("alert") == 2 })
	shows("CRITICAL")
}
