package webui

import (
	"strconv"
	"strings"

	"github.com/ripple-ops/ripple/engine/httpapi"
)

// Chart size in SVG user units; the page scales it to its box.
const (
	chartW = 300
	chartH = 60
)

// chart is a small line chart of one series, drawn as an inline SVG
// polyline: no script, no external asset.
type chart struct {
	Metric   string
	Points   string // "x,y x,y ..." in the SVG's coordinates
	Min, Max float64
	Last     float64
	HasLimit bool
	Limit    float64
	LimitY   float64
	W, H     int
}

func newChart(s httpapi.Series, limit float64, hasLimit bool) chart {
	c := chart{Metric: s.Metric, W: chartW, H: chartH}
	if len(s.Points) == 0 {
		return c
	}
	lo, hi := s.Points[0].Value, s.Points[0].Value
	for _, p := range s.Points {
		lo, hi = min(lo, p.Value), max(hi, p.Value)
	}
	c.Min, c.Max, c.Last = lo, hi, s.Points[len(s.Points)-1].Value
	// Show the limit when it is near enough to matter.
	if hasLimit && limit <= hi+(hi-lo)+1e-9 && limit >= lo-(hi-lo)-1e-9 {
		c.HasLimit, c.Limit = true, limit
		lo, hi = min(lo, limit), max(hi, limit)
	}
	if hi == lo {
		hi, lo = hi+1, lo-1
	}
	t0, t1 := s.Points[0].At, s.Points[len(s.Points)-1].At
	span := t1.Sub(t0).Seconds()
	y := func(v float64) float64 { return 4 + (chartH-8)*(1-(v-lo)/(hi-lo)) }
	var b strings.Builder
	for i, p := range s.Points {
		x := float64(chartW) / 2
		if span > 0 {
			x = float64(chartW) * p.At.Sub(t0).Seconds() / span
		}
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(strconv.FormatFloat(x, 'f', 1, 64) + "," + strconv.FormatFloat(y(p.Value), 'f', 1, 64))
	}
	c.Points = b.String()
	if c.HasLimit {
		c.LimitY = y(limit)
	}
	return c
}
