package main

import (
	"embed"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"
)

// demoRepoFiles is the demo's ops repo (cmd/ripple/demorepo), read on disk
// by anyone curious and embedded so `go run ./cmd/ripple demo` needs no
// checkout path.
//
//go:embed demorepo
var demoRepoFiles embed.FS

// demoJobFile is the job the demo adds in act 1 and breaks in act 2.
const demoJobFile = "jobs/app-config.hcl"

// demoRepo is the demo's ops repo: a git work tree written with go-git, so
// no git binary is needed.
type demoRepo struct {
	dir  string
	repo *git.Repository
}

// newDemoRepo creates an empty repository on branch main in dir.
func newDemoRepo(dir string) (*demoRepo, error) {
	repo, err := git.PlainInitWithOptions(dir, &git.PlainInitOptions{
		InitOptions: git.InitOptions{DefaultBranch: plumbing.Main},
	})
	if err != nil {
		return nil, fmt.Errorf("create ops repo: %w", err)
	}
	return &demoRepo{dir: dir, repo: repo}, nil
}

// commit writes files (repo path to content) into the work tree and
// commits every change as "ripple demo". It returns the commit id.
func (r *demoRepo) commit(files map[string]string, msg string) (string, error) {
	for name, content := range files {
		p := filepath.Join(r.dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return "", fmt.Errorf("write %s: %w", name, err)
		}
		mode := os.FileMode(0o644)
		if strings.HasSuffix(name, ".sh") {
			mode = 0o755
		}
		if err := os.WriteFile(p, []byte(content), mode); err != nil {
			return "", fmt.Errorf("write %s: %w", name, err)
		}
	}
	wt, err := r.repo.Worktree()
	if err != nil {
		return "", fmt.Errorf("ops repo work tree: %w", err)
	}
	if err := wt.AddWithOptions(&git.AddOptions{All: true}); err != nil {
		return "", fmt.Errorf("git add: %w", err)
	}
	who := &object.Signature{Name: "ripple demo", Email: "demo@ripple.invalid", When: time.Now()}
	h, err := wt.Commit(msg, &git.CommitOptions{Author: who, Committer: who})
	if err != nil {
		return "", fmt.Errorf("git commit: %w", err)
	}
	return h.String(), nil
}

// demoBaseFiles are the embedded repo's files except the job, which the
// acts add, plus the lab's inventory.
func demoBaseFiles(labHCL string) (map[string]string, error) {
	files := map[string]string{
		"inventory/lab.hcl": "# The lab fleet `ripple demo` started: one credential, one host block per\n# SSH server on loopback. Written by ripple demo.\n" + labHCL,
	}
	err := fs.WalkDir(demoRepoFiles, "demorepo", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		name := strings.TrimPrefix(p, "demorepo/")
		if name == demoJobFile {
			return nil
		}
		b, err := demoRepoFiles.ReadFile(p)
		if err != nil {
			return err
		}
		files[name] = string(b)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read embedded demo repo: %w", err)
	}
	return files, nil
}

// demoJob is the act 1 job file.
func demoJob() (string, error) {
	b, err := demoRepoFiles.ReadFile("demorepo/" + demoJobFile)
	if err != nil {
		return "", fmt.Errorf("read embedded demo job: %w", err)
	}
	return string(b), nil
}

// demoBrokenJob is act 2's change: release 1.6.0 turns the cache off. The
// steps still succeed; the canary's health check goes CRITICAL.
func demoBrokenJob(job string) (string, error) {
	for _, r := range [][2]string{{"version  = 1.5.0", "version  = 1.6.0"}, {"cache_mb = 256", "cache_mb = 0"}} {
		if strings.Count(job, r[0]) != 1 {
			return "", fmt.Errorf("demo job: want one %q", r[0])
		}
		job = strings.Replace(job, r[0], r[1], 1)
	}
	return job, nil
}
