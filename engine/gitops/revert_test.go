package gitops

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/ripple-ops/ripple/engine"
	"github.com/ripple-ops/ripple/engine/enginetest"
)

// fakeOpener records revert pull requests; err, when set, fails them.
type fakeOpener struct {
	mu  sync.Mutex
	got []engine.RevertPullRequest
	err error
}

func (f *fakeOpener) OpenRevertPullRequest(_ context.Context, pr engine.RevertPullRequest) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.got = append(f.got, pr)
	if f.err != nil {
		return "", f.err
	}
	return fmt.Sprintf("https://github.example/acme/ops/pull/%d", len(f.got)), nil
}

// revertDaemon runs a daemon on a repo whose second commit changes the
// hello job; the run of that commit failed.
func revertDaemon(t *testing.T, opener *fakeOpener) (d *Daemon, repo *enginetest.GitRepo, store *enginetest.MemStore, bad string, run *engine.Run) {
	t.Helper()
	repo = enginetest.NewGitRepo(t)
	repo.Commit("inventory and job", map[string]string{"hosts.hcl": enginetest.Inventory, "jobs/hello.hcl": enginetest.HelloJob})
	bad = repo.Commit("hello v2", map[string]string{"jobs/hello.hcl": strings.Replace(enginetest.HelloJob, "echo hello", "echo v2", 1)})
	store = enginetest.NewMemStore()
	d = dmDaemon(t, repo, store, &dmRunner{store: store}, func(o *Options) {
		if opener != nil {
			o.Reverts = opener
		}
		o.RunURL = func(id int64) string { return fmt.Sprintf("https://ripple.example/runs/%d", id) }
	})
	dmRun(t, d)
	dmWait(t, "the head applied", func() bool { a, _ := store.LastApplied(context.Background(), "main"); return a == bad })
	run = &engine.Run{Job: "hello", Commit: bad, State: engine.RunFailed}
	if err := store.CreateRun(context.Background(), run); err != nil {
		t.Fatal(err)
	}
	return d, repo, store, bad, run
}

func TestRevertOpensPullRequestAndRecordsIt(t *testing.T) {
	opener := &fakeOpener{}
	d, repo, store, bad, run := revertDaemon(t, opener)
	ctx := context.Background()
	runsBefore := len(store.AllRuns())

	res, err := d.Revert(ctx, bad[:8], run.ID, "alice", "  v2 breaks hello  ")
	if err != nil {
		t.Fatal(err)
	}
	if res.PullRequestURL != "https://github.example/acme/ops/pull/1" || !res.Local || res.Reverted != bad || res.Branch != "ripple/revert-"+bad[:12] {
		t.Errorf("result = %+v", res)
	}
	if got := repo.Git("rev-parse", res.Branch); got != res.Commit {
		t.Errorf("branch %s = %s, want %s", res.Branch, got, res.Commit)
	}
	if len(opener.got) != 1 {
		t.Fatalf("pull requests = %+v", opener.got)
	}
	pr := opener.got[0]
	want := engine.RevertPullRequest{
		Branch: res.Branch, Into: "main", Reverted: bad, Subject: "hello v2", Commit: res.Commit, Paths: []string{"jobs/hello.hcl"},
		RunID: run.ID, RunURL: fmt.Sprintf("https://ripple.example/runs/%d", run.ID), Actor: "alice", Reason: "v2 breaks hello",
	}
	if fmt.Sprint(pr) != fmt.Sprint(want) {
		t.Errorf("pull request =\n%+v\nwant\n%+v", pr, want)
	}
	evs, _ := store.Events(ctx, run.ID)
	if len(evs) != 1 || evs[0].Action != engine.EventRevert || evs[0].Actor != "alice" ||
		evs[0].Text() != "revert proposed by alice: branch "+res.Branch+", pull request "+res.PullRequestURL {
		t.Errorf("audit = %+v", evs)
	}

	// Nothing ran: a revert changes Git only.
	if n := len(store.AllRuns()); n != runsBefore {
		t.Errorf("runs = %d after the revert, want %d", n, runsBefore)
	}
}

func TestRevertWithoutGitHubLeavesTheBranch(t *testing.T) {
	d, repo, _, bad, _ := revertDaemon(t, nil)
	res, err := d.Revert(context.Background(), bad, 0, "alice", "v2 breaks hello")
	if err != nil {
		t.Fatal(err)
	}
	if res.PullRequestURL != "" || res.PullRequestError != "" || !res.Local || res.Repo != repo.Dir {
		t.Errorf("result = %+v", res)
	}
	if got := revertOutcome(res); got != "branch "+res.Branch+" in "+repo.Dir+", to merge into main" {
		t.Errorf("outcome = %q", got)
	}
}

func TestRevertKeepsTheBranchWhenThePullRequestFails(t *testing.T) {
	opener := &fakeOpener{err: errors.New("open a pull request: 502 Bad Gateway")}
	d, repo, store, bad, run := revertDaemon(t, opener)
	res, err := d.Revert(context.Background(), bad, run.ID, "alice", "v2 breaks hello")
	if err != nil {
		t.Fatal(err)
	}
	if res.PullRequestURL != "" || !strings.Contains(res.PullRequestError, "502") || repo.Git("rev-parse", res.Branch) != res.Commit {
		t.Errorf("result = %+v", res)
	}
	evs, _ := store.Events(context.Background(), run.ID)
	if len(evs) != 1 || !strings.Contains(evs[0].Text(), "pull request could not be opened") {
		t.Errorf("audit = %+v", evs)
	}
}

func TestRevertRefusals(t *testing.T) {
	d0 := dmDaemon(t, &enginetest.GitRepo{Dir: "/nonexistent"}, enginetest.NewMemStore(), &dmRunner{}, nil)
	if _, err := d0.Revert(context.Background(), "0123456789ab", 0, "alice", "why"); !errors.Is(err, engine.ErrNotRunning) {
		t.Errorf("before Run: %v", err)
	}
	opener := &fakeOpener{}
	d, _, _, bad, run := revertDaemon(t, opener)
	ctx := context.Background()
	for name, tc := range map[string]struct {
		rev    string
		run    int64
		reason string
		want   error
	}{
		"no reason":    {bad, run.ID, " ", engine.ErrInvalidRequest},
		"no commit":    {"", 0, "why", engine.ErrInvalidRequest},
		"unknown run":  {bad, 999, "why", engine.ErrNotFound},
		"negative run": {bad, -1, "why", engine.ErrInvalidRequest},
		"unknown sha":  {"0123456789ab", 0, "why", engine.ErrNotFound},
	} {
		if _, err := d.Revert(ctx, tc.rev, tc.run, "alice", tc.reason); !errors.Is(err, tc.want) {
			t.Errorf("%s: err = %v, want %v", name, err, tc.want)
		}
	}
	if len(opener.got) != 0 {
		t.Errorf("refused reverts opened pull requests: %+v", opener.got)
	}
}

// Reverts asked at once, beside the loop's fetches, take turns on the
// mirror: one makes the branch, the others are told it exists.
func TestConcurrentRevertsAreSerialized(t *testing.T) {
	opener := &fakeOpener{}
	d, _, _, bad, _ := revertDaemon(t, opener)
	var wg sync.WaitGroup
	errs := make([]error, 4)
	for i := range errs {
		wg.Go(func() {
			d.Trigger("test")
			_, errs[i] = d.Revert(context.Background(), bad, 0, fmt.Sprintf("op%d", i), "why")
		})
	}
	wg.Wait()
	ok := 0
	for _, err := range errs {
		switch {
		case err == nil:
			ok++
		case !errors.Is(err, engine.ErrConflict) || !strings.Contains(err.Error(), "already exists"):
			t.Errorf("err = %v", err)
		}
	}
	if ok != 1 || len(opener.got) != 1 {
		t.Errorf("%d reverts made a branch, %d pull requests; want 1", ok, len(opener.got))
	}
}
