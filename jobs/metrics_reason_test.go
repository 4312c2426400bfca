package jobs

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"syscall"
	"testing"
	"time"
)

// TestDialReason covers the dial errors TestSSHMetrics cannot produce on
// loopback (a TCP connect that times out) and the fallback.
func TestDialReason(t *testing.T) {
	terr := func(kind, err error) error {
		return &TransportError{Host: "h", Addr: "10.0.0.1:22", Kind: kind, Err: err}
	}
	canceled, cancel := context.WithCancel(context.Background())
	cancel()
	tests := []struct {
		name string
		ctx  context.Context
		err  error
		want string
	}{
		{"connect timeout", context.Background(), terr(ErrUnreachable, fmt.Errorf("dial: %w", &net.OpError{Op: "dial", Net: "tcp", Err: os.ErrDeadlineExceeded})), reasonTimeout},
		{"connect refused", context.Background(), terr(ErrUnreachable, fmt.Errorf("dial: %w", &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED})), reasonUnreachable},
		{"handshake timeout", context.Background(), terr(ErrUnreachable, fmt.Errorf("handshake: %w", noAnswerError{time.Second})), reasonTimeout},
		{"ctx ended", canceled, terr(ErrUnreachable, fmt.Errorf("handshake: %w", context.Canceled)), reasonCanceled},
		{"host key changed", context.Background(), terr(ErrHostKeyChanged, nil), reasonHostKeyChanged},
		{"not a transport error", context.Background(), errors.New("surprise"), reasonOther},
	}
	for _, tt := range tests {
		if got := dialReason(tt.ctx, tt.err); got != tt.want {
			t.Errorf("%s: dialReason = %q, want %q", tt.name, got, tt.want)
		}
	}
}
