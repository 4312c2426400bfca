package main

import (
	"crypto/ed25519"
	"crypto/rand"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"
	"github.com/skeema/knownhosts"
	"golang.org/x/crypto/ssh"

	"github.com/ripple-ops/ripple/test/sshfleet"
)

// TestHostsTrustScripts runs testdata/hosts against a real two-host sshd
// fleet. Each script gets $WORK/ops/hosts.hcl naming the fleet with
// known_hosts_file = $WORK/known_hosts, which already holds a wrong key for
// host-02 (as if host-02 had been reinstalled or impersonated).
func TestHostsTrustScripts(t *testing.T) {
	f := sshfleet.Start(t, sshfleet.Options{Hosts: 2})
	testscript.Run(t, testscript.Params{
		Dir: "testdata/hosts",
		Setup: func(env *testscript.Env) error {
			kh := filepath.Join(env.WorkDir, "known_hosts")
			hcl := strings.ReplaceAll(f.HCL(), f.KnownHostsFile, kh)
			if err := os.MkdirAll(filepath.Join(env.WorkDir, "ops"), 0o755); err != nil {
				return err
			}
			if err := os.WriteFile(filepath.Join(env.WorkDir, "ops", "hosts.hcl"), []byte(hcl), 0o644); err != nil {
				return err
			}
			pub, _, err := ed25519.GenerateKey(rand.Reader)
			if err != nil {
				return err
			}
			wrong, err := ssh.NewPublicKey(pub)
			if err != nil {
				return err
			}
			line := knownhosts.Line([]string{f.Hosts[1].HostPort()}, wrong) + "\n"
			env.Setenv("HOST1_ADDR", f.Hosts[0].HostPort())
			return os.WriteFile(kh, []byte(line), 0o600)
		},
	})
}
