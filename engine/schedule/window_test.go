package schedule

import (
	"testing"
	"time"

	"github.com/ripple-ops/ripple/definitions"
)

func parseWindow(t *testing.T, spec string, d time.Duration, loc *time.Location) *Window {
	t.Helper()
	c, err := definitions.ParseCron(spec, loc)
	if err != nil {
		t.Fatal(err)
	}
	return NewWindow(&definitions.Window{Opens: c, Duration: d})
}

func mustLoc(t *testing.T, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

func TestWindowOpenAtTokyo(t *testing.T) {
	tokyo := mustLoc(t, "Asia/Tokyo")
	// DESIGN.md's "weekend-night": Saturdays 01:00 Tokyo for 4h.
	w := parseWindow(t, "0 1 * * SAT", 4*time.Hour, tokyo)
	sat := time.Date(2026, 11, 28, 0, 0, 0, 0, tokyo) // a Saturday
	tests := []struct {
		name   string
		at     time.Time
		open   bool
		closes time.Time
	}{
		{"before opening", sat.Add(59 * time.Minute), false, time.Time{}},
		{"at opening", sat.Add(time.Hour), true, sat.Add(5 * time.Hour)},
		{"inside", sat.Add(4*time.Hour + 59*time.Minute), true, sat.Add(5 * time.Hour)},
		{"at closing", sat.Add(5 * time.Hour), false, time.Time{}},
		// 16:30 UTC Friday is 01:30 Saturday in Tokyo.
		{"utc clock inside", time.Date(2026, 11, 27, 16, 30, 0, 0, time.UTC), true, sat.Add(5 * time.Hour)},
		{"next day", sat.Add(25 * time.Hour), false, time.Time{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			open, closes := w.OpenAt(tc.at)
			if open != tc.open || !closes.Equal(tc.closes) {
				t.Errorf("OpenAt(%s) = %v, %s; want %v, %s", tc.at, open, closes, tc.open, tc.closes)
			}
		})
	}
	if got, want := w.NextOpen(sat.Add(6*time.Hour)), sat.Add(7*24*time.Hour+time.Hour); !got.Equal(want) {
		t.Errorf("NextOpen after closing = %s, want %s", got, want)
	}
}

func TestCronPrevNext(t *testing.T) {
	c, err := definitions.ParseCron("0 2 * * SUN", time.UTC)
	if err != nil {
		t.Fatal(err)
	}
	sun := time.Date(2026, 11, 29, 2, 0, 0, 0, time.UTC)
	if got := c.Next(sun.Add(-time.Minute)); !got.Equal(sun) {
		t.Errorf("Next = %s, want %s", got, sun)
	}
	if got := c.Prev(sun.Add(3*time.Hour), 24*time.Hour); !got.Equal(sun) {
		t.Errorf("Prev = %s, want %s", got, sun)
	}
	if got := c.Prev(sun.Add(-time.Minute), 24*time.Hour); !got.IsZero() {
		t.Errorf("Prev with no firing in lookback = %s, want zero", got)
	}
	if _, err := definitions.ParseCron("61 * * * *", nil); err == nil {
		t.Error("ParseCron accepted minute 61")
	}
}
