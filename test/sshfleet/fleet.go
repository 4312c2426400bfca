// Package sshfleet starts a fleet of real OpenSSH sshd processes on loopback
// for end-to-end tests.
//
// Each host is its own sshd (/usr/sbin/sshd -D -e) listening on its own
// loopback address (127.1.0.N, a free port) with its own ed25519 host key and
// its own private directory. One user key per fleet logs in as the current
// user; a known_hosts file lists every host key. Start registers a cleanup
// that kills every sshd it started and their descendants (session
// processes), and nothing else.
//
// The package runs no goroutine of its own beyond those that wait for the
// sshd processes it started; Stop/StopHost and the test cleanup reap them.
package sshfleet

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"
)

// SSHDPath is the OpenSSH server binary the fleet runs.
const SSHDPath = "/usr/sbin/sshd"

// TB is the part of testing.TB the fleet uses, so that programs (the
// benchmark) can start a fleet too. *testing.T and *testing.B satisfy it.
type TB interface {
	Helper()
	Fatalf(format string, args ...any)
	Skipf(format string, args ...any)
	Cleanup(func())
}

// Options configures a fleet.
type Options struct {
	// Hosts is the number of hosts (sshd processes); default 1.
	Hosts int
	// NamePrefix names hosts NamePrefix-01, NamePrefix-02, ...; default "host".
	NamePrefix string
	// LogLevel is sshd's LogLevel; default "ERROR". Use "INFO" to see one
	// "Accepted publickey" line per authenticated connection in Host logs.
	LogLevel string
	// MaxStartups is sshd's MaxStartups; default "200:30:400".
	MaxStartups string
	// ExtraConfig is appended to every sshd_config.
	ExtraConfig string
}

// Host is one fleet member.
type Host struct {
	Name    string
	Address string // loopback IPv4 address, e.g. 127.1.0.3
	Port    int
	Dir     string // a private directory the tests may write into

	keyFile string // host private key
	pubKey  ssh.PublicKey
	cfgFile string
	logFile string
}

// HostPort is Address:Port.
func (h Host) HostPort() string { return net.JoinHostPort(h.Address, strconv.Itoa(h.Port)) }

// PublicKey is the host's ed25519 host key.
func (h Host) PublicKey() ssh.PublicKey { return h.pubKey }

// Fleet is a running set of sshd hosts.
type Fleet struct {
	Hosts          []Host
	KeyFile        string // user private key (OpenSSH format, no passphrase)
	PublicKey      ssh.PublicKey
	KnownHostsFile string // lists every host key
	User           string // the current user; sshd logs in as this user
	Dir            string // fleet root directory

	t    TB
	opts Options

	mu    sync.Mutex
	procs []*proc // by host index; nil when stopped

	tcpMu     sync.Mutex
	tcpAt     time.Time
	tcpListen map[string]bool // listening local addresses, hex as in /proc/net/tcp
}

type proc struct {
	cmd  *exec.Cmd
	done chan struct{} // closed once cmd.Wait returned
}

// Start starts opts.Hosts sshd processes concurrently and waits until each
// accepts SSH connections. If sshd is missing, the test fails when the CI
// environment variable is set and is skipped otherwise.
func Start(t TB, opts Options) *Fleet {
	t.Helper()
	if _, err := os.Stat(SSHDPath); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("sshfleet: %s missing (install openssh-server): %v", SSHDPath, err)
		}
		t.Skipf("sshfleet: %s missing (install openssh-server)", SSHDPath)
	}
	if opts.Hosts <= 0 {
		opts.Hosts = 1
	}
	if opts.NamePrefix == "" {
		opts.NamePrefix = "host"
	}
	if opts.LogLevel == "" {
		opts.LogLevel = "ERROR"
	}
	if opts.MaxStartups == "" {
		opts.MaxStartups = "200:30:400"
	}
	if os.Geteuid() == 0 {
		// sshd refuses to start as root without its privilege separation
		// directory.
		if err := os.MkdirAll("/run/sshd", 0o755); err != nil {
			t.Fatalf("sshfleet: %v", err)
		}
	}
	u, err := user.Current()
	if err != nil {
		t.Fatalf("sshfleet: current user: %v", err)
	}
	dir := shortTempDir(t)
	f := &Fleet{
		Dir:   dir,
		User:  u.Username,
		t:     t,
		opts:  opts,
		procs: make([]*proc, opts.Hosts),
	}
	t.Cleanup(f.Stop)

	userPub, userPEM, err := newKey()
	if err != nil {
		t.Fatalf("sshfleet: user key: %v", err)
	}
	f.PublicKey = userPub
	f.KeyFile = filepath.Join(dir, "id_ed25519")
	mustWrite(t, f.KeyFile, userPEM, 0o600)
	if err := os.Mkdir(f.home(), 0o755); err != nil {
		t.Fatalf("sshfleet: %v", err)
	}
	authKeys := filepath.Join(dir, "authorized_keys")
	mustWrite(t, authKeys, ssh.MarshalAuthorizedKey(userPub), 0o600)

	width := len(strconv.Itoa(opts.Hosts))
	if width < 2 {
		width = 2
	}
	for i := 0; i < opts.Hosts; i++ {
		hdir := filepath.Join(dir, fmt.Sprintf("h%d", i+1))
		h := Host{
			Name:    fmt.Sprintf("%s-%0*d", opts.NamePrefix, width, i+1),
			Address: fmt.Sprintf("127.1.%d.%d", i/250, i%250+1),
			Dir:     filepath.Join(hdir, "data"),
			keyFile: filepath.Join(hdir, "ssh_host_ed25519_key"),
			cfgFile: filepath.Join(hdir, "sshd_config"),
			logFile: filepath.Join(hdir, "sshd.log"),
		}
		if err := os.MkdirAll(h.Dir, 0o755); err != nil {
			t.Fatalf("sshfleet: %v", err)
		}
		pub, keyPEM, err := newKey()
		if err != nil {
			t.Fatalf("sshfleet: host key: %v", err)
		}
		h.pubKey = pub
		mustWrite(t, h.keyFile, keyPEM, 0o600)
		f.Hosts = append(f.Hosts, h)
	}

	var wg sync.WaitGroup
	errs := make([]error, opts.Hosts)
	for i := range f.Hosts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = f.start(i, authKeys)
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatalf("sshfleet: %v", err)
		}
	}
	f.KnownHostsFile = filepath.Join(dir, "known_hosts")
	f.writeKnownHosts(t)
	return f
}

// shortTempDir is a private temp directory with a short path (sshd and
// unix sockets dislike long paths), removed at cleanup.
func shortTempDir(t TB) string {
	dir, err := os.MkdirTemp("", "sshfleet")
	if err != nil {
		t.Fatalf("sshfleet: %v", err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}

func mustWrite(t TB, path string, data []byte, mode os.FileMode) {
	if err := os.WriteFile(path, data, mode); err != nil {
		t.Fatalf("sshfleet: %v", err)
	}
}

// newKey makes an ed25519 key pair: the public key and the private key in
// OpenSSH PEM format.
func newKey() (ssh.PublicKey, []byte, error) {
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, nil, err
	}
	block, err := ssh.MarshalPrivateKey(priv, "")
	if err != nil {
		return nil, nil, err
	}
	sshPub, err := ssh.NewPublicKey(pub)
	if err != nil {
		return nil, nil, err
	}
	return sshPub, pem.EncodeToMemory(block), nil
}

func (f *Fleet) writeKnownHosts(t TB) {
	var b bytes.Buffer
	for _, h := range f.Hosts {
		b.WriteString(knownhosts.Line([]string{knownhosts.Normalize(h.HostPort())}, h.pubKey))
		b.WriteByte('\n')
	}
	mustWrite(t, f.KnownHostsFile, b.Bytes(), 0o600)
}

func (f *Fleet) config(h Host, authKeys string) string {
	pidFile := filepath.Join(filepath.Dir(h.cfgFile), "sshd.pid")
	return fmt.Sprintf(`ListenAddress %s:%d
HostKey %s
PidFile %s
AuthorizedKeysFile %s
LogLevel %s
MaxStartups %s
MaxSessions 10
StrictModes no
UsePAM no
PermitRootLogin prohibit-password
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
AllowAgentForwarding no
AllowTcpForwarding no
X11Forwarding no
PrintMotd no
PrintLastLog no
UseDNS no
SetEnv HOME=%s
%s
`, h.Address, h.Port, h.keyFile, pidFile, authKeys, f.opts.LogLevel, f.opts.MaxStartups, f.home(), f.opts.ExtraConfig)
}

// start picks a free port for host i (unless it has one), writes its config
// and starts sshd, retrying on a port lost to a race.
func (f *Fleet) start(i int, authKeys string) error {
	h := &f.Hosts[i]
	var lastErr error
	for attempt := 0; attempt < 5; attempt++ {
		if h.Port == 0 || attempt > 0 {
			port, err := freePort(h.Address)
			if err != nil {
				return err
			}
			h.Port = port
		}
		if err := os.WriteFile(h.cfgFile, []byte(f.config(*h, authKeys)), 0o600); err != nil {
			return err
		}
		lastErr = f.spawn(i)
		if lastErr == nil {
			return nil
		}
	}
	return fmt.Errorf("start %s: %w", h.Name, lastErr)
}

func freePort(addr string) (int, error) {
	l, err := net.Listen("tcp", net.JoinHostPort(addr, "0"))
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// spawn starts sshd for host i and waits until it greets with an SSH banner.
func (f *Fleet) spawn(i int) error {
	h := f.Hosts[i]
	logf, err := os.OpenFile(h.logFile, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return err
	}
	defer logf.Close()
	cmd := exec.Command(SSHDPath, "-D", "-e", "-f", h.cfgFile)
	cmd.Stdout = logf
	cmd.Stderr = logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		return err
	}
	p := &proc{cmd: cmd, done: make(chan struct{})}
	go func() { // owned by p: reaped by stopProc
		cmd.Wait()
		close(p.done)
	}()
	deadline := time.Now().Add(30 * time.Second)
	for {
		select {
		case <-p.done:
			log, _ := os.ReadFile(h.logFile)
			return fmt.Errorf("sshd for %s exited: %s", h.Name, lastLines(log, 5))
		default:
		}
		// Watching the kernel's socket table costs nothing; probing with
		// a connection would make sshd fork and re-exec for each probe.
		if f.listening(h.Address, h.Port) {
			break
		}
		if time.Now().After(deadline) {
			stopProc(p)
			return fmt.Errorf("sshd for %s not ready after 30s", h.Name)
		}
		time.Sleep(25 * time.Millisecond)
	}
	f.mu.Lock()
	f.procs[i] = p
	f.mu.Unlock()
	return nil
}

func lastLines(b []byte, n int) string {
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "; ")
}

// listening reports whether a socket listens on addr:port (IPv4), from
// /proc/net/tcp, whose local addresses are little-endian hex "0100017F:1F90".
// The table is read at most every 20ms, however many hosts are starting.
func (f *Fleet) listening(addr string, port int) bool {
	ip := net.ParseIP(addr).To4()
	if ip == nil {
		return false
	}
	want := fmt.Sprintf("%02X%02X%02X%02X:%04X", ip[3], ip[2], ip[1], ip[0], port)
	f.tcpMu.Lock()
	defer f.tcpMu.Unlock()
	if time.Since(f.tcpAt) > 20*time.Millisecond {
		f.tcpAt = time.Now()
		f.tcpListen = map[string]bool{}
		b, _ := os.ReadFile("/proc/net/tcp")
		for _, line := range strings.Split(string(b), "\n") {
			fl := strings.Fields(line)
			if len(fl) > 3 && fl[3] == "0A" { // 0A: TCP_LISTEN
				f.tcpListen[fl[1]] = true
			}
		}
	}
	return f.tcpListen[want]
}

// StopHost stops host i: its sshd and every process it spawned (sessions),
// as if the machine went away. Established connections break.
func (f *Fleet) StopHost(i int) {
	f.mu.Lock()
	p := f.procs[i]
	f.procs[i] = nil
	f.mu.Unlock()
	if p != nil {
		stopProc(p)
	}
}

// FreezeHost stops (SIGSTOP) host i's sshd and all its session processes:
// the host stays connected at the TCP level but never answers, like a hung
// machine or a black-holed network path. ThawHost resumes it.
func (f *Fleet) FreezeHost(i int) { f.signalHost(i, syscall.SIGSTOP) }

// ThawHost resumes a host stopped by FreezeHost.
func (f *Fleet) ThawHost(i int) { f.signalHost(i, syscall.SIGCONT) }

func (f *Fleet) signalHost(i int, sig syscall.Signal) {
	f.mu.Lock()
	p := f.procs[i]
	f.mu.Unlock()
	if p == nil {
		return
	}
	pid := p.cmd.Process.Pid
	syscall.Kill(pid, sig)
	for _, d := range descendants(pid) {
		syscall.Kill(d, sig)
	}
}

// StartHost starts host i again on the same address, port and host key.
func (f *Fleet) StartHost(i int) {
	f.t.Helper()
	f.mu.Lock()
	running := f.procs[i] != nil
	f.mu.Unlock()
	if running {
		return
	}
	var err error
	for attempt := 0; attempt < 50; attempt++ { // the port may linger briefly
		if err = f.spawn(i); err == nil {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	f.t.Fatalf("sshfleet: restart %s: %v", f.Hosts[i].Name, err)
}

// Stop stops every host. Start registers it as a test cleanup.
func (f *Fleet) Stop() {
	var wg sync.WaitGroup
	for i := range f.procs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			f.StopHost(i)
		}()
	}
	wg.Wait()
}

// stopProc kills the sshd we started and all of its descendants (found by
// walking /proc parent links from its pid), then reaps it.
func stopProc(p *proc) {
	pid := p.cmd.Process.Pid
	// Freeze the tree first so that nothing forks or is reparented to init
	// (and out of our sight) while we list it.
	syscall.Kill(pid, syscall.SIGSTOP)
	tree := descendants(pid)
	for _, d := range tree {
		syscall.Kill(d, syscall.SIGSTOP)
	}
	for _, d := range append(descendants(pid), tree...) {
		syscall.Kill(d, syscall.SIGKILL)
	}
	p.cmd.Process.Signal(syscall.SIGKILL)
	select {
	case <-p.done:
	case <-time.After(5 * time.Second):
	}
}

// descendants lists the pids below root in the process tree.
func descendants(root int) []int {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	children := map[int][]int{}
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		stat, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue
		}
		// The command name is in parentheses and may contain spaces.
		s := string(stat)
		j := strings.LastIndexByte(s, ')')
		if j < 0 {
			continue
		}
		fields := strings.Fields(s[j+1:])
		if len(fields) < 2 {
			continue
		}
		ppid, err := strconv.Atoi(fields[1])
		if err != nil {
			continue
		}
		children[ppid] = append(children[ppid], pid)
	}
	var out []int
	queue := []int{root}
	for len(queue) > 0 {
		p := queue[0]
		queue = queue[1:]
		for _, c := range children[p] {
			out = append(out, c)
			queue = append(queue, c)
		}
	}
	return out
}

// home is the HOME of every session: an empty directory, so that the
// machine's own shell start-up files (~/.bashrc, which Debian's bash reads
// for ssh commands and which may be slow) do not run in tests.
func (f *Fleet) home() string { return filepath.Join(f.Dir, "home") }

// Log returns what host i's sshd logged so far (at Options.LogLevel).
func (f *Fleet) Log(i int) string {
	b, _ := os.ReadFile(f.Hosts[i].logFile)
	return string(b)
}

// AcceptedLogins counts authenticated connections to host i; it needs
// Options.LogLevel "INFO" or more verbose.
func (f *Fleet) AcceptedLogins(i int) int {
	return strings.Count(f.Log(i), "Accepted publickey for ")
}

// HCL returns definitions for an ops repo: a credential "default" with the
// fleet's key and known_hosts, and one host block per host in group "fleet".
func (f *Fleet) HCL() string {
	var b strings.Builder
	fmt.Fprintf(&b, "credential \"default\" {\n  user             = %q\n  private_key_file = %q\n  known_hosts_file = %q\n}\n",
		f.User, f.KeyFile, f.KnownHostsFile)
	for _, h := range f.Hosts {
		fmt.Fprintf(&b, "\nhost %q {\n  address = %q\n  port    = %d\n  groups  = [\"fleet\"]\n}\n", h.Name, h.Address, h.Port)
	}
	return b.String()
}

// RotateHostKey gives host i a new host key and restarts it, without
// touching known_hosts: clients that verify keys must now refuse it.
func (f *Fleet) RotateHostKey(i int) ssh.PublicKey {
	f.t.Helper()
	pub, keyPEM, err := newKey()
	if err != nil {
		f.t.Fatalf("sshfleet: %v", err)
	}
	f.StopHost(i)
	mustWrite(f.t, f.Hosts[i].keyFile, keyPEM, 0o600)
	f.Hosts[i].pubKey = pub
	f.StartHost(i)
	return pub
}
