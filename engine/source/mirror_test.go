package source

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	githttp "github.com/go-git/go-git/v5/plumbing/transport/http"
	gitssh "github.com/go-git/go-git/v5/plumbing/transport/ssh"
	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"

	"github.com/ripple-ops/ripple/engine/enginetest"
)

func TestRepoAuth(t *testing.T) {
	dir := t.TempDir()
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	block, err := ssh.MarshalPrivateKey(priv, "")
	if err != nil {
		t.Fatal(err)
	}
	keyFile := filepath.Join(dir, "id")
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(block), 0o600); err != nil {
		t.Fatal(err)
	}
	hostKey, err := ssh.NewPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	known := filepath.Join(dir, "known_hosts")
	line := knownhosts.Line([]string{"[git.example.com]:2222"}, hostKey)
	if err := os.WriteFile(known, []byte(line+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tokenFile := filepath.Join(dir, "token")
	if err := os.WriteFile(tokenFile, []byte("s3cret-token\n"), 0o600); err != nil {
		t.Fatal(err)
	}

	a, err := repoAuth(MirrorOptions{URL: "ssh://git@git.example.com:2222/ops.git", SSHKeyFile: keyFile, KnownHostsFile: known})
	if err != nil {
		t.Fatal(err)
	}
	pk, ok := a.(*gitssh.PublicKeys)
	if !ok || pk.User != "git" || pk.HostKeyCallback == nil {
		t.Fatalf("ssh auth = %#v", a)
	}
	if !slices.Contains(pk.HostKeyAlgorithms, ssh.KeyAlgoED25519) {
		t.Errorf("host key algorithms = %v, want the known key's type", pk.HostKeyAlgorithms)
	}

	if _, err := repoAuth(MirrorOptions{URL: "git@git.example.com:ops.git", SSHKeyFile: keyFile}); err == nil || !strings.Contains(err.Error(), "known_hosts") {
		t.Errorf("ssh without known_hosts: err = %v", err)
	}

	a, err = repoAuth(MirrorOptions{URL: "https://github.com/acme/ops.git", TokenFile: tokenFile})
	if err != nil {
		t.Fatal(err)
	}
	if ba, ok := a.(*githttp.BasicAuth); !ok || ba.Username != "x-access-token" || ba.Password != "s3cret-token" {
		t.Errorf("https auth = %#v", a)
	} else if strings.Contains(ba.String(), "s3cret") {
		t.Error("the auth's String() shows the token")
	}

	if a, err := repoAuth(MirrorOptions{URL: dir}); err != nil || a != nil {
		t.Errorf("local path: auth %v, err %v", a, err)
	}
}

func TestNormalizeRepoURL(t *testing.T) {
	wd, _ := os.Getwd()
	for in, want := range map[string]string{
		"git@github.com:acme/ops.git":  "git@github.com:acme/ops.git",
		"https://github.com/acme/ops":  "https://github.com/acme/ops",
		"ssh://git@host:22/ops.git":    "ssh://git@host:22/ops.git",
		"/srv/ops":                     "/srv/ops",
		"ops":                          filepath.Join(wd, "ops"),
		"file:///srv/ops":              "file:///srv/ops",
		"https://u:pw@example.com/ops": "https://u:pw@example.com/ops",
	} {
		if got, err := normalizeRepoURL(in); err != nil || got != want {
			t.Errorf("normalizeRepoURL(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	if got := RedactURL("https://u:pw@example.com/ops"); strings.Contains(got, "pw") {
		t.Errorf("redactURL kept the password: %s", got)
	}
}

func TestMirrorRefusesAnotherRemote(t *testing.T) {
	repo := enginetest.NewGitRepo(t)
	repo.Commit("first", map[string]string{"hosts.hcl": enginetest.Inventory})
	other := enginetest.NewGitRepo(t)
	other.Commit("other", map[string]string{"hosts.hcl": enginetest.Inventory})
	dir := filepath.Join(t.TempDir(), "mirror")
	ctx := context.Background()
	m, err := OpenMirror(ctx, MirrorOptions{URL: repo.Dir, Branch: "main", Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	head, err := m.Fetch(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if head.String() != repo.Git("rev-parse", "HEAD") {
		t.Errorf("head = %s", head)
	}
	if _, err := OpenMirror(ctx, MirrorOptions{URL: other.Dir, Branch: "main", Dir: dir}); err == nil || !strings.Contains(err.Error(), "remove it") {
		t.Errorf("a mirror of another repo: err = %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "HEAD")); err != nil {
		t.Errorf("the mirror is bare: %v", err)
	}
}

func TestMirrorResolvesAbbreviatedShaAndBranch(t *testing.T) {
	repo := enginetest.NewGitRepo(t)
	repo.Commit("first", map[string]string{"hosts.hcl": enginetest.Inventory})
	ctx := context.Background()
	m, err := OpenMirror(ctx, MirrorOptions{URL: repo.Dir, Branch: "main", Dir: filepath.Join(t.TempDir(), "mirror")})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.Fetch(ctx); err != nil {
		t.Fatal(err)
	}
	full := repo.Git("rev-parse", "HEAD")
	for _, rev := range []string{full, full[:12], full[:7], "main"} {
		got, err := m.Resolve(rev)
		if err != nil || got != full {
			t.Errorf("Resolve(%q) = %q, %v; want %s", rev, got, err, full)
		}
	}
	if _, err := m.Resolve("0123456789ab"); err == nil {
		t.Error("Resolve of an unknown sha succeeded")
	}
}
