package source

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"syscall"
	"testing"

	"github.com/go-git/go-git/v5/plumbing/transport"
)

func TestTransientFetchError(t *testing.T) {
	tests := []struct {
		err  error
		want bool
	}{
		{&net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}, true},
		{fmt.Errorf("clone: %w", context.DeadlineExceeded), true},
		{&net.DNSError{Err: "server misbehaving", Name: "git.example.com", IsTemporary: true}, true},
		{&net.DNSError{Err: "no such host", Name: "git.example.com", IsNotFound: true}, false},
		{errors.New("Get \"https://git.example.com/ops.git/info/refs\": dial tcp 10.0.0.1:443: i/o timeout"), true},
		{fmt.Errorf("clone: %w", transport.ErrRepositoryNotFound), false},
		{fmt.Errorf("clone: %w", transport.ErrAuthenticationRequired), false},
		{fmt.Errorf("clone: %w", transport.ErrAuthorizationFailed), false},
		{errors.New("ssh: handshake failed: knownhosts: key mismatch"), false},
		{errors.New("couldn't find remote ref \"refs/heads/release\""), false},
		{fmt.Errorf("stopping: %w", context.Canceled), false},
	}
	for _, tc := range tests {
		if got := TransientFetchError(tc.err); got != tc.want {
			t.Errorf("TransientFetchError(%v) = %v, want %v", tc.err, got, tc.want)
		}
	}
}

// A restart while the repository cannot be read starts from the last
// applied commit in the local mirror: the definitions go to monitors and
// schedules again, the daemon is ready, and the fetch error is shown.
