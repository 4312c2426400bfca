package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
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

	s := newDirSecrets(dir, filepath.Join(dir, "api-tokens"))
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
		{path: "api-tokens", wantErr: "ripple's own credentials"},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			b, err := s.ReadFile(tt.path)
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

	// Credentials learnt later (from applied definitions) are refused too.
	s.protect(filepath.Join(dir, "smtp-password"))
	if _, err := s.ReadFile("smtp-password"); err == nil {
		t.Error("a protected file was read")
	}
	// An empty directory disables file().
	if _, err := newDirSecrets("").ReadFile("smtp-password"); err == nil || !strings.Contains(err.Error(), "--secrets-dir") {
		t.Errorf("empty --secrets-dir: %v", err)
	}
}
