package lab

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"
)

func dial(t *testing.T, l *Lab, h *Host) *ssh.Client {
	t.Helper()
	keyPEM, err := os.ReadFile(l.KeyFile)
	if err != nil {
		t.Fatal(err)
	}
	signer, err := ssh.ParsePrivateKey(keyPEM)
	if err != nil {
		t.Fatal(err)
	}
	cb, err := knownhosts.New(l.KnownHostsFile)
	if err != nil {
		t.Fatal(err)
	}
	c, err := ssh.Dial("tcp", fmt.Sprintf("%s:%d", h.Address, h.Port), &ssh.ClientConfig{
		User: l.User, Auth: []ssh.AuthMethod{ssh.PublicKeys(signer)}, HostKeyCallback: cb,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func TestLabRunsCommandsInSandboxWithVerifiedHostKeys(t *testing.T) {
	l, err := Start(Options{Hosts: 3, Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	for _, h := range l.Hosts {
		c := dial(t, l, h)
		s, err := c.NewSession()
		if err != nil {
			t.Fatal(err)
		}
		var out, errb bytes.Buffer
		s.Stdout, s.Stderr = &out, &errb
		s.Stdin = strings.NewReader("from-stdin")
		err = s.Run(`cat > in.txt; pwd; echo oops >&2; exit 3`)
		var ee *ssh.ExitError
		if !errors.As(err, &ee) || ee.ExitStatus() != 3 {
			t.Fatalf("%s: err = %v, want exit 3", h.Name, err)
		}
		if got := strings.TrimSpace(out.String()); got != h.Sandbox {
			t.Errorf("%s: pwd = %q, want %q", h.Name, got, h.Sandbox)
		}
		if errb.String() != "oops\n" {
			t.Errorf("%s: stderr = %q", h.Name, errb.String())
		}
		if b, _ := os.ReadFile(filepath.Join(h.Sandbox, "in.txt")); string(b) != "from-stdin" {
			t.Errorf("%s: stdin file = %q", h.Name, b)
		}
	}
	if !strings.Contains(l.HCL(), `host "lab-03"`) {
		t.Errorf("HCL lacks lab-03:\n%s", l.HCL())
	}
}

func TestLabRefusesUnknownClientKey(t *testing.T) {
	l, err := Start(Options{Hosts: 1, Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	_, other, err := newSigner()
	if err != nil {
		t.Fatal(err)
	}
	h := l.Hosts[0]
	_, err = ssh.Dial("tcp", fmt.Sprintf("%s:%d", h.Address, h.Port), &ssh.ClientConfig{
		User: l.User, Auth: []ssh.AuthMethod{ssh.PublicKeys(other)}, HostKeyCallback: ssh.InsecureIgnoreHostKey(), //nolint:gosec // testing client auth only
	})
	if err == nil {
		t.Fatal("lab accepted a key it does not know")
	}
}
