package test

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/crypto/ssh"

	"github.com/ripple-ops/ripple/test/sshfleet"
)

// addPassphraseKey makes a passphrase-protected user key, authorizes it on
// the fleet and returns its file.
func addPassphraseKey(t *testing.T, f *sshfleet.Fleet, pass string) string {
	t.Helper()
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	block, err := ssh.MarshalPrivateKeyWithPassphrase(priv, "", []byte(pass))
	if err != nil {
		t.Fatal(err)
	}
	keyFile := filepath.Join(t.TempDir(), "id_pass")
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(block), 0o600); err != nil {
		t.Fatal(err)
	}
	sshPub, err := ssh.NewPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	ak, err := os.OpenFile(filepath.Join(f.Dir, "authorized_keys"), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer ak.Close()
	if _, err := ak.Write(ssh.MarshalAuthorizedKey(sshPub)); err != nil {
		t.Fatal(err)
	}
	return keyFile
}
