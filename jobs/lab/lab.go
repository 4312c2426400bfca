// Package lab runs a fleet of SSH servers inside the process, for `ripple
// demo` and `ripple lab up`: each lab host listens on its own loopback port,
// speaks real SSH (ed25519 host key, public-key login), and runs each command
// with `sh -c` inside its own sandbox directory. The client side is ripple's
// normal SSH transport with host-key checking; only the server is in-process.
//
// A lab is not a security boundary: commands run as the current user with
// the sandbox as working directory and HOME. Use it only with trusted repos.
//
// Goroutines: one accept loop per host plus one per connection and one per
// session; Close stops them all and waits.
package lab

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"
)

// Options configures a lab.
type Options struct {
	Hosts  int    // default 12
	Dir    string // where keys, known_hosts and sandboxes go; required
	Prefix string // host names Prefix-01...; default "lab"
	// Groups, when set, assigns host i to Groups(i).
	Groups func(i int) []string
}

// Host is one lab host.
type Host struct {
	Name    string
	Address string // 127.0.0.1
	Port    int
	Sandbox string // commands run here
	Groups  []string

	ln     net.Listener
	hostPK ssh.PublicKey
}

// Lab is a running lab fleet.
type Lab struct {
	Hosts          []*Host
	User           string
	KeyFile        string // client private key (OpenSSH PEM, no passphrase)
	KnownHostsFile string

	cfg  *ssh.ServerConfig
	stop context.CancelFunc // ends the ctx every goroutine of the lab runs under
	wg   sync.WaitGroup
}

// Start creates the keys and sandboxes under opts.Dir and starts the hosts.
func Start(opts Options) (*Lab, error) {
	if opts.Dir == "" {
		return nil, errors.New("lab: Dir is required")
	}
	if opts.Hosts <= 0 {
		opts.Hosts = 12
	}
	if opts.Prefix == "" {
		opts.Prefix = "lab"
	}
	u, err := user.Current()
	if err != nil {
		return nil, fmt.Errorf("lab: current user: %w", err)
	}
	if err := os.MkdirAll(opts.Dir, 0o700); err != nil {
		return nil, fmt.Errorf("lab: %w", err)
	}
	clientPub, clientPEM, err := newKey()
	if err != nil {
		return nil, err
	}
	l := &Lab{User: u.Username, KeyFile: filepath.Join(opts.Dir, "id_ed25519"), KnownHostsFile: filepath.Join(opts.Dir, "known_hosts")}
	if err := os.WriteFile(l.KeyFile, clientPEM, 0o600); err != nil {
		return nil, fmt.Errorf("lab: %w", err)
	}
	authorized := clientPub.Marshal()
	l.cfg = &ssh.ServerConfig{
		PublicKeyCallback: func(_ ssh.ConnMetadata, key ssh.PublicKey) (*ssh.Permissions, error) {
			if string(key.Marshal()) == string(authorized) {
				return &ssh.Permissions{}, nil
			}
			return nil, errors.New("unknown key")
		},
	}
	ctx, stop := context.WithCancel(context.Background())
	l.stop = stop

	var known strings.Builder
	for i := 0; i < opts.Hosts; i++ {
		h := &Host{Name: fmt.Sprintf("%s-%02d", opts.Prefix, i+1), Address: "127.0.0.1"}
		if opts.Groups != nil {
			h.Groups = opts.Groups(i)
		}
		h.Sandbox = filepath.Join(opts.Dir, "hosts", h.Name)
		if err := os.MkdirAll(h.Sandbox, 0o755); err != nil {
			l.Close()
			return nil, fmt.Errorf("lab: %w", err)
		}
		pub, signer, err := newSigner()
		if err != nil {
			l.Close()
			return nil, err
		}
		h.hostPK = pub
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			l.Close()
			return nil, fmt.Errorf("lab: listen: %w", err)
		}
		h.ln = ln
		h.Port = ln.Addr().(*net.TCPAddr).Port
		known.WriteString(knownhosts.Line([]string{knownhosts.Normalize(ln.Addr().String())}, pub) + "\n")
		cfg := *l.cfg
		cfg.AddHostKey(signer)
		l.Hosts = append(l.Hosts, h)
		l.wg.Add(1)
		go l.serve(ctx, h, &cfg)
	}
	if err := os.WriteFile(l.KnownHostsFile, []byte(known.String()), 0o600); err != nil {
		l.Close()
		return nil, fmt.Errorf("lab: %w", err)
	}
	return l, nil
}

// Close stops every host and waits for running commands to be killed.
func (l *Lab) Close() {
	l.stop()
	for _, h := range l.Hosts {
		h.ln.Close()
	}
	l.wg.Wait()
}

// HCL returns host and credential blocks describing the lab, for an ops
// repo. Hosts carry their sandbox path as vars.sandbox.
func (l *Lab) HCL() string {
	var b strings.Builder
	fmt.Fprintf(&b, "credential \"default\" {\n  user             = %q\n  private_key_file = %q\n  known_hosts_file = %q\n}\n", l.User, l.KeyFile, l.KnownHostsFile)
	for _, h := range l.Hosts {
		fmt.Fprintf(&b, "\nhost %q {\n  address = %q\n  port    = %d\n", h.Name, h.Address, h.Port)
		if len(h.Groups) > 0 {
			fmt.Fprintf(&b, "  groups  = [%s]\n", quoteList(h.Groups))
		}
		fmt.Fprintf(&b, "  vars    = { sandbox = %q }\n}\n", h.Sandbox)
	}
	return b.String()
}

func quoteList(s []string) string {
	q := make([]string, len(s))
	for i, v := range s {
		q[i] = fmt.Sprintf("%q", v)
	}
	return strings.Join(q, ", ")
}

func (l *Lab) serve(ctx context.Context, h *Host, cfg *ssh.ServerConfig) {
	defer l.wg.Done()
	for {
		conn, err := h.ln.Accept()
		if err != nil {
			return
		}
		l.wg.Add(1)
		go func() {
			defer l.wg.Done()
			l.handleConn(ctx, h, conn, cfg)
		}()
	}
}

func (l *Lab) handleConn(ctx context.Context, h *Host, conn net.Conn, cfg *ssh.ServerConfig) {
	defer conn.Close()
	sc, chans, reqs, err := ssh.NewServerConn(conn, cfg)
	if err != nil {
		return
	}
	defer sc.Close()
	defer context.AfterFunc(ctx, func() { sc.Close() })()
	go func() {
		for r := range reqs { // keepalives and anything else
			if r.WantReply {
				_ = r.Reply(false, nil)
			}
		}
	}()
	var wg sync.WaitGroup
	defer wg.Wait()
	for nc := range chans {
		if nc.ChannelType() != "session" {
			_ = nc.Reject(ssh.UnknownChannelType, "only sessions")
			continue
		}
		ch, creqs, err := nc.Accept()
		if err != nil {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			l.session(ctx, h, ch, creqs)
		}()
	}
}

// session runs one exec request, forwarding stdin/stdout/stderr, signals
// (to the whole process group) and the exit status.
func (l *Lab) session(ctx context.Context, h *Host, ch ssh.Channel, reqs <-chan *ssh.Request) {
	defer ch.Close()
	var cmd *exec.Cmd
	done := make(chan struct{})
	for {
		select {
		case <-done:
			return
		case r, ok := <-reqs:
			if !ok {
				if cmd != nil && cmd.Process != nil {
					_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
				}
				return
			}
			switch r.Type {
			case "exec":
				var p struct{ Command string }
				if cmd != nil || ssh.Unmarshal(r.Payload, &p) != nil {
					_ = r.Reply(false, nil)
					continue
				}
				cmd = exec.Command("/bin/sh", "-c", p.Command)
				cmd.Dir = h.Sandbox
				cmd.Env = append(os.Environ(), "HOME="+h.Sandbox, "RIPPLE_LAB_HOST="+h.Name)
				cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
				cmd.WaitDelay = time.Second
				cmd.Stdin = ch
				cmd.Stdout = ch
				cmd.Stderr = ch.Stderr()
				if err := cmd.Start(); err != nil {
					_ = r.Reply(false, nil)
					return
				}
				_ = r.Reply(true, nil)
				go func(c *exec.Cmd) {
					err := c.Wait()
					code := 0
					var ee *exec.ExitError
					if errors.As(err, &ee) {
						code = ee.ExitCode()
						if code < 0 {
							code = 128 + int(syscall.SIGKILL)
						}
					} else if err != nil {
						code = 255
					}
					_ = ch.CloseWrite()
					_, _ = ch.SendRequest("exit-status", false, ssh.Marshal(struct{ Status uint32 }{uint32(code)}))
					close(done)
				}(cmd)
			case "signal":
				if cmd != nil && cmd.Process != nil {
					_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
				}
				if r.WantReply {
					_ = r.Reply(true, nil)
				}
			case "env", "pty-req":
				_ = r.Reply(r.Type == "env", nil)
			default:
				if r.WantReply {
					_ = r.Reply(false, nil)
				}
			}
		case <-ctx.Done():
			if cmd != nil && cmd.Process != nil {
				_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			}
			return
		}
	}
}

func newKey() (ssh.PublicKey, []byte, error) {
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, nil, fmt.Errorf("lab: key: %w", err)
	}
	blk, err := ssh.MarshalPrivateKey(priv, "ripple lab")
	if err != nil {
		return nil, nil, fmt.Errorf("lab: key: %w", err)
	}
	spub, err := ssh.NewPublicKey(pub)
	if err != nil {
		return nil, nil, fmt.Errorf("lab: key: %w", err)
	}
	return spub, pem.EncodeToMemory(blk), nil
}

func newSigner() (ssh.PublicKey, ssh.Signer, error) {
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, nil, fmt.Errorf("lab: host key: %w", err)
	}
	s, err := ssh.NewSignerFromKey(priv)
	if err != nil {
		return nil, nil, fmt.Errorf("lab: host key: %w", err)
	}
	return s.PublicKey(), s, nil
}
