package gitops

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/ripple-ops/ripple/engine"
)

// FactsCollector exposes each host's pending updates and reboot flag from
// the store at scrape time, so every node of a cluster serves the same.
type FactsCollector struct {
	store   engine.FactReader
	pending *prometheus.Desc
	reboot  *prometheus.Desc
}

// NewFactsCollector reads facts from store.
func NewFactsCollector(store engine.FactReader) *FactsCollector {
	return &FactsCollector{
		store: store,
		pending: prometheus.NewDesc("ripple_host_pending_updates",
			"Pending package updates of each host at its last facts gathering, by kind (all, security).",
			[]string{"host", "kind"}, nil),
		reboot: prometheus.NewDesc("ripple_host_reboot_required",
			"1 when the host's last facts gathering found that it needs a reboot.",
			[]string{"host"}, nil),
	}
}

// Describe implements prometheus.Collector.
func (c *FactsCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.pending
	ch <- c.reboot
}

// Collect implements prometheus.Collector; a store that does not answer
// within 5s leaves the metrics out of this scrape.
func (c *FactsCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	recs, err := c.store.HostFacts(ctx, "")
	if err != nil {
		return
	}
	for _, r := range recs {
		f := r.Facts
		if f.PendingUpdates != nil {
			ch <- prometheus.MustNewConstMetric(c.pending, prometheus.GaugeValue, float64(*f.PendingUpdates), r.Host, "all")
		}
		if f.PendingSecurityUpdates != nil {
			ch <- prometheus.MustNewConstMetric(c.pending, prometheus.GaugeValue, float64(*f.PendingSecurityUpdates), r.Host, "security")
		}
		if f.RebootRequired != nil {
			v := 0.0
			if *f.RebootRequired {
				v = 1
			}
			ch <- prometheus.MustNewConstMetric(c.reboot, prometheus.GaugeValue, v, r.Host)
		}
	}
}
