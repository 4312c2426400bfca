package definitions

import (
	"fmt"
	"time"

	// Timezones are checked against the embedded database, so whether a
	// repo is valid never depends on the tzdata of the machine checking it.
	_ "time/tzdata"

	"github.com/hashicorp/hcl/v2"
	"github.com/robfig/cron/v3"
)

var windowSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{
		{Name: "cron", Required: true}, {Name: "duration", Required: true}, {Name: "timezone"},
	},
}

// cronParser accepts the standard five fields (minute hour day-of-month
// month day-of-week), names such as SUN and JAN included; no seconds, no
// descriptors, no TZ= prefix (timezones are attributes).
var cronParser = cron.NewParser(cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow)

// Cron is a parsed five-field cron spec (minute hour day-of-month month
// day-of-week, names such as SUN and JAN included) read in one time zone.
// It is parsed once, when the definitions load; everything that fires or
// opens on a schedule uses it. The zero value never fires.
type Cron struct {
	Spec  string
	sched *cron.SpecSchedule // its Location is the zone
}

// ParseCron parses a standard five-field cron spec read in loc (nil means
// UTC).
func ParseCron(spec string, loc *time.Location) (*Cron, error) {
	s, err := cronParser.Parse(spec)
	if err != nil {
		return nil, err
	}
	ss, ok := s.(*cron.SpecSchedule)
	if !ok {
		return nil, fmt.Errorf("cron %q: not a five-field spec", spec)
	}
	if loc == nil {
		loc = time.UTC
	}
	ss.Location = loc
	return &Cron{Spec: spec, sched: ss}, nil
}

// Next returns the first match strictly after t; zero when there is none.
func (c *Cron) Next(t time.Time) time.Time {
	if c == nil || c.sched == nil {
		return time.Time{}
	}
	return c.sched.Next(t)
}

// Prev returns the latest match at or before t, searching back at most
// lookback; zero when there is none in that span.
func (c *Cron) Prev(t time.Time, lookback time.Duration) time.Time {
	var last time.Time
	for f := c.Next(t.Add(-lookback)); !f.IsZero() && !f.After(t); f = c.Next(f) {
		last = f
	}
	return last
}

// Location is the time zone the spec is read in.
func (c *Cron) Location() *time.Location {
	if c == nil || c.sched == nil {
		return time.UTC
	}
	return c.sched.Location
}

// In returns c read in loc.
func (c *Cron) In(loc *time.Location) *Cron {
	if c == nil || c.sched == nil || loc == nil || loc == c.sched.Location {
		return c
	}
	ss := *c.sched
	ss.Location = loc
	return &Cron{Spec: c.Spec, sched: &ss}
}

// cronAttr reads and checks a cron spec, read in loc.
func (l *loader) cronAttr(attrs hcl.Attributes, name string, dst *string, loc *time.Location) *Cron {
	var s string
	if !l.str(attrs, name, &s) {
		return nil
	}
	c, err := ParseCron(s, loc)
	if err != nil {
		l.errorf(attrs[name].Expr.Range(), "Invalid cron spec", fmt.Sprintf("%q is not a five-field cron spec (minute hour day-of-month month day-of-week, such as \"0 2 * * SUN\"): %v.", s, err))
		return nil
	}
	*dst = s
	return c
}

// timezone reads an IANA timezone name.
func (l *loader) timezone(attrs hcl.Attributes, name string, dst *string) *time.Location {
	var s string
	if !l.str(attrs, name, &s) {
		return nil
	}
	loc, ok := l.locations[s]
	if !ok {
		var err error
		loc, err = time.LoadLocation(s)
		if err != nil || s == "" || s == "Local" {
			loc = nil
		}
		l.locations[s] = loc
	}
	if loc == nil {
		l.errorf(attrs[name].Expr.Range(), "Invalid timezone", fmt.Sprintf("%q is not an IANA timezone name such as \"UTC\" or \"Asia/Tokyo\".", s))
		return nil
	}
	*dst = s
	return loc
}

func (l *loader) decodeWindow(b *hcl.Block) *Window {
	content, diags := b.Body.Content(windowSchema)
	l.diags = append(l.diags, diags...)
	a := content.Attributes
	w := &Window{Name: b.Labels[0], Timezone: "UTC", Location: time.UTC, DeclRange: b.DefRange}
	l.duration(a, "duration", time.Minute, &w.Duration)
	if loc := l.timezone(a, "timezone", &w.Timezone); loc != nil {
		w.Location = loc
	}
	w.Opens = l.cronAttr(a, "cron", &w.Cron, w.Location)
	return w
}
