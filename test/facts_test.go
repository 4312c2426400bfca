package test

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/ripple-ops/ripple/engine/facts"
	"github.com/ripple-ops/ripple/engine/httpapi"
)

// The facts e2e test runs `ripple serve` over a real sshd fleet whose hosts
// come from a CSV: facts are
// gathered when hosts first appear and show in the CLI, the API and the
// UI; a changed fact is an event of the host's history; a host where
// gathering fails says why and keeps its last facts; `ripple patches`
// lists the hosts worst first, as their facts say; runs render
// ${host.facts.x}. The fleet's hosts share this machine, so their pending
// updates come from the test hook: a file per host in apt's format.

// aptList is `apt list --upgradable` output with n updates, sec of them
// from the security suite.
func aptList(n, sec int) string {
	var b strings.Builder
	b.WriteString("Listing...\n")
	for i := range n {
		suite := "bookworm-updates"
		if i < sec {
			suite = "bookworm-security"
		}
		fmt.Fprintf(&b, "pkg%d/%s 1.%d-2 amd64 [upgradable from: 1.%d-1]\n", i, suite, i, i)
	}
	return b.String()
}

// factsInventory is the fleet as a user with many hosts writes it: one
// hosts block over a CSV of the commit, each row a host with its address,
// port, rack and work directory; the facts test hooks point into it.
// Only the first n hosts of the fleet have a row.
func (e *cvEnv) factsInventory(n int) map[string]string {
	f := e.fleet
	var csv strings.Builder
	csv.WriteString("name,address,port,rack,dir\n")
	for i, h := range f.Hosts[:n] {
		fmt.Fprintf(&csv, "%s,%s,%d,rack%d,%s\n", h.Name, h.Address, h.Port, i%2, e.hostDir(i))
	}
	return map[string]string{
		"inventory/fleet.csv": csv.String(),
		"inventory/hosts.hcl": fmt.Sprintf(`credential "default" {
  user             = %q
  private_key_file = %q
  known_hosts_file = %q
}

hosts "fleet" {
  for_each = { for r in csvdecode(repofile("fleet.csv")) : r.name => r }
  address  = each.value.address
  port     = tonumber(each.value.port)
  groups   = ["fleet", each.value.rack]
  vars = {
    dir                       = each.value.dir
    ripple_facts_updates_file = "${each.value.dir}/upgradable"
    ripple_facts_reboot_file  = "${each.value.dir}/reboot-required"
  }
}
`, f.User, f.KeyFile, f.KnownHostsFile),
	}
}

func TestFactsAndPatches(t *testing.T) {
	e := newCvEnv(t, 4)
	hosts := e.fleet.Hosts
	// host 0: 5 updates, 2 of them security, and a reboot pending; host 1:
	// 3 updates; host 2: none; host 3: 1 security update.
	for i, l := range []string{aptList(5, 2), aptList(3, 0), aptList(0, 0), aptList(1, 1)} {
		e.writeHost(i, "upgradable", l)
	}
	e.writeHost(0, "reboot-required", "")
	e.args = []string{"--facts-interval", "1h"}
	e.commit("inventory", e.factsInventory(3))
	e.start()

	// Facts are gathered when hosts first appear: the three of the first
	// commit, then the one a new row of the CSV adds.
	var all []httpapi.HostFacts
	gathered := func(n int) func() bool {
		return func() bool {
			all = nil
			e.getJSON("/api/v1/facts", &all)
			for _, h := range all {
				if h.Facts == nil {
					return false
				}
			}
			return len(all) == n
		}
	}
	e.waitFor("facts of the first three hosts", 60*time.Second, gathered(3))
	e.merge(e.git("rev-parse", "HEAD"), e.factsInventory(4))
	e.waitFor("facts of the host of the new row", 60*time.Second, gathered(4))
	kernel, _ := exec.Command("uname", "-r").Output()
	for _, h := range all {
		f := h.Facts
		if f.Kernel != strings.TrimSpace(string(kernel)) || f.CPUs < 1 || f.MemoryBytes <= 0 || f.OSID == "" || f.PackageManager != "apt" {
			t.Errorf("%s: facts %+v", h.Host, f)
		}
	}

	// The CLI: a table of every host, and every fact of one.
	out, code := e.cli("facts")
	if code != 0 || !regexp.MustCompile(`(?m)^`+hosts[0].Name+`\s+\S+ \S+\s+`+regexp.QuoteMeta(strings.TrimSpace(string(kernel)))+`\s+\d+\s+\S+\s+5\s+2\s+yes\s+gathered `).MatchString(out) {
		t.Errorf("ripple facts (exit %d):\n%s", code, out)
	}
	out, code = e.cli("facts", hosts[3].Name)
	if code != 0 || !regexp.MustCompile(`(?m)^  pending_security_updates\s+1$`).MatchString(out) || !strings.Contains(out, "  kernel ") {
		t.Errorf("ripple facts %s (exit %d):\n%s", hosts[3].Name, code, out)
	}

	// The API: hosts carry their facts.
	var apiHosts []httpapi.Host
	e.getJSON("/api/v1/hosts", &apiHosts)
	if len(apiHosts) != 4 || apiHosts[0].Facts == nil || apiHosts[0].Facts.PendingSecurityUpdates == nil || *apiHosts[0].Facts.PendingSecurityUpdates != 2 {
		t.Errorf("GET /api/v1/hosts: %+v", apiHosts)
	}

	// A run renders ${host.facts.x} with the last gathered facts.
	base := e.git("rev-parse", "HEAD")
	sha := e.merge(base, map[string]string{"facts.hcl": `job "record-kernel" {
  targets { groups = ["fleet"] }
  step "write" { run = "echo ${host.facts.kernel} ${host.facts.pending_updates} > ${host.vars.dir}/facts.txt" }
}
`})
	e.waitStatus(sha, "ripple/job/record-kernel", "success")
	if got := e.readHost(0, "facts.txt"); got != strings.TrimSpace(string(kernel))+" 5\n" {
		t.Errorf("host 0 facts.txt = %q", got)
	}

	// A changed fact is an event of the host's history: host 1 gets a
	// security update.
	e.writeHost(1, "upgradable", aptList(4, 1))
	out, code = e.cli("facts", "--gather", hosts[1].Name)
	if code != 0 || !regexp.MustCompile(`(?m)^  pending_updates\s+4$`).MatchString(out) ||
		!regexp.MustCompile(`(?m)^changes, newest first:\n(  .*\n)*  \S+ \S+\s+pending_updates\s+3 -> 4$`).MatchString(out) {
		t.Errorf("ripple facts --gather (exit %d):\n%s", code, out)
	}
	var detail httpapi.HostDetail
	e.getJSON("/api/v1/hosts/"+hosts[1].Name, &detail)
	changed := map[string]string{}
	for _, c := range detail.History {
		changed[c.Fact] = c.Old + " -> " + c.New
	}
	if changed["pending_updates"] != "3 -> 4" || changed["pending_security_updates"] != "0 -> 1" || len(changed) != 2 {
		t.Errorf("history of %s: %+v", hosts[1].Name, detail.History)
	}
	ui := e.uiPage("/hosts/" + hosts[1].Name)
	if !regexp.MustCompile(`<td>pending_updates</td><td class="mono">3</td><td class="mono">4</td>`).MatchString(ui) ||
		!strings.Contains(ui, `<dt>kernel</dt><dd class="mono">`+strings.TrimSpace(string(kernel))+`</dd>`) {
		t.Errorf("host page lacks the facts or their history:\n%s", grepLines(ui, "facts"))
	}

	// A host where gathering fails says why and keeps its last facts.
	e.fleet.StopHost(2)
	out, code = e.cli("facts", "--gather", hosts[2].Name)
	if code != 0 || !strings.Contains(out, "last gathering failed") || !strings.Contains(out, "unreachable") || !strings.Contains(out, "  kernel ") {
		t.Errorf("ripple facts --gather of a stopped host (exit %d):\n%s", code, out)
	}
	e.getJSON("/api/v1/hosts/"+hosts[2].Name, &detail)
	if detail.Facts == nil || detail.Facts.Kernel == "" || detail.FactsState == nil || !strings.Contains(detail.FactsState.Error, "unreachable") {
		t.Errorf("GET hosts/%s after a failed gathering: facts %+v state %+v", hosts[2].Name, detail.Facts, detail.FactsState)
	}
	if ui := e.uiPage("/hosts/" + hosts[2].Name); !strings.Contains(ui, "last gathering failed") || !strings.Contains(ui, "<dt>kernel</dt>") {
		t.Errorf("host page of a failed gathering:\n%s", grepLines(ui, "facts"))
	}

	// Patches, worst first: host 0 (2 security, reboot), host 3 (1
	// security, pending longest), host 1 (1 security, since the last
	// gathering), host 2 (last gathering failed); what the facts say.
	out, code = e.cli("patches")
	hostTable, _, _ := strings.Cut(out, "\n\n")
	order := regexp.MustCompile(`(?m)^(\S+)\s+(\d+|-)\s+(\d+|-)\s`).FindAllStringSubmatch(hostTable, -1)
	var got []string
	for _, m := range order {
		got = append(got, fmt.Sprintf("%s %s/%s", m[1], m[2], m[3]))
	}
	want := []string{hosts[0].Name + " 2/5", hosts[3].Name + " 1/1", hosts[1].Name + " 1/4", hosts[2].Name + " 0/0"}
	if code != 0 || strings.Join(got, ", ") != strings.Join(want, ", ") {
		t.Errorf("ripple patches order %v, want %v (exit %d):\n%s", got, want, code, out)
	}
	if !regexp.MustCompile(`(?m)^rack1\s+2\s+2\s+2\s+0\s+0$`).MatchString(out) || !strings.Contains(out, "oldest pending security update: ") ||
		!regexp.MustCompile(`record-kernel #\d+`).MatchString(out) || !strings.Contains(out, "(last failed: unreachable") {
		t.Errorf("ripple patches: groups, oldest update, last runs or failure missing:\n%s", out)
	}
	var rep facts.PatchReport
	e.getJSON("/api/v1/patches", &rep)
	if len(rep.Hosts) != 4 || rep.OldestSecurityHost != hosts[0].Name && rep.OldestSecurityHost != hosts[3].Name {
		t.Errorf("GET /api/v1/patches: %+v", rep)
	}
	if ui := e.uiPage("/patches"); strings.Count(ui, `<tr class="patch-row">`) != 4 || strings.Index(ui, ">"+hosts[0].Name+"<") > strings.Index(ui, ">"+hosts[2].Name+"<") {
		t.Errorf("/patches page:\n%s", grepLines(ui, "patch-row"))
	}

	// The metric.
	m := e.metrics()
	if v := metricValue(t, m, fmt.Sprintf(`ripple_host_pending_updates{host=%q,kind="security"}`, hosts[0].Name)); v != 2 {
		t.Errorf("ripple_host_pending_updates security of %s = %v", hosts[0].Name, v)
	}
}

// TestFactsSNMPOnlyHost: a switch without SSH gets its system group from a
// real snmpd, and its vendor from the sysObjectID.
func TestFactsSNMPOnlyHost(t *testing.T) {
	agent := startSNMPE2E(t)
	e := newDmEnv(t, 1)
	e.noGitHub = true
	t.Setenv("RIPPLE_E2E_COMMUNITY", "e2e-community")
	e.commit("inventory", map[string]string{"hosts.hcl": e.fleet.HCL() + fmt.Sprintf(`
snmp "e2e-v2c" {
  version   = "2c"
  port      = %d
  community = env("RIPPLE_E2E_COMMUNITY")
}
host "sw-01" {
  address = "127.0.0.1"
  groups  = ["switch"]
  snmp    = "e2e-v2c"
}
`, agent.port)})
	e.start()
	var facts []httpapi.HostFacts
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("last GET /api/v1/facts?host=sw-01: %+v", facts)
		}
	})
	e.waitFor("facts of sw-01", 60*time.Second, func() bool {
		facts = nil
		e.getJSON("/api/v1/facts?host=sw-01", &facts)
		return len(facts) == 1 && facts[0].Facts != nil
	})
	f := facts[0].Facts
	hostname, _ := os.Hostname()
	if !strings.HasPrefix(f.SysObjectID, "1.3.6.1.4.1.8072.") || f.SysDescr == "" || f.SysName != hostname || f.Vendor != "Net-SNMP" || f.IfCount == nil || f.SysUptime <= 0 {
		t.Errorf("sw-01 facts %+v", f)
	}
	if facts[0].State.Error != "" || f.Kernel != "" {
		t.Errorf("sw-01: error %q, kernel %q: an SNMP-only host is not logged in to", facts[0].State.Error, f.Kernel)
	}
}

// TestClusterGathersFactsOnTheLeader: two daemons on one PostgreSQL. The
// leader gathers the hosts' facts once; `ripple facts --gather` asked of
// the follower is gathered by the leader and answered by the follower.
func TestClusterGathersFactsOnTheLeader(t *testing.T) {
	e := newClusterEnv(t, 2, 2, pg.Cluster(t))
	e.commit("inventory", map[string]string{"hosts.hcl": e.fleet.HCL()})
	e.startAll()
	l := e.leader()
	f := e.follower(l)
	var facts []httpapi.HostFacts
	e.waitFor("facts of both hosts through the follower", 60*time.Second, func() bool {
		facts = nil
		if !f.tryJSON("/api/v1/facts", &facts) || len(facts) != 2 {
			return false
		}
		return facts[0].Facts != nil && facts[1].Facts != nil
	})
	host := e.fleet.Hosts[0].Name
	out, stderr, err := f.cli("facts", "--gather", host)
	if err != nil || !strings.HasPrefix(out, host+": gathered ") || !strings.Contains(out, "  kernel ") {
		t.Fatalf("ripple facts --gather through the follower: %v\n%s%s", err, out, stderr)
	}
	gatherings := func(n *dmEnv) (lines, hosts int) {
		for i := 1; i <= n.logs; i++ {
			b, _ := os.ReadFile(n.logFile(i))
			for _, line := range strings.Split(string(b), "\n") {
				if strings.Contains(line, `"message":"facts gathered"`) {
					lines++
					var v struct{ Hosts int }
					_ = json.Unmarshal([]byte(line), &v)
					hosts += v.Hosts
				}
			}
		}
		return lines, hosts
	}
	if lines, _ := gatherings(f); lines != 0 {
		t.Errorf("the follower %s gathered facts %d times; only the leader gathers", f.nodeName(), lines)
	}
	if lines, hosts := gatherings(l); hosts != 3 {
		t.Errorf("the leader %s gathered %d hosts in %d gatherings; want 3 (both on appearance, one on demand)", l.nodeName(), hosts, lines)
	}
}
