package engine

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/go-git/go-git/v5/plumbing/transport"

	"github.com/ripple-ops/ripple/definitions"
)

// runUntilStopped runs d and returns Run's error, failing the test if Run
// is still going after limit.
func runUntilStopped(t *testing.T, d *Daemon, limit time.Duration) error {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx) }()
	select {
	case err := <-done:
		return err
	case <-time.After(limit):
		cancel()
		<-done
		t.Fatalf("Run still going after %s; want it to fail start-up", limit)
		return nil
	}
}

func TestStartFailsAtOnceOnPermanentFetchError(t *testing.T) {
	repo := newDmRepo(t)
	repo.commit("inventory", map[string]string{"hosts.hcl": dmInventory})
	notRepo := t.TempDir()
	tests := []struct {
		name, url, branch string
		want              []string
	}{
		{"path does not exist", filepath.Join(t.TempDir(), "nope"), "main", []string{"nope", "repository does not exist"}},
		{"not a git repository", notRepo, "main", []string{notRepo, "repository does not exist"}},
		{"branch missing", repo.dir, "release", []string{repo.dir, "branch release", "release"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d := dmDaemon(t, repo, newMemStore(), &dmRunner{}, func(o *DaemonOptions) {
				o.Mirror.URL, o.Mirror.Branch = tc.url, tc.branch
				o.StartTimeout = time.Minute // a permanent error must not wait for it
			})
			start := time.Now()
			err := runUntilStopped(t, d, 10*time.Second)
			if err == nil {
				t.Fatal("Run returned nil, want the start-up error")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
			if took := time.Since(start); took > 5*time.Second {
				t.Errorf("a permanent error took %s to fail start-up", took)
			}
			if d.Status().Ready {
				t.Error("daemon was ready")
			}
		})
	}
}

func TestStartGivesUpOnUnreachableRemoteAfterStartTimeout(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close() // nothing listens there now: connection refused
	url := "http://" + addr + "/ops.git"
	d := dmDaemon(t, &dmRepo{dir: url}, newMemStore(), &dmRunner{}, func(o *DaemonOptions) {
		o.StartTimeout = 400 * time.Millisecond
		o.RetryInterval = 50 * time.Millisecond
	})
	start := time.Now()
	err = runUntilStopped(t, d, 10*time.Second)
	took := time.Since(start)
	if err == nil || !strings.Contains(err.Error(), url) || !strings.Contains(err.Error(), "attempts") {
		t.Fatalf("Run = %v, want an error naming %s after several attempts", err, url)
	}
	if took < 300*time.Millisecond {
		t.Errorf("gave up after %s, before the start timeout (400ms)", took)
	}
	if !TransientFetchError(err) {
		t.Errorf("connection refused not classified as transient: %v", err)
	}
}

func TestFetchFailureAfterStartKeepsDaemonRunning(t *testing.T) {
	repo := newDmRepo(t)
	head := repo.commit("inventory and job", map[string]string{"hosts.hcl": dmInventory, "jobs/hello.hcl": dmJob})
	store := newMemStore()
	d := dmDaemon(t, repo, store, &dmRunner{store: store}, nil)
	dmRun(t, d) // fails the test if Run returns an error
	dmWait(t, "head applied", func() bool { return d.Status().LastApplied == head })

	if err := os.Rename(repo.dir, repo.dir+".gone"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.Rename(repo.dir+".gone", repo.dir) })
	d.Trigger("test")
	dmWait(t, "the fetch error", func() bool { return d.Status().LastError != "" })
	if st := d.Status(); !st.Ready || st.LastApplied != head {
		t.Errorf("after a failed fetch: %+v, want ready with the last good commit", st)
	}
}

func TestTransientFetchError(t *testing.T) {
	tests := []struct {
		err  error
		want bool
	}{
		{&net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}, true},
		{fmt.Errorf("clone: %w", context.DeadlineExceeded), true},
		{&net.DNSError{Err: "server misbehaving", Name: "git.example.com", IsTemporary: true}, true},
		{&net.DNSError{Err: "no such host", Name: "git.example.com", IsNotFound: true}, false},
		{errors.New("Get \"https://git.example.com/ops.git/info/refs\": dial tcp 10.0.0.1:443: i/o timeout"), true},
		{fmt.Errorf("clone: %w", transport.ErrRepositoryNotFound), false},
		{fmt.Errorf("clone: %w", transport.ErrAuthenticationRequired), false},
		{fmt.Errorf("clone: %w", transport.ErrAuthorizationFailed), false},
		{errors.New("ssh: handshake failed: knownhosts: key mismatch"), false},
		{errors.New("couldn't find remote ref \"refs/heads/release\""), false},
		{fmt.Errorf("stopping: %w", context.Canceled), false},
	}
	for _, tc := range tests {
		if got := TransientFetchError(tc.err); got != tc.want {
			t.Errorf("TransientFetchError(%v) = %v, want %v", tc.err, got, tc.want)
		}
	}
}

// A restart while the repository cannot be read starts from the last
// applied commit in the local mirror: the definitions go to monitors and
// schedules again, the daemon is ready, and the fetch error is shown.
func TestRestartStartsFromTheMirrorWhenTheRepoIsUnreadable(t *testing.T) {
	repo := newDmRepo(t)
	head := repo.commit("inventory and job", map[string]string{"hosts.hcl": dmInventory, "jobs/hello.hcl": dmJob})
	store := newMemStore()
	mirror := filepath.Join(t.TempDir(), "mirror")
	first := dmDaemon(t, repo, store, &dmRunner{store: store}, func(o *DaemonOptions) { o.Mirror.Dir = mirror })
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- first.Run(ctx) }()
	dmWait(t, "head applied", func() bool { return first.Status().LastApplied == head })
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("first run: %v", err)
	}

	if err := os.Rename(repo.dir, repo.dir+".gone"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.Rename(repo.dir+".gone", repo.dir) })
	applied := make(chan string, 4)
	second := dmDaemon(t, repo, store, &dmRunner{store: store}, func(o *DaemonOptions) {
		o.Mirror.Dir = mirror
		o.OnDefinitions = func(defs *definitions.Definitions) { applied <- defs.Commit }
	})
	dmRun(t, second) // fails the test if Run returns an error
	select {
	case c := <-applied:
		if c != head {
			t.Fatalf("definitions of %s, want the last applied %s", c, head)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no definitions from the mirror")
	}
	dmWait(t, "ready with the fetch error", func() bool {
		st := second.Status()
		return st.Ready && st.LastError != "" && st.LastApplied == head
	})
}
