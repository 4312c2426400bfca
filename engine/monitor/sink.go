package monitor

import (
	"context"
	"errors"
	"slices"

	"github.com/ripple-ops/ripple/engine"
)

// StoreResultSink records monitor results in the store: every metric as a
// time series sample, and the alert state so that a restart neither re-sends
// nor forgets an alert.
type StoreResultSink struct {
	Metrics engine.MetricStore
	States  engine.MonitorStateStore
}

var _ ResultSink = StoreResultSink{}

// RecordResult implements ResultSink.
func (s StoreResultSink) RecordResult(ctx context.Context, r Result) error {
	var errs []error
	if s.Metrics != nil && len(r.Result.Metrics) > 0 {
		samples := make([]engine.MetricSample, 0, len(r.Result.Metrics))
		for _, m := range r.Result.Metrics {
			samples = append(samples, engine.MetricSample{Monitor: r.Monitor, Host: r.Host, Metric: m.Name, At: r.Result.At, Value: m.Value})
		}
		errs = append(errs, s.Metrics.AppendMetrics(ctx, samples))
	}
	if s.States != nil {
		st := r.State
		errs = append(errs, s.States.SaveMonitorState(ctx, engine.MonitorRecord{
			Monitor: r.Monitor, Host: r.Host, State: st.State, Since: st.Since, Consecutive: st.Consecutive,
			Firing: st.Firing, Notified: st.Notified, LastOutput: st.LastOutput, LastAt: st.LastAt,
			Pending: st.Pending, LogCursor: r.LogCursor, NotifiedAt: st.NotifiedAt, Suppressed: st.Suppressed,
		}))
	}
	return errors.Join(errs...)
}

// RestoreStates seeds the alert state of (monitor, host) pairs from stored
// records after a restart, and hands notifications still owed to a
// notifier of the monitor to the sink again. Call it after ApplyConfig
// (and after the sink's own configuration); records of pairs that no
// longer exist are ignored.
func (r *Runner) RestoreStates(ctx context.Context, recs []engine.MonitorRecord) {
	r.mu.Lock()
	owed := r.seed(recs)
	r.changed()
	r.mu.Unlock()
	r.resend(ctx, owed)
}

// owedNotification is a restored notification still owed to notifiers.
type owedNotification struct {
	notifiers []string
	n         engine.Notification
}

// resend hands restored notifications to the sink again.
func (r *Runner) resend(ctx context.Context, owed []owedNotification) {
	for _, o := range owed {
		r.send(ctx, o.notifiers, []engine.Notification{o.n})
	}
}

// seed restores the records of entries without a result yet (state, log
// cursor) and returns what they still owe. Call it with r.mu held.
func (r *Runner) seed(recs []engine.MonitorRecord) []owedNotification {
	var resend []owedNotification
	for _, rec := range recs {
		e, ok := r.entries[entryKey{rec.Monitor, rec.Host}]
		if !ok || e.state.seen {
			continue
		}
		if rec.LogCursor != nil {
			e.cursor = rec.LogCursor
		}
		e.state = AlertState{
			State: rec.State, Since: rec.Since, Consecutive: rec.Consecutive, Firing: rec.Firing,
			Notified: rec.Notified, LastOutput: rec.LastOutput, LastAt: rec.LastAt, seen: true,
			NotifiedAt: rec.NotifiedAt, Suppressed: rec.Suppressed,
		}
		if rec.Notified {
			// The last alert named the state it had then; the current one
			// is the best guess, so a restart does not re-send it as a
			// change.
			e.state.NotifiedState = rec.State
		}
		if rec.State != engine.StateOK {
			e.state.StreakSince = rec.Since
		}
		if p := rec.Pending; p != nil {
			// Only notifiers the monitor still notifies are owed anything.
			var names []string
			for _, name := range pendingNotifiers(p) {
				if slices.Contains(e.monitor.Notify, name) {
					names = append(names, name)
				}
			}
			if e.state.Pending = newPending(p.Notification, names); e.state.Pending != nil {
				for _, name := range names {
					e.state.Pending.Undelivered[name] = p.Undelivered[name]
				}
				resend = append(resend, owedNotification{names, p.Notification})
			}
		}
		r.settle(e)
	}
	return resend
}
