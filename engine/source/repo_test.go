package source

import (
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"testing/fstest"

	"github.com/google/go-cmp/cmp"
)

// gitRun runs the git binary in dir with a fixed identity and dates, so
// tests are hermetic, and returns its trimmed output.
func gitRun(t *testing.T, dir string, args ...string) string {
	t.Helper()
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(),
		"GIT_AUTHOR_NAME=Test", "GIT_AUTHOR_EMAIL=test@example.com",
		"GIT_COMMITTER_NAME=Test", "GIT_COMMITTER_EMAIL=test@example.com",
		"GIT_AUTHOR_DATE=2026-01-02T03:04:05Z", "GIT_COMMITTER_DATE=2026-01-02T03:04:05Z",
		"GIT_CONFIG_GLOBAL=/dev/null", "GIT_CONFIG_NOSYSTEM=1",
	)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return strings.TrimSpace(string(out))
}

func writeFiles(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, content := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func commitAll(t *testing.T, dir, msg string) string {
	t.Helper()
	gitRun(t, dir, "add", "-A")
	gitRun(t, dir, "commit", "-q", "--allow-empty", "-m", msg)
	return gitRun(t, dir, "rev-parse", "HEAD")
}

// newRepo makes a work tree with three commits on main, a lightweight tag
// v1 on the first and an annotated tag v2 on the second.
func newRepo(t *testing.T) (dir string, commits []string) {
	t.Helper()
	dir = t.TempDir()
	gitRun(t, dir, "init", "-q", "-b", "main")
	writeFiles(t, dir, map[string]string{"hosts.hcl": "# one\n"})
	commits = append(commits, commitAll(t, dir, "first"))
	gitRun(t, dir, "tag", "v1")
	writeFiles(t, dir, map[string]string{"hosts.hcl": "# two\n"})
	commits = append(commits, commitAll(t, dir, "second"))
	gitRun(t, dir, "tag", "-a", "-m", "release 2", "v2")
	writeFiles(t, dir, map[string]string{"jobs/web.hcl": "# job\n"})
	commits = append(commits, commitAll(t, dir, "third"))
	return dir, commits
}

func TestOpen(t *testing.T) {
	dir, commits := newRepo(t)
	bare := filepath.Join(t.TempDir(), "ops.git")
	gitRun(t, dir, "clone", "-q", "--bare", dir, bare)
	if err := os.MkdirAll(filepath.Join(dir, "jobs"), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{dir, filepath.Join(dir, "jobs"), bare} {
		t.Run(filepath.Base(path), func(t *testing.T) {
			r, err := Open(path)
			if err != nil {
				t.Fatal(err)
			}
			got, err := r.Resolve("HEAD")
			if err != nil {
				t.Fatal(err)
			}
			if got != commits[2] {
				t.Errorf("HEAD = %s, want %s", got, commits[2])
			}
		})
	}
	if _, err := Open(t.TempDir()); err == nil {
		t.Error("Open of a plain directory succeeded")
	}
}

func TestResolve(t *testing.T) {
	dir, c := newRepo(t)
	r, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct{ rev, want string }{
		{"HEAD", c[2]},
		{"main", c[2]},
		{"refs/heads/main", c[2]},
		{"v1", c[0]},
		{"v2", c[1]}, // annotated: peeled to its commit
		{c[1], c[1]},
		{c[1][:7], c[1]},
		{"HEAD~1", c[1]},
		{"HEAD^", c[1]},
		{"main~2", c[0]},
		{"HEAD^^", c[0]},
		{" HEAD ", c[2]},
	}
	for _, tt := range tests {
		t.Run(tt.rev, func(t *testing.T) {
			got, err := r.Resolve(tt.rev)
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("Resolve(%q) = %s, want %s", tt.rev, got, tt.want)
			}
		})
	}
	for _, bad := range []string{"", "nope", "HEAD~3", strings.Repeat("0", 40)} {
		if got, err := r.Resolve(bad); err == nil {
			t.Errorf("Resolve(%q) = %s, want an error", bad, got)
		}
	}
}

func TestParent(t *testing.T) {
	dir, c := newRepo(t)
	r, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	for i, want := range []string{"", c[0], c[1]} {
		got, err := r.Parent(c[i])
		if err != nil {
			t.Fatal(err)
		}
		if got != want {
			t.Errorf("Parent(commit %d) = %q, want %q", i, got, want)
		}
	}
	if _, err := r.Parent("HEAD"); err == nil {
		t.Error("Parent of a non-id succeeded")
	}
}

// linkRepo makes a commit with files, an executable, and symbolic links
// that stay inside the tree.
func linkRepo(t *testing.T) (*Repo, string, string) {
	t.Helper()
	dir := t.TempDir()
	gitRun(t, dir, "init", "-q", "-b", "main")
	writeFiles(t, dir, map[string]string{
		"hosts.hcl":            "host \"a\" {}\n",
		"a.b":                  "sorted before a/ in git\n",
		"a/x.txt":              "x\n",
		"files/nginx.conf":     "worker_processes 4;\n",
		"files/sub/deep.txt":   "deep\n",
		"scripts/up.sh":        "#!/bin/sh\n",
		".github/workflow.yml": "on: push\n",
	})
	if err := os.Chmod(filepath.Join(dir, "scripts/up.sh"), 0o755); err != nil {
		t.Fatal(err)
	}
	for link, target := range map[string]string{
		"link-file":       "files/nginx.conf",
		"files/link-up":   "../hosts.hcl",
		"link-dir":        "files/sub",
		"files/link-self": ".",
	} {
		if err := os.Symlink(target, filepath.Join(dir, link)); err != nil {
			t.Fatal(err)
		}
	}
	first := commitAll(t, dir, "tree")
	for link, target := range map[string]string{
		"escape-abs":    "/etc/passwd",
		"escape-up":     "../../etc/passwd",
		"files/escape":  "../..",
		"loop-a":        "loop-b",
		"loop-b":        "loop-a",
		"via-escape":    "escape-up",
		"dir-escape":    "files/escape",
		"dangling":      "missing.txt",
		"files/updir":   "..",
		"files/up-file": "../../hosts.hcl",
	} {
		if err := os.Symlink(target, filepath.Join(dir, link)); err != nil {
			t.Fatal(err)
		}
	}
	second := commitAll(t, dir, "bad links")
	r, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	return r, first, second
}

func TestFSConformance(t *testing.T) {
	r, first, _ := linkRepo(t)
	fsys, err := r.FS(first)
	if err != nil {
		t.Fatal(err)
	}
	if err := fstest.TestFS(fsys, "hosts.hcl", "a.b", "a/x.txt", "files/nginx.conf", "files/sub/deep.txt",
		"scripts/up.sh", ".github/workflow.yml", "link-file", "link-dir", "files/link-up"); err != nil {
		t.Fatal(err)
	}
}

func TestFSReads(t *testing.T) {
	r, first, _ := linkRepo(t)
	fsys, err := r.FS(first)
	if err != nil {
		t.Fatal(err)
	}
	if fsys.Commit() != first {
		t.Errorf("Commit() = %s, want %s", fsys.Commit(), first)
	}
	reads := map[string]string{
		"hosts.hcl":                    "host \"a\" {}\n",
		"link-file":                    "worker_processes 4;\n",
		"files/link-up":                "host \"a\" {}\n",
		"link-dir/deep.txt":            "deep\n",
		"files/link-self/sub/deep.txt": "deep\n",
	}
	for name, want := range reads {
		got, err := fs.ReadFile(fsys, name)
		if err != nil {
			t.Errorf("ReadFile(%s): %v", name, err)
			continue
		}
		if string(got) != want {
			t.Errorf("ReadFile(%s) = %q, want %q", name, got, want)
		}
	}

	modes := map[string]fs.FileMode{
		"hosts.hcl":     0o644,
		"scripts/up.sh": 0o755,
		"files":         fs.ModeDir | 0o755,
		"link-file":     fs.ModeSymlink | 0o777,
		"link-dir":      fs.ModeSymlink | 0o777,
		".":             fs.ModeDir | 0o755,
	}
	for name, want := range modes {
		fi, err := fsys.Lstat(name)
		if err != nil {
			t.Fatalf("Lstat(%s): %v", name, err)
		}
		if fi.Mode() != want {
			t.Errorf("Lstat(%s).Mode() = %v, want %v", name, fi.Mode(), want)
		}
	}
	if fi, err := fsys.Stat("link-dir"); err != nil || !fi.IsDir() {
		t.Errorf("Stat(link-dir) = %v, %v; want a directory", fi, err)
	}
	if target, err := fsys.ReadLink("files/link-up"); err != nil || target != "../hosts.hcl" {
		t.Errorf("ReadLink(files/link-up) = %q, %v", target, err)
	}
	if _, err := fsys.ReadLink("hosts.hcl"); !errors.Is(err, fs.ErrInvalid) {
		t.Errorf("ReadLink of a regular file: %v, want fs.ErrInvalid", err)
	}

	ents, err := fsys.ReadDir(".")
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	want := []string{".github", "a", "a.b", "files", "hosts.hcl", "link-dir", "link-file", "scripts"}
	if diff := cmp.Diff(want, names); diff != "" {
		t.Errorf("ReadDir(.) (-want +got):\n%s", diff)
	}
	for _, bad := range []string{"/hosts.hcl", "../x", "a//b", "missing", "hosts.hcl/x"} {
		if _, err := fsys.ReadFile(bad); err == nil {
			t.Errorf("ReadFile(%q) succeeded", bad)
		}
	}
}

func TestFSLinksNeverLeaveTheTree(t *testing.T) {
	r, _, second := linkRepo(t)
	fsys, err := r.FS(second)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"escape-abs", "escape-up", "files/escape", "via-escape", "dir-escape/etc/passwd", "files/escape/x", "files/up-file"} {
		if _, err := fsys.ReadFile(name); !errors.Is(err, ErrOutsideRepo) {
			t.Errorf("ReadFile(%s): %v, want ErrOutsideRepo", name, err)
		}
		if _, err := fsys.Open(name); !errors.Is(err, ErrOutsideRepo) {
			t.Errorf("Open(%s): %v, want ErrOutsideRepo", name, err)
		}
		if _, err := fsys.Stat(name); !errors.Is(err, ErrOutsideRepo) {
			t.Errorf("Stat(%s): %v, want ErrOutsideRepo", name, err)
		}
	}
	// The links themselves are visible, with their targets as written.
	if fi, err := fsys.Lstat("escape-abs"); err != nil || fi.Mode().Type() != fs.ModeSymlink {
		t.Errorf("Lstat(escape-abs) = %v, %v; want a symlink", fi, err)
	}
	if target, err := fsys.ReadLink("escape-up"); err != nil || target != "../../etc/passwd" {
		t.Errorf("ReadLink(escape-up) = %q, %v", target, err)
	}
	if _, err := fsys.ReadFile("loop-a"); err == nil || !strings.Contains(err.Error(), "too many levels") {
		t.Errorf("ReadFile(loop-a): %v, want a link loop error", err)
	}
	if _, err := fsys.ReadFile("dangling"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("ReadFile(dangling): %v, want fs.ErrNotExist", err)
	}
	// "files/updir" is ".." from files/: the root, which is fine.
	if got, err := fsys.ReadFile("files/updir/hosts.hcl"); err != nil || string(got) != "host \"a\" {}\n" {
		t.Errorf("ReadFile(files/updir/hosts.hcl) = %q, %v", got, err)
	}
}

func TestFSSnapshotsDiffer(t *testing.T) {
	dir, c := newRepo(t)
	r, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	for i, want := range []string{"# one\n", "# two\n", "# two\n"} {
		fsys, err := r.FS(c[i])
		if err != nil {
			t.Fatal(err)
		}
		got, err := fsys.ReadFile("hosts.hcl")
		if err != nil || string(got) != want {
			t.Errorf("commit %d: hosts.hcl = %q, %v; want %q", i, got, err, want)
		}
	}
	if _, err := r.FS("HEAD"); err == nil {
		t.Error("FS(HEAD) succeeded; FS takes a resolved id")
	}
}

// TestConcurrentReads runs under -race: go-git is not goroutine-safe, so
// Repo must serialize.
func TestConcurrentReads(t *testing.T) {
	r, first, _ := linkRepo(t)
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			fsys, err := r.FS(first)
			if err != nil {
				t.Error(err)
				return
			}
			for range 20 {
				if _, err := fs.ReadFile(fsys, "link-dir/deep.txt"); err != nil {
					t.Error(err)
				}
				if _, err := r.Resolve("HEAD"); err != nil {
					t.Error(err)
				}
				if err := fs.WalkDir(fsys, ".", func(string, fs.DirEntry, error) error { return nil }); err != nil {
					t.Error(err)
				}
			}
		}()
	}
	wg.Wait()
}

// TestCommitInfo: a commit is named by its message's first line, its
// author and when it was made.
func TestCommitInfo(t *testing.T) {
	dir := t.TempDir()
	gitRun(t, dir, "init", "-q", "-b", "main")
	writeFiles(t, dir, map[string]string{"a.hcl": "# a\n"})
	sha := commitAll(t, dir, "nginx: 8 workers\n\nThe canary showed 4 were not enough.")
	r, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	got, err := r.CommitInfo(sha)
	if err != nil {
		t.Fatal(err)
	}
	if got.SHA != sha || got.Subject != "nginx: 8 workers" || got.Author != "Test" || got.When.UTC().Format("2006-01-02T15:04:05") != "2026-01-02T03:04:05" {
		t.Errorf("CommitInfo = %+v", got)
	}
	if _, err := r.CommitInfo("0123456789abcdef0123456789abcdef01234567"); err == nil {
		t.Error("an unknown commit has info")
	}
}
