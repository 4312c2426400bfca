package notify

import (
	"fmt"
	"maps"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/ripple-ops/ripple/engine"
)

// A message is what one delivery sends: one notification, or the
// notifications of one monitor and kind that a notifier's group_wait
// gathered ("web-http CRITICAL on 14 hosts: ..."). Every notification in
// a group has the same monitor and kind.

// links builds the links a message carries, from the public URL.
type links struct{ base string }

// monitor is the monitor's page, on the host when host is set.
func (l links) monitor(monitor, host string) string {
	if l.base == "" {
		return ""
	}
	u := l.base + "/monitors/" + url.PathEscape(monitor)
	if host != "" {
		u += "?host=" + url.QueryEscape(host)
	}
	return u
}

// runbook opens the run form of job, for host when set.
func (l links) runbook(job, host string) string {
	if l.base == "" || job == "" {
		return ""
	}
	u := l.base + "/jobs/" + url.PathEscape(job)
	if host != "" {
		u += "?host=" + url.QueryEscape(host)
	}
	return u + "#run"
}

// webhookPayload is the JSON a "webhook" notifier receives. The fields of
// one alert are at the top; for a group they describe the group (host
// empty, state the worst) and alerts lists each host. alerts always holds
// at least one, so a receiver may read only that.
type webhookPayload struct {
	Kind          string            `json:"kind"`
	Monitor       string            `json:"monitor"`
	Host          string            `json:"host"`
	State         string            `json:"state"`
	PreviousState string            `json:"previous_state"`
	Severity      string            `json:"severity"`
	Labels        map[string]string `json:"labels"`
	Runbook       string            `json:"runbook,omitempty"`
	RunbookURL    string            `json:"runbook_url,omitempty"`
	Repeat        bool              `json:"repeat"`
	Value         *float64          `json:"value"`
	Message       string            `json:"message"`
	Since         string            `json:"since"`
	URL           string            `json:"url,omitempty"`
	Summary       string            `json:"summary"`
	Count         int               `json:"count"`
	Alerts        []webhookAlert    `json:"alerts"`
}

// webhookAlert is one host of a webhook payload.
type webhookAlert struct {
	Host          string   `json:"host"`
	State         string   `json:"state"`
	PreviousState string   `json:"previous_state"`
	Repeat        bool     `json:"repeat"`
	Value         *float64 `json:"value"`
	Message       string   `json:"message"`
	Since         string   `json:"since"`
	URL           string   `json:"url,omitempty"`
	RunbookURL    string   `json:"runbook_url,omitempty"`
}

func webhookBody(ns []engine.Notification, l links) webhookPayload {
	first := ns[0]
	p := webhookPayload{
		Kind: string(first.Kind), Monitor: first.Monitor, Severity: first.Severity, Labels: first.Labels,
		Runbook: first.Runbook, Summary: summary(ns), Count: len(ns), Alerts: make([]webhookAlert, 0, len(ns)),
	}
	if p.Labels == nil {
		p.Labels = map[string]string{}
	}
	for _, n := range ns {
		p.Alerts = append(p.Alerts, webhookAlert{
			Host: n.Host, State: n.State.String(), PreviousState: n.Previous.String(), Repeat: n.Repeat,
			Value: n.Value, Message: n.Message, Since: n.Since.UTC().Format(time.RFC3339),
			URL: l.monitor(n.Monitor, n.Host), RunbookURL: l.runbook(n.Runbook, n.Host),
		})
	}
	if len(ns) == 1 {
		a := p.Alerts[0]
		p.Host, p.State, p.PreviousState, p.Repeat = a.Host, a.State, a.PreviousState, a.Repeat
		p.Value, p.Message, p.Since, p.URL, p.RunbookURL = a.Value, a.Message, a.Since, a.URL, a.RunbookURL
		return p
	}
	p.State = worst(ns).String()
	p.URL, p.RunbookURL = l.monitor(first.Monitor, ""), l.runbook(first.Runbook, "")
	since := first.Since
	for _, n := range ns {
		if n.Since.Before(since) {
			since = n.Since
		}
		p.Repeat = p.Repeat || n.Repeat
	}
	p.Since = since.UTC().Format(time.RFC3339)
	return p
}

// worst is the most severe state of ns (CRITICAL, then WARNING, then
// UNKNOWN, then OK).
func worst(ns []engine.Notification) engine.CheckState {
	rank := func(s engine.CheckState) int {
		switch s {
		case engine.StateCritical:
			return 3
		case engine.StateWarning:
			return 2
		case engine.StateUnknown:
			return 1
		}
		return 0
	}
	w := ns[0].State
	for _, n := range ns[1:] {
		if rank(n.State) > rank(w) {
			w = n.State
		}
	}
	return w
}

// maxHostsNamed caps the hosts a summary names; the rest are counted.
const maxHostsNamed = 10

// summary says what a message is about in one line: "CRITICAL disk-root
// on web-01", "web-http CRITICAL on 14 hosts: web-01, web-02, ... and 4
// more", "web-http CRITICAL on 12 hosts, WARNING on 2 hosts: ...",
// "web-http RECOVERED on 3 hosts: ...".
func summary(ns []engine.Notification) string {
	h := headline(ns)
	if len(ns) == 1 {
		return h
	}
	hosts := make([]string, 0, len(ns))
	for _, n := range ns {
		hosts = append(hosts, n.Host)
	}
	slices.Sort(hosts)
	named := strings.Join(hosts[:min(len(hosts), maxHostsNamed)], ", ")
	if len(hosts) > maxHostsNamed {
		named += fmt.Sprintf(" and %d more", len(hosts)-maxHostsNamed)
	}
	return h + ": " + named
}

// headline is the summary without the host list of a group.
func headline(ns []engine.Notification) string {
	first := ns[0]
	if len(ns) == 1 {
		if first.Kind == engine.NotifyRecovery {
			return fmt.Sprintf("RECOVERED %s on %s", first.Monitor, first.Host)
		}
		return fmt.Sprintf("%s %s on %s", first.State, first.Monitor, first.Host)
	}
	if first.Kind == engine.NotifyRecovery {
		return fmt.Sprintf("%s RECOVERED on %d hosts", first.Monitor, len(ns))
	}
	count := map[engine.CheckState]int{}
	for _, n := range ns {
		count[n.State]++
	}
	var parts []string
	for _, s := range []engine.CheckState{engine.StateCritical, engine.StateWarning, engine.StateUnknown, engine.StateOK} {
		if c := count[s]; c > 0 {
			parts = append(parts, fmt.Sprintf("%s on %s", s, engine.Plural(c, "host")))
		}
	}
	return first.Monitor + " " + strings.Join(parts, ", ")
}

// subject is an email's subject: the headline.
func subject(ns []engine.Notification) string {
	return "[ripple] " + headline(ns)
}

// text is the message for Slack and email: the summary line, the
// severity, labels and runbook, then one line per host with what its
// check said and its links.
func text(ns []engine.Notification, l links) string {
	first := ns[0]
	var b strings.Builder
	b.WriteString("[ripple] " + summary(ns))
	if len(ns) == 1 {
		if first.Message != "" {
			b.WriteString(": " + first.Message)
		}
		fmt.Fprintf(&b, " (since %s)", first.Since.UTC().Format(time.RFC3339))
		if u := l.monitor(first.Monitor, first.Host); u != "" {
			b.WriteString(" " + u)
		}
	}
	var meta []string
	if first.Severity != "" {
		meta = append(meta, "severity "+first.Severity)
	}
	for _, k := range slices.Sorted(maps.Keys(first.Labels)) {
		meta = append(meta, k+"="+first.Labels[k])
	}
	if first.Repeat && len(ns) == 1 && first.Kind == engine.NotifyAlert {
		if first.Previous != first.State {
			meta = append(meta, "changed from "+first.Previous.String())
		} else {
			meta = append(meta, "still failing")
		}
	}
	if len(meta) > 0 {
		b.WriteString("\n" + strings.Join(meta, ", "))
	}
	if first.Runbook != "" && first.Kind == engine.NotifyAlert {
		fmt.Fprintf(&b, "\nrunbook: %s", first.Runbook)
		if len(ns) == 1 {
			if u := l.runbook(first.Runbook, first.Host); u != "" {
				b.WriteString(" " + u)
			}
		}
	}
	if len(ns) > 1 {
		if u := l.monitor(first.Monitor, ""); u != "" {
			b.WriteString("\n" + u)
		}
		sorted := slices.Clone(ns)
		slices.SortFunc(sorted, func(a, b engine.Notification) int { return strings.Compare(a.Host, b.Host) })
		for _, n := range sorted {
			fmt.Fprintf(&b, "\n- %s %s", n.Host, n.State)
			if n.Message != "" {
				b.WriteString(": " + n.Message)
			}
			if u := l.monitor(n.Monitor, n.Host); u != "" {
				b.WriteString(" " + u)
			}
			if u := l.runbook(n.Runbook, n.Host); u != "" && n.Kind == engine.NotifyAlert {
				b.WriteString(" runbook " + u)
			}
		}
	}
	return b.String()
}
