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
)

// defaultSecretsDir is where file() in definitions may read by default.
const defaultSecretsDir = "/etc/ripple"

// dirSecrets resolves env() from this process's environment and file()
// from regular files inside one directory (--secrets-dir): a template that
// a merge brings in can then not send the daemon's SSH key, or any other
// file of its host, to the fleet. Paths are absolute, or relative to the
// directory; symlinks are followed only while they stay inside it. An empty
// dir refuses every file(). Files ripple itself uses as credentials (see
// protect) are refused even inside the directory. Safe for concurrent use.
type dirSecrets struct {
	dir string

	mu        sync.Mutex
	protected []string
}

func newDirSecrets(dir string, protected ...string) *dirSecrets {
	s := &dirSecrets{dir: dir}
	s.protect(protected...)
	return s
}

// protect adds files file() must never read, though they may lie inside
// the directory: ripple's own tokens and SSH keys. Empty paths are ignored.
func (s *dirSecrets) protect(paths ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, p := range paths {
		if p != "" && !slices.Contains(s.protected, p) {
			s.protected = append(s.protected, p)
		}
	}
}

// Env returns the environment variable name.
// ApplyConfig implements engine.ConfigApplier: the key and known_hosts
// files of the applied commit's credentials are never readable through
// file().
func (s *dirSecrets) ApplyConfig(_ context.Context, defs *definitions.Definitions) error {
	for _, cred := range defs.Credentials {
		s.protect(cred.PrivateKeyFile)
	}
	return nil
}

func (s *dirSecrets) Env(name string) (string, bool) { return os.LookupEnv(name) }

// ReadFile reads path if it is a regular file inside the directory.
func (s *dirSecrets) ReadFile(path string) ([]byte, error) {
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
	if s.isProtected(fi) {
		return nil, fmt.Errorf("%s is one of ripple's own credentials; file() does not read it", path)
	}
	b, err := io.ReadAll(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
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

func (s *dirSecrets) isProtected(fi os.FileInfo) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, p := range s.protected {
		if pi, err := os.Stat(p); err == nil && os.SameFile(fi, pi) {
			return true
		}
	}
	return false
}
