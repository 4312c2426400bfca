package notify

import "github.com/prometheus/client_golang/prometheus"

// Metrics are alert delivery's Prometheus metrics. A nil *Metrics records
// nothing.
type Metrics struct {
	attempts *prometheus.CounterVec
}

// NewMetrics registers the delivery metrics with reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		attempts: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "ripple_notifications_total",
			Help: "Alert notification delivery attempts by notifier, kind (alert, recovery) and result (sent, failed; withdrawn: a recovery whose alert never went out).",
		}, []string{"notifier", "kind", "result"}),
	}
	reg.MustRegister(m.attempts)
	return m
}

func (m *Metrics) attempt(rec DeliveryRecord) {
	if m == nil {
		return
	}
	result := "sent"
	switch {
	case rec.Withdrawn:
		result = "withdrawn"
	case rec.Error != "":
		result = "failed"
	}
	m.attempts.WithLabelValues(rec.Notifier, string(rec.Notification.Kind), result).Inc()
}
