package main

import (
	"context"
	"flag"
	"fmt"
	"net/url"
	"strconv"
	"strings"

	"github.com/ripple-ops/ripple/engine"
	"github.com/ripple-ops/ripple/engine/httpapi"
)

// runSilence is `ripple silence`: silence a monitor (on a host) for a
// while, list the silences, or expire one.
func runSilence(ctx context.Context, args []string, e env) error {
	var (
		dur, reason string
		list, all   bool
		expire      int64
	)
	const usage = "usage: ripple silence MONITOR[@HOST] --for DURATION --reason TEXT\n" +
		"       ripple silence --list [--all]\n" +
		"       ripple silence --expire ID --reason TEXT\n\n" +
		"Stops a monitor's notifications, on one host or on all of its hosts, until the\n" +
		"silence expires (2h, 90m, 3d; at most 90d); an alert that still fires then is\n" +
		"sent. Checks go on. --list shows the active silences (--all: ended ones too);\n" +
		"--expire ends one early. Making or expiring a silence needs an operator token\n" +
		"and a reason; both are in the alert audit with your token's name."
	return apiCommand{
		name:   "silence",
		usage:  usage,
		minPos: 0, maxPos: 1,
		flags: func(fs *flag.FlagSet) {
			fs.StringVar(&dur, "for", "", "how long: `DURATION` such as 2h, 90m, 3d")
			fs.StringVar(&reason, "reason", "", "why; recorded with your token's name (required)")
			fs.BoolVar(&list, "list", false, "list the active silences")
			fs.BoolVar(&all, "all", false, "with --list: ended silences too")
			fs.Int64Var(&expire, "expire", 0, "end silence `ID` now")
		},
		act: func(c *apiClient, pos []string) error {
			switch {
			case list:
				if len(pos) > 0 || expire != 0 {
					return usageError(e, "silence: --list takes no monitor and no --expire")
				}
				return listSilences(ctx, c, e, all)
			case expire != 0:
				if len(pos) > 0 || dur != "" {
					return usageError(e, "silence: --expire takes no monitor and no --for")
				}
				if strings.TrimSpace(reason) == "" {
					return usageError(e, "silence: --expire needs --reason: say why the silence ends")
				}
				var s httpapi.Silence
				raw, err := c.do(ctx, "DELETE", "/api/v1/silences/"+strconv.FormatInt(expire, 10), httpapi.ActionRequest{Reason: reason}, &s)
				if err != nil {
					return err
				}
				if c.json {
					c.printJSON(raw)
					return nil
				}
				fmt.Fprintf(e.stdout, "silence %d of %s expired; alerts that still fire are sent now\n", s.ID, target(s.Monitor, s.Host))
				return nil
			}
			if len(pos) != 1 {
				return usageError(e, "silence: name MONITOR or MONITOR@HOST (or use --list, --expire)")
			}
			mon, host, _ := strings.Cut(pos[0], "@")
			switch {
			case mon == "":
				return usageError(e, fmt.Sprintf("silence: %q names no monitor", pos[0]))
			case dur == "":
				return usageError(e, "silence: --for is required (a silence always ends by itself): 2h, 90m, 3d")
			case strings.TrimSpace(reason) == "":
				return usageError(e, "silence: --reason is required: say why the alerts may stop")
			}
			if _, err := httpapi.ParseSilenceFor(dur); err != nil {
				return usageError(e, fmt.Sprintf("silence: --for %q: want a duration such as 2h, 90m or 3d", dur))
			}
			var s httpapi.Silence
			raw, err := c.do(ctx, "POST", "/api/v1/silences", httpapi.SilenceRequest{Monitor: mon, Host: host, For: dur, Reason: reason}, &s)
			if err != nil {
				return err
			}
			if c.json {
				c.printJSON(raw)
				return nil
			}
			fmt.Fprintf(e.stdout, "silence %d: %s silenced until %s by %s: %s\n", s.ID, target(s.Monitor, s.Host),
				s.Ends.Local().Format("2006-01-02 15:04:05 MST"), s.Actor, engine.FirstLine(s.Reason, 120))
			return nil
		},
	}.run(args, e)
}

func listSilences(ctx context.Context, c *apiClient, e env, all bool) error {
	path := "/api/v1/silences"
	if all {
		path += "?all=true"
	}
	var list []httpapi.Silence
	if printed, err := c.get(ctx, path, &list); err != nil || printed {
		return err
	}
	if len(list) == 0 {
		fmt.Fprintln(e.stdout, "no active silence")
		return nil
	}
	tw := newTable(e.stdout)
	fmt.Fprintln(tw, "ID\tMONITOR\tHOST\tUNTIL\tBY\tREASON")
	for _, s := range list {
		until := s.Ends.Local().Format("2006-01-02 15:04")
		if !s.Active {
			until += " (ended"
			if s.ExpiredBy != "" {
				until += " by " + s.ExpiredBy
			}
			until += ")"
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\n", s.ID, s.Monitor, orDash(s.Host), until, s.Actor, engine.FirstLine(s.Reason, 80))
	}
	return tw.Flush()
}

// runAck is `ripple ack MONITOR@HOST --reason R`.
func runAck(ctx context.Context, args []string, e env) error {
	var reason string
	const usage = "usage: ripple ack MONITOR@HOST --reason TEXT [--json]\n\n" +
		"Acknowledges the current state of a monitor on a host: no further notification\n" +
		"of it (no repeat) until the state changes; a recovery is still sent. Needs an\n" +
		"operator token and a reason; it is in the alert audit with your token's name."
	return apiCommand{
		name:   "ack",
		usage:  usage,
		minPos: 1, maxPos: 1,
		flags: func(fs *flag.FlagSet) {
			fs.StringVar(&reason, "reason", "", "who is on it, or why; recorded with your token's name (required)")
		},
		act: func(c *apiClient, pos []string) error {
			mon, host, ok := strings.Cut(pos[0], "@")
			if !ok || mon == "" || host == "" {
				return usageError(e, fmt.Sprintf("ack: %q: name the monitor and the host, MONITOR@HOST", pos[0]))
			}
			if strings.TrimSpace(reason) == "" {
				return usageError(e, "ack: --reason is required: say who is on it, or why")
			}
			var a httpapi.Ack
			raw, err := c.do(ctx, "POST", "/api/v1/monitors/"+url.PathEscape(mon)+"/hosts/"+url.PathEscape(host)+"/ack", httpapi.ActionRequest{Reason: reason}, &a)
			if err != nil {
				return err
			}
			if c.json {
				c.printJSON(raw)
				return nil
			}
			fmt.Fprintf(e.stdout, "acknowledged %s %s by %s: no notification of it until its state changes\n", a.State, target(a.Monitor, a.Host), a.Actor)
			return nil
		},
	}.run(args, e)
}

func target(monitor, host string) string {
	if host == "" {
		return monitor + " (every host)"
	}
	return monitor + "@" + host
}

// usageError prints msg for a command used wrongly and exits 2.
func usageError(e env, msg string) error {
	fmt.Fprintln(e.stderr, "ripple "+msg)
	return exitError{2}
}
