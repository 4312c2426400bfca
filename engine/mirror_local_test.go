package engine

import (
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"github.com/go-git/go-git/v5/plumbing"
)

// A local repository is mirrored without any git binary: clone, fetch of a
// new commit, fetch of a rewritten branch.
func TestMirrorLocalRepoWithoutGit(t *testing.T) {
	repo := newDmRepo(t)
	first := repo.commit("first", map[string]string{"hosts.hcl": dmInventory})
	path := os.Getenv("PATH")
	noGit := func() { t.Setenv("PATH", t.TempDir()) }
	withGit := func() { t.Setenv("PATH", path) }
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "mirror")

	noGit()
	m, err := OpenMirror(ctx, MirrorOptions{URL: repo.dir, Branch: "main", Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	fetch := func(want string) {
		t.Helper()
		head, err := m.Fetch(ctx)
		if err != nil || head.String() != want {
			t.Fatalf("Fetch = %s, %v; want %s", head, err, want)
		}
		files, err := m.Snapshot(head)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := fs.Stat(files, "hosts.hcl"); err != nil {
			t.Errorf("snapshot of %s: %v", want, err)
		}
	}
	fetch(first)

	withGit()
	second := repo.commit("job", map[string]string{"jobs/hello.hcl": dmJob})
	noGit()
	fetch(second)
	if !m.HasCommit(plumbing.NewHash(first)) {
		t.Error("the mirror lost the first commit")
	}

	// A force-push: the branch no longer contains second.
	withGit()
	repo.git("reset", "-q", "--hard", first)
	rewritten := repo.commit("rewritten", map[string]string{"README.md": "ops\n"})
	noGit()
	fetch(rewritten)
	if ok, err := m.IsAncestor(plumbing.NewHash(second), plumbing.NewHash(rewritten)); err != nil || ok {
		t.Errorf("IsAncestor(dropped, head) = %v, %v; want false", ok, err)
	}

	// Reopened (a restart), the mirror keeps fetching; a missing ref is an
	// error, not an empty head.
	m, err = OpenMirror(ctx, MirrorOptions{URL: repo.dir, Branch: "main", Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	fetch(rewritten)
	if _, err := m.FetchPullRequest(ctx, 7); err == nil {
		t.Error("FetchPullRequest of a ref the local repo lacks succeeded")
	}
}
