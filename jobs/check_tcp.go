package jobs

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"time"

	"github.com/ripple-ops/ripple/definitions"
	"github.com/ripple-ops/ripple/engine"
)

// checkTCP connects to Address:Port (Address defaults to the host's
// address). OK with metric "time" (seconds to connect) when the connection
// is accepted, CRITICAL when it is refused or does not complete in time.
func (c *Checker) checkTCP(ctx context.Context, ep engine.Endpoint, check *definitions.HostCheck, timeout time.Duration) engine.CheckResult {
	addr := check.Address
	if addr == "" && ep.Host != nil {
		addr = ep.Host.Address
	}
	if addr == "" {
		return unknownf("tcp check has no address")
	}
	if check.Port <= 0 || check.Port > 65535 {
		return unknownf("tcp check port %d out of range", check.Port)
	}
	target := net.JoinHostPort(addr, strconv.Itoa(check.Port))
	var d net.Dialer
	start := time.Now()
	conn, err := d.DialContext(ctx, "tcp", target)
	elapsed := time.Since(start)
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) || errors.Is(ctx.Err(), context.DeadlineExceeded) {
			return criticalf("TCP %s: no connection within %s", target, roundDuration(timeout))
		}
		var oe *net.OpError
		if errors.As(err, &oe) && oe.Err != nil {
			return criticalf("TCP %s: %v", target, oe.Err)
		}
		return criticalf("TCP %s: %v", target, err)
	}
	_ = conn.Close()
	return engine.CheckResult{
		State:   engine.StateOK,
		Output:  fmt.Sprintf("TCP OK: connected to %s in %s", target, roundDuration(elapsed)),
		Metrics: []engine.Metric{{Name: "time", Value: elapsed.Seconds(), Unit: "s"}},
	}
}
