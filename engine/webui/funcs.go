package webui

import (
	"fmt"
	"html/template"
	"net/url"
	"strconv"
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
	"label": label[string],
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
	"first": func(s string) string { return engine.FirstLine(s, 160) },
	// paramText is a run's param value as people read it (a string
	// unquoted, "***" for a sensitive one).
	"paramText": engine.ParamText,
	"hostErr":   hostErr,
	"join":      strings.Join,
	"add":       func(a, b int) int { return a + b },
	"sub":       func(a, b int) int { return a - b },
	"pluralOf":  engine.PluralOf, // {{pluralOf 1 1 "host"}}: 1/1 host
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
	"query": url.QueryEscape,
	"lower": strings.ToLower,
	"count": thousands,
	// stateList is the non-zero counts of c, worst state first.
	"stateList": func(c httpapi.StateCounts) []stateN {
		var out []stateN
		for i := len(c) - 1; i >= 0; i-- {
			if c[i] > 0 {
				out = append(out, stateN{State: httpapi.HealthStates[i], N: c[i]})
			}
		}
		return out
	},
	// healthText is a host's monitors by state in words: "1 CRITICAL · 3 OK".
	"healthText": func(c httpapi.StateCounts) string {
		var parts []string
		for i := len(c) - 1; i >= 0; i-- {
			if c[i] > 0 {
				parts = append(parts, fmt.Sprintf("%d %s", c[i], httpapi.HealthStates[i]))
			}
		}
		return strings.Join(parts, " · ")
	},
	"sym":      stateSymbol,
	"withUnit": withUnit,
	// hasDiff reports whether a drift detail holds a unified diff.
	"hasDiff":      func(s string) bool { return strings.Contains(s, "\n--- ") && strings.Contains(s, "\n+++ ") },
	"healthStates": func() []string { return httpapi.HealthStates },
	// stateMapList is counts by state name, worst state first.
	"stateMapList": func(m map[string]int) []stateN {
		var out []stateN
		for i := len(httpapi.HealthStates) - 1; i >= 0; i-- {
			if n := m[httpapi.HealthStates[i]]; n > 0 {
				out = append(out, stateN{State: httpapi.HealthStates[i], N: n})
			}
		}
		return out
	},
	"diffLines": diffLines,
	// hostList names the first n hosts and how many more there are.
	"hostList": func(hosts []string, n int) string {
		if len(hosts) <= n {
			return strings.Join(hosts, ", ")
		}
		return strings.Join(hosts[:n], ", ") + fmt.Sprintf(" and %d more", len(hosts)-n)
	},
	// ms is a duration in milliseconds as people read it: 80ms, 1.2s, 3m0s.
	"ms": func(n int64) string {
		d := time.Duration(n) * time.Millisecond
		if d >= time.Second {
			d = d.Round(100 * time.Millisecond)
		}
		return d.String()
	},
	"sortHosts": func() [][2]string {
		return [][2]string{{"name", "name"}, {"health", "worst health first"}, {"sync", "most out of sync first"}, {"address", "address"}}
	},
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

// stateN is a number of pairs in one state.
type stateN struct {
	State string
	N     int
}

// thousands writes n with thin-space-free commas: 10,000.
func thousands(n int) string {
	s := strconv.Itoa(n)
	if n < 0 {
		return "-" + thousands(-n)
	}
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

// stateSymbol is a sign for a state, shown beside its word so that colour
// is never the only signal.
func stateSymbol(s string) string {
	switch s {
	case "ok", "done", "succeeded", "success", "synced", "OK":
		return "✓"
	case "failed", "gate_failed", "error", "failure", "CRITICAL":
		return "✗"
	case "unreachable", "unknown", "UNKNOWN":
		return "?"
	case "rolled_back":
		return "↺"
	case "running", "pending_status":
		return "▶"
	case "aborted":
		return "■"
	case "not_started", "queued", "pending", "PENDING":
		return "○"
	case "waiting_approval", "needs_operator", "waiting_window", "WARNING", "out_of_sync", "drifted":
		return "!"
	}
	return "·"
}

// diffLine is one line of a unified diff with the class that colours it;
// the +, - or space that starts it stays in the text.
type diffLine struct {
	Class, Text string
}

func diffLines(d string) []diffLine {
	var out []diffLine
	for _, l := range strings.Split(strings.TrimSuffix(d, "\n"), "\n") {
		c := "ctx"
		switch {
		case strings.HasPrefix(l, "+++"), strings.HasPrefix(l, "---"):
			c = "meta"
		case strings.HasPrefix(l, "@@"):
			c = "hunk"
		case strings.HasPrefix(l, "+"):
			c = "add"
		case strings.HasPrefix(l, "-"):
			c = "del"
		case strings.HasPrefix(l, "("), strings.HasPrefix(l, "…"):
			c = "note"
		}
		out = append(out, diffLine{Class: c, Text: l})
	}
	return out
}
