package jobs

import (
	"errors"
	"fmt"
	"net"
	"os"
	"sync"
	"time"

	"github.com/skeema/knownhosts"
	"golang.org/x/crypto/ssh"
)

// Transport failures. Exec and the SSH side of RunStep return errors that
// match exactly one of these with errors.Is; RunStep reports all of them as
// status "unreachable". None of them ever follows a command being sent,
// except ErrConnLost.
var (
	// ErrHostUnknown: the host is not in the credential's known_hosts file.
	// Trust it explicitly with `ripple hosts trust NAME`.
	ErrHostUnknown = errors.New("host key unknown (not in known_hosts; trust it with `ripple hosts trust`)")
	// ErrHostKeyChanged: the host presented a key other than the recorded
	// one. This may be a man-in-the-middle attack; nothing was sent.
	ErrHostKeyChanged = errors.New("HOST KEY CHANGED (possible man-in-the-middle attack; refused)")
	// ErrAuth: the host refused our credentials, or they could not be loaded.
	ErrAuth = errors.New("authentication failed")
	// ErrUnreachable: TCP dial or SSH handshake failed or timed out.
	ErrUnreachable = errors.New("host unreachable")
	// ErrConnLost: the connection broke while a command ran; the command
	// may or may not have completed.
	ErrConnLost = errors.New("connection lost")
)

// TransportError is a failure to reach or talk to a host. Kind is one of the
// Err* values above.
type TransportError struct {
	Host string // host name
	Addr string // address:port
	Kind error
	Err  error // the underlying cause, may be nil
}

func (e *TransportError) Error() string {
	if e.Err == nil {
		return fmt.Sprintf("ssh %s (%s): %v", e.Host, e.Addr, e.Kind)
	}
	return fmt.Sprintf("ssh %s (%s): %v: %v", e.Host, e.Addr, e.Kind, e.Err)
}

// Unwrap returns the kind and the cause, so errors.Is works on both.
func (e *TransportError) Unwrap() []error {
	if e.Err == nil {
		return []error{e.Kind}
	}
	return []error{e.Kind, e.Err}
}

// IsTransport reports whether err is a transport failure (the host was not
// reached or the connection broke), as opposed to a command that ran.
func IsTransport(err error) bool {
	var te *TransportError
	return errors.As(err, &te)
}

// hostKeyDBs caches parsed known_hosts files, reloading a file when its size
// or modification time changes (after `ripple hosts trust`).
type hostKeyDBs struct {
	mu  sync.Mutex
	dbs map[string]*cachedDB
}

type cachedDB struct {
	db      *knownhosts.HostKeyDB
	modTime time.Time
	size    int64
}

func (c *hostKeyDBs) get(path string) (*knownhosts.HostKeyDB, error) {
	if path == "" {
		return nil, errors.New("credential has no known_hosts_file; host keys are always verified")
	}
	fi, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("known_hosts: %w", err)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if d, ok := c.dbs[path]; ok && d.modTime.Equal(fi.ModTime()) && d.size == fi.Size() {
		return d.db, nil
	}
	db, err := knownhosts.NewDB(path)
	if err != nil {
		return nil, fmt.Errorf("known_hosts %s: %w", path, err)
	}
	if c.dbs == nil {
		c.dbs = map[string]*cachedDB{}
	}
	c.dbs[path] = &cachedDB{db: db, modTime: fi.ModTime(), size: fi.Size()}
	return db, nil
}

// hostKeyCheck verifies host keys with db and remembers why it refused one,
// so the handshake error can be classified.
type hostKeyCheck struct {
	db      *knownhosts.HostKeyDB
	mu      sync.Mutex
	refused error // ErrHostUnknown or ErrHostKeyChanged
	cause   error
}

func (h *hostKeyCheck) callback(hostname string, remote net.Addr, key ssh.PublicKey) error {
	err := h.db.HostKeyCallback()(hostname, remote, key)
	if err == nil {
		return nil
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	h.cause = err
	switch {
	case knownhosts.IsHostKeyChanged(err):
		h.refused = ErrHostKeyChanged
		h.cause = fmt.Errorf("presented %s key %s", key.Type(), ssh.FingerprintSHA256(key))
	case knownhosts.IsHostUnknown(err):
		h.refused = ErrHostUnknown
		h.cause = fmt.Errorf("presented %s key %s", key.Type(), ssh.FingerprintSHA256(key))
	default:
		h.refused = ErrHostKeyChanged // revoked keys and the like: refuse as loudly
	}
	return err
}

func (h *hostKeyCheck) result() (kind, cause error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.refused, h.cause
}
