package engine

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// DaemonMetrics are the daemon's Prometheus metrics. A nil *DaemonMetrics
// records nothing.
type DaemonMetrics struct {
	runs          *prometheus.CounterVec
	reconciles    *prometheus.CounterVec
	reconcileTime prometheus.Histogram
	lastApplied   prometheus.Gauge
}

// NewDaemonMetrics registers the daemon's metrics with reg.
func NewDaemonMetrics(reg prometheus.Registerer) *DaemonMetrics {
	m := &DaemonMetrics{
		runs: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "ripple_runs_total",
			Help: "Runs that ended, by result (succeeded, failed, aborted, error).",
		}, []string{"result"}),
		reconciles: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "ripple_reconcile_total",
			Help: "Reconciles of the tracked branch, by result (ok, error).",
		}, []string{"result"}),
		reconcileTime: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "ripple_reconcile_duration_seconds",
			Help:    "Time to fetch, validate and plan the branch head.",
			Buckets: prometheus.ExponentialBuckets(0.01, 2, 12),
		}),
		lastApplied: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "ripple_last_applied_commit_timestamp_seconds",
			Help: "Committer time of the last applied commit of the tracked branch.",
		}),
	}
	for _, r := range []RunState{RunSucceeded, RunFailed, RunAborted, RunError} {
		m.runs.WithLabelValues(string(r))
	}
	m.reconciles.WithLabelValues("ok")
	m.reconciles.WithLabelValues("error")
	reg.MustRegister(m.runs, m.reconciles, m.reconcileTime, m.lastApplied)
	return m
}

func (m *DaemonMetrics) runEnded(s RunState) {
	if m != nil {
		m.runs.WithLabelValues(string(s)).Inc()
	}
}

func (m *DaemonMetrics) reconciled(result string, took time.Duration) {
	if m != nil {
		m.reconciles.WithLabelValues(result).Inc()
		m.reconcileTime.Observe(took.Seconds())
	}
}

func (m *DaemonMetrics) applied(committed time.Time) { m.setApplied(committed) }

func (m *DaemonMetrics) setApplied(committed time.Time) {
	if m != nil && !committed.IsZero() {
		m.lastApplied.Set(float64(committed.Unix()))
	}
}
