package main

import (
	"context"
	"flag"
	"fmt"
	"maps"
	"net/url"
	"slices"
	"strings"

	"github.com/ripple-ops/ripple/engine"
	"github.com/ripple-ops/ripple/engine/httpapi"
)

// runMonitors is `ripple monitors`: every monitor's state on each host.
func runMonitors(ctx context.Context, args []string, e env) error {
	var problems bool
	return apiCommand{
		name:   "monitors",
		usage:  "usage: ripple monitors [MONITOR] [--problems] [--json]\n\nLists the state of every monitor on each of its hosts: state, since when,\nand flags (alerting, suppressed with the cause: a parent down, a dependency\nnot OK; silenced, acknowledged, flapping, muted by a window, held by a\nrollout wave, undelivered: a notifier has not received the latest alert or\nrecovery yet). With MONITOR, also its active silences and alert audit.",
		minPos: 0, maxPos: 1,
		flags: func(fs *flag.FlagSet) {
			fs.BoolVar(&problems, "problems", false, "only (monitor, host) pairs that are not OK or owe a notification")
		},
		act: func(c *apiClient, pos []string) error {
			var ms []httpapi.Monitor
			path := "/api/v1/monitors"
			if len(pos) == 1 {
				path += "/" + url.PathEscape(pos[0])
				var m httpapi.Monitor
				if printed, err := c.get(ctx, path, &m); err != nil || printed {
					return err
				}
				ms = []httpapi.Monitor{m}
			} else if printed, err := c.get(ctx, path, &ms); err != nil || printed {
				return err
			}
			tw := newTable(e.stdout)
			fmt.Fprintln(tw, "MONITOR\tHOST\tSTATE\tSINCE\tFLAGS\tOUTPUT")
			for _, m := range ms {
				for _, h := range m.Hosts {
					if problems && (h.State == "OK" || h.State == httpapi.StatePending) && h.Undelivered == nil {
						continue
					}
					fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", m.Name, h.Host, h.State, ago(h.Since), orDash(monitorFlags(h)), engine.FirstLine(h.LastOutput, 120))
				}
			}
			if err := tw.Flush(); err != nil {
				return err
			}
			if len(pos) == 1 {
				m := ms[0]
				for _, s := range m.Silences {
					fmt.Fprintf(e.stdout, "\nsilence %d: %s until %s by %s: %s", s.ID, target(s.Monitor, s.Host), s.Ends.Local().Format("2006-01-02 15:04"), s.Actor, engine.FirstLine(s.Reason, 120))
				}
				if len(m.Silences) > 0 {
					fmt.Fprintln(e.stdout)
				}
				if len(m.Events) > 0 {
					fmt.Fprintln(e.stdout, "\naudit:")
					for _, ev := range m.Events {
						fmt.Fprintf(e.stdout, "  %s  %s\n", ev.At.Local().Format("2006-01-02 15:04:05"), ev.Text)
					}
				}
			}
			return nil
		},
	}.run(args, e)
}

func monitorFlags(h httpapi.MonitorHost) string {
	var f []string
	if h.Firing {
		f = append(f, "alerting")
	}
	if h.Suppressed != "" && h.State != "OK" {
		f = append(f, "suppressed("+h.Suppressed+")")
	}
	if s := h.Silence; s != nil {
		f = append(f, fmt.Sprintf("silenced(%d by %s)", s.ID, s.Actor))
	}
	if a := h.Ack; a != nil {
		f = append(f, "acknowledged(by "+a.Actor+")")
	}
	if h.Flapping {
		f = append(f, fmt.Sprintf("flapping(%.0f%%)", h.FlapPercent))
	}
	if h.Muted {
		f = append(f, "muted")
	}
	if h.Held {
		f = append(f, "held")
	}
	if u := h.Undelivered; u != nil {
		f = append(f, fmt.Sprintf("undelivered(%s %s)", u.Kind, strings.Join(slices.Sorted(maps.Keys(u.Notifiers)), " ")))
	}
	return strings.Join(f, ",")
}

// runCapacity is `ripple capacity`: metrics forecast to reach their limit.
func runCapacity(ctx context.Context, args []string, e env) error {
	var horizon string
	var all bool
	return apiCommand{
		name:   "capacity",
		usage:  "usage: ripple capacity [--horizon 30d] [--all] [--json]\n\nForecasts, from a linear fit over 30 days of history, when each metric named\nin a monitor's limits reaches its limit; lists those crossing within the horizon.",
		minPos: 0, maxPos: 0,
		flags: func(fs *flag.FlagSet) {
			fs.StringVar(&horizon, "horizon", "30d", "list crossings before now + `DURATION` (30d, 2w, 12h)")
			fs.BoolVar(&all, "all", false, "also list metrics that do not cross within the horizon")
		},
		act: func(c *apiClient, _ []string) error {
			var report httpapi.Capacity
			if printed, err := c.get(ctx, "/api/v1/capacity?horizon="+url.QueryEscape(horizon), &report); err != nil || printed {
				return err
			}
			tw := newTable(e.stdout)
			fmt.Fprintln(tw, "MONITOR/HOST/METRIC\tNOW\tPER DAY\tLIMIT\tCROSSING")
			shown := 0
			for _, f := range report.Forecasts {
				if !f.Within && !all {
					continue
				}
				shown++
				crossing := "-"
				if !f.Crossing.IsZero() {
					crossing = f.Crossing.Local().Format("2006-01-02")
				}
				if !f.EnoughHistory {
					fmt.Fprintf(tw, "%s/%s/%s\t%.4g\t%s\t%.4g\t%s\n", f.Monitor, f.Host, f.Metric, f.Current,
						"not enough history yet ("+plural(f.Samples, "sample")+")", f.Limit, crossing)
					continue
				}
				fmt.Fprintf(tw, "%s/%s/%s\t%.4g\t%+.3g\t%.4g\t%s\n", f.Monitor, f.Host, f.Metric, f.Current, f.PerDay, f.Limit, crossing)
			}
			if err := tw.Flush(); err != nil {
				return err
			}
			if shown == 0 {
				fmt.Fprintf(e.stdout, "nothing reaches its limit within %s (%s with limits)\n", report.Horizon, plural(len(report.Forecasts), "metric"))
			}
			return nil
		},
	}.run(args, e)
}
