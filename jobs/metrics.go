package jobs

import (
	"context"
	"errors"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Metrics are the SSH transport's Prometheus metrics. A nil *Metrics records
// nothing. One Metrics may be shared by several SSH transports.
type Metrics struct {
	dialTime     prometheus.Histogram
	dialFailures *prometheus.CounterVec
	conns        prometheus.Gauge
}

// Why a dial failed: the reason label of ripple_ssh_dial_failures_total,
// derived from the TransportError kinds (dialReason).
const (
	reasonUnreachable    = "unreachable"      // ErrUnreachable: refused, reset, no route
	reasonTimeout        = "timeout"          // ErrUnreachable: no answer within DialTimeout or HandshakeTimeout
	reasonAuth           = "auth"             // ErrAuth: credentials refused or unreadable
	reasonHostUnknown    = "host_unknown"     // ErrHostUnknown: not in known_hosts (or no known_hosts)
	reasonHostKeyChanged = "host_key_changed" // ErrHostKeyChanged: possible man-in-the-middle
	reasonCanceled       = "canceled"         // the dialing caller's ctx ended first
	reasonOther          = "other"            // no TransportError kind (no dial fails so today)
)

// NewMetrics registers the SSH transport's metrics with reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		dialTime: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "ripple_ssh_dial_duration_seconds",
			Help:    "Time to open an SSH connection that succeeded: TCP connect, handshake and authentication, without the wait for a handshake slot.",
			Buckets: prometheus.ExponentialBuckets(0.005, 2, 12),
		}),
		dialFailures: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "ripple_ssh_dial_failures_total",
			Help: "SSH dials that failed, by reason (unreachable, timeout, auth, host_unknown, host_key_changed, canceled, other). Callers sharing one dial count once.",
		}, []string{"reason"}),
		conns: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "ripple_ssh_connections",
			Help: "Open pooled SSH connections.",
		}),
	}
	for _, r := range []string{reasonUnreachable, reasonTimeout, reasonAuth, reasonHostUnknown, reasonHostKeyChanged, reasonCanceled, reasonOther} {
		m.dialFailures.WithLabelValues(r)
	}
	reg.MustRegister(m.dialTime, m.dialFailures, m.conns)
	return m
}

func (m *Metrics) dialed(took time.Duration) {
	if m != nil {
		m.dialTime.Observe(took.Seconds())
	}
}

// dialFailed counts a dial that failed with err under the dialing caller's
// ctx.
func (m *Metrics) dialFailed(ctx context.Context, err error) {
	if m != nil {
		m.dialFailures.WithLabelValues(dialReason(ctx, err)).Inc()
	}
}

// connPooled and connDropped count a connection in and out of a pool.
func (m *Metrics) connPooled() {
	if m != nil {
		m.conns.Inc()
	}
}

func (m *Metrics) connDropped() {
	if m != nil {
		m.conns.Dec()
	}
}

// dialReason classifies a dial error by its TransportError kind, telling
// timeouts apart from other unreachable hosts. A dial whose ctx ended is
// "canceled" whatever its error: the host did not cause it.
func dialReason(ctx context.Context, err error) string {
	var t interface{ Timeout() bool }
	switch {
	case ctx.Err() != nil:
		return reasonCanceled
	case errors.Is(err, ErrHostKeyChanged):
		return reasonHostKeyChanged
	case errors.Is(err, ErrHostUnknown):
		return reasonHostUnknown
	case errors.Is(err, ErrAuth):
		return reasonAuth
	case !errors.Is(err, ErrUnreachable):
		return reasonOther
	case errors.As(err, &t) && t.Timeout():
		return reasonTimeout
	}
	return reasonUnreachable
}
