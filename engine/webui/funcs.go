package webui

import (
	"fmt"
	"html/template"
	"net/url"
	"strings"
	"time"

	"github.com/ripple-ops/ripple/engine"
	"github.com/ripple-ops/ripple/engine/httpapi"
)

// funcs are the template helpers. None of them returns template.HTML:
// everything from the repository or the fleet stays escaped.
var funcs = template.FuncMap{
	// person is the actor when it is someone, "" for ripple itself.
	"person": func(actor string) string {
		if actor == engine.ActorRipple {
			return ""
		}
		return actor
	},
	"short": func(s string) string {
		if len(s) > 10 {
			return s[:10]
		}
		return s
	},
	"when": func(t time.Time) string {
		if t.IsZero() {
			return "-"
		}
		return t.Local().Format("2006-01-02 15:04:05")
	},
	"until": func(t time.Time) string { return t.Local().Format("2006-01-02 15:04") },
	// acts is an alert row with what its actions need: whether the viewer
	// may act, and the page to come back to.
	"acts": func(h httpapi.MonitorHost, canAct bool, back string) alertRow {
		return alertRow{MonitorHost: h, CanAct: canAct, Return: back}
	},
	"date": func(t time.Time) string {
		if t.IsZero() {
			return "never"
		}
		return t.Local().Format("2006-01-02")
	},
	"took": func(a, b time.Time) string {
		if a.IsZero() || b.IsZero() {
			return ""
		}
		return b.Sub(a).Round(time.Second).String()
	},
	"pct": func(n, total int) int {
		if total <= 0 {
			return 0
		}
		return n * 100 / total
	},
	"cls": func(s string) string {
		if s == httpapi.StatePending { // a monitor without a result, not a pending status
			return "nodata"
		}
		return strings.ToLower(strings.ReplaceAll(s, " ", "_"))
	},
	"label": func(s string) string { return strings.ReplaceAll(s, "_", " ") },
	"num": func(f float64) string {
		return strings.TrimSuffix(strings.TrimRight(fmt.Sprintf("%.3f", f), "0"), ".")
	},
	"signed": func(f float64) string {
		s := strings.TrimSuffix(strings.TrimRight(fmt.Sprintf("%.3f", f), "0"), ".")
		if f > 0 {
			s = "+" + s
		}
		return s
	},
	"first":    func(s string) string { return engine.FirstLine(s, 160) },
	"hostErr":  hostErr,
	"join":     strings.Join,
	"add":      func(a, b int) int { return a + b },
	"sub":      func(a, b int) int { return a - b },
	"pluralOf": engine.PluralOf, // {{pluralOf 1 1 "host"}}: 1/1 host
	// nouns is a noun agreeing with n, without n: {{nouns 1 "run"}}: run.
	"nouns": func(n int, noun string) string {
		if n == 1 {
			return noun
		}
		return noun + "s"
	},
	// rest is an audit event's whole reason when its line ({{.Text}})
	// does not say all of it (a cut or multi-line reason), else "".
	"rest": func(e httpapi.Event) string {
		reason := strings.TrimSpace(e.Reason)
		if strings.Contains(e.Text(), reason) {
			return ""
		}
		return reason
	},
	"query":    url.QueryEscape,
	"approves": func(s string) bool { return s == "waiting_approval" || s == "needs_operator" },
}

// hostErr is the first line of why a host failed: its first failed
// forward step, with the error or stderr.
func hostErr(h httpapi.HostRun) string {
	for _, s := range h.Steps {
		if s.Rollback || s.Phase != "finished" || s.Status == "ok" || s.Status == "changed" || s.Status == "unchanged" {
			continue
		}
		msg := s.Error
		if msg == "" {
			msg = s.Stderr
		}
		if msg == "" {
			msg = s.Stdout
		}
		return fmt.Sprintf("%s: %s (exit %d) %s", s.Step, s.Status, s.ExitCode, engine.FirstLine(msg, 160))
	}
	return ""
}

func urlQueryEscape(s string) string { return url.QueryEscape(s) }
