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

var notifierSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{
		{Name: "type", Required: true}, {Name: "url"}, {Name: "to"}, {Name: "from"},
		{Name: "smtp"}, {Name: "username"}, {Name: "password"},
	},
}

// cronParser accepts the standard five fields (minute hour day-of-month
// month day-of-week), names such as SUN and JAN included; no seconds, no
// descriptors, no TZ= prefix (timezones are attributes).
var cronParser = cron.NewParser(cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow)

// ParseCron parses a standard five-field cron spec.
func ParseCron(spec string) (cron.Schedule, error) {
	return cronParser.Parse(spec)
}

// cronAttr reads and checks a cron spec.
func (l *loader) cronAttr(attrs hcl.Attributes, name string, dst *string) {
	var s string
	if !l.str(attrs, name, &s) {
		return
	}
	if _, err := ParseCron(s); err != nil {
		l.errorf(attrs[name].Expr.Range(), "Invalid cron spec", fmt.Sprintf("%q is not a five-field cron spec (minute hour day-of-month month day-of-week, such as \"0 2 * * SUN\"): %v.", s, err))
		return
	}
	*dst = s
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
	l.cronAttr(a, "cron", &w.Cron)
	l.duration(a, "duration", time.Minute, &w.Duration)
	if loc := l.timezone(a, "timezone", &w.Timezone); loc != nil {
		w.Location = loc
	}
	return w
}

func (l *loader) decodeNotifier(b *hcl.Block) *Notifier {
	content, diags := b.Body.Content(notifierSchema)
	l.diags = append(l.diags, diags...)
	a := content.Attributes
	n := &Notifier{Name: b.Labels[0], DeclRange: b.DefRange}
	l.oneOf(a, "type", &n.Type, "webhook", "slack", "email")
	n.URL = l.secret(a, "url")
	n.To = l.strings(a, "to")
	l.str(a, "from", &n.From)
	l.str(a, "smtp", &n.SMTP)
	l.str(a, "username", &n.Username)
	n.Password = l.secret(a, "password")
	need := func(name string, set bool) {
		if !set && a[name] == nil {
			l.errorf(b.DefRange, "Missing required argument", fmt.Sprintf("A %s notifier needs %q.", n.Type, name))
		}
	}
	switch n.Type {
	case "webhook", "slack":
		need("url", n.URL != nil)
	case "email":
		need("to", len(n.To) > 0)
		need("from", n.From != "")
		need("smtp", n.SMTP != "")
	}
	return n
}
