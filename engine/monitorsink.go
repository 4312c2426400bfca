package engine

import (
	"context"
	"errors"
)

// StoreResultSink records monitor results in the store: every metric as a
// time series sample, and the alert state so that a restart neither re-sends
// nor forgets an alert.
type StoreResultSink struct {
	Metrics MetricStore
	States  MonitorStateStore
}

var _ ResultSink = StoreResultSink{}

// RecordResult implements ResultSink.
func (s StoreResultSink) RecordResult(ctx context.Context, r MonitorResult) error {
	var errs []error
	if s.Metrics != nil && len(r.Result.Metrics) > 0 {
		samples := make([]MetricSample, 0, len(r.Result.Metrics))
		for _, m := range r.Result.Metrics {
			samples = append(samples, MetricSample{Monitor: r.Monitor, Host: r.Host, Metric: m.Name, At: r.Result.At, Value: m.Value})
		}
		errs = append(errs, s.Metrics.AppendMetrics(ctx, samples))
	}
	if s.States != nil {
		st := r.State
		errs = append(errs, s.States.SaveMonitorState(ctx, MonitorRecord{
			Monitor: r.Monitor, Host: r.Host, State: st.State, Since: st.Since, Consecutive: st.Consecutive,
			Firing: st.Firing, Notified: st.Notified, LastOutput: st.LastOutput, LastAt: st.LastAt,
		}))
	}
	return errors.Join(errs...)
}

// RestoreStates seeds the alert state of (monitor, host) pairs from stored
// records after a restart. Call it after ApplyConfig; records of pairs that
// no longer exist are ignored.
func (r *MonitorRunner) RestoreStates(recs []MonitorRecord) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, rec := range recs {
		e, ok := r.entries[entryKey{rec.Monitor, rec.Host}]
		if !ok || e.state.seen {
			continue
		}
		e.state = AlertState{
			State: rec.State, Since: rec.Since, Consecutive: rec.Consecutive, Firing: rec.Firing,
			Notified: rec.Notified, LastOutput: rec.LastOutput, LastAt: rec.LastAt, seen: true,
		}
	}
}
