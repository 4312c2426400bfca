package main

import (
	"context"
	"fmt"

	"github.com/ripple-ops/ripple/engine"
)

// runTraps is `ripple traps`: the daemon's SNMP trap receiver, what became
// of the packets it got, and the traps that matched no trap block.
func runTraps(ctx context.Context, args []string, e env) error {
	return apiCommand{
		name:   "traps",
		usage:  "usage: ripple traps [--json]\n\nThe daemon's SNMP trap receiver (ripple serve --trap-listen): packets by\nresult, and the traps no trap block matched, per source and OID, with the\nvarbinds of the last one, to write a trap block from. The states of trap\nblocks are in ripple monitors. In a cluster, each node reports the traps it\nreceived.",
		minPos: 0, maxPos: 0,
		act: func(c *apiClient, _ []string) error {
			var rep engine.TrapReport
			if printed, err := c.get(ctx, "/api/v1/traps", &rep); err != nil || printed {
				return err
			}
			if rep.Listen == "" {
				fmt.Fprintln(e.stdout, "receiver  off (ripple serve --trap-listen ADDR turns it on)")
				return nil
			}
			n := rep.Counts
			fmt.Fprintf(e.stdout, "receiver  %s\ntraps     %d matched, %d no trap block, %d unknown source, %d wrong profile, %d rate limited, %d rejected, %d malformed\n",
				rep.Listen, n.Matched, n.Unmatched, n.UnknownSource, n.WrongProfile, n.RateLimited, n.Rejected, n.Malformed)
			if len(rep.Unknown) == 0 {
				fmt.Fprintln(e.stdout, "\nno unmatched traps")
				return nil
			}
			fmt.Fprintln(e.stdout)
			tw := newTable(e.stdout)
			fmt.Fprintln(tw, "SOURCE\tHOST\tOID\tVERSION\tREASON\tCOUNT\tLAST\tVARBINDS")
			for _, u := range rep.Unknown {
				vbs := ""
				for i, v := range u.Varbinds {
					if i == 3 {
						vbs += fmt.Sprintf(" (+%d)", len(u.Varbinds)-3)
						break
					}
					if i > 0 {
						vbs += " "
					}
					vbs += fmt.Sprintf("%s=%q", v.OID, v.Value)
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%d\t%s\t%s\n", u.Source, orDash(u.Host), u.OID, u.Version, u.Reason, u.Count, ago(u.Last), orDash(vbs))
			}
			return tw.Flush()
		},
	}.run(args, e)
}
