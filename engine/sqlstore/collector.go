package sqlstore

import "github.com/prometheus/client_golang/prometheus"

// Collector exposes the store's write health to Prometheus, read at
// scrape time: an alert on ripple_store_writable == 0 catches a full data
// directory before anyone wonders why runs stopped.
type Collector struct {
	store    *Store
	writable *prometheus.Desc
	errors   *prometheus.Desc
}

var _ prometheus.Collector = (*Collector)(nil)

// NewCollector returns a collector over s; register it with the daemon's
// registry.
func NewCollector(s *Store) *Collector {
	return &Collector{
		store: s,
		writable: prometheus.NewDesc("ripple_store_writable",
			"1 while the store's writes succeed; 0 from a write that failed because the store cannot write (full disk, I/O error, read-only file system) until a write or the daemon's probe succeeds again.", nil, nil),
		errors: prometheus.NewDesc("ripple_store_write_errors_total",
			"Writes the store could not make because it cannot write (full disk, I/O error, read-only file system), probes included.", nil, nil),
	}
}

// Describe implements prometheus.Collector.
func (c *Collector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.writable
	ch <- c.errors
}

// Collect implements prometheus.Collector.
func (c *Collector) Collect(ch chan<- prometheus.Metric) {
	writable := 1.0
	if c.store.health.failing.Load() {
		writable = 0
	}
	ch <- prometheus.MustNewConstMetric(c.writable, prometheus.GaugeValue, writable)
	ch <- prometheus.MustNewConstMetric(c.errors, prometheus.CounterValue, float64(c.store.WriteErrors()))
}
