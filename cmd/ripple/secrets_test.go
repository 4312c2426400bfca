package main

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ripple-ops/ripple/definitions"
	"github.com/ripple-ops/ripple/engine"
)

func TestDirSecretsReadFile(t *testing.T) {
	base := t.TempDir()
	dir := filepath.Join(base, "secrets")
	outside := filepath.Join(base, "ssh-key")
	write := func(p, body string) {
		t.Helper()
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write(filepath.Join(dir, "smtp-password"), "hunter2")
	write(filepath.Join(dir, "snmp", "auth"), "authpass")
	write(filepath.Join(dir, "api-tokens"), "tok operator")
	write(outside, "PRIVATE KEY")
	link := func(target, name string) {
		t.Helper()
		if err := os.Symlink(target, filepath.Join(dir, name)); err != nil {
			t.Fatal(err)
		}
	}
	link(outside, "key-link")                             // leaves the directory
	link("snmp/auth", "auth-link")                        // stays inside
	link("/etc/passwd", "passwd")                         // leaves the directory
	link("snmp", "dirs")                                  // a directory
	link(filepath.Join(dir, "smtp-password"), "abs-link") // absolute: refused even inside
	// The directory reached through a symlink of its own.
	viaLink := filepath.Join(base, "etc-ripple")
	if err := os.Symlink(dir, viaLink); err != nil {
		t.Fatal(err)
	}

	values := engine.NewSecretRegistry()
	s := newDirSecrets(dir, values, definitions.ProtectedFile{Path: filepath.Join(dir, "api-tokens"), Use: "--api-tokens-file of ripple serve"})
	tests := []struct {
		path    string
		want    string // "" means refused
		wantErr string
	}{
		{path: filepath.Join(dir, "smtp-password"), want: "hunter2"},
		{path: "smtp-password", want: "hunter2"},
		{path: "snmp/auth", want: "authpass"},
		{path: filepath.Join(dir, "auth-link"), want: "authpass"},
		{path: filepath.Join(viaLink, "snmp", "auth"), want: "authpass"},
		{path: "/etc/passwd", wantErr: "outside --secrets-dir"},
		{path: outside, wantErr: "outside --secrets-dir"},
		{path: filepath.Join(dir, "..", "ssh-key"), wantErr: "outside --secrets-dir"},
		{path: "../ssh-key", wantErr: "outside --secrets-dir"},
		{path: filepath.Join(dir, "key-link"), wantErr: "--secrets-dir"},
		{path: "passwd", wantErr: "--secrets-dir"},
		{path: "dirs", wantErr: "not a regular file"},
		{path: "abs-link", wantErr: "--secrets-dir"},
		{path: dir, wantErr: "not a regular file"},
		{path: "missing", wantErr: "--secrets-dir"},
		{path: "api-tokens", wantErr: ": refused, it is the --api-tokens-file of ripple serve"},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			b, err := s.ReadFile(tt.path, nil)
			if tt.wantErr == "" {
				if err != nil || string(b) != tt.want {
					t.Fatalf("ReadFile = %q, %v; want %q", b, err, tt.want)
				}
				return
			}
			if err == nil {
				t.Fatalf("ReadFile = %q, want an error", b)
			}
			if !strings.Contains(err.Error(), tt.wantErr) || !strings.Contains(err.Error(), tt.path) {
				t.Errorf("error %q should name %q and say %q", err, tt.path, tt.wantErr)
			}
		})
	}

	// What it read is redacted everywhere from now on; what it refused is
	// not recorded.
	if got := values.Redact("hunter2 authpass tok operator"); got != "[redacted] [redacted] tok operator" {
		t.Errorf("registry redacts %q", got)
	}
	t.Setenv("RIPPLE_TEST_SECRET", "env-s3cret")
	if v, ok := s.Env("RIPPLE_TEST_SECRET"); !ok || v != "env-s3cret" || values.Redact(v) != "[redacted]" {
		t.Errorf("Env = %q, %v; registry redacts it as %q", v, ok, values.Redact(v))
	}
	// The credentials of the definitions being rendered are refused, by
	// any name; so are those of applied definitions, learnt later.
	cred := []definitions.ProtectedFile{{Path: filepath.Join(viaLink, "snmp", "auth"), Use: `private_key_file of credential "x"`}}
	if _, err := s.ReadFile("auth-link", cred); err == nil || !strings.Contains(err.Error(), `auth-link: refused, it is the private_key_file of credential "x"`) {
		t.Errorf("a credential of the rendered definitions was read: %v", err)
	}
	if err := s.ApplyConfig(context.Background(), &definitions.Definitions{Credentials: map[string]*definitions.Credential{
		"deploy": {Name: "deploy", PrivateKeyFile: filepath.Join(dir, "smtp-password"), KnownHostsFile: filepath.Join(dir, "snmp", "auth")},
	}}); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"smtp-password", "snmp/auth"} {
		if _, err := s.ReadFile(p, nil); err == nil || !strings.Contains(err.Error(), `of credential "deploy"`) {
			t.Errorf("%s, a credential of applied definitions: %v", p, err)
		}
	}
	// An empty directory disables file().
	if _, err := newDirSecrets("", nil).ReadFile("smtp-password", nil); err == nil || !strings.Contains(err.Error(), "--secrets-dir") {
		t.Errorf("empty --secrets-dir: %v", err)
	}
}

// TestServeRefusesItsOwnFiles: file() never reads a file serve itself
// authenticates with, even inside --secrets-dir.
func TestServeRefusesItsOwnFiles(t *testing.T) {
	dir := t.TempDir()
	flags := map[string]string{
		"--github-token-file": "gh-token", "--webhook-secret-file": "webhook-secret", "--api-tokens-file": "api-tokens",
		"--repo-token-file": "repo-token", "--repo-ssh-key-file": "repo-key", "--repo-known-hosts-file": "repo-known-hosts",
	}
	args := []string{"--repo", "/nowhere", "--secrets-dir", dir, "--github-repo", "acme/ops"}
	for flag, name := range flags {
		if err := os.WriteFile(filepath.Join(dir, name), []byte("secret of "+flag), 0o600); err != nil {
			t.Fatal(err)
		}
		args = append(args, flag, filepath.Join(dir, name))
	}
	c, err := parseServeFlags(args, env{stderr: io.Discard, getenv: func(string) string { return "" }})
	if err != nil {
		t.Fatal(err)
	}
	s := newDirSecrets(c.secretsDir, nil, c.ownFiles()...)
	for flag, name := range flags {
		b, err := s.ReadFile(name, nil)
		if err == nil || !strings.Contains(err.Error(), "refused, it is the "+flag+" of ripple serve") {
			t.Errorf("file(%q), the %s: %q, %v", name, flag, b, err)
		}
	}
}
