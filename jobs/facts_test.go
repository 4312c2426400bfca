package jobs

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ripple-ops/ripple/definitions"
	"github.com/ripple-ops/ripple/engine"
)

// The facts script, run by a real sh on this machine through the local
// transport, reports what uname and /proc say, and pending updates from
// the test hook's file in apt's format.
func TestGatherFactsLocal(t *testing.T) {
	dir := t.TempDir()
	updates := filepath.Join(dir, "upgradable")
	reboot := filepath.Join(dir, "reboot-required")
	if err := os.WriteFile(updates, []byte("Listing...\n"+
		"bash/stable-security 5.2.15-2+deb12u1 amd64 [upgradable from: 5.2.15-2]\n"+
		"libc6/stable,stable-security 2.36-9+deb12u4 amd64 [upgradable from: 2.36-9+deb12u3]\n"+
		"tzdata/stable-updates 2024b-0+deb12u1 all [upgradable from: 2024a-0+deb12u1]\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	p := NewFactsProbe(NewTransport(nil, NewLocal(SSHOptions{})), nil)
	req := engine.FactsRequest{
		Endpoint: engine.Endpoint{Host: &definitions.Host{Name: "ctl", Transport: "local", Address: "127.0.0.1"}},
		SSH:      true, UpdatesFile: updates, RebootFile: reboot,
	}
	f, err := p.GatherFacts(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	kernel, _ := exec.Command("uname", "-r").Output()
	arch, _ := exec.Command("uname", "-m").Output()
	if f.Kernel != strings.TrimSpace(string(kernel)) || f.Arch != strings.TrimSpace(string(arch)) {
		t.Errorf("kernel %q arch %q; uname says %q %q", f.Kernel, f.Arch, kernel, arch)
	}
	if f.CPUs < 1 || f.MemoryBytes < 1<<20 || f.UptimeSeconds <= 0 || f.OSID == "" || f.Virtualization == "" {
		t.Errorf("facts %+v", f)
	}
	if f.PackageManager != "apt" || f.PendingUpdates == nil || *f.PendingUpdates != 3 || *f.PendingSecurityUpdates != 2 {
		t.Errorf("updates %q %v %v; want apt, 3 with 2 security", f.PackageManager, f.PendingUpdates, f.PendingSecurityUpdates)
	}
	if f.RebootRequired == nil || *f.RebootRequired {
		t.Errorf("reboot_required %v, want false", f.RebootRequired)
	}
	if err := os.WriteFile(reboot, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if f, err = p.GatherFacts(context.Background(), req); err != nil || f.RebootRequired == nil || !*f.RebootRequired {
		t.Errorf("after the reboot flag appeared: %v, %v", f.RebootRequired, err)
	}
	// An unreadable hook file fails the gathering, saying why.
	req.UpdatesFile = filepath.Join(dir, "missing")
	if _, err := p.GatherFacts(context.Background(), req); err == nil || !strings.Contains(err.Error(), "cannot read "+req.UpdatesFile) {
		t.Errorf("missing hook file: %v", err)
	}
}

func TestCountDNF(t *testing.T) {
	all, sec := countDNF([]string{
		"",
		"openssl.x86_64           1:3.0.7-25.el9_3     baseos",
		"kernel.x86_64            5.14.0-362.18.1.el9  baseos",
		"vim-minimal.x86_64       2:8.2.2637-20.el9_1  baseos",
	}, []string{
		"ALSA-2024:0310 Important/Sec. openssl-1:3.0.7-25.el9_3.x86_64",
		"ALSA-2024:0461 Important/Sec. kernel-5.14.0-362.18.1.el9_3.x86_64",
		"ALSA-2024:0462 Moderate/Sec.  kernel-5.14.0-362.18.1.el9_3.x86_64",
	})
	if all != 3 || sec != 2 {
		t.Errorf("dnf: %d updates, %d security; want 3, 2", all, sec)
	}
}

func TestSNMPVendorProduct(t *testing.T) {
	for _, tc := range []struct{ oid, descr, vendor, product string }{
		{"1.3.6.1.4.1.9.1.1208", "Cisco IOS Software, C2960X Software (C2960X-UNIVERSALK9-M), Version 15.2(7)E4", "Cisco", "Cisco IOS Software"},
		{"1.3.6.1.4.1.2636.1.1.1.2.63", "Juniper Networks, Inc. ex4300-48t Ethernet Switch, kernel JUNOS 21.4R3", "Juniper Networks", "Juniper Networks, Inc. ex4300-48t Ethernet Switch"},
		{"1.3.6.1.4.1.8072.3.2.10", "Linux sw 6.1.0 #1 SMP x86_64", "Net-SNMP", "Linux sw 6.1.0 #1 SMP x86_64"},
	} {
		if v, p := snmpVendor(tc.oid), snmpProduct(tc.descr); v != tc.vendor || p != tc.product {
			t.Errorf("%s: vendor %q product %q; want %q %q", tc.oid, v, p, tc.vendor, tc.product)
		}
	}
}
