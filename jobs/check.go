package jobs

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/ripple-ops/ripple/definitions"
	"github.com/ripple-ops/ripple/engine"
)

// DefaultCheckTimeout bounds a check whose HostCheck.Timeout is zero.
const DefaultCheckTimeout = 10 * time.Second

// maxCheckOutput caps CheckResult.Output in bytes.
const maxCheckOutput = 1024

// Commander runs one command on a host. The SSH and local transports
// implement it. A non-nil error means the command could not be run or its
// outcome is unknown (transport failure); a command that ran and failed is a
// nil error with a non-zero ExitCode.
type Commander interface {
	Exec(ctx context.Context, ep engine.Endpoint, cmd string, stdin io.Reader, timeout time.Duration) (ExecResult, error)
}

// CheckerOptions configure a Checker. Every field is optional.
type CheckerOptions struct {
	// Commander runs command checks. Nil makes command checks UNKNOWN.
	Commander Commander
	// HTTPClient runs http checks that verify TLS. Nil means a client
	// built by NewChecker with pooled connections and no proxy. Checks with
	// Insecure set always use a separate client that skips verification.
	HTTPClient *http.Client
	// Now is the clock for CheckResult.At, Duration and SNMP rates.
	// Nil means time.Now.
	Now func() time.Time
	// SNMPIdleTimeout closes an SNMP client unused for this long (default
	// 15m). SNMPRateTTL forgets a counter sample not refreshed for this long
	// (default 24h), so removed monitors do not hold memory.
	SNMPIdleTimeout time.Duration
	SNMPRateTTL     time.Duration
}

// Checker runs monitor checks: command (Nagios plugins through a
// Commander), http, tcp and snmp. It is safe for concurrent use. It keeps
// one SNMP client per target and the previous counter samples for rates;
// Close releases the clients. It starts no goroutines.
type Checker struct {
	cmd            Commander
	httpClient     *http.Client
	insecureClient *http.Client
	now            func() time.Time

	patternsMu sync.Mutex
	patterns   map[string]*regexp.Regexp

	snmp *snmpPool
}

var _ engine.Checker = (*Checker)(nil)

// NewChecker returns a Checker. Call Close when done with it.
func NewChecker(opts CheckerOptions) *Checker {
	c := &Checker{
		cmd:        opts.Commander,
		now:        opts.Now,
		httpClient: opts.HTTPClient,
		patterns:   make(map[string]*regexp.Regexp),
	}
	if c.now == nil {
		c.now = time.Now
	}
	if c.httpClient == nil {
		c.httpClient = newCheckHTTPClient(false)
	}
	c.insecureClient = newCheckHTTPClient(true)
	c.snmp = newSNMPPool(opts.SNMPIdleTimeout, opts.SNMPRateTTL, c.now)
	return c
}

// Close closes idle HTTP connections and every SNMP client. The Checker
// stays usable: clients are reopened on demand.
func (c *Checker) Close() error {
	c.httpClient.CloseIdleConnections()
	c.insecureClient.CloseIdleConnections()
	c.snmp.closeAll()
	return nil
}

// Check runs one check, bounded by check.Timeout (DefaultCheckTimeout when
// zero) and by ctx. It never panics: a panic inside an executor becomes
// UNKNOWN, and so does a check whose ctx was canceled. At and Duration are always set; Output is one line, capped and
// with check.Secrets redacted.
func (c *Checker) Check(ctx context.Context, ep engine.Endpoint, check *definitions.HostCheck) (res engine.CheckResult) {
	start := c.now()
	var secrets []string
	parent := ctx
	defer func() {
		if r := recover(); r != nil {
			res = engine.CheckResult{State: engine.StateUnknown, Output: fmt.Sprintf("check panicked: %v", r)}
		}
		if errors.Is(parent.Err(), context.Canceled) {
			// The caller gave up (shutdown, monitor removed): whatever the
			// executor saw says nothing about the service.
			res = engine.CheckResult{State: engine.StateUnknown, Output: "check canceled"}
		}
		res.At = start
		res.Duration = c.now().Sub(start)
		if res.Duration < 0 {
			res.Duration = 0
		}
		res.Output = checkOutputLine(redactCheckSecrets(res.Output, secrets))
	}()
	if check == nil {
		return unknownf("no check given")
	}
	secrets = check.Secrets
	timeout := check.Timeout
	if timeout <= 0 {
		timeout = DefaultCheckTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()

	switch check.Kind {
	case definitions.CheckCommand:
		return c.checkCommand(ctx, ep, check, timeout)
	case definitions.CheckHTTP:
		return c.checkHTTP(ctx, check, timeout)
	case definitions.CheckTCP:
		return c.checkTCP(ctx, ep, check, timeout)
	case definitions.CheckSNMP:
		return c.checkSNMP(ctx, ep, check, timeout)
	case definitions.CheckLog:
		// Without a cursor (the monitor runner keeps them; see CheckLog):
		// the file is only looked at, from its end.
		res, _ := c.CheckLog(ctx, ep, check, nil)
		return res
	case definitions.CheckTrap:
		return unknownf("trap blocks take their state from the trap receiver; there is nothing to poll")
	default:
		return unknownf("unknown check kind %q", check.Kind)
	}
}

// bodyPattern returns the compiled pattern, cached: monitors reuse a
// handful of patterns thousands of times a minute.
func (c *Checker) bodyPattern(pattern string) (*regexp.Regexp, error) {
	c.patternsMu.Lock()
	defer c.patternsMu.Unlock()
	if re, ok := c.patterns[pattern]; ok {
		return re, nil
	}
	re, err := regexp.Compile(pattern)
	if err != nil {
		return nil, fmt.Errorf("body pattern %q: %w", pattern, err)
	}
	if len(c.patterns) > 4096 { // patterns come from definitions; bound anyway
		clear(c.patterns)
	}
	c.patterns[pattern] = re
	return re, nil
}

func unknownf(format string, args ...any) engine.CheckResult {
	return engine.CheckResult{State: engine.StateUnknown, Output: fmt.Sprintf(format, args...)}
}

func criticalf(format string, args ...any) engine.CheckResult {
	return engine.CheckResult{State: engine.StateCritical, Output: fmt.Sprintf(format, args...)}
}

// worseState orders states for combining several values: CRITICAL, then
// WARNING, then UNKNOWN, then OK (the Nagios order for service summaries).
func worseState(a, b engine.CheckState) engine.CheckState {
	rank := func(s engine.CheckState) int {
		switch s {
		case engine.StateCritical:
			return 3
		case engine.StateWarning:
			return 2
		case engine.StateUnknown:
			return 1
		default:
			return 0
		}
	}
	if rank(b) > rank(a) {
		return b
	}
	return a
}

// redactCheckSecrets replaces every secret in s.
func redactCheckSecrets(s string, secrets []string) string {
	for _, sec := range secrets {
		if sec != "" {
			s = strings.ReplaceAll(s, sec, "[redacted]")
		}
	}
	return s
}

// checkOutputLine keeps the first line of s, trimmed and capped at a UTF-8
// boundary.
func checkOutputLine(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	s = strings.TrimSpace(s)
	if len(s) <= maxCheckOutput {
		return s
	}
	cut := maxCheckOutput
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "..."
}

// roundDuration formats d for messages.
func roundDuration(d time.Duration) string {
	switch {
	case d >= time.Second:
		return d.Round(time.Millisecond).String()
	case d >= time.Millisecond:
		return d.Round(10 * time.Microsecond).String()
	default:
		return d.String()
	}
}
