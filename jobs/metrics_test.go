package jobs_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"errors"
	"net"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"golang.org/x/crypto/ssh"

	"github.com/ripple-ops/ripple/engine"
	"github.com/ripple-ops/ripple/jobs"
	"github.com/ripple-ops/ripple/test/sshfleet"
)

// TestSSHMetrics dials real sshd hosts through a transport with metrics and
// reads /metrics as Prometheus would: one observation per successful dial
// (shared by concurrent callers), one failure per failed dial under the
// reason jobs classified it as, and the open pooled connections.
func TestSSHMetrics(t *testing.T) {
	f := sshfleet.Start(t, sshfleet.Options{Hosts: 2, LogLevel: "INFO"})
	reg := prometheus.NewRegistry()
	s := newSSH(t, jobs.SSHOptions{HandshakeTimeout: time.Second, Metrics: jobs.NewMetrics(reg)})

	if problems, err := testutil.GatherAndLint(reg); err != nil || len(problems) > 0 {
		t.Fatalf("lint: %v %+v", err, problems)
	}
	want := map[string]float64{"unreachable": 0, "timeout": 0, "auth": 0, "host_unknown": 0,
		"host_key_changed": 0, "canceled": 0, "other": 0}
	if diff := cmp.Diff(want, dialFailures(t, reg)); diff != "" {
		t.Fatalf("failures before any dial (-want +got):\n%s", diff)
	}

	t.Run("concurrent callers, one dial", func(t *testing.T) {
		ctx := testCtx(t)
		var wg sync.WaitGroup
		for range 8 {
			wg.Go(func() {
				if _, err := s.Exec(ctx, f.Endpoint(0), "true", nil, 5*time.Second); err != nil {
					t.Error(err)
				}
			})
		}
		wg.Wait()
		if n := dialsObserved(t, reg); n != 1 {
			t.Fatalf("%d dials observed for 8 concurrent callers, want 1", n)
		}
		if n := f.AcceptedLogins(0); n != 1 {
			t.Fatalf("%d logins, want 1", n)
		}
		if n := openConns(t, reg); n != 1 {
			t.Fatalf("ripple_ssh_connections %v, want 1", n)
		}
	})

	t.Run("host down, then back", func(t *testing.T) {
		ctx := testCtx(t)
		f.StopHost(0)
		for deadline := time.Now().Add(5 * time.Second); openConns(t, reg) != 0; time.Sleep(20 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatal("the broken connection is still counted as open")
			}
		}
		if _, err := s.Exec(ctx, f.Endpoint(0), "true", nil, 5*time.Second); !errors.Is(err, jobs.ErrUnreachable) {
			t.Fatalf("host down: %v, want ErrUnreachable", err)
		}
		want["unreachable"]++
		f.StartHost(0)
		if _, err := s.Exec(ctx, f.Endpoint(0), "true", nil, 5*time.Second); err != nil {
			t.Fatalf("host back: %v", err)
		}
		if n, c := dialsObserved(t, reg), openConns(t, reg); n != 2 || c != 1 {
			t.Fatalf("%d dials observed, %v open connections; want 2 and 1", n, c)
		}
	})

	// Each case fails one dial, counted once under its reason.
	failures := []struct {
		name   string
		reason string
		kind   error
		ep     func(t *testing.T) (context.Context, engine.Endpoint)
	}{
		{"closed port", "unreachable", jobs.ErrUnreachable, func(t *testing.T) (context.Context, engine.Endpoint) {
			ep := f.Endpoint(1)
			ep.Host.Address, ep.Host.Port = "127.0.0.1", closedPort(t)
			return testCtx(t), ep
		}},
		{"changed host key", "host_key_changed", jobs.ErrHostKeyChanged, func(t *testing.T) (context.Context, engine.Endpoint) {
			f.RotateHostKey(1)
			return testCtx(t), f.Endpoint(1)
		}},
		{"unknown host", "host_unknown", jobs.ErrHostUnknown, func(t *testing.T) (context.Context, engine.Endpoint) {
			ep := f.Endpoint(0)
			ep.Credential.KnownHostsFile = writeFile(t, "known_hosts", nil)
			return testCtx(t), ep
		}},
		{"key not authorized", "auth", jobs.ErrAuth, func(t *testing.T) (context.Context, engine.Endpoint) {
			ep := f.Endpoint(0)
			ep.Credential.PrivateKeyFile = writeFile(t, "id_ed25519", newClientKey(t))
			return testCtx(t), ep
		}},
		{"no answer within the handshake deadline", "timeout", jobs.ErrUnreachable, func(t *testing.T) (context.Context, engine.Endpoint) {
			ep, _ := tarpit(t, f.Endpoint(0))
			return testCtx(t), ep
		}},
		{"caller gave up", "canceled", context.DeadlineExceeded, func(t *testing.T) (context.Context, engine.Endpoint) {
			ep, _ := tarpit(t, f.Endpoint(0))
			ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
			t.Cleanup(cancel)
			return ctx, ep
		}},
	}
	for _, tc := range failures {
		t.Run(tc.name, func(t *testing.T) {
			ctx, ep := tc.ep(t)
			if _, err := s.Exec(ctx, ep, "true", nil, 5*time.Second); !errors.Is(err, tc.kind) {
				t.Fatalf("Exec: %v, want %v", err, tc.kind)
			}
			want[tc.reason]++
			if diff := cmp.Diff(want, dialFailures(t, reg)); diff != "" {
				t.Fatalf("ripple_ssh_dial_failures_total by reason (-want +got):\n%s", diff)
			}
		})
	}

	if n := dialsObserved(t, reg); n != 2 {
		t.Fatalf("%d dials observed, want 2: failed dials are not observed", n)
	}
	s.Close()
	if n := openConns(t, reg); n != 0 {
		t.Fatalf("ripple_ssh_connections %v after Close, want 0", n)
	}
	if problems, err := testutil.GatherAndLint(reg); err != nil || len(problems) > 0 {
		t.Fatalf("lint: %v %+v", err, problems)
	}
}

// samples reads the metric family name from reg, one value per series by
// its reason label ("" for a series without one): a counter's or a gauge's
// value, a histogram's count of observations.
func samples(t *testing.T, reg *prometheus.Registry, name string) map[string]float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]float64{}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			reason := ""
			for _, l := range m.GetLabel() {
				if l.GetName() == "reason" {
					reason = l.GetValue()
				}
			}
			switch {
			case m.GetHistogram() != nil:
				got[reason] = float64(m.GetHistogram().GetSampleCount())
			case m.GetGauge() != nil:
				got[reason] = m.GetGauge().GetValue()
			default:
				got[reason] = m.GetCounter().GetValue()
			}
		}
		return got
	}
	t.Fatalf("%s not registered", name)
	return nil
}

func dialsObserved(t *testing.T, reg *prometheus.Registry) int {
	t.Helper()
	return int(samples(t, reg, "ripple_ssh_dial_duration_seconds")[""])
}

func openConns(t *testing.T, reg *prometheus.Registry) float64 {
	t.Helper()
	return samples(t, reg, "ripple_ssh_connections")[""]
}

func dialFailures(t *testing.T, reg *prometheus.Registry) map[string]float64 {
	t.Helper()
	return samples(t, reg, "ripple_ssh_dial_failures_total")
}

// closedPort is a loopback port nothing listens on.
func closedPort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	return port
}

func writeFile(t *testing.T, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// newClientKey is a fresh ed25519 private key in OpenSSH PEM form, which no
// host authorizes.
func newClientKey(t *testing.T) []byte {
	t.Helper()
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	blk, err := ssh.MarshalPrivateKey(priv, "ripple test")
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(blk)
}
