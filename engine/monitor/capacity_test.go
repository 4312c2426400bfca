package monitor

import (
	"math/rand"
	"testing"
	"time"

	"github.com/ripple-ops/ripple/engine"
)

func TestForecastFindsCrossingWithinADay(t *testing.T) {
	now := time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)
	rng := rand.New(rand.NewSource(1))
	// 30 days of 5-minute samples: disk usage growing 1.5 %/day from 40 %,
	// with noise. At now it is ~85 %; 100 % comes 10 days later.
	var pts []engine.MetricPoint
	start := now.Add(-30 * 24 * time.Hour)
	for at := start; !at.After(now); at = at.Add(5 * time.Minute) {
		days := at.Sub(start).Hours() / 24
		pts = append(pts, engine.MetricPoint{At: at, Value: 40 + 1.5*days + rng.NormFloat64()})
	}
	f := ForecastLimit(pts, 100, false, now)
	want := now.Add(10 * 24 * time.Hour)
	if d := f.Crossing.Sub(want); d < -24*time.Hour || d > 24*time.Hour {
		t.Fatalf("crossing = %s, want %s within a day (per day %.2f)", f.Crossing, want, f.PerDay)
	}
	if !f.Within(now, 30*24*time.Hour) || f.Within(now, 5*24*time.Hour) {
		t.Fatalf("Within: 30d=%v 5d=%v", f.Within(now, 30*24*time.Hour), f.Within(now, 5*24*time.Hour))
	}
}

func TestForecastFlatFallingAndFloor(t *testing.T) {
	now := time.Date(2026, 11, 29, 0, 0, 0, 0, time.UTC)
	series := func(slope float64) []engine.MetricPoint {
		var pts []engine.MetricPoint
		for i := 0; i < 48; i++ {
			at := now.Add(time.Duration(i-48) * time.Hour)
			pts = append(pts, engine.MetricPoint{At: at, Value: 50 + slope*float64(i)/24})
		}
		return pts
	}
	if f := ForecastLimit(series(0), 100, false, now); !f.Crossing.IsZero() {
		t.Errorf("flat series crosses at %s", f.Crossing)
	}
	if f := ForecastLimit(series(-5), 100, false, now); !f.Crossing.IsZero() {
		t.Errorf("falling series crosses a ceiling at %s", f.Crossing)
	}
	// Free space falls 5/day and is 40 now: it reaches a floor of 10 in 6 days.
	f := ForecastLimit(series(-5), 10, true, now)
	if f.Crossing.IsZero() || f.Crossing.Sub(now) < 5*24*time.Hour || f.Crossing.Sub(now) > 7*24*time.Hour {
		t.Errorf("floor crossing = %s", f.Crossing)
	}
	if f := ForecastLimit(series(0)[:2], 100, false, now); !f.Crossing.IsZero() || f.Samples != 2 || f.EnoughHistory || f.Current != 50 {
		t.Errorf("two samples gave a forecast: %+v", f)
	}
	if f := ForecastLimit(series(0), 40, false, now); !f.Crossing.Equal(now) {
		t.Errorf("already over the limit: crossing %s, want now", f.Crossing)
	}
}
