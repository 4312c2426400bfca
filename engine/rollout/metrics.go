package rollout

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/ripple-ops/ripple/engine"
)

// Metrics are the rollout's Prometheus metrics. A nil *Metrics records
// nothing.
type Metrics struct {
	runs      *prometheus.CounterVec
	hostSteps *prometheus.CounterVec
	stepTime  *prometheus.HistogramVec
}

// NewMetrics registers the rollout's metrics with reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		runs: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "ripple_runs_total",
			Help: "Runs that ended, by result (succeeded, failed, aborted, error).",
		}, []string{"result"}),
		hostSteps: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "ripple_host_steps_total",
			Help: "Steps run on hosts (forward and rollback), by result (ok, changed, unchanged, failed, unreachable, timeout).",
		}, []string{"result"}),
		stepTime: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "ripple_host_step_duration_seconds",
			Help:    "Time one step took on one host, by result.",
			Buckets: prometheus.ExponentialBuckets(0.05, 2, 12),
		}, []string{"result"}),
	}
	for _, r := range []engine.RunState{engine.RunSucceeded, engine.RunFailed, engine.RunAborted, engine.RunError} {
		m.runs.WithLabelValues(string(r))
	}
	for _, s := range []engine.StepStatus{engine.StepOK, engine.StepChanged, engine.StepUnchanged, engine.StepFailed, engine.StepUnreachable, engine.StepTimeout} {
		m.hostSteps.WithLabelValues(string(s))
	}
	reg.MustRegister(m.runs, m.hostSteps, m.stepTime)
	return m
}

func (m *Metrics) runEnded(s engine.RunState) {
	if m != nil && s.Final() {
		m.runs.WithLabelValues(string(s)).Inc()
	}
}

func (m *Metrics) hostStep(res engine.StepResult) {
	if m != nil {
		m.hostSteps.WithLabelValues(string(res.Status)).Inc()
		m.stepTime.WithLabelValues(string(res.Status)).Observe(res.Duration.Seconds())
	}
}
