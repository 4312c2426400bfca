package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/ripple-ops/ripple/engine"
)

func testMetricsRetention(t *testing.T, open Open) {
	ctx := context.Background()
	s, _, _ := fresh(t, open)
	now := time.Date(2026, 8, 10, 12, 0, 0, 0, time.UTC)
	old := now.Add(-3 * 24 * time.Hour) // past raw retention, a bucket boundary
	sample := func(metric string, at time.Time, v float64) engine.MetricSample {
		return engine.MetricSample{Monitor: "load", Host: "web1", Metric: metric, At: at, Value: v}
	}
	samples := []engine.MetricSample{
		// Two old buckets: [old, old+5m) gets 1, 2, 6 (avg 3); [old+5m, old+10m) gets 10.
		sample("load1", old, 1),
		sample("load1", old.Add(time.Minute), 2),
		sample("load1", old.Add(4*time.Minute+59*time.Second), 6),
		sample("load1", old.Add(5*time.Minute), 10),
		// Beyond rollup retention: dropped entirely.
		sample("load1", now.Add(-100*24*time.Hour), 99),
		// Recent: stays raw.
		sample("load1", now.Add(-time.Hour), 0.5),
		sample("load1", now.Add(-time.Hour+time.Second+500*time.Millisecond), 0.75),
		// Other series are not mixed in.
		sample("load5", old, 42),
		{Monitor: "load", Host: "web2", Metric: "load1", At: old, Value: 7},
	}
	if err := s.AppendMetrics(ctx, samples); err != nil {
		t.Fatal(err)
	}
	query := func(from, to time.Time) []engine.MetricPoint {
		t.Helper()
		got, err := s.QueryMetrics(ctx, "load", "web1", "load1", from, to)
		if err != nil {
			t.Fatal(err)
		}
		return got
	}
	all := func() []engine.MetricPoint { return query(now.Add(-365*24*time.Hour), now) }
	p := func(at time.Time, v float64) engine.MetricPoint { return engine.MetricPoint{At: at, Value: v} }

	before := []engine.MetricPoint{
		p(now.Add(-100*24*time.Hour), 99), p(old, 1), p(old.Add(time.Minute), 2),
		p(old.Add(4*time.Minute+59*time.Second), 6), p(old.Add(5*time.Minute), 10),
		p(now.Add(-time.Hour), 0.5), p(now.Add(-time.Hour+1500*time.Millisecond), 0.75),
	}
	if diff := cmp.Diff(before, all()); diff != "" {
		t.Errorf("before Compact (-want +got):\n%s", diff)
	}

	for i := 0; i < 2; i++ { // Compact is idempotent
		if err := s.Compact(ctx, now); err != nil {
			t.Fatal(err)
		}
		after := []engine.MetricPoint{
			p(old, 3), p(old.Add(5*time.Minute), 10),
			p(now.Add(-time.Hour), 0.5), p(now.Add(-time.Hour+1500*time.Millisecond), 0.75),
		}
		if diff := cmp.Diff(after, all()); diff != "" {
			t.Errorf("after Compact #%d (-want +got):\n%s", i+1, diff)
		}
	}

	// Range bounds: from inclusive, to exclusive, for both forms.
	tests := []struct {
		name     string
		from, to time.Time
		want     []engine.MetricPoint
	}{
		{"first bucket only", old, old.Add(5 * time.Minute), []engine.MetricPoint{p(old, 3)}},
		{"second bucket from its start", old.Add(5 * time.Minute), old.Add(6 * time.Minute), []engine.MetricPoint{p(old.Add(5*time.Minute), 10)}},
		{"raw only", now.Add(-2 * time.Hour), now, []engine.MetricPoint{p(now.Add(-time.Hour), 0.5), p(now.Add(-time.Hour+1500*time.Millisecond), 0.75)}},
		{"raw to excluded", now.Add(-2 * time.Hour), now.Add(-time.Hour), nil},
		{"empty range", now, now, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, query(tt.from, tt.to)); diff != "" {
				t.Errorf("QueryMetrics (-want +got):\n%s", diff)
			}
		})
	}

	other, err := s.QueryMetrics(ctx, "load", "web2", "load1", old, now)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]engine.MetricPoint{p(old, 7)}, other); diff != "" {
		t.Errorf("web2 series (-want +got):\n%s", diff)
	}

	// A late sample for an already rolled-up bucket is folded into it.
	if err := s.AppendMetrics(ctx, []engine.MetricSample{sample("load1", old.Add(2*time.Minute), 7)}); err != nil {
		t.Fatal(err)
	}
	if err := s.Compact(ctx, now); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]engine.MetricPoint{p(old, 4)}, query(old, old.Add(5*time.Minute))); diff != "" {
		t.Errorf("late sample (-want +got):\n%s", diff)
	}
}

// testMetricNames: the metrics of one (monitor, host), raw or rolled up,
// each once, sorted.
func testMetricNames(t *testing.T, open Open) {
	ctx := context.Background()
	s, _, _ := fresh(t, open)
	now := time.Date(2026, 8, 10, 12, 0, 0, 0, time.UTC)
	old := now.Add(-3 * 24 * time.Hour)
	samples := []engine.MetricSample{
		{Monitor: "load", Host: "web1", Metric: "load5", At: old, Value: 1},    // rolled up below
		{Monitor: "load", Host: "web1", Metric: "load1", At: old, Value: 1},    // rolled up, and raw again
		{Monitor: "load", Host: "web1", Metric: "load1", At: now, Value: 1},    // raw
		{Monitor: "load", Host: "web1", Metric: "load15", At: now, Value: 1},   // raw
		{Monitor: "load", Host: "web2", Metric: "other", At: now, Value: 1},    // another host
		{Monitor: "disk", Host: "web1", Metric: "used_pct", At: now, Value: 1}, // another monitor
	}
	if err := s.AppendMetrics(ctx, samples); err != nil {
		t.Fatal(err)
	}
	if err := s.Compact(ctx, now); err != nil {
		t.Fatal(err)
	}
	got, err := s.MetricNames(ctx, "load", "web1")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"load1", "load15", "load5"}, got); diff != "" {
		t.Errorf("MetricNames (-want +got):\n%s", diff)
	}
	if got, err := s.MetricNames(ctx, "load", "nope"); err != nil || len(got) != 0 {
		t.Errorf("MetricNames of an unknown host = %v, %v; want none", got, err)
	}
}
