package main

import (
	"context"
	"flag"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/ripple-ops/ripple/engine"
	"github.com/ripple-ops/ripple/engine/facts"
	"github.com/ripple-ops/ripple/engine/httpapi"
)

// runFacts is `ripple facts [HOST...] [--gather] [--json]`.
func runFacts(ctx context.Context, args []string, e env) error {
	var gather bool
	return apiCommand{
		name: "facts",
		usage: "usage: ripple facts [HOST...] [--gather] [--json]\n\n" +
			"Prints the last gathered facts of each HOST (every host when none is named):\n" +
			"OS, kernel, hardware, pending (security) updates, reboot required, and for SNMP\n" +
			"devices their system group; when they were gathered, whether they are stale\n" +
			"(older than two --facts-interval) and why the last gathering failed.\n" +
			"--gather gathers them now, read-only (operator).",
		minPos: 0, maxPos: -1,
		flags: func(fs *flag.FlagSet) {
			fs.BoolVar(&gather, "gather", false, "gather the facts now instead of printing the last ones")
		},
		act: func(c *apiClient, hosts []string) error {
			var out []httpapi.HostFacts
			var raw []byte
			var err error
			if gather {
				raw, err = c.do(ctx, "POST", "/api/v1/facts", httpapi.FactsRequest{Hosts: hosts}, &out)
			} else {
				raw, err = c.do(ctx, "GET", "/api/v1/facts?"+url.Values{"host": hosts}.Encode(), nil, &out)
			}
			if err != nil {
				return err
			}
			if c.json {
				c.printJSON(raw)
				return nil
			}
			var history map[string][]engine.FactChange
			if len(hosts) > 0 {
				// Each named host's recent changes, from its detail.
				history = map[string][]engine.FactChange{}
				for _, h := range out {
					var d httpapi.HostDetail
					if _, err := c.do(ctx, "GET", "/api/v1/hosts/"+url.PathEscape(h.Host), nil, &d); err != nil {
						return err
					}
					history[h.Host] = d.History
				}
			}
			printFacts(e, out, history)
			return nil
		},
	}.run(args, e)
}

// factChangesShown is how many recent changes `ripple facts HOST` prints.
const factChangesShown = 10

// printFacts prints one block per host: a line of what is known, the
// facts one a line, then the host's recent changes (history, by host).
// Without history, a host is one line of a table.
func printFacts(e env, hosts []httpapi.HostFacts, history map[string][]engine.FactChange) {
	if history == nil {
		tw := newTable(e.stdout)
		fmt.Fprintln(tw, "HOST\tOS\tKERNEL\tCPUS\tMEMORY\tUPDATES\tSECURITY\tREBOOT\tGATHERED")
		for _, h := range hosts {
			f := h.Facts
			if f == nil {
				f = &engine.HostFacts{}
			}
			os := strings.TrimSpace(f.OSID + " " + f.OSVersion)
			if os == "" && f.SysDescr != "" {
				os = f.Vendor
			}
			mem := "-"
			if f.MemoryBytes > 0 {
				mem = facts.HumanBytes(f.MemoryBytes)
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", h.Host, dash(os), dash(f.Kernel), dashInt(f.CPUs),
				mem, count(f.PendingUpdates), count(f.PendingSecurityUpdates), flagText(f.RebootRequired), gatheredText(h.State))
		}
		tw.Flush()
		return
	}
	for i, h := range hosts {
		if i > 0 {
			fmt.Fprintln(e.stdout)
		}
		fmt.Fprintf(e.stdout, "%s: %s\n", h.Host, gatheredText(h.State))
		if h.Facts != nil {
			flat := facts.Flat(*h.Facts)
			tw := newTable(e.stdout)
			for _, name := range facts.FactNames() {
				if v, ok := flat[name]; ok {
					fmt.Fprintf(tw, "  %s\t%s\n", name, v)
				}
			}
			tw.Flush()
		}
		changes := history[h.Host]
		if len(changes) == 0 {
			continue
		}
		fmt.Fprintf(e.stdout, "changes, newest first:\n")
		tw := newTable(e.stdout)
		for _, c := range changes[:min(len(changes), factChangesShown)] {
			fmt.Fprintf(tw, "  %s\t%s\t%s -> %s\n", c.At.Local().Format(time.DateTime), c.Fact, dash(c.Old), dash(c.New))
		}
		tw.Flush()
		if len(changes) > factChangesShown {
			fmt.Fprintf(e.stdout, "  ... %d more: GET /api/v1/hosts/%s\n", len(changes)-factChangesShown, h.Host)
		}
	}
}

// gatheredText says when facts were gathered, whether they are stale and
// why the last gathering failed.
func gatheredText(st httpapi.FactsState) string {
	var parts []string
	if st.GatheredAt == nil {
		parts = append(parts, "never gathered")
	} else {
		parts = append(parts, "gathered "+ago(*st.GatheredAt))
	}
	if st.Stale && st.GatheredAt != nil {
		parts = append(parts, "STALE")
	}
	if st.Error != "" {
		at := ""
		if st.AttemptAt != nil {
			at = " " + ago(*st.AttemptAt)
		}
		parts = append(parts, "last gathering failed"+at+": "+engine.FirstLine(st.Error, 120))
	}
	return strings.Join(parts, "; ")
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func dashInt(n int) string {
	if n == 0 {
		return "-"
	}
	return strconv.Itoa(n)
}

func count(p *int) string {
	if p == nil {
		return "-"
	}
	return strconv.Itoa(*p)
}

func flagText(p *bool) string {
	switch {
	case p == nil:
		return "-"
	case *p:
		return "yes"
	}
	return "no"
}

// runPatches is `ripple patches [--group G] [--json]`.
func runPatches(ctx context.Context, args []string, e env) error {
	var group string
	return apiCommand{
		name: "patches",
		usage: "usage: ripple patches [--group G] [--json]\n\n" +
			"Patch compliance from the hosts' facts: per host the pending updates and\n" +
			"security updates, since when, whether a reboot is required, and the last\n" +
			"successful run of each job that touched it; worst first. Then counts by\n" +
			"group and the age of the oldest pending security update.",
		minPos: 0, maxPos: 0,
		flags: func(fs *flag.FlagSet) {
			fs.StringVar(&group, "group", "", "only the hosts of `GROUP`")
		},
		act: func(c *apiClient, _ []string) error {
			var rep facts.PatchReport
			raw, err := c.do(ctx, "GET", "/api/v1/patches", nil, &rep)
			if err != nil {
				return err
			}
			if c.json {
				c.printJSON(raw)
				return nil
			}
			printPatches(e, rep, group)
			return nil
		},
	}.run(args, e)
}

func printPatches(e env, rep facts.PatchReport, group string) {
	tw := newTable(e.stdout)
	fmt.Fprintln(tw, "HOST\tSECURITY\tUPDATES\tSINCE\tREBOOT\tGATHERED\tLAST RUNS")
	for _, r := range rep.Hosts {
		if group != "" && !slices.Contains(r.Groups, group) {
			continue
		}
		since := "-"
		switch {
		case r.SecuritySince != nil:
			since = ago(*r.SecuritySince)
		case r.UpdatesSince != nil:
			since = ago(*r.UpdatesSince)
		}
		gathered := "never"
		if r.GatheredAt != nil {
			gathered = ago(*r.GatheredAt)
		}
		if r.Stale {
			gathered += " STALE"
		}
		if r.Error != "" {
			gathered += " (last failed: " + engine.FirstLine(r.Error, 60) + ")"
		}
		var runs []string
		for _, lr := range r.LastRuns {
			runs = append(runs, fmt.Sprintf("%s #%d %s", lr.Job, lr.Run, ago(lr.At)))
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", r.Host, count(r.PendingSecurityUpdates), count(r.PendingUpdates), since,
			flagText(r.RebootRequired), gathered, dash(strings.Join(runs, ", ")))
	}
	tw.Flush()
	fmt.Fprintln(e.stdout)
	tw = newTable(e.stdout)
	fmt.Fprintln(tw, "GROUP\tHOSTS\tWITH SECURITY\tWITH UPDATES\tREBOOT\tUNKNOWN")
	for _, g := range rep.Groups {
		if group != "" && g.Group != group {
			continue
		}
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\t%d\n", g.Group, g.Hosts, g.WithSecurity, g.WithUpdates, g.RebootRequired, g.Unknown)
	}
	tw.Flush()
	if rep.OldestSecurity != nil {
		fmt.Fprintf(e.stdout, "\noldest pending security update: %s on %s (since %s)\n",
			facts.RoundAge(time.Since(*rep.OldestSecurity)), rep.OldestSecurityHost, rep.OldestSecurity.Format(time.RFC3339))
	} else {
		fmt.Fprintln(e.stdout, "\nno pending security updates")
	}
}
