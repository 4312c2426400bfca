package source

import (
	"context"
	"errors"
	"net/http"
	"net/http/cgi"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/ripple-ops/ripple/engine"
	"github.com/ripple-ops/ripple/engine/enginetest"
)

const (
	webV1 = "job \"web\" {\n  step \"a\" { run = \"echo v1\" }\n}\n"
	webV2 = "job \"web\" {\n  step \"a\" { run = \"echo v2\" }\n}\n"
)

func openTestMirror(t *testing.T, url string, edit func(*MirrorOptions)) *Mirror {
	t.Helper()
	opts := MirrorOptions{URL: url, Branch: "main", Dir: filepath.Join(t.TempDir(), "mirror")}
	if edit != nil {
		edit(&opts)
	}
	m, err := OpenMirror(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// revertRepo has a base commit, the commit to revert (it changes one file,
// adds one, deletes one and adds a deep directory) and a later unrelated
// commit on main.
func revertRepo(t *testing.T) (repo *enginetest.GitRepo, bad, later string) {
	t.Helper()
	repo = enginetest.NewGitRepo(t)
	repo.Commit("base", map[string]string{
		"hosts.hcl":     enginetest.Inventory,
		"jobs/web.hcl":  webV1,
		"jobs/old.hcl":  "job \"old\" {}\n",
		"bin/deploy.sh": "#!/bin/sh\necho deploy\n",
	})
	chmod(t, filepath.Join(repo.Dir, "bin/deploy.sh"), 0o755)
	repo.Commit("deploy.sh is executable", nil)
	chmod(t, filepath.Join(repo.Dir, "bin/deploy.sh"), 0o644)
	bad = repo.Commit("web v2\n\nwith a body", map[string]string{
		"jobs/web.hcl":          webV2,
		"jobs/new.hcl":          "job \"new\" {}\n",
		"jobs/old.hcl":          "",
		"files/deep/nested.txt": "nested\n",
	})
	later = repo.Commit("unrelated", map[string]string{"README.md": "ops\n", "jobs/other.hcl": "job \"other\" {}\n"})
	return repo, bad, later
}

func TestRevertLocalRepo(t *testing.T) {
	repo, bad, later := revertRepo(t)
	parent := repo.Git("rev-parse", bad+"^")
	m := openTestMirror(t, repo.Dir, nil)
	ctx := context.Background()

	res, err := m.Revert(ctx, RevertRequest{Commit: bad[:9], Actor: "alice", Reason: "v2 breaks nginx"})
	if err != nil {
		t.Fatal(err)
	}
	want := engine.RevertResult{
		Reverted: bad, Subject: "web v2", Branch: "ripple/revert-" + bad[:12], Commit: res.Commit, Base: later, Into: "main",
		Repo: repo.Dir, Local: true,
		Paths: []string{"bin/deploy.sh", "files/deep/nested.txt", "jobs/new.hcl", "jobs/old.hcl", "jobs/web.hcl"},
	}
	if diff := cmp.Diff(want, res); diff != "" {
		t.Fatalf("result (-want +got):\n%s", diff)
	}

	// The branch is in the operator's repository, as git sees it.
	if got := repo.Git("rev-parse", res.Branch); got != res.Commit {
		t.Fatalf("%s = %s, want %s", res.Branch, got, res.Commit)
	}
	repo.Git("fsck", "--strict", "--no-dangling")
	if got := repo.Git("rev-parse", res.Branch+"^"); got != later {
		t.Errorf("parent of the revert = %s, want the branch head %s", got, later)
	}
	// C's paths are as in C's parent, the later change is kept.
	if d := repo.Git("diff", "--stat", parent, res.Branch, "--", "jobs", "bin", "files", "hosts.hcl"); !strings.Contains(d, "jobs/other.hcl") || strings.Count(d, "|") != 1 {
		t.Errorf("diff from C's parent on C's paths:\n%s", d)
	}
	if d := repo.Git("diff", "--name-only", later, res.Branch); d != strings.Join(want.Paths, "\n") {
		t.Errorf("the revert changes:\n%s\nwant %v", d, want.Paths)
	}
	if got := repo.Git("show", res.Branch+":README.md"); got != "ops" {
		t.Errorf("README.md = %q, the later commit's change is lost", got)
	}
	if got := repo.Git("ls-tree", res.Branch, "bin/deploy.sh"); !strings.HasPrefix(got, "100755 ") {
		t.Errorf("deploy.sh mode not put back: %s", got)
	}
	if got := repo.Git("ls-tree", res.Branch, "files"); got != "" {
		t.Errorf("the directory C added is still there: %s", got)
	}
	msg := repo.Git("log", "-1", "--format=%an <%ae>|%cn <%ce>|%B", res.Branch)
	wantMsg := "ripple <ripple@localhost>|ripple <ripple@localhost>|Revert \"web v2\"\n\nThis reverts commit " + bad + ".\n\nv2 breaks nginx\nRequested by alice through ripple."
	if msg != wantMsg {
		t.Errorf("commit:\n%s\nwant:\n%s", msg, wantMsg)
	}
	if got := repo.Git("rev-parse", "main"); got != later {
		t.Errorf("main moved to %s", got)
	}
	if got := repo.Git("status", "--porcelain"); got != "" {
		t.Errorf("the work tree changed:\n%s", got)
	}
	if _, err := m.Resolve(res.Branch); err == nil {
		t.Error("the mirror kept the revert branch")
	}

	// A second revert of the same commit is refused: the branch exists.
	_, err = m.Revert(ctx, RevertRequest{Commit: bad, Actor: "bob", Reason: "again"})
	if !errors.Is(err, engine.ErrConflict) || !strings.Contains(err.Error(), "branch "+res.Branch+" already exists") {
		t.Fatalf("second revert: %v", err)
	}
	if got := repo.Git("rev-parse", res.Branch); got != res.Commit {
		t.Errorf("the second revert moved the branch")
	}

	// Merged, the revert leaves nothing to revert.
	repo.Git("merge", "-q", "--ff-only", res.Branch)
	repo.Git("branch", "-q", "-D", res.Branch)
	if _, err := m.Revert(ctx, RevertRequest{Commit: bad, Reason: "again"}); !errors.Is(err, engine.ErrConflict) || !strings.Contains(err.Error(), "nothing to revert") {
		t.Errorf("revert of a reverted commit: %v", err)
	}
}

func TestRevertRefusesConflictsAndCreatesNothing(t *testing.T) {
	repo, bad, _ := revertRepo(t)
	repo.Commit("web v3", map[string]string{"jobs/web.hcl": webV1 + "# v3\n", "jobs/new.hcl": "job \"new\" { description = \"edited\" }\n"})
	m := openTestMirror(t, repo.Dir, nil)
	_, err := m.Revert(context.Background(), RevertRequest{Commit: bad, Actor: "alice", Reason: "x"})
	var ce *RevertConflictError
	if !errors.As(err, &ce) || !errors.Is(err, engine.ErrConflict) {
		t.Fatalf("err = %v, want a RevertConflictError", err)
	}
	if !slices.Equal(ce.Paths, []string{"jobs/new.hcl", "jobs/web.hcl"}) || !strings.Contains(err.Error(), "2 files it changed were changed again on main since: jobs/new.hcl, jobs/web.hcl") {
		t.Errorf("conflict = %v", err)
	}
	if got := repo.Git("branch", "--list", "ripple/*"); got != "" {
		t.Errorf("a refused revert made branches: %s", got)
	}
}

func TestRevertRefusesCommitsOffTheBranch(t *testing.T) {
	repo, _, _ := revertRepo(t)
	repo.Git("checkout", "-q", "-b", "feature")
	side := repo.Commit("side", map[string]string{"jobs/side.hcl": "job \"side\" {}\n"})
	repo.Git("checkout", "-q", "main")
	repo.Git("update-ref", "refs/pull/3/head", side)
	m := openTestMirror(t, repo.Dir, nil)
	ctx := context.Background()
	if _, err := m.FetchPullRequest(ctx, 3); err != nil { // the mirror holds it
		t.Fatal(err)
	}
	if _, err := m.Revert(ctx, RevertRequest{Commit: side, Reason: "x"}); !errors.Is(err, engine.ErrInvalidRequest) || !strings.Contains(err.Error(), "not in the history of branch main") {
		t.Errorf("a commit off the branch: %v", err)
	}
	if _, err := m.Revert(ctx, RevertRequest{Commit: "0123456789ab", Reason: "x"}); !errors.Is(err, engine.ErrNotFound) {
		t.Errorf("an unknown commit: %v", err)
	}
	empty := repo.Commit("empty", nil)
	if _, err := m.Revert(ctx, RevertRequest{Commit: empty, Reason: "x"}); !errors.Is(err, engine.ErrInvalidRequest) || !strings.Contains(err.Error(), "changes no file") {
		t.Errorf("an empty commit: %v", err)
	}
}

// A merge is reverted against its first parent: the whole merged branch
// goes; a file turned into a directory comes back as a file.
func TestRevertMergeCommit(t *testing.T) {
	repo := enginetest.NewGitRepo(t)
	repo.Commit("base", map[string]string{"hosts.hcl": enginetest.Inventory, "conf": "flat\n"})
	repo.Git("checkout", "-q", "-b", "feature")
	repo.Commit("f1", map[string]string{"jobs/a.hcl": "job \"a\" {}\n"})
	repo.Commit("f2", map[string]string{"conf": "", "conf/nested": "deep\n"})
	repo.Git("checkout", "-q", "main")
	mainBefore := repo.Commit("main moves on", map[string]string{"README.md": "x\n"})
	repo.Git("merge", "-q", "--no-ff", "-m", "Merge feature", "feature")
	merge := repo.Git("rev-parse", "HEAD")

	m := openTestMirror(t, repo.Dir, nil)
	res, err := m.Revert(context.Background(), RevertRequest{Commit: merge, Actor: "alice", Reason: "undo the feature"})
	if err != nil {
		t.Fatal(err)
	}
	repo.Git("fsck", "--strict", "--no-dangling")
	if d := repo.Git("diff", "--name-only", mainBefore, res.Branch); d != "" {
		t.Errorf("the revert of the merge differs from its first parent:\n%s", d)
	}
	if got := repo.Git("show", res.Branch+":conf"); got != "flat" {
		t.Errorf("conf = %q", got)
	}
	if !slices.Equal(res.Paths, []string{"conf", "conf/nested", "jobs/a.hcl"}) || res.Subject != "Merge feature" {
		t.Errorf("result = %+v", res)
	}
}

// A remote over https (git's own smart-HTTP server): the branch is pushed
// with the repository token, and never over an existing one.
func TestRevertPushesToRemote(t *testing.T) {
	backend := filepath.Join(gitExecPath(t), "git-http-backend")
	if _, err := os.Stat(backend); err != nil {
		t.Skip("git-http-backend not found")
	}
	repo, bad, later := revertRepo(t)
	root := t.TempDir()
	bare := filepath.Join(root, "ops.git")
	repo.Git("clone", "-q", "--bare", repo.Dir, bare)
	repo.Git("-C", bare, "config", "http.receivepack", "true")
	const token = "s3cret-repo-token"
	cgiHandler := &cgi.Handler{Path: backend, Env: []string{"GIT_PROJECT_ROOT=" + root, "GIT_HTTP_EXPORT_ALL=1"}}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if user, pw, ok := r.BasicAuth(); !ok || user != "x-access-token" || pw != token {
			w.Header().Set("WWW-Authenticate", `Basic realm="git"`)
			http.Error(w, "auth", http.StatusUnauthorized)
			return
		}
		cgiHandler.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	tokenFile := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(tokenFile, []byte(token+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	m := openTestMirror(t, srv.URL+"/ops.git", func(o *MirrorOptions) { o.TokenFile = tokenFile })
	ctx := context.Background()
	when := time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)
	res, err := m.Revert(ctx, RevertRequest{Commit: bad, Actor: "alice", Reason: "v2 breaks nginx", AuthorName: "Ops Bot", AuthorEmail: "ops@example.com", When: when})
	if err != nil {
		t.Fatal(err)
	}
	if res.Local || res.Base != later {
		t.Errorf("result = %+v", res)
	}
	gitBare := func(args ...string) string { return repo.Git(append([]string{"--git-dir", bare}, args...)...) }
	if got := gitBare("rev-parse", "refs/heads/"+res.Branch); got != res.Commit {
		t.Fatalf("remote %s = %s, want %s", res.Branch, got, res.Commit)
	}
	gitBare("fsck", "--strict", "--no-dangling")
	if got := gitBare("log", "-1", "--format=%an <%ae> %aI", res.Commit); got != "Ops Bot <ops@example.com> 2026-03-04T05:06:07+00:00" {
		t.Errorf("author = %s", got)
	}
	if got := gitBare("rev-parse", "main"); got != later {
		t.Errorf("the remote's main moved to %s", got)
	}
	_, err = m.Revert(ctx, RevertRequest{Commit: bad, Reason: "again"})
	if !errors.Is(err, engine.ErrConflict) || !strings.Contains(err.Error(), "already exists in "+srv.URL) {
		t.Errorf("second revert: %v", err)
	}
	if err != nil && strings.Contains(err.Error(), token) {
		t.Errorf("the error shows the token: %v", err)
	}
}

func chmod(t *testing.T, path string, mode os.FileMode) {
	t.Helper()
	if err := os.Chmod(path, mode); err != nil {
		t.Fatal(err)
	}
}

func gitExecPath(t *testing.T) string {
	t.Helper()
	out, err := exec.Command("git", "--exec-path").Output()
	if err != nil {
		t.Skip("git binary not found")
	}
	return strings.TrimSpace(string(out))
}
