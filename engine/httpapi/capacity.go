package httpapi

import (
	"context"
	"errors"
	"maps"
	"net/http"
	"slices"
	"sort"
	"time"

	"github.com/ripple-ops/ripple/definitions"
	"github.com/ripple-ops/ripple/engine"
	"github.com/ripple-ops/ripple/engine/monitor"
)

// Capacity defaults: forecasts are drawn through CapacityHistory of
// stored values and list what crosses its limit within DefaultHorizon.
const (
	DefaultHorizon  = 30 * 24 * time.Hour
	CapacityHistory = 30 * 24 * time.Hour
	maxHorizon      = 5 * 365 * 24 * time.Hour
)

// Capacity is the answer of GET /api/v1/capacity.
type Capacity struct {
	Now     time.Time `json:"now"`
	Horizon string    `json:"horizon"` // as asked, e.g. "30d"
	// Forecasts lists every limited metric with history: those crossing
	// within the horizon first (soonest first), then the rest by name.
	Forecasts []Forecast `json:"forecasts"`
}

// Forecast is when one metric of one (monitor, host) reaches its limit,
// from a least-squares line through its stored history.
type Forecast struct {
	Monitor  string    `json:"monitor"`
	Host     string    `json:"host"`
	Metric   string    `json:"metric"`
	Limit    float64   `json:"limit"`
	Current  float64   `json:"current"` // the fitted value now
	PerDay   float64   `json:"per_day"` // fitted growth per day
	Crossing time.Time `json:"crossing,omitzero"`
	// Within says the crossing is before now + horizon.
	Within  bool `json:"within"`
	Samples int  `json:"samples"`
	// EnoughHistory is false while there is too little history (under 3
	// samples or under an hour) to fit a trend.
	EnoughHistory bool `json:"enough_history"`
}

// CapacityReport forecasts every metric named in a monitor's limits, on
// every target host of the monitor, from its values over the last 30 days.
// Series without enough history (monitor.ForecastLimit needs a few points
// spread over an hour) are listed with no crossing.
func CapacityReport(ctx context.Context, defs *definitions.Definitions, metrics engine.MetricStore, now time.Time, horizon time.Duration) ([]Forecast, error) {
	out := []Forecast{}
	if defs == nil || metrics == nil {
		return out, nil
	}
	for _, name := range slices.Sorted(maps.Keys(defs.Monitors)) {
		m := defs.Monitors[name]
		if len(m.Limits) == 0 {
			continue
		}
		for _, h := range defs.Select(m.Targets) {
			for _, metric := range slices.Sorted(maps.Keys(m.Limits)) {
				pts, err := metrics.QueryMetrics(ctx, name, h.Name, metric, now.Add(-CapacityHistory), now.Add(time.Second))
				if err != nil {
					return nil, err
				}
				if len(pts) == 0 {
					continue
				}
				f := monitor.ForecastLimit(pts, m.Limits[metric], false, now)
				out = append(out, Forecast{
					Monitor: name, Host: h.Name, Metric: metric, Limit: f.Limit, Current: f.Current,
					PerDay: f.PerDay, Crossing: f.Crossing, Within: f.Within(now, horizon), Samples: f.Samples, EnoughHistory: f.EnoughHistory,
				})
			}
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.Within != b.Within {
			return a.Within
		}
		if a.Within && !a.Crossing.Equal(b.Crossing) {
			return a.Crossing.Before(b.Crossing)
		}
		return false
	})
	return out, nil
}

// ParseHorizon reads a horizon such as "30d", "12h" or "2w"; empty is
// DefaultHorizon.
func ParseHorizon(s string) (time.Duration, error) {
	if s == "" {
		return DefaultHorizon, nil
	}
	if n, ok := cutWeeks(s); ok {
		s = n
	}
	d, err := parseDays(s)
	if err != nil || d <= 0 || d > maxHorizon {
		return 0, errBadHorizon
	}
	return d, nil
}

var errBadHorizon = errors.New("horizon must be a positive duration up to 5 years, like 30d, 2w or 12h")

// cutWeeks turns "2w" into "14d".
func cutWeeks(s string) (string, bool) {
	if len(s) < 2 || s[len(s)-1] != 'w' {
		return "", false
	}
	n := 0
	for _, c := range s[:len(s)-1] {
		if c < '0' || c > '9' {
			return "", false
		}
		n = n*10 + int(c-'0')
		if n > 1000 {
			return "", false
		}
	}
	return itoa(int64(n*7)) + "d", true
}

func (h *Handler) getCapacity(w http.ResponseWriter, r *http.Request, _ Identity) {
	hs := r.URL.Query().Get("horizon")
	horizon, err := ParseHorizon(hs)
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	if hs == "" {
		hs = "30d"
	}
	now := time.Now().UTC()
	fs, err := CapacityReport(r.Context(), h.opts.Backend.Definitions(), h.opts.Metrics, now, horizon)
	if err != nil {
		writeBackendError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, Capacity{Now: now, Horizon: hs, Forecasts: fs})
}
