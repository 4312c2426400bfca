package gitops

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/ripple-ops/ripple/engine"
	"github.com/ripple-ops/ripple/engine/convergence"
)

// Metrics are the daemon's Prometheus metrics. A nil *Metrics
// records nothing.
type Metrics struct {
	reconciles    *prometheus.CounterVec
	reconcileTime prometheus.Histogram
	lastApplied   prometheus.Gauge
	jobHosts      *prometheus.GaugeVec
}

// NewMetrics registers the daemon's metrics with reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
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
	m.jobHosts = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "ripple_job_hosts",
		Help: "Target hosts of each job at the applied head, by sync state (synced, out_of_sync, drifted, unknown).",
	}, []string{"job", "state"})
	m.reconciles.WithLabelValues("ok")
	m.reconciles.WithLabelValues("error")
	reg.MustRegister(m.reconciles, m.reconcileTime, m.lastApplied, m.jobHosts)
	return m
}

func (m *Metrics) reconciled(result string, took time.Duration) {
	if m != nil {
		m.reconciles.WithLabelValues(result).Inc()
		m.reconcileTime.Observe(took.Seconds())
	}
}

func (m *Metrics) applied(committed time.Time) { m.setApplied(committed) }

func (m *Metrics) setApplied(committed time.Time) {
	if m != nil && !committed.IsZero() {
		m.lastApplied.Set(float64(committed.Unix()))
	}
}

// setJobHosts replaces the ripple_job_hosts series with states: jobs no
// longer defined disappear.
func (m *Metrics) setJobHosts(states []convergence.JobSync) {
	if m == nil {
		return
	}
	m.jobHosts.Reset()
	for _, js := range states {
		for _, st := range []engine.SyncState{engine.SyncSynced, engine.SyncOutOfSync, engine.SyncDrifted, engine.SyncUnknown} {
			m.jobHosts.WithLabelValues(js.Job, string(st)).Set(float64(js.Count(st)))
		}
	}
}
