package main

import (
	"context"
	"flag"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/ripple-ops/ripple/engine"
	"github.com/ripple-ops/ripple/engine/httpapi"
)

// runRevert is `ripple revert COMMIT --reason R [--run ID]`: the daemon
// makes a commit undoing COMMIT on a branch of the ops repo and, with
// GitHub, opens its pull request. No host changes until it is merged.
func runRevert(ctx context.Context, args []string, e env) error {
	var reason string
	var runID int64
	return apiCommand{
		name: "revert",
		usage: "usage: ripple revert COMMIT --reason TEXT [--run ID] [--json]\n\n" +
			"Makes a commit that undoes COMMIT (a sha of the tracked branch, abbreviated or\n" +
			"not) on a new branch ripple/revert-<sha> of the ops repo and, when the daemon\n" +
			"reports to GitHub, opens a pull request from it. Nothing changes on a host\n" +
			"until the branch is merged; the merge then rolls out like any other. Refused\n" +
			"when a file the commit changed was changed again since, or when the branch\n" +
			"exists already.",
		minPos: 1, maxPos: 1,
		flags: func(fs *flag.FlagSet) {
			fs.StringVar(&reason, "reason", "", "why; goes into the commit and the pull request with your token's name (required)")
			fs.Int64Var(&runID, "run", 0, "the failed run `ID` that asks for it: the pull request links it")
		},
		act: func(c *apiClient, pos []string) error {
			if strings.TrimSpace(reason) == "" {
				fmt.Fprintln(e.stderr, "ripple revert: --reason is required: say why the commit is reverted")
				return exitError{2}
			}
			if runID < 0 {
				fmt.Fprintf(e.stderr, "ripple revert: --run %d is not a run id\n", runID)
				return exitError{2}
			}
			c.http.Timeout = time.Minute // the daemon fetches, pushes and opens a pull request
			var res engine.RevertResult
			raw, err := c.do(ctx, "POST", "/api/v1/commits/"+url.PathEscape(pos[0])+"/revert", httpapi.RevertRequest{Reason: reason, Run: runID}, &res)
			if err != nil {
				return err
			}
			if c.json {
				c.printJSON(raw)
			} else {
				printRevert(e, res)
			}
			if res.PullRequestError != "" {
				return exitError{1}
			}
			return nil
		},
	}.run(args, e)
}

// printRevert says what the revert made and what to do next.
func printRevert(e env, res engine.RevertResult) {
	fmt.Fprintf(e.stdout, "revert of %s %q is on branch %s (commit %s, %s: %s)\n",
		engine.ShortCommit(res.Reverted), res.Subject, res.Branch, engine.ShortCommit(res.Commit),
		plural(len(res.Paths), "file"), strings.Join(res.Paths, ", "))
	switch {
	case res.PullRequestURL != "":
		fmt.Fprintf(e.stdout, "pull request: %s\n", res.PullRequestURL)
		fmt.Fprintf(e.stdout, "merge it into %s to roll the fleet back; nothing changes on a host before\n", res.Into)
	case res.PullRequestError != "":
		fmt.Fprintf(e.stderr, "ripple revert: the branch is pushed, but its pull request could not be opened: %s\n", res.PullRequestError)
		fmt.Fprintf(e.stderr, "open one from %s into %s by hand\n", res.Branch, res.Into)
	case res.Local:
		fmt.Fprintf(e.stdout, "the branch is in %s: merge it into %s to roll the fleet back (git merge %s); nothing changes on a host before\n", res.Repo, res.Into, res.Branch)
	default:
		fmt.Fprintf(e.stdout, "the branch is pushed to %s: merge it into %s to roll the fleet back; nothing changes on a host before\n", res.Repo, res.Into)
	}
}
