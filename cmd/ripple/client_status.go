package main

import (
	"context"
	"fmt"
	"net/url"
	"sort"
	"strings"

	"github.com/ripple-ops/ripple/engine"
	"github.com/ripple-ops/ripple/engine/httpapi"
)

// runStatus is `ripple status [REV]`: the daemon's state, or what ripple
// did for one commit (its statuses and runs).
func runStatus(ctx context.Context, args []string, e env) error {
	return apiCommand{
		name:   "status",
		usage:  "usage: ripple status [COMMIT] [--json]\n\nWithout COMMIT: the daemon's branch, head, last applied commit and whether it\nis paused. With a full commit sha: its ripple/* statuses and runs.",
		minPos: 0, maxPos: 1,
		act: func(c *apiClient, pos []string) error {
			if len(pos) == 1 {
				return commitStatus(ctx, c, e, pos[0])
			}
			var st engine.DaemonStatus
			if printed, err := c.get(ctx, "/api/v1/status", &st); err != nil || printed {
				return err
			}
			tw := newTable(e.stdout)
			if st.Node != "" {
				fmt.Fprintf(tw, "node\t%s\n", st.Node)
				fmt.Fprintf(tw, "leader\t%s\n", orDash(st.Leader))
			}
			fmt.Fprintf(tw, "repo\t%s\n", st.Repo)
			fmt.Fprintf(tw, "branch\t%s\n", st.Branch)
			fmt.Fprintf(tw, "head\t%s\n", orDash(st.Head))
			fmt.Fprintf(tw, "last applied\t%s\n", orDash(st.LastApplied))
			if st.Base != st.LastApplied {
				fmt.Fprintf(tw, "in progress\t%s\n", orDash(st.Base))
			}
			fmt.Fprintf(tw, "ready\t%v\n", st.Ready && !st.Stopping && !st.StoreFailing())
			fmt.Fprintf(tw, "last fetch\t%s\n", ago(st.LastFetch))
			if st.Paused != "" {
				fmt.Fprintf(tw, "PAUSED\t%s\n", st.Paused)
			}
			if st.Refused != "" {
				fmt.Fprintf(tw, "refused\t%s\n", st.Refused)
			}
			if st.LastError != "" {
				fmt.Fprintf(tw, "last error\t%s\n", st.LastError)
			}
			return tw.Flush()
		},
	}.run(args, e)
}

func commitStatus(ctx context.Context, c *apiClient, e env, sha string) error {
	if sha == "" || strings.ContainsAny(sha, "/?#% ") {
		fmt.Fprintf(e.stderr, "ripple status: %q is not a commit (a sha, abbreviated or full, or the branch name)\n", sha)
		return exitError{2}
	}
	var cm httpapi.Commit
	if printed, err := c.get(ctx, "/api/v1/commits/"+url.PathEscape(sha), &cm); err != nil || printed {
		return err
	}
	return printCommit(e, &cm)
}

// printCommit prints a commit's statuses and runs.
func printCommit(e env, cm *httpapi.Commit) error {
	fmt.Fprintf(e.stdout, "commit %s\n", cm.SHA)
	tw := newTable(e.stdout)
	fmt.Fprintln(tw, "CONTEXT\tSTATE\tDESCRIPTION")
	for _, s := range cm.Statuses {
		fmt.Fprintf(tw, "%s\t%s\t%s\n", s.Context, s.State, s.Description)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if len(cm.Runs) > 0 {
		fmt.Fprintln(e.stdout)
		tw = newTable(e.stdout)
		fmt.Fprintln(tw, "RUN\tJOB\tSTATE\tSUMMARY")
		for _, r := range cm.Runs {
			fmt.Fprintf(tw, "%d\t%s\t%s\t%s\n", r.ID, runTitle(r), r.State, r.Summary)
		}
		return tw.Flush()
	}
	return nil
}

// runHostsCommand is `ripple hosts`: the inventory at the applied commit,
// from the daemon; `ripple hosts trust ...` records SSH host keys locally.
func runHostsCommand(ctx context.Context, args []string, e env) error {
	if len(args) > 0 && args[0] == "trust" {
		return runHosts(ctx, args, e)
	}
	return apiCommand{
		name:   "hosts",
		usage:  "usage: ripple hosts [--json]\n       ripple hosts trust [--dir DIR] NAME...\n\nLists the hosts of the applied commit with their groups and jobs.",
		minPos: 0, maxPos: 0,
		act: func(c *apiClient, _ []string) error {
			var hosts []httpapi.Host
			if printed, err := c.get(ctx, "/api/v1/hosts", &hosts); err != nil || printed {
				return err
			}
			tw := newTable(e.stdout)
			fmt.Fprintln(tw, "HOST\tADDRESS\tGROUPS\tLABELS\tJOBS")
			for _, h := range hosts {
				labels := make([]string, 0, len(h.Labels))
				for k, v := range h.Labels {
					labels = append(labels, k+"="+v)
				}
				sort.Strings(labels)
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", h.Name, h.Address, orDash(strings.Join(h.Groups, ",")), orDash(strings.Join(labels, ",")), orDash(strings.Join(h.Jobs, ",")))
			}
			return tw.Flush()
		},
	}.run(args, e)
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
