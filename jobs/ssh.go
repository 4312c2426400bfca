package jobs

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/rs/zerolog"
	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/agent"

	"github.com/ripple-ops/ripple/definitions"
	"github.com/ripple-ops/ripple/engine"
)

// SSHOptions tunes the SSH transport. Zero values take the defaults shown.
type SSHOptions struct {
	DialTimeout        time.Duration // TCP connect; default 10s
	HandshakeTimeout   time.Duration // SSH handshake and auth; default 15s
	KeepaliveInterval  time.Duration // default 15s
	KeepaliveTimeout   time.Duration // wait for a keepalive reply; default 10s
	IdleTimeout        time.Duration // close unused connections; default 5m
	MaxSessionsPerConn int           // default 8 (OpenSSH MaxSessions is 10)
	MaxHandshakes      int           // concurrent handshakes fleet-wide; default 32
	OutputLimit        int           // bytes kept per stream; default 64 KiB
	// KillGrace is how long a timed-out command gets between SIGTERM and
	// SIGKILL; default 2s.
	KillGrace time.Duration
	// DefaultTimeout applies to steps without a timeout; default 5m.
	DefaultTimeout time.Duration
	// AgentSocket is the ssh-agent socket for credentials with UseAgent;
	// default $SSH_AUTH_SOCK.
	AgentSocket string
	Logger      *zerolog.Logger // nil: discard
	// Metrics records dials and pooled connections; nil records nothing.
	// The local transport has neither and ignores it.
	Metrics *Metrics
}

func (o *SSHOptions) defaults() {
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&o.DialTimeout, 10*time.Second)
	def(&o.HandshakeTimeout, 15*time.Second)
	def(&o.KeepaliveInterval, 15*time.Second)
	def(&o.KeepaliveTimeout, 10*time.Second)
	def(&o.IdleTimeout, 5*time.Minute)
	def(&o.KillGrace, 2*time.Second)
	def(&o.DefaultTimeout, 5*time.Minute)
	if o.MaxSessionsPerConn <= 0 {
		o.MaxSessionsPerConn = 8
	}
	if o.MaxHandshakes <= 0 {
		o.MaxHandshakes = 32
	}
	if o.OutputLimit <= 0 {
		o.OutputLimit = DefaultOutputLimit
	}
	if o.AgentSocket == "" {
		o.AgentSocket = os.Getenv("SSH_AUTH_SOCK")
	}
}

// SSH runs steps and commands on hosts over SSH. It is safe for concurrent
// use; Close releases its connections.
type SSH struct {
	opts     SSHOptions
	log      zerolog.Logger
	pool     *pool
	hostKeys hostKeyDBs

	signersMu sync.Mutex
	signers   map[signerKey]ssh.Signer
}

var _ engine.Executor = (*SSH)(nil)

// NewSSH returns an SSH transport.
func NewSSH(opts SSHOptions) *SSH {
	opts.defaults()
	s := &SSH{opts: opts, log: zerolog.Nop(), signers: map[signerKey]ssh.Signer{}}
	if opts.Logger != nil {
		s.log = opts.Logger.With().Str("component", "ssh").Logger()
	}
	s.pool = newPool(s)
	return s
}

// Close closes every connection and stops their keepalives. Calls after
// Close fail.
func (s *SSH) Close() error {
	s.pool.close()
	return nil
}

// Exec runs cmd on ep's host through the remote login shell, with stdin (may
// be nil) as its standard input. A timeout > 0 bounds the command: on
// expiry the remote process group is killed and the result has TimedOut set.
// With become = "sudo" the command runs under `sudo -n`.
//
// The error is non-nil only when the command could not be run or its end
// could not be observed: a *TransportError (ErrUnreachable, ErrAuth,
// ErrHostUnknown, ErrHostKeyChanged, ErrConnLost), or ctx's error. Anything
// that ran, whatever its exit code, is an ExecResult. Output is capped and
// the key passphrase is redacted from it.
func (s *SSH) Exec(ctx context.Context, ep engine.Endpoint, cmd string, stdin io.Reader, timeout time.Duration) (ExecResult, error) {
	return s.exec(ctx, ep, cmd, stdin, timeout, NewRedactor(ep.Passphrase))
}

// ExecStream is Exec with the command's standard output written to stdout
// as it arrives, neither captured nor capped nor redacted (the caller
// reads it as a stream); ExecResult.Stdout is empty. Writes come from one
// goroutine and end before ExecStream returns.
func (s *SSH) ExecStream(ctx context.Context, ep engine.Endpoint, cmd string, stdout io.Writer, timeout time.Duration) (ExecResult, error) {
	return s.run(ctx, ep, cmd, nil, stdout, timeout, NewRedactor(ep.Passphrase))
}

func (s *SSH) exec(ctx context.Context, ep engine.Endpoint, cmd string, stdin io.Reader, timeout time.Duration, red *Redactor) (ExecResult, error) {
	return s.run(ctx, ep, cmd, stdin, nil, timeout, red)
}

// run runs cmd; stdout nil captures the standard output into the result.
func (s *SSH) run(ctx context.Context, ep engine.Endpoint, cmd string, stdin io.Reader, stdoutW io.Writer, timeout time.Duration, red *Redactor) (ExecResult, error) {
	res := ExecResult{ExitCode: -1}
	if ep.Host == nil || ep.Credential == nil {
		return res, errors.New("ssh exec: endpoint without host or credential")
	}
	remote := wrapCommand(cmd, ep.Credential.Become, timeout, s.opts.KillGrace)
	stdout, stderr := newCapture(s.opts.OutputLimit), newCapture(s.opts.OutputLimit)
	var out io.Writer = stdout
	if stdoutW != nil {
		out = stdoutW
	}
	c, sess, err := s.start(ctx, ep, remote, stdin, out, stderr)
	if err != nil {
		return res, err
	}
	defer c.release()
	defer sess.Close()

	started := time.Now()
	waited := make(chan error, 1)
	go func() { waited <- sess.Wait() }() // ends at exit status or session close below

	var timer <-chan time.Time
	if timeout > 0 {
		t := time.NewTimer(timeout)
		defer t.Stop()
		timer = t.C
	}
	select {
	case err = <-waited:
	case <-timer:
		res.TimedOut = true
		err = s.stop(sess, waited)
	case <-ctx.Done():
		s.stop(sess, waited)
		return res, ctx.Err()
	}
	if stdoutW == nil {
		res.Stdout = stdout.result(red)
	}
	res.Stderr = stderr.result(red)

	var ee *ssh.ExitError
	switch {
	case err == nil:
		res.ExitCode = 0
	case errors.As(err, &ee):
		res.ExitCode = ee.ExitStatus() // 128+n when killed by signal n
	case res.TimedOut:
		// killed: no exit status is fine
	default:
		var em *ssh.ExitMissingError
		if errors.As(err, &em) {
			return res, nil
		}
		if !s.pool.ping(c) {
			s.pool.evict(c)
		}
		return res, s.connLost(ep, c, err)
	}
	if timeout > 0 && res.ExitCode == exitTimedOut && time.Since(started) >= timeout {
		// the remote timeout(1) fired before our timer
		res.TimedOut = true
	}
	return res, nil
}

// start opens a session on ep's pooled connection and starts cmd on it. A
// connection found dead is re-dialed once; a session the server refuses on
// a live connection is retried with backoff (OpenSSH frees session slots
// lazily, so a burst can briefly exceed MaxSessions). Neither can run the
// command twice: a refused exec request ran nothing. On success the caller
// owns the session slot (c.release) and the session.
func (s *SSH) start(ctx context.Context, ep engine.Endpoint, cmd string, stdin io.Reader, stdout, stderr io.Writer) (*conn, *ssh.Session, error) {
	redialed := false
	backoff := 10 * time.Millisecond
	for refusals := 0; ; {
		c, err := s.pool.get(ctx, ep)
		if err != nil {
			return nil, nil, err
		}
		if err := c.acquire(ctx); err != nil {
			if ctx.Err() != nil {
				return nil, nil, ctx.Err()
			}
			if !redialed { // the connection died while we waited for a slot
				redialed = true
				continue
			}
			return nil, nil, s.connLost(ep, c, err)
		}
		sess, err := c.client.NewSession()
		if err == nil {
			sess.Stdout, sess.Stderr = stdout, stderr
			if stdin != nil {
				sess.Stdin = stdin
			}
			if err = sess.Start(cmd); err == nil {
				return c, sess, nil
			}
			err = fmt.Errorf("start: %w", err)
			sess.Close()
		} else {
			err = fmt.Errorf("new session: %w", err)
		}
		c.release()
		if !s.pool.ping(c) {
			s.pool.evict(c)
			if !redialed {
				redialed = true
				continue
			}
			return nil, nil, s.connLost(ep, c, err)
		}
		refusals++
		if refusals > 20 {
			return nil, nil, s.connLost(ep, c, fmt.Errorf("host keeps refusing sessions: %w", err))
		}
		t := time.NewTimer(backoff)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return nil, nil, ctx.Err()
		}
		backoff = min(2*backoff, 500*time.Millisecond)
	}
}

// exitTimedOut is timeout(1)'s exit status when the command timed out.
const exitTimedOut = 124

// stop ends a running session: SIGTERM (timeout(1) forwards it to the
// command's process group), then after KillGrace SIGKILL and close.
func (s *SSH) stop(sess *ssh.Session, waited <-chan error) error {
	sess.Signal(ssh.SIGTERM)
	t := time.NewTimer(s.opts.KillGrace)
	defer t.Stop()
	select {
	case err := <-waited:
		return err
	case <-t.C:
	}
	sess.Signal(ssh.SIGKILL)
	sess.Close()
	return <-waited
}

// connLost is the error for a command whose connection failed under it.
func (s *SSH) connLost(ep engine.Endpoint, c *conn, err error) error {
	return &TransportError{Host: ep.Host.Name, Addr: c.key.addr, Kind: ErrConnLost, Err: err}
}

// wrapCommand builds the remote command line: the user's command under
// `sh -c`, bounded by timeout(1) when timeout > 0 (remote deadline a second
// after ours, then SIGKILL), under `sudo -n` for become = "sudo".
func wrapCommand(cmd, become string, timeout, grace time.Duration) string {
	c := cmd
	if timeout > 0 {
		remote := timeout + time.Second
		c = fmt.Sprintf("timeout -k %d %.3fs sh -c %s", int((grace+3*time.Second)/time.Second), remote.Seconds(), shellQuote(cmd))
	} else if become != "" {
		c = "sh -c " + shellQuote(cmd)
	}
	if become == "sudo" {
		c = "sudo -n -- " + c
	}
	return c
}

// shellQuote quotes s as one word for a POSIX shell.
func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

type signerKey struct {
	path       string
	passphrase string
	modTime    time.Time
}

// authMethods returns the credential's auth methods and a func releasing
// any agent connection (call it once the handshake is over).
func (s *SSH) authMethods(ep engine.Endpoint) ([]ssh.AuthMethod, func(), error) {
	cred := ep.Credential
	var methods []ssh.AuthMethod
	closer := func() {}
	if cred.PrivateKeyFile != "" {
		signer, err := s.signer(cred, ep.Passphrase)
		if err != nil {
			return nil, closer, err
		}
		methods = append(methods, ssh.PublicKeys(signer))
	}
	if cred.UseAgent {
		if s.opts.AgentSocket == "" {
			return nil, closer, errors.New("use_agent set but SSH_AUTH_SOCK is empty")
		}
		ac, err := net.DialTimeout("unix", s.opts.AgentSocket, 5*time.Second)
		if err != nil {
			return nil, closer, fmt.Errorf("ssh-agent: %w", err)
		}
		closer = func() { ac.Close() }
		// Signers only: the agent is never forwarded to the host.
		methods = append(methods, ssh.PublicKeysCallback(agent.NewClient(ac).Signers))
	}
	if len(methods) == 0 {
		return nil, closer, fmt.Errorf("credential %q has neither private_key_file nor use_agent", cred.Name)
	}
	return methods, closer, nil
}

// signer parses (once per file version) the credential's private key.
// Encrypted keys are slow to parse (bcrypt KDF), hence the cache.
func (s *SSH) signer(cred *definitions.Credential, passphrase string) (ssh.Signer, error) {
	fi, err := os.Stat(cred.PrivateKeyFile)
	if err != nil {
		return nil, fmt.Errorf("private key: %w", err)
	}
	k := signerKey{path: cred.PrivateKeyFile, passphrase: passphrase, modTime: fi.ModTime()}
	s.signersMu.Lock()
	defer s.signersMu.Unlock()
	if sg, ok := s.signers[k]; ok {
		return sg, nil
	}
	pem, err := os.ReadFile(cred.PrivateKeyFile)
	if err != nil {
		return nil, fmt.Errorf("private key: %w", err)
	}
	var sg ssh.Signer
	if passphrase != "" {
		sg, err = ssh.ParsePrivateKeyWithPassphrase(pem, []byte(passphrase))
	} else {
		sg, err = ssh.ParsePrivateKey(pem)
	}
	if err != nil {
		var missing *ssh.PassphraseMissingError
		if errors.As(err, &missing) {
			return nil, fmt.Errorf("private key %s is encrypted and no passphrase was given", cred.PrivateKeyFile)
		}
		return nil, fmt.Errorf("private key %s: %w", cred.PrivateKeyFile, err)
	}
	s.signers[k] = sg
	return sg, nil
}

func containsAny(s string, subs ...string) bool {
	for _, sub := range subs {
		if strings.Contains(s, sub) {
			return true
		}
	}
	return false
}
