package enginetest

import (
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"
)

// GitRepo is a throw-away repository driven with the git binary.
type GitRepo struct {
	t   testing.TB
	Dir string
}

// NewGitRepo makes an empty repository on branch main; it skips the test
// when there is no git binary.
func NewGitRepo(t testing.TB) *GitRepo {
	t.Helper()
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git binary not found")
	}
	r := &GitRepo{t: t, Dir: t.TempDir()}
	r.Git("init", "-q", "-b", "main")
	return r
}

// Git runs git in the repository with a fixed identity and returns its
// trimmed output; a failure fails the test.
func (r *GitRepo) Git(args ...string) string {
	r.t.Helper()
	cmd := exec.Command("git", append([]string{"-c", "user.name=test", "-c", "user.email=test@example.com", "-c", "commit.gpgsign=false"}, args...)...)
	cmd.Dir = r.Dir
	cmd.Env = append(os.Environ(), "GIT_CONFIG_NOSYSTEM=1", "GIT_CONFIG_GLOBAL="+os.DevNull, "HOME="+r.Dir)
	out, err := cmd.CombinedOutput()
	if err != nil {
		r.t.Fatalf("git %v: %v\n%s", args, err, out)
	}
	return strings.TrimSpace(string(out))
}

// Commit writes files (an empty value deletes the file) and commits them;
// it returns the new head.
func (r *GitRepo) Commit(msg string, files map[string]string) string {
	r.t.Helper()
	// Removals first: a file that becomes a directory in the same commit
	// must be gone before the directory is made.
	for name, body := range files {
		if body == "" {
			_ = os.Remove(filepath.Join(r.Dir, name))
		}
	}
	for name, body := range files {
		p := filepath.Join(r.Dir, name)
		if body == "" {
			continue
		}
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			r.t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			r.t.Fatal(err)
		}
	}
	r.Git("add", "-A")
	r.Git("commit", "-q", "--allow-empty", "-m", msg)
	return r.Git("rev-parse", "HEAD")
}

// MapFS is files as an in-memory file system.
func MapFS(files map[string]string) fs.FS {
	m := fstest.MapFS{}
	for k, v := range files {
		m[k] = &fstest.MapFile{Data: []byte(v)}
	}
	return m
}

// Inventory is a small ops repo fleet: a default credential and hosts
// web-01 and web-02 in group web.
const Inventory = `
credential "default" {
  user             = "deploy"
  private_key_file = "/etc/ripple/key"
  known_hosts_file = "/etc/ripple/known_hosts"
}

host "web-01" {
  address = "127.0.0.1"
  groups  = ["web"]
}

host "web-02" {
  address = "127.0.0.2"
  groups  = ["web"]
}
`

// HelloJob is a job over Inventory's web group in waves of 1 and the rest.
const HelloJob = `
job "hello" {
  targets { groups = ["web"] }
  step "say" { run = "echo hello" }
  rollout { waves = [1, "100%"] }
}
`
