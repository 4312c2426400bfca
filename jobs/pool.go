package jobs

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"sync"
	"time"

	"golang.org/x/crypto/ssh"
	"golang.org/x/sync/singleflight"

	"github.com/ripple-ops/ripple/engine"
)

// poolKey identifies a reusable connection: one per address, port, user and
// credential files.
type poolKey struct {
	addr       string // host:port
	user       string
	keyFile    string
	knownHosts string
	agent      bool
}

// conn is one pooled SSH connection.
type conn struct {
	key      poolKey
	client   *ssh.Client
	sessions chan struct{} // semaphore: one slot per open session
	dead     chan struct{} // closed when the connection is closed or lost

	mu       sync.Mutex
	lastUsed time.Time
	active   int
}

// pool holds at most one live connection per key.
type pool struct {
	s *SSH

	mu     sync.Mutex
	conns  map[poolKey]*conn
	closed bool

	// dials runs at most one dial per key at a time; callers for a key that
	// is being dialed wait for that dial and share its result.
	dials singleflight.Group

	handshakes chan struct{} // fleet-wide handshake slots
	wg         sync.WaitGroup
	done       chan struct{} // closed by close()
}

func newPool(s *SSH) *pool {
	return &pool{
		s:          s,
		conns:      map[poolKey]*conn{},
		handshakes: make(chan struct{}, s.opts.MaxHandshakes),
		done:       make(chan struct{}),
	}
}

func keyFor(ep engine.Endpoint) poolKey {
	c := ep.Credential
	return poolKey{
		addr:       hostAddr(ep.Host.Address, ep.Host.Port),
		user:       c.User,
		keyFile:    c.PrivateKeyFile,
		knownHosts: c.KnownHostsFile,
		agent:      c.UseAgent,
	}
}

// String is k as a singleflight key: every field quoted, so distinct keys
// never collide.
func (k poolKey) String() string {
	return fmt.Sprintf("%q %q %q %q %t", k.addr, k.user, k.keyFile, k.knownHosts, k.agent)
}

var errPoolClosed = errors.New("ssh transport closed")

// get returns the live connection for ep, dialing it if needed. Concurrent
// callers for the same host share one dial and its result, failure
// included. The dial runs under the ctx of the caller that started it: that
// caller, once its ctx ends, still waits for the dial (which then ends
// promptly) and returns its error, as if it had dialed inline; a caller
// sharing another's dial returns ctx.Err() at once.
func (p *pool) get(ctx context.Context, ep engine.Endpoint) (*conn, error) {
	k := keyFor(ep)
	if c, err := p.pooled(k); c != nil || err != nil {
		return c, err
	}
	ours := make(chan struct{}) // closed when this caller's func is the dial
	ch := p.dials.DoChan(k.String(), func() (any, error) {
		close(ours)
		return p.dialPooled(ctx, ep, k)
	})
	var r singleflight.Result
	select {
	case r = <-ch:
	case <-ctx.Done():
		select {
		case <-ours:
			r = <-ch
		default:
			return nil, ctx.Err()
		}
	}
	if r.Err != nil {
		return nil, r.Err
	}
	return r.Val.(*conn), nil
}

// pooled returns k's live connection, or nil when there is none (a dead
// one is forgotten), or errPoolClosed after close.
func (p *pool) pooled(k poolKey) (*conn, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return nil, errPoolClosed
	}
	c, ok := p.conns[k]
	if !ok {
		return nil, nil
	}
	select {
	case <-c.dead:
		p.drop(c)
		return nil, nil
	default:
		return c, nil
	}
}

// dialPooled is the one dial for k that p.dials runs at a time. It first
// looks in the pool again, since a dial that ended between the caller's
// look and this call has pooled its connection, then dials and pools the
// new connection with its watcher.
func (p *pool) dialPooled(ctx context.Context, ep engine.Endpoint, k poolKey) (*conn, error) {
	if c, err := p.pooled(k); c != nil || err != nil {
		return c, err
	}
	c, err := p.dial(ctx, ep, k)
	if err != nil {
		p.s.opts.Metrics.dialFailed(ctx, err)
		return nil, err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		c.client.Close()
		return nil, errPoolClosed
	}
	p.conns[k] = c
	p.s.opts.Metrics.connPooled()
	p.wg.Add(1)
	go p.watch(c) // owned by the pool; close() waits for it
	return c, nil
}

// evict forgets c (if it is still the pooled connection) and closes it.
func (p *pool) evict(c *conn) {
	p.mu.Lock()
	p.drop(c)
	p.mu.Unlock()
	c.client.Close()
}

// drop forgets c if it is still the pooled connection for its key. The
// caller holds p.mu.
func (p *pool) drop(c *conn) {
	if p.conns[c.key] == c {
		delete(p.conns, c.key)
		p.s.opts.Metrics.connDropped()
	}
}

// dial opens and authenticates a connection within the dial and handshake
// deadlines, holding one of the fleet-wide handshake slots.
func (p *pool) dial(ctx context.Context, ep engine.Endpoint, k poolKey) (*conn, error) {
	o := p.s.opts
	terr := func(kind, err error) error {
		return &TransportError{Host: ep.Host.Name, Addr: k.addr, Kind: kind, Err: err}
	}
	db, err := p.s.hostKeys.get(k.knownHosts)
	if err != nil {
		return nil, terr(ErrHostUnknown, err)
	}
	auth, closeAuth, err := p.s.authMethods(ep)
	if err != nil {
		return nil, terr(ErrAuth, err)
	}
	defer closeAuth()

	select {
	case p.handshakes <- struct{}{}:
	case <-ctx.Done():
		return nil, terr(ErrUnreachable, ctx.Err())
	}
	defer func() { <-p.handshakes }()

	start := time.Now()
	d := net.Dialer{Timeout: o.DialTimeout, KeepAlive: 30 * time.Second}
	nc, err := d.DialContext(ctx, "tcp", k.addr)
	if err != nil {
		return nil, terr(ErrUnreachable, fmt.Errorf("dial: %w", err))
	}
	// ClientConfig.Timeout only bounds the TCP connect: the handshake gets
	// its own deadline, and ctx cancellation closes the socket.
	nc.SetDeadline(time.Now().Add(o.HandshakeTimeout))
	stop := context.AfterFunc(ctx, func() { nc.Close() })
	check := &hostKeyCheck{db: db}
	cfg := &ssh.ClientConfig{
		User:              k.user,
		Auth:              auth,
		HostKeyCallback:   check.callback,
		HostKeyAlgorithms: db.HostKeyAlgorithms(k.addr),
		Timeout:           o.DialTimeout,
		ClientVersion:     "SSH-2.0-ripple",
	}
	sc, chans, reqs, err := ssh.NewClientConn(nc, k.addr, cfg)
	stopped := stop()
	if err != nil {
		nc.Close()
		if kind, cause := check.result(); kind != nil {
			return nil, terr(kind, cause)
		}
		var ne net.Error
		switch {
		case !stopped:
			return nil, terr(ErrUnreachable, fmt.Errorf("handshake: %w", ctx.Err()))
		case errors.As(err, &ne) && ne.Timeout():
			return nil, terr(ErrUnreachable, fmt.Errorf("handshake: %w", noAnswerError{o.HandshakeTimeout}))
		case isAuthError(err):
			return nil, terr(ErrAuth, err)
		}
		return nil, terr(ErrUnreachable, fmt.Errorf("handshake: %w", err))
	}
	nc.SetDeadline(time.Time{})
	c := &conn{
		key:      k,
		client:   ssh.NewClient(sc, chans, reqs),
		sessions: make(chan struct{}, o.MaxSessionsPerConn),
		dead:     make(chan struct{}),
		lastUsed: time.Now(),
	}
	o.Metrics.dialed(time.Since(start))
	return c, nil
}

// noAnswerError is a handshake that hit HandshakeTimeout. Timeout tells it
// apart from other unreachable hosts, as a *net.OpError does for the dial.
type noAnswerError struct{ within time.Duration }

func (e noAnswerError) Error() string { return fmt.Sprintf("no answer within %v", e.within) }
func (e noAnswerError) Timeout() bool { return true }

func isAuthError(err error) bool {
	var se *ssh.ServerAuthError
	if errors.As(err, &se) {
		return true
	}
	// x/crypto reports exhausted methods as a plain error.
	return err != nil && containsAny(err.Error(), "unable to authenticate", "no supported methods remain")
}

// watch owns c's lifetime in the pool: it sends keepalives, closes c when it
// stops answering or has been idle too long, and evicts it once closed.
func (p *pool) watch(c *conn) {
	defer p.wg.Done()
	lost := make(chan struct{})
	go func() { // ends when the client closes, which this function ensures
		c.client.Wait()
		close(lost)
	}()
	defer func() {
		p.evict(c)
		<-lost
		close(c.dead)
	}()
	o := p.s.opts
	t := time.NewTicker(o.KeepaliveInterval)
	defer t.Stop()
	for {
		select {
		case <-p.done:
			return
		case <-lost:
			return
		case <-t.C:
		}
		c.mu.Lock()
		idle := c.active == 0 && time.Since(c.lastUsed) > o.IdleTimeout
		c.mu.Unlock()
		if idle {
			return
		}
		if !p.ping(c) {
			p.s.log.Debug().Str("addr", c.key.addr).Msg("keepalive unanswered; closing connection")
			return
		}
	}
}

// ping sends one keepalive and waits at most KeepaliveTimeout for the reply.
// Only an error means the connection is dead (servers often answer false).
func (p *pool) ping(c *conn) bool {
	res := make(chan error, 1)
	go func() { // ends when the reply arrives or the client is closed
		_, _, err := c.client.SendRequest("keepalive@openssh.com", true, nil)
		res <- err
	}()
	t := time.NewTimer(p.s.opts.KeepaliveTimeout)
	defer t.Stop()
	select {
	case err := <-res:
		return err == nil
	case <-t.C:
		c.client.Close() // unblocks SendRequest
		return false
	}
}

// acquire takes a session slot on c.
func (c *conn) acquire(ctx context.Context) error {
	select {
	case c.sessions <- struct{}{}:
	case <-c.dead:
		return errors.New("connection closed")
	case <-ctx.Done():
		return ctx.Err()
	}
	c.mu.Lock()
	c.active++
	c.lastUsed = time.Now()
	c.mu.Unlock()
	return nil
}

func (c *conn) release() {
	c.mu.Lock()
	c.active--
	c.lastUsed = time.Now()
	c.mu.Unlock()
	<-c.sessions
}

// close closes every connection and waits for their watchers.
func (p *pool) close() {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return
	}
	p.closed = true
	close(p.done)
	p.mu.Unlock()
	p.wg.Wait()
}

// hostAddr is host:port for h, with the default port 22.
func hostAddr(address string, port int) string {
	if port == 0 {
		port = 22
	}
	return net.JoinHostPort(address, strconv.Itoa(port))
}
