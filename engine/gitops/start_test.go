package gitops

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ripple-ops/ripple/definitions"
	"github.com/ripple-ops/ripple/engine"
	"github.com/ripple-ops/ripple/engine/enginetest"
	"github.com/ripple-ops/ripple/engine/source"
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
	repo := enginetest.NewGitRepo(t)
	repo.Commit("inventory", map[string]string{"hosts.hcl": enginetest.Inventory})
	notRepo := t.TempDir()
	tests := []struct {
		name, url, branch string
		want              []string
	}{
		{"path does not exist", filepath.Join(t.TempDir(), "nope"), "main", []string{"nope", "repository does not exist"}},
		{"not a git repository", notRepo, "main", []string{notRepo, "repository does not exist"}},
		{"branch missing", repo.Dir, "release", []string{repo.Dir, "branch release", "release"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d := dmDaemon(t, repo, enginetest.NewMemStore(), &dmRunner{}, func(o *Options) {
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
	d := dmDaemon(t, &enginetest.GitRepo{Dir: url}, enginetest.NewMemStore(), &dmRunner{}, func(o *Options) {
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
	if !source.TransientFetchError(err) {
		t.Errorf("connection refused not classified as transient: %v", err)
	}
}

func TestFetchFailureAfterStartKeepsDaemonRunning(t *testing.T) {
	repo := enginetest.NewGitRepo(t)
	head := repo.Commit("inventory and job", map[string]string{"hosts.hcl": enginetest.Inventory, "jobs/hello.hcl": enginetest.HelloJob})
	store := enginetest.NewMemStore()
	d := dmDaemon(t, repo, store, &dmRunner{store: store}, nil)
	dmRun(t, d) // fails the test if Run returns an error
	dmWait(t, "head applied", func() bool { return d.Status().LastApplied == head })

	if err := os.Rename(repo.Dir, repo.Dir+".gone"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.Rename(repo.Dir+".gone", repo.Dir) })
	d.Trigger("test")
	dmWait(t, "the fetch error", func() bool { return d.Status().LastError != "" })
	if st := d.Status(); !st.Ready || st.LastApplied != head {
		t.Errorf("after a failed fetch: %+v, want ready with the last good commit", st)
	}
}

func TestRestartStartsFromTheMirrorWhenTheRepoIsUnreadable(t *testing.T) {
	repo := enginetest.NewGitRepo(t)
	head := repo.Commit("inventory and job", map[string]string{"hosts.hcl": enginetest.Inventory, "jobs/hello.hcl": enginetest.HelloJob})
	store := enginetest.NewMemStore()
	mirror := filepath.Join(t.TempDir(), "mirror")
	first := dmDaemon(t, repo, store, &dmRunner{store: store}, func(o *Options) { o.Mirror.Dir = mirror })
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- first.Run(ctx) }()
	dmWait(t, "head applied", func() bool { return first.Status().LastApplied == head })
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("first run: %v", err)
	}

	if err := os.Rename(repo.Dir, repo.Dir+".gone"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.Rename(repo.Dir+".gone", repo.Dir) })
	applied := make(chan string, 4)
	second := dmDaemon(t, repo, store, &dmRunner{store: store}, func(o *Options) {
		o.Mirror.Dir = mirror
	})
	second.Subscribe(engine.ConfigApplierFunc(func(_ context.Context, defs *definitions.Definitions) error {
		applied <- defs.Commit
		return nil
	}))
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
