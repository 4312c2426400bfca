package jobs

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"

	"testing"
	"text/template"
	"time"

	"github.com/gosnmp/gosnmp"
	"github.com/ripple-ops/ripple/definitions"
)

// testSNMPUser is a v3 user the test snmpd knows. Auth and Priv use
// net-snmp's names; GoAuth and GoPriv ripple's (profile) names.
type testSNMPUser struct {
	Name, Auth, AuthPass, Priv, PrivPass string
	GoAuth, GoPriv                       string
}

var testSNMPUsers = []testSNMPUser{
	{Name: "ripple-sha-aes", Auth: "SHA", AuthPass: "auth-pass-1", Priv: "AES", PrivPass: "priv-pass-1", GoAuth: "SHA", GoPriv: "AES"},
	{Name: "ripple-sha256-aes256", Auth: "SHA-256", AuthPass: "auth-pass-2", Priv: "AES-256", PrivPass: "priv-pass-2", GoAuth: "SHA256", GoPriv: "AES256"},
	{Name: "ripple-sha512-aes192", Auth: "SHA-512", AuthPass: "auth-pass-3", Priv: "AES-192", PrivPass: "priv-pass-3", GoAuth: "SHA512", GoPriv: "AES192"},
	{Name: "ripple-sha384-aes", Auth: "SHA-384", AuthPass: "auth-pass-4", Priv: "AES", PrivPass: "priv-pass-4", GoAuth: "SHA384", GoPriv: "AES"},
	{Name: "ripple-md5-des", Auth: "MD5", AuthPass: "auth-pass-5", Priv: "DES", PrivPass: "priv-pass-5", GoAuth: "MD5", GoPriv: "DES"},
	{Name: "ripple-sha224-nopriv", Auth: "SHA-224", AuthPass: "auth-pass-6", GoAuth: "SHA224"},
}

// testSNMPD is a real net-snmp agent on 127.0.0.1 started by a test.
type testSNMPD struct {
	Port      int
	Dir       string
	Community string
	bin       string
	cmd       *exec.Cmd
	exited    chan error
}

// findSNMPD returns the snmpd binary: t.Fatal in CI when it is missing,
// t.Skip elsewhere.
func findSNMPD(t *testing.T) string {
	t.Helper()
	for _, p := range []string{"snmpd", "/usr/sbin/snmpd"} {
		if bin, err := exec.LookPath(p); err == nil {
			return bin
		}
	}
	if os.Getenv("CI") != "" {
		t.Fatal("snmpd not installed (apt-get install snmpd)")
	}
	t.Skip("snmpd not installed")
	return ""
}

// startSNMPD renders testdata/snmpd/snmpd.conf.tmpl into a temp dir and
// starts snmpd in the foreground; it is killed when the test ends.
func startSNMPD(t *testing.T) *testSNMPD {
	t.Helper()
	bin := findSNMPD(t)
	dir := t.TempDir()
	script, err := os.ReadFile(filepath.Join("testdata", "snmpd", "counter.sh"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "counter.sh"), script, 0o755); err != nil {
		t.Fatal(err)
	}
	tmpl, err := template.ParseFiles(filepath.Join("testdata", "snmpd", "snmpd.conf.tmpl"))
	if err != nil {
		t.Fatal(err)
	}
	s := &testSNMPD{Dir: dir, Community: "ripple-test", bin: bin}
	s.Set(t, "uptime", "100000")
	s.Set(t, "gauge", "42")
	for attempt := 0; ; attempt++ {
		s.Port = freeUDPPort(t)
		f, err := os.Create(filepath.Join(dir, "snmpd.conf"))
		if err != nil {
			t.Fatal(err)
		}
		err = tmpl.Execute(f, map[string]any{
			"Port": s.Port, "Community": s.Community, "Users": testSNMPUsers,
			"Dir": dir, "Script": filepath.Join(dir, "counter.sh"),
		})
		_ = f.Close()
		if err != nil {
			t.Fatal(err)
		}
		if err := s.start(); err == nil {
			break
		} else if attempt == 2 {
			log, _ := os.ReadFile(filepath.Join(dir, "snmpd.log"))
			t.Fatalf("start snmpd: %v\n%s", err, log)
		}
	}
	t.Cleanup(s.stop)
	return s
}

func freeUDPPort(t *testing.T) int {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	return pc.LocalAddr().(*net.UDPAddr).Port
}

// start launches snmpd and waits until it answers a v2c GET.
func (s *testSNMPD) start() error {
	cmd := exec.Command(s.bin, "-f", "-C", "-c", filepath.Join(s.Dir, "snmpd.conf"),
		"--persistentDir="+filepath.Join(s.Dir, "var"), "-Lf", filepath.Join(s.Dir, "snmpd.log"),
		"-I", "-smux") // no SMUX listener: as root it would bind 0.0.0.0:199
	cmd.Env = append(os.Environ(), "MIBS=", "MIBDIRS="+filepath.Join(s.Dir, "no-mibs"))
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("run %s: %w", s.bin, err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	s.cmd, s.exited = cmd, exited
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case err := <-exited:
			s.cmd = nil
			return fmt.Errorf("snmpd exited: %w", err)
		default:
		}
		if s.answers() {
			return nil
		}
		time.Sleep(50 * time.Millisecond)
	}
	s.stop()
	return fmt.Errorf("snmpd on port %d did not answer within 10s", s.Port)
}

func (s *testSNMPD) answers() bool {
	g := &gosnmp.GoSNMP{Target: "127.0.0.1", Port: uint16(s.Port), Community: s.Community, Version: gosnmp.Version2c,
		Timeout: 200 * time.Millisecond, Context: context.Background()}
	if err := g.Connect(); err != nil {
		return false
	}
	defer g.Conn.Close()
	_, err := g.Get([]string{".1.3.6.1.2.1.1.5.0"})
	return err == nil
}

// stop kills the snmpd this test started (by its pid) and waits for it.
func (s *testSNMPD) stop() {
	if s.cmd == nil {
		return
	}
	_ = s.cmd.Process.Kill()
	<-s.exited
	s.cmd = nil
}

// restart stops and starts snmpd on the same port and directory: a new
// process, so v3 engine boots change, as after a device reboot.
func (s *testSNMPD) restart(t *testing.T) {
	t.Helper()
	s.stop()
	if err := s.start(); err != nil {
		t.Fatalf("restart snmpd: %v", err)
	}
}

// Set writes a value file read by counter.sh, atomically.
func (s *testSNMPD) Set(t *testing.T, name, value string) {
	t.Helper()
	tmp := filepath.Join(s.Dir, "."+name+".tmp")
	if err := os.WriteFile(tmp, []byte(value+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, filepath.Join(s.Dir, name)); err != nil {
		t.Fatal(err)
	}
}

// v2c returns an access profile for the community.
func (s *testSNMPD) v2c() *definitions.SNMPAccess {
	return &definitions.SNMPAccess{Address: "127.0.0.1", Port: s.Port, Version: "2c", Community: s.Community,
		Timeout: 2 * time.Second, Retries: 1}
}

// v3 returns an access profile for a test user.
func (s *testSNMPD) v3(u testSNMPUser) *definitions.SNMPAccess {
	return &definitions.SNMPAccess{Address: "127.0.0.1", Port: s.Port, Version: "3", User: u.Name,
		AuthProtocol: u.GoAuth, AuthPassphrase: u.AuthPass, PrivProtocol: u.GoPriv, PrivPassphrase: u.PrivPass,
		Timeout: 2 * time.Second, Retries: 1}
}
