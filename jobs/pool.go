package jobs

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"sync"
	"time"

	"github.com/ripple-ops/ripple/engine"
	"golang.org/x/crypto/ssh"
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

// pending is a dial in progress that other callers for the same key wait on.
type pending struct {
	done chan struct{}
	c    *conn
	err  error
}

// pool holds at most one live connection per key.
type pool struct {
	s *SSH

	mu      sync.Mutex
	conns   map[poolKey]*conn
	dialing map[poolKey]*pending
	closed  bool

	handshakes chan struct{} // fleet-wide handshake slots
	wg         sync.WaitGroup
	done       chan struct{} // closed by close()
}

func newPool(s *SSH) *pool {
	return &pool{
		s:          s,
		conns:      map[poolKey]*conn{},
		dialing:    map[poolKey]*pending{},
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

// get returns the live connection for ep, dialing it if needed. Concurrent
// callers for the same host share one dial.
func (p *pool) get(ctx context.Context, ep engine.Endpoint) (*conn, error) {
	k := keyFor(ep)
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return nil, errors.New("ssh transport closed")
	}
	if c, ok := p.conns[k]; ok {
		select {
		case <-c.dead:
			delete(p.conns, k)
		default:
			p.mu.Unlock()
			return c, nil
		}
	}
	if d, ok := p.dialing[k]; ok {
		p.mu.Unlock()
		select {
		case <-d.done:
			return d.c, d.err
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	d := &pending{done: make(chan struct{})}
	p.dialing[k] = d
	p.mu.Unlock()

	d.c, d.err = p.dial(ctx, ep, k)

	p.mu.Lock()
	delete(p.dialing, k)
	if d.err == nil {
		if p.closed {
			d.c.client.Close()
			d.c, d.err = nil, errors.New("ssh transport closed")
		} else {
			p.conns[k] = d.c
			p.wg.Add(1)
			go p.watch(d.c) // owned by the pool; close() waits for it
		}
	}
	p.mu.Unlock()
	close(d.done)
	return d.c, d.err
}

// evict forgets c (if it is still the pooled connection) and closes it.
func (p *pool) evict(c *conn) {
	p.mu.Lock()
	if p.conns[c.key] == c {
		delete(p.conns, c.key)
	}
	p.mu.Unlock()
	c.client.Close()
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
			return nil, terr(ErrUnreachable, fmt.Errorf("handshake: no answer within %v", o.HandshakeTimeout))
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
	return c, nil
}

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
