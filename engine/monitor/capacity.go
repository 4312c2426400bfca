package monitor

import (
	"math"
	"sort"
	"time"

	"github.com/ripple-ops/ripple/engine"
)

// Forecast is when a metric is expected to reach its limit, from a
// least-squares line through its history.
type Forecast struct {
	Monitor string
	Host    string
	Metric  string
	Limit   float64
	Current float64 // the fitted value now
	// PerDay is the fitted growth per day; zero or negative means the limit
	// is not approached.
	PerDay float64
	// Crossing is when the fitted line reaches Limit; zero when it never
	// does (flat or falling) or when there is too little history.
	Crossing time.Time
	Samples  int
	// EnoughHistory is false when there are too few samples, or they span
	// too little time, to fit a line; Current is then the latest sample.
	EnoughHistory bool
}

// minForecastSamples and minForecastSpan keep forecasts from being drawn
// through a handful of points.
const (
	minForecastSamples = 3
	minForecastSpan    = time.Hour
)

// ForecastLimit fits a line through points and returns when it reaches
// limit (or falls to it, when the series starts above the limit and the limit
// is a floor: pass floor = true). Already past the limit means Crossing is
// now.
func ForecastLimit(points []engine.MetricPoint, limit float64, floor bool, now time.Time) Forecast {
	f := Forecast{Limit: limit, Samples: len(points)}
	if len(points) == 0 {
		return f
	}
	sort.Slice(points, func(i, j int) bool { return points[i].At.Before(points[j].At) })
	if len(points) < minForecastSamples || points[len(points)-1].At.Sub(points[0].At) < minForecastSpan {
		f.Current = points[len(points)-1].Value
		return f
	}
	f.EnoughHistory = true
	// Fit value = a + b*t with t in days since the first sample, for
	// numerical stability.
	t0 := points[0].At
	var sx, sy, sxx, sxy float64
	n := float64(len(points))
	for _, p := range points {
		x := p.At.Sub(t0).Hours() / 24
		sx += x
		sy += p.Value
		sxx += x * x
		sxy += x * p.Value
	}
	den := n*sxx - sx*sx
	if den == 0 {
		return f
	}
	b := (n*sxy - sx*sy) / den
	a := (sy - b*sx) / n
	xNow := now.Sub(t0).Hours() / 24
	f.Current = a + b*xNow
	f.PerDay = b
	if floor {
		f.PerDay = -b
	}
	switch {
	case !floor && f.Current >= limit, floor && f.Current <= limit:
		f.Crossing = now
	case f.PerDay > 0:
		days := (limit - a) / b
		at := t0.Add(time.Duration(days * 24 * float64(time.Hour)))
		if !math.IsInf(days, 0) && !math.IsNaN(days) {
			f.Crossing = at
		}
	}
	return f
}

// Within reports whether the forecast crosses its limit before now+horizon.
func (f Forecast) Within(now time.Time, horizon time.Duration) bool {
	return !f.Crossing.IsZero() && !f.Crossing.After(now.Add(horizon))
}
