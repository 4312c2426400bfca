package test

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ripple-ops/ripple/engine/httpapi"
)

// The alerts people can act on (issue 14, part 2), end to end: the real
// `ripple serve` against a real sshd fleet, a real snmpd as the switch in
// front of it, and the test's webhook receiver: alert payloads carry
// severity, labels and the runbook; an unreachable host raises one alert;
// a switch that goes down suppresses the alerts of the hosts behind it
// until it is back; silences, acknowledgements and their audit; and
// group_wait gathers the alerts of 14 hosts into one message.

// post sends an operator's JSON request and returns the status and body.
func (e *monEnv) post(method, path, body string) (int, string) {
	e.t.Helper()
	req, err := http.NewRequest(method, "http://"+e.addr+path, strings.NewReader(body))
	if err != nil {
		e.t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+monToken)
	req.Header.Set("Content-Type", "application/json")
	resp, err := e.client.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// waitResults waits until each (monitor, host) has n results newer than
// now, and returns the states then.
func (e *monEnv) waitResults(n int, pairs ...[2]string) {
	e.t.Helper()
	since := map[[2]string]time.Time{}
	for _, p := range pairs {
		m, _ := e.monitor(p[0], p[1])
		since[p] = m.LastAt
	}
	for _, p := range pairs {
		seen, last := 0, since[p]
		monWait(e.t, fmt.Sprintf("%d more results of %s@%s", n, p[0], p[1]), 60*time.Second, func() bool {
			m, _ := e.monitor(p[0], p[1])
			if m.LastAt.After(last) {
				seen++
				last = m.LastAt
			}
			return seen >= n
		})
	}
}

// deliveriesFor lists the deliveries about host, "kind monitor" each.
func (e *monEnv) deliveriesFor(host string) []string {
	var out []string
	for _, d := range e.hook.all() {
		if d.Host == host {
			out = append(out, d.Kind+" "+d.Monitor)
		}
	}
	return out
}

// depsHCL is the fleet behind a switch: sw-01, polled over SNMP (its
// connectivity monitor sw-snmp) from the real snmpd on port; each fleet
// host has parents = ["sw-01"], an SSH connectivity monitor host-ssh, an
// app check (healthy marker) that depends on it and names its runbook,
// and a disk check.
func depsHCL(e *monEnv, snmpPort int) string {
	f := e.fleet
	var b strings.Builder
	fmt.Fprintf(&b, "credential \"default\" {\n  user             = %q\n  private_key_file = %q\n  known_hosts_file = %q\n}\n", f.User, f.KeyFile, f.KnownHostsFile)
	fmt.Fprintf(&b, `
snmp "switch" {
  version   = "2c"
  port      = %d
  community = env("SNMP_COMMUNITY")
  timeout   = "1s"
  retries   = 0
}

host "sw-01" {
  address = "127.0.0.1"
  groups  = ["switch"]
  snmp    = "switch"
}

notifier "webhook" "pager" {
  url        = env(%q)
  group_wait = "0s"
}
`, snmpPort, monHookEnv)
	for _, h := range f.Hosts {
		fmt.Fprintf(&b, "\nhost %q {\n  address = %q\n  port    = %d\n  groups  = [\"fleet\"]\n  parents = [\"sw-01\"]\n  vars    = { dir = %q }\n}\n", h.Name, h.Address, h.Port, h.Dir)
	}
	b.WriteString(`
monitor "sw-snmp" {
  targets { groups = ["switch"] }
  interval     = "2s"
  timeout      = "1500ms"
  connectivity = true
  labels       = { team = "network" }
  notify       = ["pager"]
  check "snmp" { oid = "1.3.6.1.2.1.1.3.0" }
}

monitor "host-ssh" {
  targets { groups = ["fleet"] }
  interval     = "1s"
  alert_after  = 2
  connectivity = true
  labels       = { team = "infra" }
  notify       = ["pager"]
  check "command" { run = "echo SSH OK" }
}

monitor "app" {
  targets { groups = ["fleet"] }
  interval   = "1s"
  severity   = "warning"
  labels     = { team = "app", tier = "web" }
  runbook    = "restart-app"
  depends_on = ["host-ssh"]
  notify     = ["pager"]
  check "command" {
    run = "if test -f ${host.vars.dir}/healthy; then echo 'APP OK'; else echo 'APP CRITICAL: not running'; exit 2; fi"
  }
}

monitor "disk" {
  targets { groups = ["fleet"] }
  interval = "1s"
  notify   = ["pager"]
  check "command" { run = "echo 'DISK OK - 40% used'" }
}

job "restart-app" {
  description = "restart the app service"
  targets { groups = ["fleet"] }
  step "restart" { run = "echo restarting app on ${host.name}" }
}
`)
	return b.String()
}

// TestAlertsE2EDependencies: a payload with severity, labels and the
// runbook link; a stopped sshd raises one alert (host-ssh) while the host's
// other monitors show suppressed; a switch that goes down (snmpd stopped)
// suppresses the alerts of the hosts behind it, and when it is back the
// hosts still failing alert then.
func TestAlertsE2EDependencies(t *testing.T) {
	if testing.Short() {
		t.Skip("the dependency end-to-end test takes about two minutes")
	}
	agent := startSNMPE2E(t)
	e := newMonEnv(t, 3)
	e.env = []string{"SNMP_COMMUNITY=e2e-community"}
	for _, h := range e.fleet.Hosts {
		if err := os.WriteFile(filepath.Join(h.Dir, "healthy"), []byte("yes\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	sha := e.commit("fleet behind a switch, with its monitors", map[string]string{"main.hcl": depsHCL(e, agent.port)})
	e.start()
	monWait(t, "the commit applied", 30*time.Second, func() bool { return e.lastApplied() == sha })
	pairs := [][2]string{{"sw-snmp", "sw-01"}}
	for _, h := range e.fleet.Hosts {
		pairs = append(pairs, [2]string{"host-ssh", h.Name}, [2]string{"app", h.Name}, [2]string{"disk", h.Name})
	}
	for _, p := range pairs {
		monWait(t, p[0]+" OK on "+p[1], 30*time.Second, func() bool { m, _ := e.monitor(p[0], p[1]); return m.State == "OK" })
	}
	if got := e.hook.all(); len(got) != 0 {
		t.Fatalf("deliveries while everything is healthy: %v", got)
	}
	h1, h2, h3 := e.fleet.Hosts[0].Name, e.fleet.Hosts[1].Name, e.fleet.Hosts[2].Name

	t.Run("the payload carries severity, labels and the runbook", func(t *testing.T) {
		marker := filepath.Join(e.fleet.Hosts[0].Dir, "healthy")
		if err := os.Remove(marker); err != nil {
			t.Fatal(err)
		}
		monWait(t, "the app alert", 30*time.Second, func() bool { return len(e.hook.of("app", h1)) > 0 })
		a := e.hook.of("app", h1)[0]
		base := "http://" + e.addr
		if a.Kind != "alert" || a.State != "CRITICAL" || a.Severity != "warning" || a.Labels["team"] != "app" || a.Labels["tier"] != "web" {
			t.Errorf("alert %s: severity %q labels %v", a, a.Severity, a.Labels)
		}
		if a.Runbook != "restart-app" || a.RunbookURL != base+"/jobs/restart-app?host="+h1+"#run" || a.URL != base+"/monitors/app?host="+h1 {
			t.Errorf("alert links: runbook %q %q, monitor page %q", a.Runbook, a.RunbookURL, a.URL)
		}
		if a.Count != 1 || len(a.Alerts) != 1 || a.Alerts[0].Host != h1 || a.Alerts[0].RunbookURL != a.RunbookURL {
			t.Errorf("alert list: count %d, %+v", a.Count, a.Alerts)
		}
		if err := os.WriteFile(marker, []byte("yes\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		monWait(t, "the app recovery", 30*time.Second, func() bool { return len(e.hook.of("app", h1)) >= 2 })
	})

	t.Run("a stopped sshd raises one alert, its connectivity monitor's", func(t *testing.T) {
		e.fleet.StopHost(1)
		monWait(t, "the host-ssh alert for "+h2, 30*time.Second, func() bool { return len(e.hook.of("host-ssh", h2)) > 0 })
		e.waitResults(4, [2]string{"app", h2}, [2]string{"disk", h2})
		for _, m := range []string{"app", "disk"} {
			st, _ := e.monitor(m, h2)
			if st.State == "OK" || st.Suppressed == "" || !strings.Contains(st.Suppressed, h2) {
				t.Errorf("%s@%s: %s, suppressed %q; want failing and suppressed behind the host", m, h2, st.State, st.Suppressed)
			}
		}
		if got := e.deliveriesFor(h2); strings.Join(got, ",") != "alert host-ssh" {
			t.Fatalf("deliveries for %s: %v, want exactly one, host-ssh's alert", h2, got)
		}
		e.fleet.StartHost(1)
		monWait(t, "the host-ssh recovery", 30*time.Second, func() bool { return len(e.hook.of("host-ssh", h2)) >= 2 })
		e.waitResults(2, [2]string{"app", h2}, [2]string{"disk", h2})
		if got := e.deliveriesFor(h2); strings.Join(got, ",") != "alert host-ssh,recovery host-ssh" {
			t.Errorf("deliveries for %s: %v, want host-ssh's alert and recovery only", h2, got)
		}
	})

	t.Run("a switch down suppresses the hosts behind it until it is back", func(t *testing.T) {
		before := map[string]int{h1: len(e.deliveriesFor(h1)), h3: len(e.deliveriesFor(h3))}
		since := func(h string) string { return strings.Join(e.deliveriesFor(h)[before[h]:], ",") }
		agent.stop()
		monWait(t, "the switch's alert", 30*time.Second, func() bool { return len(e.hook.of("sw-snmp", "sw-01")) > 0 })
		if a := e.hook.of("sw-snmp", "sw-01")[0]; a.State != "CRITICAL" || a.Labels["team"] != "network" {
			t.Errorf("switch alert %s, labels %v", a, a.Labels)
		}
		// The hosts behind it go dark too.
		e.fleet.StopHost(0)
		e.fleet.StopHost(2)
		for _, h := range []string{h1, h3} {
			monWait(t, "host-ssh on "+h+" failing long enough to alert", 30*time.Second, func() bool {
				m, _ := e.monitor("host-ssh", h)
				return m.Consecutive >= 2
			})
		}
		e.waitResults(3, [2]string{"host-ssh", h1}, [2]string{"host-ssh", h3}, [2]string{"app", h1}, [2]string{"disk", h3})
		for _, h := range []string{h1, h3} {
			for _, m := range []string{"host-ssh", "app", "disk"} {
				st, _ := e.monitor(m, h)
				if st.Suppressed != "parent sw-01 is down: sw-snmp CRITICAL" {
					t.Errorf("%s@%s: %s suppressed %q, want the switch as the cause", m, h, st.State, st.Suppressed)
				}
			}
		}
		for _, h := range []string{h1, h3} {
			if got := since(h); got != "" {
				t.Fatalf("deliveries for %s while its switch is down: %v, want none", h, got)
			}
		}

		// The switch is back; the hosts are still down: each alerts now,
		// through its connectivity monitor alone.
		agent.start(t, snmpdPath(t))
		monWait(t, "the switch's recovery", 30*time.Second, func() bool { return len(e.hook.of("sw-snmp", "sw-01")) >= 2 })
		for _, h := range []string{h1, h3} {
			monWait(t, "host-ssh's alert for "+h, 30*time.Second, func() bool { return len(e.hook.of("host-ssh", h)) > 0 })
		}
		e.waitResults(3, [2]string{"app", h1}, [2]string{"disk", h3})
		for _, h := range []string{h1, h3} {
			if got := since(h); got != "alert host-ssh" {
				t.Errorf("deliveries for %s after the switch came back: %v, want one: host-ssh's alert", h, got)
			}
			if st, _ := e.monitor("app", h); !strings.Contains(st.Suppressed, "host "+h+" is down") {
				t.Errorf("app@%s suppressed %q, want behind its host", h, st.Suppressed)
			}
		}
		e.fleet.StartHost(0)
		e.fleet.StartHost(2)
		for _, h := range []string{h1, h3} {
			monWait(t, "host-ssh's recovery on "+h, 30*time.Second, func() bool { return len(e.hook.of("host-ssh", h)) >= 2 })
		}
	})
	if got := e.hook.of("sw-snmp", "sw-01"); len(got) != 2 {
		t.Errorf("switch deliveries %v, want one alert and one recovery", got)
	}
}

func snmpdPath(t *testing.T) string {
	t.Helper()
	if p, err := exec.LookPath("snmpd"); err == nil {
		return p
	}
	return "/usr/sbin/snmpd"
}

// silenceHCL: one fleet host whose "svc" check exits with the state
// written in its state file (0 OK, 1 WARNING, 2 CRITICAL), repeating its
// alert every 3 seconds.
func silenceHCL(e *monEnv) string {
	f := e.fleet
	h := f.Hosts[0]
	return fmt.Sprintf(`credential "default" {
  user             = %q
  private_key_file = %q
  known_hosts_file = %q
}

host %q {
  address = %q
  port    = %d
  vars    = { dir = %q }
}

notifier "webhook" "pager" {
  url        = env(%q)
  group_wait = "0s"
}

monitor "svc" {
  targets { hosts = [%q] }
  interval        = "1s"
  repeat_interval = "3s"
  notify          = ["pager"]
  check "command" {
    run = "s=$(cat ${host.vars.dir}/state 2>/dev/null || echo 0); echo \"SVC state $s\"; exit $s"
  }
}
`, f.User, f.KeyFile, f.KnownHostsFile, h.Name, h.Address, h.Port, h.Dir, monHookEnv, h.Name)
}

// TestAlertsE2ESilenceAndAck: a silence holds the alert until it expires,
// then the still-failing check alerts; the alert repeats until an operator
// acknowledges it, and after a change of state it is sent again and
// repeats; silences, an expiry and the ack are in the audit with who and
// why.
func TestAlertsE2ESilenceAndAck(t *testing.T) {
	if testing.Short() {
		t.Skip("the silence end-to-end test takes about a minute")
	}
	e := newMonEnv(t, 1)
	h := e.fleet.Hosts[0]
	setState := func(s int) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(h.Dir, "state"), []byte(strconv.Itoa(s)+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	setState(0)
	sha := e.commit("svc with repeats", map[string]string{"main.hcl": silenceHCL(e)})
	e.start()
	monWait(t, "the commit applied", 30*time.Second, func() bool { return e.lastApplied() == sha })
	monWait(t, "svc OK", 30*time.Second, func() bool { m, _ := e.monitor("svc", h.Name); return m.State == "OK" })

	code, body := e.post("POST", "/api/v1/silences", fmt.Sprintf(`{"monitor":"svc","host":%q,"for":"6s","reason":"restarting svc"}`, h.Name))
	var sl httpapi.Silence
	if err := json.Unmarshal([]byte(body), &sl); err != nil || code != http.StatusCreated {
		t.Fatalf("silence: %d %s", code, body)
	}
	setState(2)
	monWait(t, "svc firing under the silence", 30*time.Second, func() bool {
		m, _ := e.monitor("svc", h.Name)
		return m.Firing && m.Silence != nil && m.Silence.ID == sl.ID
	})
	monWait(t, "the alert once the silence ended", 30*time.Second, func() bool { return len(e.hook.of("svc", h.Name)) > 0 })
	first := e.hook.of("svc", h.Name)[0]
	if first.Kind != "alert" || first.State != "CRITICAL" || first.Repeat || first.at.Before(sl.Ends) {
		t.Fatalf("first delivery %s (repeat %v) at %s; want the CRITICAL alert, after the silence ended at %s", first, first.Repeat, first.at.Format(time.RFC3339Nano), sl.Ends.Format(time.RFC3339Nano))
	}

	monWait(t, "a repeat", 30*time.Second, func() bool { return len(e.hook.of("svc", h.Name)) >= 2 })
	if r := e.hook.of("svc", h.Name)[1]; r.Kind != "alert" || !r.Repeat || r.State != "CRITICAL" {
		t.Errorf("second delivery %s, want a repeat of the CRITICAL alert", r)
	}
	code, body = e.post("POST", "/api/v1/monitors/svc/hosts/"+h.Name+"/ack", `{"reason":"bob is on it"}`)
	if code != http.StatusOK || !strings.Contains(body, `"state": "CRITICAL"`) {
		t.Fatalf("ack: %d %s", code, body)
	}
	e.waitResults(1, [2]string{"svc", h.Name}) // a repeat decided before the ack may still arrive
	n := len(e.hook.of("svc", h.Name))
	e.waitResults(6, [2]string{"svc", h.Name}) // twice the repeat interval
	if got := e.hook.of("svc", h.Name); len(got) != n {
		t.Fatalf("%d deliveries after the ack, want none: %v", len(got)-n, got[n:])
	}
	if m, _ := e.monitor("svc", h.Name); m.Ack == nil || m.Ack.Actor != "e2e" {
		t.Errorf("svc ack in the API: %+v", m.Ack)
	}

	// The state changes: the ack ends, the change is sent, repeats resume.
	setState(1)
	monWait(t, "the WARNING alert", 30*time.Second, func() bool { return len(e.hook.of("svc", h.Name)) > n })
	if c := e.hook.of("svc", h.Name)[n]; c.Kind != "alert" || c.State != "WARNING" || c.PreviousState != "CRITICAL" || !c.Repeat {
		t.Errorf("after the change: %s (repeat %v), want a WARNING alert from CRITICAL", c, c.Repeat)
	}
	monWait(t, "a repeat of WARNING", 30*time.Second, func() bool { return len(e.hook.of("svc", h.Name)) > n+1 })
	setState(0)
	monWait(t, "the recovery", 30*time.Second, func() bool {
		got := e.hook.of("svc", h.Name)
		return got[len(got)-1].Kind == "recovery"
	})

	// A silence of every host, expired early.
	code, body = e.post("POST", "/api/v1/silences", `{"monitor":"svc","for":"1h","reason":"maintenance"}`)
	if err := json.Unmarshal([]byte(body), &sl); err != nil || code != http.StatusCreated {
		t.Fatalf("silence: %d %s", code, body)
	}
	if code, body := e.post("DELETE", "/api/v1/silences/"+strconv.FormatInt(sl.ID, 10), `{"reason":"maintenance cancelled"}`); code != http.StatusOK {
		t.Fatalf("expire: %d %s", code, body)
	}
	var evs []httpapi.AlertEvent
	e.get("/api/v1/alert-events?monitor=svc", &evs)
	var audit []string
	for _, ev := range evs {
		audit = append(audit, fmt.Sprintf("%s %s@%s by %s: %s", ev.Action, ev.Monitor, ev.Host, ev.Actor, ev.Reason))
	}
	want := []string{
		"expire svc@ by e2e: maintenance cancelled",
		"silence svc@ by e2e: maintenance",
		"ack svc@" + h.Name + " by e2e: bob is on it",
		"silence svc@" + h.Name + " by e2e: restarting svc",
	}
	if strings.Join(audit, "\n") != strings.Join(want, "\n") {
		t.Errorf("audit:\n%s\nwant:\n%s", strings.Join(audit, "\n"), strings.Join(want, "\n"))
	}
}

// TestAlertsE2EGrouping: 14 hosts whose web check fails at once, within
// the notifier's group_wait, produce one message naming them all, and
// their recoveries one more.
func TestAlertsE2EGrouping(t *testing.T) {
	if testing.Short() {
		t.Skip("the grouping end-to-end test takes about half a minute")
	}
	e := newMonEnv(t, 1)
	_, port, err := net.SplitHostPort(strings.TrimPrefix(e.svc.url, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "notifier \"webhook\" \"pager\" {\n  url        = env(%q)\n  group_wait = \"6s\"\n}\n", monHookEnv)
	var hosts []string
	for i := 1; i <= 14; i++ {
		name := fmt.Sprintf("web-%02d", i)
		hosts = append(hosts, name)
		fmt.Fprintf(&b, "\nhost %q {\n  address = \"127.0.0.1\"\n  groups  = [\"web\"]\n}\n", name)
	}
	fmt.Fprintf(&b, `
monitor "web-http" {
  targets { groups = ["web"] }
  interval = "1s"
  timeout  = "900ms"
  severity = "critical"
  notify   = ["pager"]
  check "http" { url = "http://${host.address}:%s/healthz?host=${host.name}" }
}
`, port)
	sha := e.commit("14 web hosts", map[string]string{"main.hcl": b.String()})
	e.start()
	monWait(t, "the commit applied", 30*time.Second, func() bool { return e.lastApplied() == sha })
	for _, h := range hosts {
		monWait(t, "web-http OK on "+h, 30*time.Second, func() bool { m, _ := e.monitor("web-http", h); return m.State == "OK" })
	}

	e.svc.setHealthy(false)
	monWait(t, "the grouped alert", 60*time.Second, func() bool { return len(e.hook.of("web-http", "")) > 0 })
	// Nothing more for the group: every host has alerted and checks go on.
	served, _, _, _ := e.svc.counts()
	monWait(t, "three more rounds of checks", 30*time.Second, func() bool { s, _, _, _ := e.svc.counts(); return s >= served+3*14 })
	got := e.hook.of("web-http", "")
	if len(got) != 1 {
		t.Fatalf("%d messages for 14 hosts failing within group_wait, want one: %v", len(got), got)
	}
	g := got[0]
	if g.Kind != "alert" || g.Count != 14 || len(g.Alerts) != 14 || g.State != "CRITICAL" || g.Severity != "critical" ||
		!strings.HasPrefix(g.Summary, "web-http CRITICAL on 14 hosts: web-01, web-02, ") {
		t.Fatalf("grouped alert: kind %s, count %d, %d alerts, state %s, summary %q", g.Kind, g.Count, len(g.Alerts), g.State, g.Summary)
	}
	seen := map[string]bool{}
	for _, a := range g.Alerts {
		seen[a.Host] = true
		if a.URL != "http://"+e.addr+"/monitors/web-http?host="+a.Host || !strings.Contains(a.Message, "503") {
			t.Errorf("alert of %s: %+v", a.Host, a)
		}
	}
	if len(seen) != 14 {
		t.Errorf("the message names %d distinct hosts, want 14", len(seen))
	}

	e.svc.setHealthy(true)
	monWait(t, "the grouped recovery", 60*time.Second, func() bool { return len(e.hook.of("web-http", "")) > 1 })
	served, _, _, _ = e.svc.counts()
	monWait(t, "three more rounds of checks", 30*time.Second, func() bool { s, _, _, _ := e.svc.counts(); return s >= served+3*14 })
	got = e.hook.of("web-http", "")
	if len(got) != 2 || got[1].Kind != "recovery" || got[1].Count != 14 || !strings.HasPrefix(got[1].Summary, "web-http RECOVERED on 14 hosts: ") {
		t.Fatalf("recoveries: %d messages, last %s count %d %q; want one grouped recovery", len(got), got[len(got)-1], got[len(got)-1].Count, got[len(got)-1].Summary)
	}
}
