package source

import (
	"context"
	"errors"
	"net"
	"strings"
	"syscall"

	"github.com/go-git/go-git/v5/plumbing"
)

// TransientFetchError reports whether a clone or fetch error may go away by
// itself: the network or the remote is down or slow (connection refused or
// reset, timeouts, a temporary DNS failure, an HTTP 5xx or 429). Everything
// else is permanent until someone changes the configuration: no such path
// or repository, not a git repository, authentication refused, an unknown
// or changed host key, a missing branch, a URL that names no host.
func TransientFetchError(err error) bool {
	if err == nil || errors.Is(err, context.Canceled) {
		return false
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return true
	}
	var dnsErr *net.DNSError
	if errors.As(err, &dnsErr) {
		return !dnsErr.IsNotFound
	}
	for _, errno := range []syscall.Errno{syscall.ECONNREFUSED, syscall.ECONNRESET, syscall.ECONNABORTED,
		syscall.EHOSTUNREACH, syscall.ENETUNREACH, syscall.ENETDOWN, syscall.ETIMEDOUT, syscall.EPIPE} {
		if errors.Is(err, errno) {
			return true
		}
	}
	var netErr net.Error
	if errors.As(err, &netErr) && netErr.Timeout() {
		return true
	}
	// go-git wraps an HTTP status it does not map to an error of its own
	// in an UnexpectedError that does not unwrap.
	var unexpected *plumbing.UnexpectedError
	if errors.As(err, &unexpected) {
		var status interface{ StatusCode() int }
		if errors.As(unexpected.Err, &status) {
			code := status.StatusCode()
			return code >= 500 || code == 429 || code == 408
		}
	}
	// Some transports flatten the network error into text.
	msg := err.Error()
	for _, s := range []string{"connection refused", "connection reset", "i/o timeout", "no route to host",
		"network is unreachable", "TLS handshake timeout", "unexpected EOF"} {
		if strings.Contains(msg, s) {
			return true
		}
	}
	return false
}
