package jobs

import (
	"context"
	"fmt"
	"io/fs"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/fstest"
	"time"

	"github.com/gosnmp/gosnmp"
	"github.com/rs/zerolog"

	"github.com/ripple-ops/ripple/definitions"
	"github.com/ripple-ops/ripple/engine"
)

const trapProfiles = `
snmp "sw-v2" {
  version   = "2c"
  community = env("TRAP_COMMUNITY")
}
snmp "sw-v3" {
  version         = "3"
  user            = "trapuser"
  auth_protocol   = "SHA256"
  auth_passphrase = env("TRAP_AUTH")
  priv_protocol   = "AES"
  priv_passphrase = env("TRAP_PRIV")
}
snmp "sw-v3-auth" {
  version         = "3"
  user            = "authonly"
  auth_protocol   = "SHA"
  auth_passphrase = env("TRAP_AUTH")
}
`

var trapSecrets = mapSecrets{"TRAP_COMMUNITY": "e2e-trap-community", "TRAP_AUTH": "auth-pass-123", "TRAP_PRIV": "priv-pass-456"}

type mapSecrets map[string]string

func (m mapSecrets) Env(name string) (string, bool) { v, ok := m[name]; return v, ok }
func (m mapSecrets) ReadFile(string, []definitions.ProtectedFile) ([]byte, error) {
	return nil, fs.ErrNotExist
}

// trapRecorder is a TrapSink that keeps what it is given.
type trapRecorder struct {
	mu     sync.Mutex
	traps  []engine.Trap
	drops  map[engine.TrapDrop]int
	listen string
}

func (r *trapRecorder) ReceiveTrap(_ context.Context, t engine.Trap) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.traps = append(r.traps, t)
}

func (r *trapRecorder) TrapDropped(why engine.TrapDrop, _ netip.Addr) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.drops == nil {
		r.drops = map[engine.TrapDrop]int{}
	}
	r.drops[why]++
}

func (r *trapRecorder) ListeningForTraps(addr string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.listen = addr
}

func (r *trapRecorder) seen() (int, map[engine.TrapDrop]int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	d := map[engine.TrapDrop]int{}
	for k, v := range r.drops {
		d[k] = v
	}
	return len(r.traps), d
}

func startTrapReceiver(t *testing.T) (*TrapReceiver, *trapRecorder) {
	t.Helper()
	return startTrapReceiverWith(t, zerolog.Nop())
}

func startTrapReceiverWith(t *testing.T, log zerolog.Logger) (*TrapReceiver, *trapRecorder) {
	t.Helper()
	sink := &trapRecorder{}
	tr, err := NewTrapReceiver(TrapReceiverOptions{Addr: "127.0.0.1:0", Sink: sink, Secrets: trapSecrets, Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	defs, diags := definitions.Load(fstest.MapFS{"snmp.hcl": {Data: []byte(trapProfiles)}}, "", definitions.Limits{})
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	if err := tr.ApplyConfig(context.Background(), defs); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = tr.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	waitUntil(t, "listening", func() bool { sink.mu.Lock(); defer sink.mu.Unlock(); return sink.listen != "" })
	return tr, sink
}

func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// netSNMP runs a Net-SNMP command line tool (snmptrap, snmpinform).
func netSNMP(t testing.TB, tool string, args ...string) (string, error) {
	t.Helper()
	bin, err := exec.LookPath(tool)
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("%s not installed (Debian package snmp): %v", tool, err)
		}
		t.Skipf("%s not installed (Debian package snmp): %v", tool, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	dir := t.TempDir()
	cmd.Env = append(os.Environ(), "MIBS=", "MIBDIRS="+dir, "HOME="+dir, "SNMP_PERSISTENT_DIR="+dir, "SNMPCONFPATH="+dir)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

const linkDownOID = "1.3.6.1.6.3.1.1.5.3"

func linkDownArgs(target string) []string {
	return []string{target, "", linkDownOID, "1.3.6.1.2.1.2.2.1.1.3", "i", "3", "1.3.6.1.2.1.2.2.1.2.3", "s", "Gi0/3",
		"1.3.6.1.2.1.2.2.1.8.3", "i", "2"}
}

// TestTrapReceiverAuthenticatesWithProfiles sends traps with Net-SNMP's
// snmptrap: a v2c trap with a profile's community and a v3 trap of a
// profile's user are accepted with their profile, source and varbinds;
// a wrong community, a wrong key, an unknown user, a v3 trap without the
// privacy its profile requires and garbage are dropped and counted.
func TestTrapReceiverAuthenticatesWithProfiles(t *testing.T) {
	tr, sink := startTrapReceiver(t)
	target := tr.Addr().String()
	v3 := func(user, level, auth, authPass, priv, privPass string) []string {
		a := []string{"-v", "3", "-u", user, "-l", level, "-e", "0x80001f8880c0ffee01", "--clientaddr=127.0.0.22"}
		if auth != "" {
			a = append(a, "-a", auth, "-A", authPass)
		}
		if priv != "" {
			a = append(a, "-x", priv, "-X", privPass)
		}
		return append(a, linkDownArgs(target)...)
	}
	tests := []struct {
		name     string
		args     []string
		profiles []string // nil: dropped
		why      engine.TrapDrop
	}{
		{"v2c community of a profile", append([]string{"-v", "2c", "-c", "e2e-trap-community", "--clientaddr=127.0.0.21"}, linkDownArgs(target)...), []string{"sw-v2"}, ""},
		{"v2c unknown community", append([]string{"-v", "2c", "-c", "public", "--clientaddr=127.0.0.21"}, linkDownArgs(target)...), nil, engine.TrapRejected},
		{"v3 user with its keys", v3("trapuser", "authPriv", "SHA-256", "auth-pass-123", "AES", "priv-pass-456"), []string{"sw-v3"}, ""},
		{"v3 wrong auth key", v3("trapuser", "authPriv", "SHA-256", "wrong-pass-123", "AES", "priv-pass-456"), nil, engine.TrapRejected},
		{"v3 wrong privacy key", v3("trapuser", "authPriv", "SHA-256", "auth-pass-123", "AES", "wrong-pass-456"), nil, engine.TrapRejected},
		{"v3 without the privacy the profile requires", v3("trapuser", "authNoPriv", "SHA-256", "auth-pass-123", "", ""), nil, engine.TrapRejected},
		{"v3 unauthenticated", v3("trapuser", "noAuthNoPriv", "", "", "", ""), nil, engine.TrapRejected},
		{"v3 unknown user", v3("intruder", "authPriv", "SHA-256", "auth-pass-123", "AES", "priv-pass-456"), nil, engine.TrapRejected},
		{"v3 auth-only profile", v3("authonly", "authNoPriv", "SHA", "auth-pass-123", "", ""), []string{"sw-v3-auth"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n0, d0 := sink.seen()
			if out, err := netSNMP(t, "snmptrap", tt.args...); err != nil {
				t.Fatalf("snmptrap: %v\n%s", err, out)
			}
			waitUntil(t, "the trap handled", func() bool {
				n, d := sink.seen()
				return n+d[engine.TrapRejected]+d[engine.TrapMalformed] > n0+d0[engine.TrapRejected]+d0[engine.TrapMalformed]
			})
			n, d := sink.seen()
			if tt.profiles == nil {
				if n != n0 || d[tt.why] != d0[tt.why]+1 {
					t.Fatalf("accepted %d, drops %v (before %v), want one %s drop", n-n0, d, d0, tt.why)
				}
				return
			}
			if n != n0+1 {
				t.Fatalf("no trap accepted; drops %v", d)
			}
			sink.mu.Lock()
			got := sink.traps[len(sink.traps)-1]
			sink.mu.Unlock()
			want := []definitions.TrapVarbind{{OID: "1.3.6.1.2.1.2.2.1.1.3", Value: "3"}, {OID: "1.3.6.1.2.1.2.2.1.2.3", Value: "Gi0/3"}, {OID: "1.3.6.1.2.1.2.2.1.8.3", Value: "2"}}
			if got.OID != linkDownOID || !slices.Equal(got.Profiles, tt.profiles) || !slices.Equal(got.Varbinds, want) ||
				!got.Source.IsLoopback() || got.At.IsZero() {
				t.Errorf("trap = %+v", got)
			}
		})
	}
	t.Run("source address", func(t *testing.T) {
		sink.mu.Lock()
		defer sink.mu.Unlock()
		if src := sink.traps[0].Source; src != netip.MustParseAddr("127.0.0.21") {
			t.Errorf("source = %s, want the sender's 127.0.0.21", src)
		}
	})
	t.Run("garbage", func(t *testing.T) {
		_, d0 := sink.seen()
		sendUDP(t, target, []byte("GET / HTTP/1.0\r\n\r\n"))
		sendUDP(t, target, []byte{0x30, 0x82, 0xff, 0xff, 0x02, 0x01, 0x01, 0x04})
		waitUntil(t, "two malformed", func() bool { _, d := sink.seen(); return d[engine.TrapMalformed] == d0[engine.TrapMalformed]+2 })
	})
}

// An inform (v2c) is answered: snmpinform waits for the answer.
func TestTrapReceiverAnswersInforms(t *testing.T) {
	tr, sink := startTrapReceiver(t)
	out, err := netSNMP(t, "snmpinform", append([]string{"-v", "2c", "-c", "e2e-trap-community", "-t", "3", "-r", "0"}, linkDownArgs(tr.Addr().String())...)...)
	if err != nil {
		t.Fatalf("snmpinform got no answer: %v\n%s", err, out)
	}
	if n, _ := sink.seen(); n != 1 {
		t.Errorf("%d traps accepted from the inform, want 1", n)
	}
}

// Secrets never reach the receiver's log, whatever it accepts or drops.
func TestTrapReceiverLogsNoSecrets(t *testing.T) {
	var mu sync.Mutex
	var log strings.Builder
	logger := zerolog.New(writerFunc(func(p []byte) (int, error) { mu.Lock(); defer mu.Unlock(); return log.Write(p) })).Level(zerolog.DebugLevel)
	tr, sink := startTrapReceiverWith(t, logger)
	target := tr.Addr().String()
	sends := [][]string{
		append([]string{"-v", "2c", "-c", "e2e-trap-community"}, linkDownArgs(target)...),
		append([]string{"-v", "2c", "-c", "almost-the-community"}, linkDownArgs(target)...),
		append([]string{"-v", "3", "-u", "trapuser", "-l", "authPriv", "-a", "SHA-256", "-A", "auth-pass-123", "-x", "AES", "-X", "priv-pass-456"}, linkDownArgs(target)...),
		append([]string{"-v", "3", "-u", "trapuser", "-l", "authPriv", "-a", "SHA-256", "-A", "auth-pass-124", "-x", "AES", "-X", "priv-pass-457"}, linkDownArgs(target)...),
	}
	for _, args := range sends {
		if out, err := netSNMP(t, "snmptrap", args...); err != nil {
			t.Fatalf("snmptrap: %v\n%s", err, out)
		}
	}
	waitUntil(t, "four traps handled", func() bool { n, d := sink.seen(); return n+d[engine.TrapRejected] == 4 })
	mu.Lock()
	defer mu.Unlock()
	if !strings.Contains(log.String(), "trap dropped") {
		t.Fatalf("nothing logged at debug level:\n%s", log.String())
	}
	for _, secret := range []string{"e2e-trap-community", "almost-the-community", "auth-pass-12", "priv-pass-45"} {
		if strings.Contains(log.String(), secret) {
			t.Errorf("the log shows %q:\n%s", secret, log.String())
		}
	}
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }

func sendUDP(t *testing.T, addr string, b []byte) {
	t.Helper()
	c, err := net.Dial("udp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.Write(b); err != nil {
		t.Fatal(err)
	}
}

// FuzzTrapDecode: no packet makes the receiver panic, and nothing but an
// authenticated SNMPv2c or v3 trap reaches the sink.
func FuzzTrapDecode(f *testing.F) {
	g := &gosnmp.GoSNMP{Version: gosnmp.Version2c, Community: "e2e-trap-community"}
	pkt := g.MkSnmpPacket(gosnmp.SNMPv2Trap, []gosnmp.SnmpPDU{
		{Name: ".1.3.6.1.2.1.1.3.0", Type: gosnmp.TimeTicks, Value: uint32(5)},
		{Name: ".1.3.6.1.6.3.1.1.4.1.0", Type: gosnmp.ObjectIdentifier, Value: "." + linkDownOID},
		{Name: ".1.3.6.1.2.1.2.2.1.2.3", Type: gosnmp.OctetString, Value: []byte("Gi0/3")},
	}, 0, 0)
	b, err := pkt.MarshalMsg()
	if err != nil {
		f.Fatal(err)
	}
	f.Add(b)
	f.Add([]byte{0x30, 0x03, 0x02, 0x01, 0x03})
	sink := &trapRecorder{}
	tr := &TrapReceiver{opts: TrapReceiverOptions{Sink: sink, Secrets: trapSecrets, Now: time.Now}}
	defs, diags := definitions.Load(fstest.MapFS{"snmp.hcl": {Data: []byte(trapProfiles)}}, "", definitions.Limits{})
	if diags.HasErrors() {
		f.Fatal(diags.Error())
	}
	if err := tr.ApplyConfig(context.Background(), defs); err != nil {
		f.Fatal(err)
	}
	from := netip.MustParseAddrPort("127.0.0.1:40000")
	f.Fuzz(func(t *testing.T, msg []byte) {
		tr.handle(context.Background(), msg, from)
		sink.mu.Lock()
		defer sink.mu.Unlock()
		for _, got := range sink.traps {
			if len(got.Profiles) == 0 || got.OID == "" {
				t.Fatalf("accepted %+v", got)
			}
		}
		sink.traps = sink.traps[:0]
	})
}

// BenchmarkTrapDecode: the receiver's work per packet before the runner
// (authentication and decoding): a v2c trap, a v3 authPriv trap of a
// profile's user from one engine (keys localized once), and v3 traps each
// from a new engine ID (keys localized per packet, the costly case).
func BenchmarkTrapDecode(b *testing.B) {
	defs, diags := definitions.Load(fstest.MapFS{"snmp.hcl": {Data: []byte(trapProfiles)}}, "", definitions.Limits{})
	if diags.HasErrors() {
		b.Fatal(diags.Error())
	}
	vars := []gosnmp.SnmpPDU{
		{Name: ".1.3.6.1.2.1.1.3.0", Type: gosnmp.TimeTicks, Value: uint32(5)},
		{Name: ".1.3.6.1.6.3.1.1.4.1.0", Type: gosnmp.ObjectIdentifier, Value: "." + linkDownOID},
		{Name: ".1.3.6.1.2.1.2.2.1.2.3", Type: gosnmp.OctetString, Value: []byte("Gi0/3")},
	}
	// v3 packets as Net-SNMP's snmptrap sends them, caught on a socket.
	v3 := func(engineID string) []byte {
		pc, err := net.ListenPacket("udp", "127.0.0.1:0")
		if err != nil {
			b.Fatal(err)
		}
		defer pc.Close()
		if out, err := netSNMP(b, "snmptrap", append([]string{"-v", "3", "-u", "trapuser", "-l", "authPriv", "-e", engineID,
			"-a", "SHA-256", "-A", "auth-pass-123", "-x", "AES", "-X", "priv-pass-456"}, linkDownArgs(pc.LocalAddr().String())...)...); err != nil {
			b.Fatalf("snmptrap: %v\n%s", err, out)
		}
		buf := make([]byte, 65536)
		_ = pc.SetReadDeadline(time.Now().Add(10 * time.Second))
		n, _, err := pc.ReadFrom(buf)
		if err != nil {
			b.Fatal(err)
		}
		return buf[:n]
	}
	v2 := func() []byte {
		g := &gosnmp.GoSNMP{Version: gosnmp.Version2c, Community: "e2e-trap-community"}
		msg, err := g.MkSnmpPacket(gosnmp.SNMPv2Trap, vars, 0, 0).MarshalMsg()
		if err != nil {
			b.Fatal(err)
		}
		return msg
	}
	for _, bc := range []struct {
		name string
		msgs [][]byte
	}{
		{"v2c", [][]byte{v2()}},
		{"v3-one-engine", [][]byte{v3("0x80001f8880c0ffee01")}},
		{"v3-new-engines", func() [][]byte {
			var out [][]byte
			for i := range 16 {
				out = append(out, v3(fmt.Sprintf("0x80001f8880c0ffee02%02x", i)))
			}
			return out
		}()},
	} {
		b.Run(bc.name, func(b *testing.B) {
			sink := &countingSink{}
			tr := &TrapReceiver{opts: TrapReceiverOptions{Sink: sink, Secrets: trapSecrets, Now: time.Now}}
			if err := tr.ApplyConfig(context.Background(), defs); err != nil {
				b.Fatal(err)
			}
			from := netip.MustParseAddrPort("127.0.0.1:40000")
			b.ResetTimer()
			for i := 0; b.Loop(); i++ {
				tr.handle(context.Background(), bc.msgs[i%len(bc.msgs)], from)
			}
			b.StopTimer()
			if sink.accepted.Load() == 0 {
				b.Fatalf("nothing accepted; %d dropped", sink.dropped.Load())
			}
			b.ReportMetric(float64(sink.accepted.Load())/b.Elapsed().Seconds(), "traps/s")
		})
	}
}

type countingSink struct{ accepted, dropped atomic.Int64 }

func (c *countingSink) ReceiveTrap(context.Context, engine.Trap) { c.accepted.Add(1) }
func (c *countingSink) TrapDropped(engine.TrapDrop, netip.Addr)  { c.dropped.Add(1) }
func (c *countingSink) ListeningForTraps(string)                 {}
