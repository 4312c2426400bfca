package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"sync"

	"github.com/ripple-ops/ripple/definitions"
	"github.com/ripple-ops/ripple/engine"
)

// defaultSecretsDir is where file() in definitions may read by default.
const defaultSecretsDir = "/etc/ripple"

// dirSecrets is the daemon-side SecretSource of `ripple serve` and `ripple
// apply` alike. It resolves env() from this process's environment and
// file() from regular files inside one directory (--secrets-dir): a
// template that a merge brings in can then not send the daemon's SSH key,
// or any other file of its host, to the fleet. Paths are absolute, or
// relative to the directory; symlinks are followed only while they stay
// inside it. An empty dir refuses every file().
//
// Files ripple authenticates with are refused even inside the directory,
// whatever name reaches them (compared by identity, so symlinks, hard
// links and relative names do not help): those the definitions being
// rendered name in their credentials (handed to ReadFile by every render),
// those of every commit applied so far (ApplyConfig), and those the
// command itself reads (newDirSecrets: serve's token, secret and repo key
// files). Safe for concurrent use.
//
// Every value it returns is added to values, the registry every component
// redacts with, so that it is redacted from all output, not only from that
// of the step or check that read it.
type dirSecrets struct {
	dir    string
	values *engine.SecretRegistry

	mu        sync.Mutex
	protected []definitions.ProtectedFile
}

func newDirSecrets(dir string, values *engine.SecretRegistry, protected ...definitions.ProtectedFile) *dirSecrets {
	s := &dirSecrets{dir: dir, values: values}
	s.protect(protected...)
	return s
}

// protect adds files file() must never read, though they may lie inside
// the directory. Empty paths are ignored.
func (s *dirSecrets) protect(files ...definitions.ProtectedFile) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, f := range files {
		if f.Path != "" && !slices.Contains(s.protected, f) {
			s.protected = append(s.protected, f)
		}
	}
}

var _ engine.ConfigApplier = (*dirSecrets)(nil)

// ApplyConfig implements engine.ConfigApplier: the key and known_hosts
// files of every applied commit's credentials stay refused, also to runs
// of older commits that did not use them yet.
func (s *dirSecrets) ApplyConfig(_ context.Context, defs *definitions.Definitions) error {
	s.protect(defs.CredentialFiles()...)
	return nil
}

// Env returns the environment variable name.
func (s *dirSecrets) Env(name string) (string, bool) {
	v, ok := os.LookupEnv(name)
	if ok {
		s.values.Add(v)
	}
	return v, ok
}

// ReadFile reads path if it is a regular file inside the directory and
// none of the files ripple authenticates with (protected, and those the
// source knows).
func (s *dirSecrets) ReadFile(path string, protected []definitions.ProtectedFile) ([]byte, error) {
	if s.dir == "" {
		return nil, fmt.Errorf("file() is disabled: --secrets-dir is empty")
	}
	rel, err := s.relative(path)
	if err != nil {
		return nil, err
	}
	root, err := os.OpenRoot(s.dir)
	if err != nil {
		return nil, fmt.Errorf("--secrets-dir: %w", err)
	}
	defer root.Close()
	// The root refuses any path, through .. or a symlink, that leaves it.
	f, err := root.Open(rel)
	if err != nil {
		return nil, fmt.Errorf("%s: %w (file() reads only inside --secrets-dir %s)", path, err, s.dir)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("%s is not a regular file (file() reads only regular files inside --secrets-dir %s)", path, s.dir)
	}
	if pf, ok := s.isProtected(fi, protected); ok {
		return nil, fmt.Errorf("%s: refused, it is the %s", path, pf.Use)
	}
	b, err := io.ReadAll(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	s.values.Add(string(b))
	return b, nil
}

// errOutsideSecretsDir is returned for a path that is not inside
// --secrets-dir.
var errOutsideSecretsDir = errors.New("outside --secrets-dir")

// relative returns path relative to the directory: a relative path as it
// is, an absolute one if it names something inside the directory, directly
// or once symlinks in both are resolved.
func (s *dirSecrets) relative(path string) (string, error) {
	outside := fmt.Errorf("%s: %w %s", path, errOutsideSecretsDir, s.dir)
	if !filepath.IsAbs(path) {
		if !filepath.IsLocal(path) {
			return "", outside
		}
		return filepath.Clean(path), nil
	}
	dir, err := filepath.Abs(s.dir)
	if err != nil {
		return "", fmt.Errorf("--secrets-dir: %w", err)
	}
	if rel, err := filepath.Rel(dir, filepath.Clean(path)); err == nil && filepath.IsLocal(rel) {
		return rel, nil
	}
	realDir, err := filepath.EvalSymlinks(dir)
	if err != nil {
		return "", fmt.Errorf("--secrets-dir: %w", err)
	}
	realPath, err := filepath.EvalSymlinks(path)
	if err != nil {
		return "", outside
	}
	if rel, err := filepath.Rel(realDir, realPath); err == nil && filepath.IsLocal(rel) {
		return rel, nil
	}
	return "", outside
}

// isProtected returns the protected file fi is, if any: one of extra or of
// the source's own list.
func (s *dirSecrets) isProtected(fi os.FileInfo, extra []definitions.ProtectedFile) (definitions.ProtectedFile, bool) {
	s.mu.Lock()
	files := append(slices.Clone(extra), s.protected...)
	s.mu.Unlock()
	for _, f := range files {
		if f.Path == "" {
			continue
		}
		if pi, err := os.Stat(f.Path); err == nil && os.SameFile(fi, pi) {
			return f, true
		}
	}
	return definitions.ProtectedFile{}, false
}
