package test

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"testing/fstest"
	"text/template"
	"time"

	"github.com/gosnmp/gosnmp"
	"github.com/ripple-ops/ripple/definitions"
	"github.com/ripple-ops/ripple/engine"
	"github.com/ripple-ops/ripple/jobs"
)

// snmpE2EAgent is a real snmpd on loopback, configured from
// jobs/testdata/snmpd (a v2c community, v3 users, counters from files).
type snmpE2EAgent struct {
	port   int
	dir    string
	cmd    *exec.Cmd
	exited chan struct{}
}

func startSNMPE2E(t *testing.T) *snmpE2EAgent {
	t.Helper()
	bin, err := exec.LookPath("snmpd")
	if err != nil {
		bin, err = exec.LookPath("/usr/sbin/snmpd")
	}
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("snmpd not installed: %v", err)
		}
		t.Skipf("snmpd not installed: %v", err)
	}
	src := filepath.Join("..", "jobs", "testdata", "snmpd")
	a := &snmpE2EAgent{dir: t.TempDir()}
	script, err := os.ReadFile(filepath.Join(src, "counter.sh"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(a.dir, "counter.sh"), script, 0o755); err != nil {
		t.Fatal(err)
	}
	tmpl, err := template.ParseFiles(filepath.Join(src, "snmpd.conf.tmpl"))
	if err != nil {
		t.Fatal(err)
	}
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	a.port = pc.LocalAddr().(*net.UDPAddr).Port
	_ = pc.Close()
	var conf strings.Builder
	if err := tmpl.Execute(&conf, map[string]any{
		"Port": a.port, "Community": "e2e-community", "Dir": a.dir, "Script": filepath.Join(a.dir, "counter.sh"),
		"Users": []map[string]string{{"Name": "core-ro", "Auth": "SHA-256", "AuthPass": "e2e-auth-pass", "Priv": "AES-256", "PrivPass": "e2e-priv-pass"}},
	}); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(a.dir, "snmpd.conf"), []byte(conf.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	a.set(t, "uptime", 100000)
	a.set(t, "gauge", 42)
	a.start(t, bin)
	t.Cleanup(a.stop)
	return a
}

func (a *snmpE2EAgent) start(t *testing.T, bin string) {
	t.Helper()
	cmd := exec.Command(bin, "-f", "-C", "-c", filepath.Join(a.dir, "snmpd.conf"),
		"--persistentDir="+filepath.Join(a.dir, "var"), "-Lf", filepath.Join(a.dir, "snmpd.log"),
		"-I", "-smux") // no SMUX listener: as root it would bind 0.0.0.0:199
	cmd.Env = append(os.Environ(), "MIBS=", "MIBDIRS="+filepath.Join(a.dir, "no-mibs"))
	if err := cmd.Start(); err != nil {
		t.Fatalf("start snmpd: %v", err)
	}
	a.cmd, a.exited = cmd, make(chan struct{})
	go func(done chan struct{}) { _ = cmd.Wait(); close(done) }(a.exited)
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		g := &gosnmp.GoSNMP{Target: "127.0.0.1", Port: uint16(a.port), Community: "e2e-community", Version: gosnmp.Version2c,
			Timeout: 200 * time.Millisecond, Context: context.Background()}
		if g.Connect() == nil {
			_, err := g.Get([]string{".1.3.6.1.2.1.1.5.0"})
			_ = g.Conn.Close()
			if err == nil {
				return
			}
		}
	}
	log, _ := os.ReadFile(filepath.Join(a.dir, "snmpd.log"))
	a.stop()
	t.Fatalf("snmpd did not answer on port %d:\n%s", a.port, log)
}

// stop kills the snmpd this test started, by its pid, and reaps it.
func (a *snmpE2EAgent) stop() {
	if a.cmd == nil {
		return
	}
	_ = a.cmd.Process.Kill()
	<-a.exited
	a.cmd = nil
}

func (a *snmpE2EAgent) set(t *testing.T, name string, v uint64) {
	t.Helper()
	tmp := filepath.Join(a.dir, "."+name)
	if err := os.WriteFile(tmp, []byte(strconv.FormatUint(v, 10)+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, filepath.Join(a.dir, name)); err != nil {
		t.Fatal(err)
	}
}

type snmpE2ESecrets map[string]string

func (s snmpE2ESecrets) Env(name string) (string, bool) { v, ok := s[name]; return v, ok }
func (s snmpE2ESecrets) ReadFile(path string, _ []definitions.ProtectedFile) ([]byte, error) {
	return nil, fmt.Errorf("read %s: not available in this test", path)
}

type snmpE2EClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *snmpE2EClock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *snmpE2EClock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

const snmpE2EHCL = `
credential "default" {
  user  = "ops"
  agent = true
}

host "core-01" {
  address = "127.0.0.1"
  groups  = ["core-switch"]
  snmp    = "switch-v3"
}

host "access-01" {
  address = "127.0.0.1"
  groups  = ["access-switch"]
  snmp    = "switch-v2c"
}

snmp "switch-v3" {
  version         = "3"
  port            = PORT
  user            = "core-ro"
  auth_protocol   = "SHA256"
  auth_passphrase = env("SNMP_AUTH")
  priv_protocol   = "AES256"
  priv_passphrase = env("SNMP_PRIV")
  timeout         = "2s"
  retries         = 1
}

snmp "switch-v2c" {
  version   = "2c"
  port      = PORT
  community = env("SNMP_COMMUNITY")
  timeout   = "2s"
  retries   = 1
}

monitor "core-uplink" {
  targets { groups = ["core-switch"] }
  interval = "1m"
  check "snmp" {
    oid        = "1.3.6.1.4.1.99999.2.0"
    rate       = true
    warn_above = 1000
    crit_above = 5000
  }
}

monitor "access-temp" {
  targets { groups = ["access-switch"] }
  check "snmp" {
    oids       = ["1.3.6.1.4.1.99999.3.0", "1.3.6.1.4.1.99999.1.0"]
    warn_above = 100
  }
}
`

// TestSNMPFromDefinitions loads monitors and SNMP profiles from HCL, renders
// them per host with env() secrets, and polls a real snmpd: v3 authPriv
// (SHA-256/AES-256) counter rate across polls and an agent restart, and a
// v2c get of two OIDs.
func TestSNMPFromDefinitions(t *testing.T) {
	agent := startSNMPE2E(t)
	hcl := strings.ReplaceAll(snmpE2EHCL, "PORT", strconv.Itoa(agent.port))
	defs, diags := definitions.Load(fstest.MapFS{"net.hcl": {Data: []byte(hcl)}}, "e2e", definitions.Limits{})
	if diags.HasErrors() {
		t.Fatalf("load: %v", diags)
	}
	secrets := snmpE2ESecrets{"SNMP_AUTH": "e2e-auth-pass", "SNMP_PRIV": "e2e-priv-pass", "SNMP_COMMUNITY": "e2e-community"}
	render := func(monitor, host string) (engine.Endpoint, *definitions.HostCheck) {
		t.Helper()
		h := defs.Hosts[host]
		hc, diags := defs.RenderCheck(defs.Monitors[monitor], h, secrets)
		if diags.HasErrors() {
			t.Fatalf("render %s on %s: %v", monitor, host, diags)
		}
		return engine.Endpoint{Host: h}, hc
	}
	clock := &snmpE2EClock{t: time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)}
	c := jobs.NewChecker(jobs.CheckerOptions{Now: clock.now})
	defer c.Close()
	ctx := context.Background()

	ep, uplink := render("core-uplink", "core-01")
	if len(uplink.Secrets) != 2 {
		t.Errorf("rendered secrets = %d, want the two passphrases", len(uplink.Secrets))
	}
	poll := func(counter, uptime uint64) engine.CheckResult {
		t.Helper()
		agent.set(t, "c64", counter)
		agent.set(t, "uptime", uptime)
		res := c.Check(ctx, ep, uplink)
		for _, s := range uplink.Secrets {
			if strings.Contains(res.Output, s) {
				t.Errorf("output leaks a secret: %q", res.Output)
			}
		}
		return res
	}
	rate := func(res engine.CheckResult) float64 {
		t.Helper()
		if len(res.Metrics) != 1 || res.Metrics[0].Name != "rate" {
			t.Fatalf("no rate: %v %q %+v", res.State, res.Output, res.Metrics)
		}
		return res.Metrics[0].Value
	}

	const near64 = 1<<64 - 30000 // the Counter64 wraps between the 2nd and 3rd poll
	res := poll(near64, 100000)
	if res.State != engine.StateOK || len(res.Metrics) != 0 || !strings.Contains(res.Output, "first counter sample") {
		t.Fatalf("first poll: %v %q %+v", res.State, res.Output, res.Metrics)
	}
	clock.advance(time.Minute)
	if res = poll(near64+24000, 106000); res.State != engine.StateOK || rate(res) != 400 {
		t.Fatalf("second poll: %v %q %+v", res.State, res.Output, res.Metrics)
	}
	clock.advance(time.Minute)
	if res = poll(354000, 112000); res.State != engine.StateCritical || rate(res) != 6000 {
		t.Fatalf("after a 64-bit wrap: %v %q %+v", res.State, res.Output, res.Metrics)
	}
	if !strings.Contains(res.Output, "above critical 5000") {
		t.Errorf("critical output: %q", res.Output)
	}

	// The device reboots: new snmpd process (new v3 engine boots), sysUpTime
	// and the counter start again from low values. No spike, no alert.
	agent.stop()
	bin, _ := exec.LookPath("snmpd")
	if bin == "" {
		bin = "/usr/sbin/snmpd"
	}
	agent.set(t, "uptime", 1500)
	agent.start(t, bin)
	clock.advance(time.Minute)
	res = poll(1000, 1500)
	if res.State != engine.StateOK || len(res.Metrics) != 0 || !strings.Contains(res.Output, "counter reset") {
		t.Fatalf("after reboot: %v %q %+v, want OK without a rate", res.State, res.Output, res.Metrics)
	}
	clock.advance(time.Minute)
	if res = poll(1000+30000, 7500); res.State != engine.StateOK || rate(res) != 500 {
		t.Fatalf("after reboot, next poll: %v %q %+v", res.State, res.Output, res.Metrics)
	}

	// v2c, two OIDs, each its own metric.
	agent.set(t, "c32", 7)
	ep2, temp := render("access-temp", "access-01")
	res = c.Check(ctx, ep2, temp)
	if res.State != engine.StateOK || len(res.Metrics) != 2 ||
		res.Metrics[0].Name != "value:1.3.6.1.4.1.99999.3.0" || res.Metrics[0].Value != 42 || res.Metrics[1].Value != 7 {
		t.Fatalf("v2c get: %v %q %+v", res.State, res.Output, res.Metrics)
	}
	agent.set(t, "gauge", 120)
	if res = c.Check(ctx, ep2, temp); res.State != engine.StateWarning {
		t.Errorf("v2c gauge over warn_above: %v %q", res.State, res.Output)
	}

	// The agent is gone: CRITICAL, promptly.
	agent.stop()
	start := time.Now()
	if res = c.Check(ctx, ep2, temp); res.State != engine.StateCritical || !strings.Contains(res.Output, "no response") {
		t.Errorf("agent down: %v %q", res.State, res.Output)
	}
	if time.Since(start) > 10*time.Second {
		t.Errorf("agent down took %v", time.Since(start))
	}
}
