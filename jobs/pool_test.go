package jobs_test

import (
	"context"
	"errors"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ripple-ops/ripple/engine"
	"github.com/ripple-ops/ripple/jobs"
	"github.com/ripple-ops/ripple/test/sshfleet"
)

// tarpit listens on loopback, accepts TCP connections and never speaks SSH.
// It returns ep pointed at it and the number of connections accepted so far.
func tarpit(t *testing.T, ep engine.Endpoint) (engine.Endpoint, func() int) {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var accepted atomic.Int32
	var mu sync.Mutex
	var conns []net.Conn
	done := make(chan struct{})
	go func() { // ends when l is closed
		defer close(done)
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			accepted.Add(1)
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		l.Close()
		<-done
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			c.Close()
		}
	})
	host := *ep.Host
	host.Address = "127.0.0.1"
	host.Port = l.Addr().(*net.TCPAddr).Port
	ep.Host = &host
	return ep, func() int { return int(accepted.Load()) }
}

func newSSH(t *testing.T, o jobs.SSHOptions) *jobs.SSH {
	t.Helper()
	if o.DialTimeout == 0 {
		o.DialTimeout = 3 * time.Second
	}
	if o.HandshakeTimeout == 0 {
		o.HandshakeTimeout = 5 * time.Second
	}
	s := jobs.NewSSH(o)
	t.Cleanup(func() { s.Close() })
	return s
}

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// TestSSHConcurrentCallersShareOneFailedDial: callers that ask for a host
// while its dial is under way wait for that dial and get its failure; the
// host sees one connection attempt, not one per caller.
func TestSSHConcurrentCallersShareOneFailedDial(t *testing.T) {
	f := sshfleet.Start(t, sshfleet.Options{Hosts: 1})
	ep, accepted := tarpit(t, f.Endpoint(0))
	s := newSSH(t, jobs.SSHOptions{HandshakeTimeout: time.Second})
	ctx := testCtx(t)

	errs := make([]error, 8)
	var wg sync.WaitGroup
	for i := range errs {
		wg.Go(func() { _, errs[i] = s.Exec(ctx, ep, "true", nil, time.Second) })
	}
	wg.Wait()
	for i, err := range errs {
		if !errors.Is(err, jobs.ErrUnreachable) {
			t.Errorf("caller %d: %v, want ErrUnreachable", i, err)
		}
	}
	if n := accepted(); n != 1 {
		t.Fatalf("%d TCP connections for 8 concurrent callers, want 1 shared dial", n)
	}
}

// TestSSHCallerStopsWaitingForSharedDial: a caller sharing another's dial
// returns when its own ctx ends, without ending the dial for the caller
// that started it.
func TestSSHCallerStopsWaitingForSharedDial(t *testing.T) {
	f := sshfleet.Start(t, sshfleet.Options{Hosts: 1})
	ep, accepted := tarpit(t, f.Endpoint(0))
	s := newSSH(t, jobs.SSHOptions{HandshakeTimeout: 2 * time.Second})

	firstCtx := testCtx(t)
	first := make(chan error, 1)
	go func() { // ends within the handshake deadline
		_, err := s.Exec(firstCtx, ep, "true", nil, time.Second)
		first <- err
	}()
	for accepted() == 0 { // the first caller's dial is in its handshake
		time.Sleep(10 * time.Millisecond)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := s.Exec(ctx, ep, "true", nil, time.Second)
	if !errors.Is(err, context.DeadlineExceeded) || time.Since(start) > time.Second {
		t.Fatalf("waiting caller: %v after %v, want its ctx deadline after 200ms", err, time.Since(start))
	}
	if err := <-first; !errors.Is(err, jobs.ErrUnreachable) {
		t.Fatalf("dialing caller: %v, want ErrUnreachable at the handshake deadline", err)
	}
	if n := accepted(); n != 1 {
		t.Fatalf("%d TCP connections, want 1 shared dial", n)
	}
}
