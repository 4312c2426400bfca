package main

import (
	"context"
	"fmt"
	"time"

	"github.com/ripple-ops/ripple/engine/httpapi"
)

// runCluster is `ripple cluster`: the daemons sharing the store, which of
// them leads, and how the monitor checks are shared.
func runCluster(ctx context.Context, args []string, e env) error {
	return apiCommand{
		name:   "cluster",
		usage:  "usage: ripple cluster [--json]\n\nThe daemons of a cluster (several ripple serve on one PostgreSQL store):\neach node's heartbeat, its share of the monitor checks, and the leader with\nits epoch and lease. A daemon on SQLite is alone and answers that it is not\na cluster.",
		minPos: 0, maxPos: 0,
		act: func(c *apiClient, _ []string) error {
			var cl httpapi.Cluster
			if printed, err := c.get(ctx, "/api/v1/cluster", &cl); err != nil || printed {
				return err
			}
			leader := cl.Leader
			if leader == "" {
				leader = "none (a failover is in progress)"
			} else {
				leader = fmt.Sprintf("%s (epoch %d, lease %s, expires in %s)", cl.Leader, cl.Epoch, cl.Lease,
					time.Until(cl.LeaseExpires).Round(100*time.Millisecond))
			}
			fmt.Fprintf(e.stdout, "leader  %s\nasked   %s\n\n", leader, cl.Node)
			tw := newTable(e.stdout)
			fmt.Fprintln(tw, "NODE\tSTATE\tHEARTBEAT\tCHECKS\tVERSION\tSTARTED\tURL")
			for _, n := range cl.Nodes {
				state := "live"
				switch {
				case !n.Live:
					state = "DEAD"
				case n.Leader:
					state = "leader"
				}
				fmt.Fprintf(tw, "%s\t%s\t%s ago\t%d\t%s\t%s\t%s\n", n.Name, state,
					(time.Duration(n.HeartbeatAge * float64(time.Second))).Round(100*time.Millisecond), n.Checks, orDash(n.Version), ago(n.Started), orDash(n.URL))
			}
			return tw.Flush()
		},
	}.run(args, e)
}
