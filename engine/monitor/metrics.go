package monitor

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/ripple-ops/ripple/engine"
)

// Collector exposes the monitor runner's current state to
// Prometheus, computed at scrape time from States, so teams with Grafana can
// graph and alert on ripple's monitors.
type Collector struct {
	runner   *Runner
	status   *prometheus.Desc
	state    *prometheus.Desc
	alerting *prometheus.Desc
	flapping *prometheus.Desc
	duration *prometheus.Desc
	owed     *prometheus.Desc
	traps    *prometheus.Desc
	held     *prometheus.Desc
}

var _ prometheus.Collector = (*Collector)(nil)

const trapsHelp = "SNMP traps received by --trap-listen, by result: matched (set or cleared a trap block's state), unmatched (a known host, no trap block with the OID), unknown_source (no host has the sender's address), wrong_profile (authenticated by another profile than the host's), rate_limited (over the source's rate), rejected (unknown community or SNMPv3 user, wrong key, unauthenticated v3) and malformed. Exported while the receiver listens."

const undeliveredHelp = "1 while the latest alert or recovery of the monitor and host has not reached the notifier (missing secret, failing endpoint); it is being retried."

// NewCollector returns a collector over r.
func NewCollector(r *Runner) *Collector {
	labels := []string{"monitor", "host"}
	return &Collector{
		runner:   r,
		status:   prometheus.NewDesc("ripple_monitor_check_state", "1 for the latest check state of the monitor on the host (label state: OK, WARNING, CRITICAL, UNKNOWN); only the current state is exported.", []string{"monitor", "host", "state"}, nil),
		state:    prometheus.NewDesc("ripple_monitor_state", "Deprecated, use ripple_monitor_check_state (removed in the next release): latest check state per monitor and host: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN.", labels, nil),
		alerting: prometheus.NewDesc("ripple_monitor_alerting", "1 while an alert is open for the monitor and host.", labels, nil),
		flapping: prometheus.NewDesc("ripple_monitor_flapping", "1 while the monitor is flapping on the host (notifications suppressed).", labels, nil),
		duration: prometheus.NewDesc("ripple_monitor_check_duration_seconds", "Duration of the latest check per monitor and host.", labels, nil),
		owed:     prometheus.NewDesc("ripple_monitor_notification_undelivered", undeliveredHelp, []string{"monitor", "host", "notifier"}, nil),
		traps:    prometheus.NewDesc("ripple_snmp_traps_total", trapsHelp, []string{"result"}, nil),
		held:     prometheus.NewDesc("ripple_monitor_suppressed", "1 while the monitor is not OK on the host and does not alert, by reason: dependency (a parent down, a depends_on monitor not OK, the host unreachable over SSH), silence, ack (the state is acknowledged). Only pairs held back are exported.", []string{"monitor", "host", "reason"}, nil),
	}
}

// Describe implements prometheus.Collector.
func (c *Collector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.status
	ch <- c.state
	ch <- c.alerting
	ch <- c.flapping
	ch <- c.duration
	ch <- c.owed
	ch <- c.traps
	ch <- c.held
}

// Collect implements prometheus.Collector. Pairs without a result yet are
// left out rather than reported as OK.
func (c *Collector) Collect(ch chan<- prometheus.Metric) {
	for _, s := range c.runner.States() {
		for _, notifier := range pendingNotifiers(s.Pending) {
			ch <- prometheus.MustNewConstMetric(c.owed, prometheus.GaugeValue, 1, s.Monitor, s.Host, notifier)
		}
		if s.LastAt.IsZero() {
			continue
		}
		ch <- prometheus.MustNewConstMetric(c.status, prometheus.GaugeValue, 1, s.Monitor, s.Host, s.State.String())
		ch <- prometheus.MustNewConstMetric(c.state, prometheus.GaugeValue, float64(s.State), s.Monitor, s.Host)
		ch <- prometheus.MustNewConstMetric(c.alerting, prometheus.GaugeValue, boolFloat(s.Notified), s.Monitor, s.Host)
		ch <- prometheus.MustNewConstMetric(c.flapping, prometheus.GaugeValue, boolFloat(s.Flapping), s.Monitor, s.Host)
		ch <- prometheus.MustNewConstMetric(c.duration, prometheus.GaugeValue, s.LastDuration.Seconds(), s.Monitor, s.Host)
		if s.State == engine.StateOK {
			continue
		}
		if s.Suppressed != "" {
			ch <- prometheus.MustNewConstMetric(c.held, prometheus.GaugeValue, 1, s.Monitor, s.Host, "dependency")
		}
		if s.Silence != nil {
			ch <- prometheus.MustNewConstMetric(c.held, prometheus.GaugeValue, 1, s.Monitor, s.Host, "silence")
		}
		if s.Ack != nil {
			ch <- prometheus.MustNewConstMetric(c.held, prometheus.GaugeValue, 1, s.Monitor, s.Host, "ack")
		}
	}
	if rep := c.runner.TrapReport(); rep.Listen != "" {
		n := rep.Counts
		for _, v := range []struct {
			result string
			n      uint64
		}{
			{"matched", n.Matched}, {"unmatched", n.Unmatched}, {"unknown_source", n.UnknownSource}, {"wrong_profile", n.WrongProfile},
			{"rate_limited", n.RateLimited}, {"rejected", n.Rejected}, {"malformed", n.Malformed},
		} {
			ch <- prometheus.MustNewConstMetric(c.traps, prometheus.CounterValue, float64(v.n), v.result)
		}
	}
}

func boolFloat(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
