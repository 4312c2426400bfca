package sshfleet_test

import (
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ripple-ops/ripple/test/sshfleet"
)

// TestFleetWithOpenSSHClient checks the harness with the stock OpenSSH
// client: strict host key checking against the fleet's known_hosts.
func TestFleetWithOpenSSHClient(t *testing.T) {
	start := time.Now()
	f := sshfleet.Start(t, sshfleet.Options{Hosts: 20})
	t.Logf("started %d sshd in %v", len(f.Hosts), time.Since(start))
	for _, i := range []int{0, 19} {
		h := f.Hosts[i]
		out, err := exec.Command("ssh", "-F", "/dev/null", "-i", f.KeyFile,
			"-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=yes",
			"-o", "UserKnownHostsFile="+f.KnownHostsFile,
			"-p", strconv.Itoa(h.Port), f.User+"@"+h.Address,
			"echo hi from $PWD; touch "+h.Dir+"/x").CombinedOutput()
		if err != nil || !strings.Contains(string(out), "hi from") {
			t.Fatalf("ssh %s: %v: %s", h.Name, err, out)
		}
	}
	f.StopHost(3)
	if err := exec.Command("ssh", "-F", "/dev/null", "-o", "ConnectTimeout=2", "-o", "BatchMode=yes",
		"-p", strconv.Itoa(f.Hosts[3].Port), f.Hosts[3].Address, "true").Run(); err == nil {
		t.Fatal("stopped host still answers")
	}
	f.StartHost(3)
	if !strings.Contains(f.HCL(), `host "host-04"`) {
		t.Fatalf("HCL: %s", f.HCL())
	}
}
