package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/ripple-ops/ripple/engine"
	"github.com/ripple-ops/ripple/engine/httpapi"
)

// runRuns is `ripple runs`: recent runs, newest first.
func runRuns(ctx context.Context, args []string, e env) error {
	var job, state string
	var limit int
	return apiCommand{
		name:   "runs",
		usage:  "usage: ripple runs [--job JOB] [--state STATE[,STATE]] [--limit N] [--json]\n\nLists recent runs, newest first.",
		minPos: 0, maxPos: 0,
		flags: func(fs *flag.FlagSet) {
			fs.StringVar(&job, "job", "", "only runs of `JOB`")
			fs.StringVar(&state, "state", "", "only runs in `STATES` (comma-separated: running, failed, ...)")
			fs.IntVar(&limit, "limit", 20, "at most `N` runs")
		},
		act: func(c *apiClient, _ []string) error {
			q := url.Values{}
			if job != "" {
				q.Set("job", job)
			}
			if state != "" {
				q.Set("state", state)
			}
			q.Set("limit", strconv.Itoa(limit))
			var runs []httpapi.Run
			if printed, err := c.get(ctx, "/api/v1/runs?"+q.Encode(), &runs); err != nil || printed {
				return err
			}
			tw := newTable(e.stdout)
			fmt.Fprintln(tw, "ID\tJOB\tSTATE\tCOMMIT\tTRIGGER\tACTOR\tCREATED\tSUMMARY")
			for _, r := range runs {
				fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", r.ID, runTitle(r), r.State, shortSHA(r.Commit), r.Trigger, r.Actor, ago(r.Created), r.Summary)
			}
			return tw.Flush()
		},
	}.run(args, e)
}

// runShow is `ripple show RUN`: a run with its waves and failing hosts.
func runShow(ctx context.Context, args []string, e env) error {
	var follow bool
	return apiCommand{
		name:   "show",
		usage:  "usage: ripple show RUN [--follow] [--json]\n\nShows a run: its waves, each host's result and the first line of every failure.\nWith --follow, draws it live until it ends; the exit status is then 1 unless it succeeded.",
		minPos: 1, maxPos: 1,
		flags: func(fs *flag.FlagSet) { fs.BoolVar(&follow, "follow", false, "draw the run live until it ends") },
		act: func(c *apiClient, pos []string) error {
			id, err := parseRunID(pos[0], e)
			if err != nil {
				return err
			}
			if follow {
				n, _ := strconv.ParseInt(id, 10, 64)
				return followRun(ctx, c, e, n, time.Second)
			}
			var d httpapi.RunDetail
			if printed, err := c.get(ctx, "/api/v1/runs/"+id, &d); err != nil || printed {
				return err
			}
			printRunDetail(e, &d)
			return nil
		},
	}.run(args, e)
}

func printRunDetail(e env, d *httpapi.RunDetail) {
	w := e.stdout
	fmt.Fprintf(w, "run %d  %s  %s\n", d.ID, runTitle(d.Run), strings.ToUpper(d.State))
	fmt.Fprintf(w, "  commit   %s (%s)\n", d.Commit, d.Trigger)
	if d.Actor != "" || d.Reason != "" {
		fmt.Fprintf(w, "  by       %s: %s\n", d.Actor, d.Reason)
	}
	if len(d.Params) > 0 {
		fmt.Fprintf(w, "  params   %s\n", engine.ParamsQuoted(d.Params))
	}
	if x := d.Exec; x != nil {
		fmt.Fprintf(w, "  command  %s (at most %d hosts at once, %s each)\n", x.Command, x.MaxParallel, x.Timeout)
	}
	if d.Summary != "" {
		fmt.Fprintf(w, "  summary  %s\n", d.Summary)
	}
	if d.Error != "" {
		fmt.Fprintf(w, "  error    %s\n", engine.FirstLine(d.Error, 120))
	}
	if d.URL != "" {
		fmt.Fprintf(w, "  url      %s\n", d.URL)
	}
	for _, wave := range d.WaveDetails {
		fmt.Fprintf(w, "  wave %d/%d  %-8s %s  ok %d  failed %d  running %d  pending %d\n", wave.Number, len(d.WaveDetails), wave.State,
			progressBar(wave.Counts.OK+wave.Counts.Failed, len(wave.Hosts), 20), wave.Counts.OK, wave.Counts.Failed, wave.Counts.Running, wave.Counts.Pending)
		if wave.Reason != "" {
			fmt.Fprintf(w, "    why: %s\n", engine.FirstLine(wave.Reason, 160))
		}
		for _, h := range wave.Hosts {
			if label, why, ok := hostProblem(h); ok {
				fmt.Fprintf(w, "    %s %s  %s\n", label, h.Host, why)
			}
		}
	}
	for _, ev := range d.Events {
		fmt.Fprintf(w, "  %s  %s\n", ev.At.Local().Format(time.DateTime), ev.Text())
	}
}

func progressBar(done, total, width int) string {
	if total <= 0 {
		return "[" + strings.Repeat(" ", width) + "]"
	}
	n := done * width / total
	return "[" + strings.Repeat("#", n) + strings.Repeat(".", width-n) + "]"
}

// runApprove is `ripple approve RUN [--reason TEXT]`.
func runApprove(ctx context.Context, args []string, e env) error {
	return runAction(ctx, args, e, "approve", "usage: ripple approve RUN [--reason TEXT] [--json]\n\nLets a run waiting for an operator go on. Needs an operator token.")
}

// runAbort is `ripple abort RUN [--reason TEXT]`.
func runAbort(ctx context.Context, args []string, e env) error {
	return runAction(ctx, args, e, "abort", "usage: ripple abort RUN [--reason TEXT] [--json]\n\nStops a run between hosts; its on_failure policy applies. Needs an operator token.")
}

func runAction(ctx context.Context, args []string, e env, action, usage string) error {
	var reason string
	return apiCommand{
		name:   action,
		usage:  usage,
		minPos: 1, maxPos: 1,
		flags: func(fs *flag.FlagSet) { fs.StringVar(&reason, "reason", "", "why; recorded with your token's name") },
		act: func(c *apiClient, pos []string) error {
			id, err := parseRunID(pos[0], e)
			if err != nil {
				return err
			}
			var r httpapi.Run
			raw, err := c.do(ctx, "POST", "/api/v1/runs/"+id+"/"+action, httpapi.ActionRequest{Reason: reason}, &r)
			if err != nil {
				return err
			}
			if action == "approve" {
				// The daemon records the approval and wakes the run, which
				// leaves its wait an instant later: show the state after.
				if after, rawAfter, err := awaitLeaving(ctx, c, id, approvalStates, approveSettle); err == nil {
					r, raw = *after, rawAfter
				}
			}
			if c.json {
				c.printJSON(raw)
				return nil
			}
			fmt.Fprintf(e.stdout, "run %d %s: %s\n", r.ID, r.Job, actionResult(action, &r))
			return nil
		},
	}.run(args, e)
}

// approvalStates are the states a run waits for an operator in.
var approvalStates = []string{"waiting_approval", "needs_operator"}

// approveSettle bounds how long `ripple approve` waits to see the run go
// on before it prints the state as it is.
const approveSettle = 5 * time.Second

// awaitLeaving re-reads run id until its state is none of states, or
// settle has passed; it returns the last reading as a Run (the shape the
// action endpoints answer with) and its JSON.
func awaitLeaving(ctx context.Context, c *apiClient, id string, states []string, settle time.Duration) (*httpapi.Run, []byte, error) {
	deadline := time.Now().Add(settle)
	for {
		var r httpapi.Run
		if _, err := c.do(ctx, "GET", "/api/v1/runs/"+id, nil, &r); err != nil {
			return nil, nil, err
		}
		if !slices.Contains(states, r.State) || time.Now().After(deadline) {
			raw, err := json.MarshalIndent(r, "", "  ")
			return &r, raw, err
		}
		select {
		case <-ctx.Done():
			return nil, nil, ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// actionResult says what an approve or abort did, with the run's state
// after it.
func actionResult(action string, r *httpapi.Run) string {
	switch {
	case action == "approve" && slices.Contains(approvalStates, r.State):
		return fmt.Sprintf("approved; still %s (the daemon resumes it shortly; see ripple show %d)", r.State, r.ID)
	case action == "approve":
		s := "approved; now " + r.State
		if r.State == "running" && len(r.Waves) > 0 {
			s += fmt.Sprintf(" (wave %d/%d)", min(r.CurrentWave+1, len(r.Waves)), len(r.Waves))
		}
		if r.Summary != "" && r.State != "running" {
			s += ": " + r.Summary
		}
		return s
	case r.State == "aborted" || r.State == "failed":
		return "abort done; now " + r.State
	default:
		return fmt.Sprintf("abort requested; the run stops between hosts and applies its on_failure policy (now %s)", r.State)
	}
}

// runRun is `ripple run JOB`: a manual run at the applied commit.
func runRun(ctx context.Context, args []string, e env) error {
	var hosts, reason string
	var wait bool
	var interval time.Duration
	params := paramFlags{}
	return apiCommand{
		name:   "run",
		usage:  "usage: ripple run JOB [--param NAME=VALUE ...] [--hosts a,b] [--reason TEXT] [--wait] [--json]\n\nStarts a run of JOB at the applied commit, on all its hosts or the ones named,\nwith values for the job's params (a list as a,b or a JSON array; params not\ngiven take their defaults). The daemon checks them first: a refused value\nnames the param, and nothing runs. With --wait, follows the run to the end;\nthe exit status is 1 unless it succeeded.",
		minPos: 1, maxPos: 1,
		flags: func(fs *flag.FlagSet) {
			fs.Var(params, "param", "`NAME=VALUE` for one of the job's params; repeat for each")
			fs.StringVar(&hosts, "hosts", "", "comma-separated `HOSTS` (default: every target of the job)")
			fs.StringVar(&reason, "reason", "", "why; recorded with your token's name")
			fs.BoolVar(&wait, "wait", false, "follow the run until it ends")
			fs.DurationVar(&interval, "interval", time.Second, "poll `INTERVAL` with --wait")
		},
		act: func(c *apiClient, pos []string) error {
			req := httpapi.RunRequest{Reason: reason, Params: params.json()}
			for _, h := range strings.Split(hosts, ",") {
				if h = strings.TrimSpace(h); h != "" {
					req.Hosts = append(req.Hosts, h)
				}
			}
			var r httpapi.Run
			raw, err := c.do(ctx, "POST", "/api/v1/jobs/"+url.PathEscape(pos[0])+"/runs", req, &r)
			if err != nil {
				return err
			}
			if !wait {
				if c.json {
					c.printJSON(raw)
				} else {
					fmt.Fprintf(e.stdout, "run %d of %s queued on %s in %s\n", r.ID, r.Job, plural(countHosts(r.Waves), "host"), plural(len(r.Waves), "wave"))
					if len(r.Params) > 0 {
						fmt.Fprintf(e.stdout, "  params %s\n", engine.ParamsQuoted(r.Params))
					}
				}
				return nil
			}
			return followRun(ctx, c, e, r.ID, interval)
		},
	}.run(args, e)
}

// waitRun polls a run until it is final, printing a line whenever its
// progress changes.
func waitRun(ctx context.Context, c *apiClient, e env, id int64, interval time.Duration) error {
	last := ""
	for {
		var d httpapi.RunDetail
		raw, err := c.do(ctx, "GET", "/api/v1/runs/"+strconv.FormatInt(id, 10), nil, &d)
		if err != nil {
			return err
		}
		line := fmt.Sprintf("run %d %s: %s %s", d.ID, d.Job, d.State, d.Summary)
		if line != last && !c.json {
			fmt.Fprintf(e.stdout, "%s  %s\n", time.Now().Format(time.TimeOnly), line)
			last = line
		}
		switch d.State {
		case "succeeded", "failed", "aborted", "error":
			if c.json {
				c.printJSON(raw)
			} else {
				printRunDetail(e, &d)
			}
			if d.State != "succeeded" {
				return exitError{1}
			}
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(interval):
		}
	}
}

func countHosts(waves [][]string) int {
	n := 0
	for _, w := range waves {
		n += len(w)
	}
	return n
}

func parseRunID(s string, e env) (string, error) {
	if n, err := strconv.ParseInt(strings.TrimPrefix(s, "#"), 10, 64); err == nil && n > 0 {
		return strconv.FormatInt(n, 10), nil
	}
	fmt.Fprintf(e.stderr, "ripple: %q is not a run id\n", s)
	return "", exitError{2}
}

// runTitle names a run in listings: its job, or "exec: COMMAND" (cut) for
// an exec run.
func runTitle(r httpapi.Run) string {
	if r.Exec == nil {
		return r.Job
	}
	return engine.FirstLine("exec: "+r.Exec.Command, 40)
}

// paramFlags collects repeated --param NAME=VALUE flags.
type paramFlags map[string]string

func (p paramFlags) String() string { return "" }

func (p paramFlags) Set(s string) error {
	name, value, ok := strings.Cut(s, "=")
	name = strings.TrimSpace(name)
	if !ok || name == "" {
		return fmt.Errorf("want NAME=VALUE, got %q", s)
	}
	if _, dup := p[name]; dup {
		return fmt.Errorf("param %s given twice", name)
	}
	p[name] = value
	return nil
}

// json is the params as the API takes them: each value a JSON string,
// which the daemon reads as the param's type.
func (p paramFlags) json() map[string]json.RawMessage {
	if len(p) == 0 {
		return nil
	}
	out := make(map[string]json.RawMessage, len(p))
	for k, v := range p {
		b, _ := json.Marshal(v)
		out[k] = b
	}
	return out
}
