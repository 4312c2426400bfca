package source

import (
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"github.com/go-git/go-git/v5/plumbing"

	"github.com/ripple-ops/ripple/engine/enginetest"
)

// A local repository is mirrored without any git binary: clone, fetch of a
// new commit, fetch of a rewritten branch.
func TestMirrorLocalRepoWithoutGit(t *testing.T) {
	repo := enginetest.NewGitRepo(t)
	first := repo.Commit("first", map[string]string{"hosts.hcl": enginetest.Inventory})
	path := os.Getenv("PATH")
	noGit := func() { t.Setenv("PATH", t.TempDir()) }
	withGit := func() { t.Setenv("PATH", path) }
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "mirror")

	noGit()
	m, err := OpenMirror(ctx, MirrorOptions{URL: repo.Dir, Branch: "main", Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	fetch := func(want string) {
		t.Helper()
		head, err := m.Fetch(ctx)
		if err != nil || head.String() != want {
			t.Fatalf("Fetch = %s, %v; want %s", head, err, want)
		}
		files, err := m.FS(head.String())
		if err != nil {
			t.Fatal(err)
		}
		if _, err := fs.Stat(files, "hosts.hcl"); err != nil {
			t.Errorf("snapshot of %s: %v", want, err)
		}
	}
	fetch(first)

	withGit()
	second := repo.Commit("job", map[string]string{"jobs/hello.hcl": enginetest.HelloJob})
	noGit()
	fetch(second)
	if !m.HasCommit(plumbing.NewHash(first)) {
		t.Error("the mirror lost the first commit")
	}

	// A force-push: the branch no longer contains second.
	withGit()
	repo.Git("reset", "-q", "--hard", first)
	rewritten := repo.Commit("rewritten", map[string]string{"README.md": "ops\n"})
	noGit()
	fetch(rewritten)
	if ok, err := m.IsAncestor(plumbing.NewHash(second), plumbing.NewHash(rewritten)); err != nil || ok {
		t.Errorf("IsAncestor(dropped, head) = %v, %v; want false", ok, err)
	}

	// Reopened (a restart), the mirror keeps fetching; a missing ref is an
	// error, not an empty head.
	m, err = OpenMirror(ctx, MirrorOptions{URL: repo.Dir, Branch: "main", Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	fetch(rewritten)
	if _, err := m.FetchPullRequest(ctx, 7); err == nil {
		t.Error("FetchPullRequest of a ref the local repo lacks succeeded")
	}
}
