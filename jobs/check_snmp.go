package jobs

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/ripple-ops/ripple/definitions"
	"github.com/ripple-ops/ripple/engine"
)

// oidSysUpTime is fetched with every rate poll to tell a reset from a wrap.
const oidSysUpTime = ".1.3.6.1.2.1.1.3.0"

// checkSNMP reads check.OIDs from the host's SNMP agent.
//
// Without Rate each OID's numeric value is compared with the thresholds:
// above crit_above or below crit_below is CRITICAL, else above warn_above or
// below warn_below is WARNING (strict comparisons). With Rate each OID must
// be a Counter32 or Counter64 and its per-second rate since the previous poll
// is compared instead (see counterRate for wraps and resets). A poll without
// a rate (the first one, or right after a reset) is OK with no metric, as
// Nagios check_snmp does for its first rate sample.
//
// Metrics are named "value" (or "rate", unit "/s") for a single OID, and
// "value:<oid>" ("rate:<oid>") when the check reads several. No reply within
// the timeout is CRITICAL; a bad profile, a missing OID (noSuchObject), a
// non-numeric value or a malformed reply is UNKNOWN.
func (c *Checker) checkSNMP(ctx context.Context, ep engine.Endpoint, check *definitions.HostCheck, timeout time.Duration) engine.CheckResult {
	acc := check.SNMP
	if acc == nil {
		return unknownf("host has no SNMP profile")
	}
	addr := acc.Address
	host := ""
	if ep.Host != nil {
		host = ep.Host.Name
		if addr == "" {
			addr = ep.Host.Address
		}
	}
	if addr == "" {
		return unknownf("no SNMP address")
	}
	if acc.Port < 0 || acc.Port > 65535 {
		return unknownf("SNMP port %d out of range", acc.Port)
	}
	if len(check.OIDs) == 0 {
		return unknownf("snmp check has no OIDs")
	}
	oids := make([]string, 0, len(check.OIDs)+1)
	seen := make(map[string]bool, len(check.OIDs)+1)
	for _, o := range check.OIDs {
		n, err := normalizeOID(o)
		if err != nil {
			return unknownf("%v", err)
		}
		if !seen[n] {
			seen[n] = true
			oids = append(oids, n)
		}
	}
	request := oids
	if check.Rate && !seen[oidSysUpTime] {
		request = append(append([]string(nil), oids...), oidSysUpTime)
	}

	key := snmpKey(addr, acc)
	vbs, err := c.snmp.get(ctx, key, acc, request, timeout)
	target := net.JoinHostPort(key.Address, strconv.Itoa(key.Port))
	if err != nil {
		return snmpErrorResult(ctx, target, acc, err, timeout)
	}
	at := c.now()
	uptime, hasUptime := snmpUptime(vbs[oidSysUpTime])

	res := engine.CheckResult{State: engine.StateOK}
	var parts []string
	for _, oid := range oids {
		pdu, ok := vbs[oid]
		if !ok {
			res.State = worseState(res.State, engine.StateUnknown)
			parts = append(parts, oid+": missing from reply")
			continue
		}
		v, err := snmpNumeric(pdu)
		if err != nil {
			res.State = worseState(res.State, engine.StateUnknown)
			parts = append(parts, oid+": "+err.Error())
			continue
		}
		name, value, unit := "value", v.Float, ""
		if check.Rate {
			if v.Bits == 0 {
				res.State = worseState(res.State, engine.StateUnknown)
				parts = append(parts, fmt.Sprintf("%s: rate needs a Counter32 or Counter64, got %s", oid, v.Type))
				continue
			}
			rate, reason, ok := c.snmp.rates.observe(
				snmpRateKey{Monitor: check.Monitor, Host: host, OID: oid},
				counterSample{Value: v.Count, Bits: v.Bits, Uptime: uptime, HasUptime: hasUptime, At: at},
			)
			if !ok {
				parts = append(parts, oid+": "+reason)
				continue
			}
			name, value, unit = "rate", rate, "/s"
		}
		if len(oids) > 1 {
			name += ":" + strings.TrimPrefix(oid, ".")
		}
		state, why := snmpThresholdState(check, value)
		res.State = worseState(res.State, state)
		text := fmt.Sprintf("%s = %s%s", oid, formatSNMPNumber(value, check.Rate), unit)
		if why != "" {
			text += " (" + why + ")"
		}
		parts = append(parts, text)
		m := engine.Metric{Name: name, Value: value, Unit: unit}
		m.Warn, m.Crit = check.WarnAbove, check.CritAbove
		if m.Warn == nil && m.Crit == nil {
			m.Warn, m.Crit = check.WarnBelow, check.CritBelow
		}
		res.Metrics = append(res.Metrics, m)
	}
	res.Output = "SNMP " + res.State.String() + ": " + strings.Join(parts, "; ")
	return res
}

// snmpThresholdState compares v with the check's thresholds.
func snmpThresholdState(check *definitions.HostCheck, v float64) (engine.CheckState, string) {
	num := func(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }
	switch {
	case check.CritAbove != nil && v > *check.CritAbove:
		return engine.StateCritical, "above critical " + num(*check.CritAbove)
	case check.CritBelow != nil && v < *check.CritBelow:
		return engine.StateCritical, "below critical " + num(*check.CritBelow)
	case check.WarnAbove != nil && v > *check.WarnAbove:
		return engine.StateWarning, "above warning " + num(*check.WarnAbove)
	case check.WarnBelow != nil && v < *check.WarnBelow:
		return engine.StateWarning, "below warning " + num(*check.WarnBelow)
	}
	return engine.StateOK, ""
}

func formatSNMPNumber(v float64, rate bool) string {
	if rate {
		return strconv.FormatFloat(v, 'f', 3, 64)
	}
	return strconv.FormatFloat(v, 'f', -1, 64)
}

// snmpErrorResult classifies a failed poll: no answer is CRITICAL (the
// device or its agent is down), anything else UNKNOWN.
func snmpErrorResult(ctx context.Context, target string, acc *definitions.SNMPAccess, err error, timeout time.Duration) engine.CheckResult {
	switch {
	case ctx.Err() != nil && !errors.Is(ctx.Err(), context.DeadlineExceeded):
		return unknownf("check canceled")
	case ctx.Err() != nil || errors.Is(err, context.DeadlineExceeded):
		return criticalf("SNMP %s: no response within %s", target, roundDuration(timeout))
	case errors.Is(err, syscall.ECONNREFUSED) || strings.Contains(err.Error(), "connection refused"):
		return criticalf("SNMP %s: no response: port unreachable", target)
	case strings.Contains(err.Error(), "timeout"):
		attempts := max(acc.Retries, 0) + 1
		return criticalf("SNMP %s: no response (%d attempts)", target, attempts)
	}
	return unknownf("SNMP %s: %v", target, err)
}
