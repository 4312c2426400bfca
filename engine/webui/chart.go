package webui

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/ripple-ops/ripple/engine/httpapi"
)

// Charts are inline SVG drawn on the server: no script, no external asset.
// Each has a value axis with its unit, a time axis, the monitor's limit as
// a labelled dashed line, and a <title> on every point, which browsers
// show on hover (and screen readers read) without JavaScript.

// Chart size in SVG user units; the page scales it to its box. The plot
// area is inside the margins.
const (
	chartW     = 560
	chartH     = 190
	padLeft    = 64
	padRight   = 12
	padTop     = 12
	padBottom  = 28
	maxPoints  = 240 // points drawn; longer series are averaged into buckets
	sparkW     = 240
	sparkH     = 48
	sparkPoint = 60
)

// chart is one series drawn as a line chart.
type chart struct {
	Metric, Host, Unit string
	Monitor            string // set by pages that chart several monitors
	W, H               int
	// Plot is the plot area: left, top, right and bottom in user units.
	X0, Y0, X1, Y1 float64
	Line           string // polyline points of the series
	Points         []chartPoint
	YTicks, XTicks []chartTick
	HasLimit       bool
	Limit          float64
	LimitY         float64
	LimitText      string
	// YLabelX and XLabelY place the axis labels, LimitX the limit's.
	YLabelX, XLabelY, LimitX float64
	// Forecast is the fitted line drawn ahead of the series (capacity),
	// "" without one; Crossing marks where it reaches the limit.
	Forecast     string
	HasCrossing  bool
	CrossingX    float64
	CrossingText string
	Min, Max     float64
	Last         float64
	From, To     time.Time
	Empty        bool
	// One: the series has a single point, drawn as a dot.
	One bool
	// Label says what the chart shows, for screen readers.
	Label string
}

// chartPoint is one drawn point with its hover text.
type chartPoint struct {
	X, Y  float64
	Title string
}

// chartTick is one axis label at a position.
type chartTick struct {
	Pos  float64
	Text string
}

// chartSpec is what to draw.
type chartSpec struct {
	Series   httpapi.Series
	Unit     string
	Limit    float64
	HasLimit bool
	From, To time.Time // the time axis; zero: the series' own span
	// Forecast: a line value(t) = At + PerDay*(t-Now) drawn from Now to
	// To (Now zero: none), with the time it crosses the limit.
	ForecastNow    time.Time
	ForecastValue  float64
	ForecastPerDay float64
	Crossing       time.Time
	// Small draws a sparkline: no axes, fewer points.
	Small bool
}

func drawChart(sp chartSpec) chart {
	s := sp.Series
	c := chart{Metric: s.Metric, Host: s.Host, Unit: sp.Unit, W: chartW, H: chartH,
		X0: padLeft, Y0: padTop, X1: chartW - padRight, Y1: chartH - padBottom}
	points, most := s.Points, maxPoints
	if sp.Small {
		c.W, c.H, c.X0, c.Y0, c.X1, c.Y1 = sparkW, sparkH, 2, 4, sparkW-2, sparkH-4
		most = sparkPoint
	}
	if len(points) == 0 {
		c.Empty = true
		c.Label = s.Metric + ": no values"
		return c
	}
	points = bucket(points, most)
	c.One = len(points) == 1
	c.From, c.To = sp.From, sp.To
	if c.From.IsZero() {
		c.From = points[0].At
	}
	if c.To.IsZero() {
		c.To = points[len(points)-1].At
	}
	if !c.To.After(c.From) {
		c.From, c.To = c.From.Add(-time.Minute), c.To.Add(time.Minute)
	}
	lo, hi := points[0].Value, points[0].Value
	for _, p := range s.Points {
		lo, hi = min(lo, p.Value), max(hi, p.Value)
	}
	c.Min, c.Max, c.Last = lo, hi, s.Points[len(s.Points)-1].Value
	if sp.HasLimit {
		c.HasLimit, c.Limit = true, sp.Limit
		lo, hi = min(lo, sp.Limit), max(hi, sp.Limit)
	}
	forecast := !sp.ForecastNow.IsZero()
	if forecast {
		end := sp.ForecastValue + sp.ForecastPerDay*c.To.Sub(sp.ForecastNow).Hours()/24
		lo, hi = min(lo, sp.ForecastValue, end), max(hi, sp.ForecastValue, end)
	}
	if !sp.Small && lo > 0 && lo < hi/3 {
		lo = 0 // a baseline at zero when the values are not all far from it
	}
	ticks := niceTicks(lo, hi, 4)
	if !sp.Small {
		lo, hi = min(lo, ticks[0]), max(hi, ticks[len(ticks)-1])
	}
	if hi == lo {
		hi, lo = hi+1, lo-1
	}
	span := c.To.Sub(c.From).Seconds()
	x := func(t time.Time) float64 { return c.X0 + (c.X1-c.X0)*t.Sub(c.From).Seconds()/span }
	y := func(v float64) float64 { return c.Y1 - (c.Y1-c.Y0)*(v-lo)/(hi-lo) }
	var b strings.Builder
	for i, p := range points {
		px, py := x(p.At), y(p.Value)
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(f1(px) + "," + f1(py))
		c.Points = append(c.Points, chartPoint{X: px, Y: py, Title: p.At.Local().Format("2006-01-02 15:04") + ": " + withUnit(p.Value, sp.Unit)})
	}
	c.Line = b.String()
	if c.HasLimit {
		c.LimitY, c.LimitText = y(sp.Limit), "limit "+withUnit(sp.Limit, sp.Unit)
	}
	c.YLabelX, c.XLabelY, c.LimitX = c.X0-6, float64(c.H)-8, c.X0+4
	if forecast {
		a, z := sp.ForecastNow, c.To
		va, vz := sp.ForecastValue, sp.ForecastValue+sp.ForecastPerDay*z.Sub(a).Hours()/24
		c.Forecast = f1(x(a)) + "," + f1(y(va)) + " " + f1(x(z)) + "," + f1(y(vz))
		if !sp.Crossing.IsZero() && !sp.Crossing.After(c.To) && !sp.Crossing.Before(c.From) {
			c.HasCrossing, c.CrossingX = true, x(sp.Crossing)
			c.CrossingText = "reaches " + withUnit(sp.Limit, sp.Unit) + " on " + sp.Crossing.Local().Format("2006-01-02")
		}
	}
	if !sp.Small {
		for _, v := range ticks {
			if v >= lo && v <= hi {
				c.YTicks = append(c.YTicks, chartTick{Pos: y(v), Text: withUnit(v, sp.Unit)})
			}
		}
		c.XTicks = timeTicks(c.From, c.To, x)
	}
	c.Label = fmt.Sprintf("%s on %s from %s to %s: between %s and %s, last %s", s.Metric, s.Host,
		c.From.Local().Format("2006-01-02 15:04"), c.To.Local().Format("2006-01-02 15:04"),
		withUnit(c.Min, sp.Unit), withUnit(c.Max, sp.Unit), withUnit(c.Last, sp.Unit))
	if c.HasLimit {
		c.Label += "; limit " + withUnit(c.Limit, sp.Unit)
	}
	return c
}

// bucket averages points into at most n buckets of equal time, each
// stamped with its first point's time; fewer points are kept as they are.
func bucket(points []httpapi.Point, n int) []httpapi.Point {
	if len(points) <= n {
		return points
	}
	t0, t1 := points[0].At, points[len(points)-1].At
	width := t1.Sub(t0) / time.Duration(n)
	if width <= 0 {
		return points[len(points)-n:]
	}
	var out []httpapi.Point
	var sum float64
	var k int
	var start time.Time
	idx := -1
	for _, p := range points {
		i := min(int(p.At.Sub(t0)/width), n-1)
		if i != idx && k > 0 {
			out = append(out, httpapi.Point{At: start, Value: sum / float64(k)})
			sum, k = 0, 0
		}
		if k == 0 {
			start, idx = p.At, i
		}
		sum += p.Value
		k++
	}
	return append(out, httpapi.Point{At: start, Value: sum / float64(k)})
}

// niceTicks are about n round values covering lo..hi (1, 2 or 5 times a
// power of ten apart).
func niceTicks(lo, hi float64, n int) []float64 {
	if hi == lo {
		return []float64{lo}
	}
	raw := (hi - lo) / float64(n)
	mag := math.Pow(10, math.Floor(math.Log10(raw)))
	step := mag
	for _, m := range []float64{1, 2, 5, 10} {
		if m*mag >= raw {
			step = m * mag
			break
		}
	}
	var out []float64
	for v := math.Floor(lo/step) * step; v <= hi+step*1e-9; v += step {
		out = append(out, math.Round(v/step)*step)
	}
	if out[len(out)-1] < hi {
		out = append(out, out[len(out)-1]+step)
	}
	return out
}

// timeTicks are labels along the time axis at round times: hours for a
// day or less, days up to a few weeks, weeks beyond.
func timeTicks(from, to time.Time, x func(time.Time) float64) []chartTick {
	span := to.Sub(from)
	steps := []struct {
		every  time.Duration
		layout string
	}{
		{10 * time.Minute, "15:04"}, {30 * time.Minute, "15:04"}, {time.Hour, "15:04"}, {2 * time.Hour, "15:04"},
		{3 * time.Hour, "15:04"}, {6 * time.Hour, "Jan 2 15:04"}, {12 * time.Hour, "Jan 2 15:04"},
		{24 * time.Hour, "Jan 2"}, {2 * 24 * time.Hour, "Jan 2"}, {7 * 24 * time.Hour, "Jan 2"}, {14 * 24 * time.Hour, "Jan 2"},
		{30 * 24 * time.Hour, "Jan 2"}, {90 * 24 * time.Hour, "Jan 2006"},
	}
	st := steps[len(steps)-1]
	for _, s := range steps {
		if span/s.every <= 6 {
			st = s
			break
		}
	}
	from = from.Local()
	var t time.Time
	if st.every >= 24*time.Hour {
		t = time.Date(from.Year(), from.Month(), from.Day(), 0, 0, 0, 0, from.Location())
	} else {
		t = from.Truncate(st.every)
	}
	var out []chartTick
	for ; !t.After(to); t = t.Add(st.every) {
		if t.Before(from) {
			continue
		}
		out = append(out, chartTick{Pos: x(t), Text: t.Format(st.layout)})
	}
	return out
}

// withUnit writes v with up to 3 decimals and its unit.
func withUnit(v float64, unit string) string {
	s := strconv.FormatFloat(v, 'f', 3, 64)
	s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	if s == "-0" {
		s = "0"
	}
	if math.Abs(v) >= 1e6 {
		s = strconv.FormatFloat(v, 'g', 4, 64)
	}
	switch unit {
	case "":
		return s
	case "%", "/s":
		return s + unit
	}
	return s + " " + unit
}

func f1(v float64) string { return strconv.FormatFloat(v, 'f', 1, 64) }
