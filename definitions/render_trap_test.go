package definitions

import (
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/google/go-cmp/cmp"
)

const logsAndTrapsFixture = `
credential "default" {
  user             = "ops"
  private_key_file = "/k"
  known_hosts_file = "/kh"
}
snmp "v2" {
  version   = "2c"
  community = env("COMMUNITY")
}
host "web-01" {
  address = "10.0.1.11"
  groups  = ["web"]
  vars    = { logdir = "/srv/web-01" }
}
host "sw-1" {
  address = "192.0.2.1"
  groups  = ["switch"]
  snmp    = "v2"
}
monitor "app-errors" {
  targets { groups = ["web"] }
  check "log" {
    path    = "${host.vars.logdir}/error.log"
    rotated = "${host.vars.logdir}/error.log.1"
    pattern = "ERROR|FATAL"
  }
}
trap "link-down" {
  targets { groups = ["switch"] }
  oid     = "1.3.6.1.6.3.1.1.5.3"
  clear   = ".1.3.6.1.6.3.1.1.5.4"
  message = "link down on ${host.name}: ${trap.varbinds["1.3.6.1.2.1.2.2.1.2"]}"

  connectivity = true
}
trap "cold-start" {
  targets { groups = ["switch"] }
  oid         = "1.3.6.1.6.3.1.1.5.1"
  state       = "WARNING"
  clear_after = "30m"
}
`

func TestRenderLogCheck(t *testing.T) {
	d := mustLoad(t, fstest.MapFS{"a.hcl": {Data: []byte(logsAndTrapsFixture)}})
	m := d.Monitors["app-errors"]
	if m.BlockType() != "monitor" || m.Check.Kind != CheckLog {
		t.Fatalf("app-errors: block %s, kind %s", m.BlockType(), m.Check.Kind)
	}
	hc, diags := d.RenderCheck(m, d.Hosts["web-01"], nil)
	if diags.HasErrors() {
		t.Fatal(allDiags(diags))
	}
	want := &HostLogCheck{
		Path: "/srv/web-01/error.log", Rotated: "/srv/web-01/error.log.1", Pattern: "ERROR|FATAL",
		CritCount: 1, MaxLines: DefaultLogMaxLines, MaxBytes: DefaultLogMaxBytes,
	}
	if diff := cmp.Diff(want, hc.Log); diff != "" {
		t.Errorf("log check (-want +got):\n%s", diff)
	}
}

func TestRenderLogCheckRelativePathPerHost(t *testing.T) {
	src := strings.Replace(logsAndTrapsFixture, `logdir = "/srv/web-01"`, `logdir = "srv"`, 1)
	d := mustLoad(t, fstest.MapFS{"a.hcl": {Data: []byte(src)}})
	_, diags := d.RenderCheck(d.Monitors["app-errors"], d.Hosts["web-01"], nil)
	if !diags.HasErrors() || !strings.Contains(diags.Error(), `path "srv/error.log" on host web-01 must be an absolute path`) {
		t.Errorf("diags = %v, want the relative path named", diags)
	}
}

func TestTrapBlocks(t *testing.T) {
	d := mustLoad(t, fstest.MapFS{"a.hcl": {Data: []byte(logsAndTrapsFixture)}})
	ld, cs := d.Monitors["link-down"], d.Monitors["cold-start"]
	if ld.BlockType() != "trap" || ld.Interval != 0 || ld.AlertAfter != 1 {
		t.Errorf("link-down = block %s, interval %s, alert_after %d", ld.BlockType(), ld.Interval, ld.AlertAfter)
	}
	if !ld.Connectivity || cs.Connectivity {
		t.Errorf("connectivity: link-down %v, cold-start %v; want only link-down's", ld.Connectivity, cs.Connectivity)
	}
	hc, diags := d.RenderCheck(ld, d.Hosts["sw-1"], nil)
	if diags.HasErrors() {
		t.Fatal(allDiags(diags))
	}
	want := &HostTrap{OID: "1.3.6.1.6.3.1.1.5.3", State: "CRITICAL", ClearOID: "1.3.6.1.6.3.1.1.5.4",
		Message: `"link down on ${host.name}: ${trap.varbinds["1.3.6.1.2.1.2.2.1.2"]}"`}
	if diff := cmp.Diff(want, hc.Trap); diff != "" {
		t.Errorf("link-down (-want +got):\n%s", diff)
	}
	hc, _ = d.RenderCheck(cs, d.Hosts["sw-1"], nil)
	if diff := cmp.Diff(&HostTrap{OID: "1.3.6.1.6.3.1.1.5.1", State: "WARNING", ClearAfter: 30 * time.Minute}, hc.Trap); diff != "" {
		t.Errorf("cold-start (-want +got):\n%s", diff)
	}
}

func TestTrapMessage(t *testing.T) {
	d := mustLoad(t, fstest.MapFS{"a.hcl": {Data: []byte(logsAndTrapsFixture)}})
	sw := d.Hosts["sw-1"]
	linkDown := TrapValues{OID: "1.3.6.1.6.3.1.1.5.3", Source: "192.0.2.1", Varbinds: []TrapVarbind{
		{OID: "1.3.6.1.2.1.2.2.1.1.5", Value: "5"},
		{OID: "1.3.6.1.2.1.2.2.1.2.5", Value: "GigabitEthernet0/5"},
		{OID: "1.3.6.1.2.1.2.2.1.8.5", Value: "2"},
	}}
	tests := []struct {
		name    string
		monitor string
		trap    TrapValues
		want    string
		err     string
	}{
		{"column OID finds the instance", "link-down", linkDown, "link down on sw-1: GigabitEthernet0/5", ""},
		{"full OID", "link-down", TrapValues{OID: "1.3.6.1.6.3.1.1.5.3", Source: "192.0.2.1", Varbinds: []TrapVarbind{{OID: "1.3.6.1.2.1.2.2.1.2", Value: "eth0"}}}, "link down on sw-1: eth0", ""},
		{"missing varbind falls back and says why", "link-down", TrapValues{OID: "1.3.6.1.6.3.1.1.5.3", Source: "192.0.2.1"},
			"trap 1.3.6.1.6.3.1.1.5.3 from 192.0.2.1", "message: Invalid index"},
		{"no message template", "cold-start", linkDown,
			"trap 1.3.6.1.6.3.1.1.5.3 from 192.0.2.1 1.3.6.1.2.1.2.2.1.1.5=5 1.3.6.1.2.1.2.2.1.2.5=GigabitEthernet0/5 1.3.6.1.2.1.2.2.1.8.5=2", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := d.TrapRenderer(d.Monitors[tt.monitor], sw).Render(tt.trap)
			if got != tt.want {
				t.Errorf("message = %q, want %q", got, tt.want)
			}
			if tt.err == "" && err != nil || tt.err != "" && (err == nil || !strings.HasPrefix(err.Error(), tt.err)) {
				t.Errorf("error = %v, want %q", err, tt.err)
			}
		})
	}
}

func TestDiffTrapBlocks(t *testing.T) {
	old := mustLoad(t, fstest.MapFS{"a.hcl": {Data: []byte(logsAndTrapsFixture)}})
	changed := strings.Replace(logsAndTrapsFixture, `clear_after = "30m"`, `clear_after = "1h"`, 1)
	changed = strings.Replace(changed, `trap "link-down"`, `trap "link-flap"`, 1)
	changed += "\ntrap \"auth-fail\" {\n  targets { groups = [\"switch\"] }\n  oid = \"1.3.6.1.6.3.1.1.5.5\"\n  clear_after = \"5m\"\n}\n"
	cs := Diff(old, mustLoad(t, fstest.MapFS{"a.hcl": {Data: []byte(changed)}}))
	want := MonitorChanges{
		Added: []string{"auth-fail", "link-flap"}, Changed: []string{"cold-start"}, Removed: []string{"link-down"},
		Reasons: map[string][]string{"cold-start": {"trap block changed"}},
	}
	if diff := cmp.Diff(want, cs.Monitors); diff != "" {
		t.Errorf("monitor changes (-want +got):\n%s", diff)
	}
}
