package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/ripple-ops/ripple/engine"
	"github.com/ripple-ops/ripple/engine/convergence"
	"github.com/ripple-ops/ripple/engine/httpapi"
)

// runSync is `ripple sync [JOB...]`: re-run jobs at the applied head on
// their out-of-sync and drifted hosts; with --status, print the sync state.
func runSync(ctx context.Context, args []string, e env) error {
	var hosts, reason string
	var status, wait bool
	var interval time.Duration
	return apiCommand{
		name: "sync",
		usage: "usage: ripple sync [JOB...] [--hosts a,b] --reason TEXT [--wait]\n       ripple sync --status [JOB...] [--json]\n\n" +
			"Runs each JOB (every job with hosts to sync when none is named) at the applied\n" +
			"commit on its out-of-sync and drifted hosts only, through the job's waves,\n" +
			"gates and failure budget. --status prints the sync state of every host.",
		minPos: 0, maxPos: -1,
		flags: func(fs *flag.FlagSet) {
			fs.StringVar(&hosts, "hosts", "", "comma-separated `HOSTS` to sync, of those that need it (default: all)")
			fs.StringVar(&reason, "reason", "", "why; recorded with your token's name (required)")
			fs.BoolVar(&status, "status", false, "print the sync state instead of syncing")
			fs.BoolVar(&wait, "wait", false, "follow each run until it ends")
			fs.DurationVar(&interval, "interval", time.Second, "poll `INTERVAL` with --wait")
		},
		act: func(c *apiClient, jobs []string) error {
			q := url.Values{"job": jobs}
			var states []convergence.JobSync
			raw, err := c.do(ctx, "GET", "/api/v1/sync?"+q.Encode(), nil, &states)
			if err != nil {
				return err
			}
			if status {
				if c.json {
					c.printJSON(raw)
					return nil
				}
				printSync(e, states)
				return nil
			}
			if strings.TrimSpace(reason) == "" {
				fmt.Fprintln(e.stderr, "ripple sync: --reason is required: say why hosts are synced")
				return exitError{2}
			}
			req := httpapi.RunRequest{Reason: reason, Hosts: splitList(hosts)}
			var started []httpapi.Run
			for _, js := range states {
				need := 0
				for _, h := range js.Hosts {
					if h.NeedsSync() {
						need++
					}
				}
				if need == 0 && len(jobs) == 0 {
					continue // only the jobs that need it, when none is named
				}
				var r httpapi.Run
				_, err := c.do(ctx, "POST", "/api/v1/jobs/"+url.PathEscape(js.Job)+"/sync", req, &r)
				var ae *apiError
				switch {
				case errors.As(err, &ae) && ae.status == http.StatusConflict:
					fmt.Fprintf(e.stdout, "%s: %s\n", js.Job, ae)
					continue
				case err != nil:
					return fmt.Errorf("%s: %w", js.Job, err)
				}
				started = append(started, r)
				if !c.json {
					fmt.Fprintf(e.stdout, "run %d of %s queued: syncs %s in %s\n", r.ID, r.Job, plural(countHosts(r.Waves), "host"), plural(len(r.Waves), "wave"))
				}
			}
			if len(started) == 0 && len(jobs) == 0 {
				fmt.Fprintln(e.stdout, "nothing to sync: every host of every job is in sync")
			}
			if c.json {
				if started == nil {
					started = []httpapi.Run{}
				}
				b, err := json.MarshalIndent(started, "", "  ")
				if err != nil {
					return err
				}
				fmt.Fprintln(e.stdout, string(b))
				return nil
			}
			if wait {
				var failed bool
				for _, r := range started {
					if err := followRun(ctx, c, e, r.ID, interval); err != nil {
						var ee exitError
						if !errors.As(err, &ee) {
							return err
						}
						failed = true
					}
				}
				if failed {
					return exitError{1}
				}
			}
			return nil
		},
	}.run(args, e)
}

func splitList(s string) []string {
	var out []string
	for _, v := range strings.Split(s, ",") {
		if v = strings.TrimSpace(v); v != "" {
			out = append(out, v)
		}
	}
	return out
}

// printSync prints per job a count line, then every host not in sync.
func printSync(e env, states []convergence.JobSync) {
	for _, js := range states {
		synced := js.Count(engine.SyncSynced)
		fmt.Fprintf(e.stdout, "%s: %s in sync", js.Job, fmt.Sprintf("%d/%s", synced, plural(len(js.Hosts), "host")))
		if js.SelfHeal != "" {
			fmt.Fprintf(e.stdout, " (self-heal: %s)", js.SelfHeal)
		}
		fmt.Fprintln(e.stdout)
		tw := newTable(e.stdout)
		for _, h := range js.Hosts {
			if h.State == engine.SyncSynced {
				continue
			}
			fmt.Fprintf(tw, "  %s\t%s\t%s\n", h.Host, h.ReasonText(), firstLineOf(h.Detail))
		}
		_ = tw.Flush()
	}
}

func firstLineOf(s string) string {
	s, _, _ = strings.Cut(strings.TrimSpace(s), "\n")
	if len(s) > 100 {
		s = s[:99] + "…"
	}
	return s
}

// runDrift is `ripple drift [JOB...]`: a read-only drift check now.
func runDrift(ctx context.Context, args []string, e env) error {
	return apiCommand{
		name: "drift",
		usage: "usage: ripple drift [JOB...] [--json]\n\n" +
			"Checks now, read-only, whether each JOB's hosts (every job with a file step\n" +
			"or a step check when none is named) still match what ripple deployed: file\n" +
			"steps show a unified diff (secrets redacted), run steps their check. Exit\n" +
			"status 1 when a host drifted.",
		minPos: 0, maxPos: -1,
		act: func(c *apiClient, jobs []string) error {
			c.http.Timeout = 10 * time.Minute
			var out []engine.JobDrift
			raw, err := c.do(ctx, "POST", "/api/v1/drift", httpapi.DriftRequest{Jobs: jobs}, &out)
			if err != nil {
				return err
			}
			drifted := false
			for _, jd := range out {
				for _, h := range jd.Hosts {
					drifted = drifted || h.Status == engine.DriftDrifted
				}
			}
			if c.json {
				c.printJSON(raw)
			} else {
				printDrift(e, out)
			}
			if drifted {
				return exitError{1}
			}
			return nil
		},
	}.run(args, e)
}

func printDrift(e env, out []engine.JobDrift) {
	if len(out) == 0 {
		fmt.Fprintln(e.stdout, "no job has anything to check (no file step, no check on a run step)")
	}
	for _, jd := range out {
		counts := map[engine.DriftStatus]int{}
		skipped := 0
		for _, h := range jd.Hosts {
			if h.Skipped != "" {
				skipped++
			} else {
				counts[h.Status]++
			}
		}
		fmt.Fprintf(e.stdout, "%s: %d clean, %d drifted, %d unknown", jd.Job, counts[engine.DriftClean], counts[engine.DriftDrifted], counts[engine.DriftUnknown])
		if skipped > 0 {
			fmt.Fprintf(e.stdout, ", %d not checked", skipped)
		}
		fmt.Fprintln(e.stdout)
		for _, h := range jd.Hosts {
			switch {
			case h.Skipped != "":
				fmt.Fprintf(e.stdout, "  %s: not checked: %s\n", h.Host, h.Skipped)
			case h.Status != engine.DriftClean:
				fmt.Fprintf(e.stdout, "  %s: %s\n", h.Host, h.Status)
				for _, l := range strings.Split(strings.TrimRight(h.Detail, "\n"), "\n") {
					fmt.Fprintf(e.stdout, "    %s\n", l)
				}
			}
		}
	}
}
