package jobs

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"time"

	"github.com/skeema/knownhosts"
	"golang.org/x/crypto/ssh"
)

// TrustResult is what TrustHost found and did.
type TrustResult struct {
	Addr        string // host:port as recorded
	Key         ssh.PublicKey
	Fingerprint string // SHA256:...
	Added       bool   // false: the key was already known
}

// errKeyScanned stops a scan handshake once the host key is seen, before
// any authentication.
var errKeyScanned = errors.New("host key scanned")

// ScanHostKey connects to hostPort, reads the host key offered for one of
// algos (nil: any) and disconnects without authenticating.
func ScanHostKey(ctx context.Context, hostPort string, algos []string, timeout time.Duration) (ssh.PublicKey, error) {
	d := net.Dialer{Timeout: timeout}
	nc, err := d.DialContext(ctx, "tcp", hostPort)
	if err != nil {
		return nil, fmt.Errorf("dial %s: %w: %w", hostPort, ErrUnreachable, err)
	}
	defer nc.Close()
	nc.SetDeadline(time.Now().Add(timeout))
	stop := context.AfterFunc(ctx, func() { nc.Close() })
	defer stop()
	var key ssh.PublicKey
	cfg := &ssh.ClientConfig{
		User: "ripple-keyscan",
		HostKeyCallback: func(_ string, _ net.Addr, k ssh.PublicKey) error {
			key = k
			return errKeyScanned
		},
		HostKeyAlgorithms: algos,
		ClientVersion:     "SSH-2.0-ripple",
	}
	_, _, _, err = ssh.NewClientConn(nc, hostPort, cfg)
	if key == nil {
		return nil, fmt.Errorf("scan %s: %w: %w", hostPort, ErrUnreachable, err)
	}
	return key, nil
}

// TrustHost records the host key of hostPort in knownHostsFile (created if
// missing). A host already recorded with the same key is left as is; one
// recorded with a different key is refused with ErrHostKeyChanged and the
// file is not touched. This is the only place ripple ever adds a host key.
func TrustHost(ctx context.Context, knownHostsFile, hostPort string, timeout time.Duration) (TrustResult, error) {
	res := TrustResult{Addr: hostPort}
	f, err := os.OpenFile(knownHostsFile, os.O_CREATE|os.O_RDONLY, 0o600)
	if err != nil {
		return res, fmt.Errorf("known_hosts: %w", err)
	}
	f.Close()
	db, err := knownhosts.NewDB(knownHostsFile)
	if err != nil {
		return res, fmt.Errorf("known_hosts %s: %w", knownHostsFile, err)
	}
	// Ask for the key types already recorded, so a host with several keys
	// is compared like for like.
	key, err := ScanHostKey(ctx, hostPort, db.HostKeyAlgorithms(hostPort), timeout)
	if err != nil {
		return res, err
	}
	res.Key, res.Fingerprint = key, ssh.FingerprintSHA256(key)
	remote, _ := net.ResolveTCPAddr("tcp", hostPort)
	if remote == nil {
		remote = &net.TCPAddr{}
	}
	switch err := db.HostKeyCallback()(hostPort, remote, key); {
	case err == nil:
		return res, nil
	case knownhosts.IsHostKeyChanged(err):
		return res, fmt.Errorf("%s presents %s key %s, not the one recorded in %s: %w",
			hostPort, key.Type(), res.Fingerprint, knownHostsFile, ErrHostKeyChanged)
	case !knownhosts.IsHostUnknown(err):
		return res, fmt.Errorf("known_hosts %s: %w", knownHostsFile, err)
	}
	w, err := os.OpenFile(knownHostsFile, os.O_APPEND|os.O_WRONLY, 0o600)
	if err != nil {
		return res, fmt.Errorf("known_hosts: %w", err)
	}
	// The file is named by address only: the scanned IP may not be the one
	// a later dial reaches (DNS), so it is not recorded alongside.
	if err := knownhosts.WriteKnownHost(w, hostPort, &net.TCPAddr{IP: net.IPv4zero}, key); err != nil {
		w.Close()
		return res, fmt.Errorf("known_hosts %s: %w", knownHostsFile, err)
	}
	if err := w.Close(); err != nil {
		return res, fmt.Errorf("known_hosts %s: %w", knownHostsFile, err)
	}
	res.Added = true
	return res, nil
}
