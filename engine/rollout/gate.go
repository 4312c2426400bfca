package rollout

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/ripple-ops/ripple/engine"
)

// Gate defaults, as Nomad's update block.
const (
	defaultMinHealthyTime  = 10 * time.Second
	defaultHealthyDeadline = 5 * time.Minute
	minGatePoll            = 50 * time.Millisecond
	gateConcurrency        = 64
)

// gatePair is one gate monitor's check on one host.
type gatePair struct{ monitor, host string }

func (p gatePair) String() string { return p.monitor + "@" + p.host }

// gateTrack is what the gate knows about one pair: since when it has been
// OK without a break (zero when it is not OK) and its last result.
type gateTrack struct {
	okSince time.Time
	last    engine.CheckResult
}

// gateVerdict is the health gate's one decision, Nomad's timers: the gate
// passes once every pair has been OK continuously for minHealthy; at the
// deadline it is over, and the pairs not healthy by then are returned
// (their hosts count against the wave's failure budget). Before the
// deadline, with some pair not yet healthy long enough, neither: keep
// polling.
func gateVerdict(pairs []gatePair, tracks map[gatePair]*gateTrack, now, deadline time.Time, minHealthy time.Duration) (done bool, unhealthy []gatePair) {
	for _, p := range pairs {
		t := tracks[p]
		if t == nil || t.okSince.IsZero() || now.Sub(t.okSince) < minHealthy {
			unhealthy = append(unhealthy, p)
		}
	}
	if len(unhealthy) == 0 {
		return true, nil
	}
	if now.Before(deadline) {
		return false, nil
	}
	return true, unhealthy
}

// unhealthyHosts says, per host, why its gate pairs were not healthy:
// "monitor@host STATE: output" for each, joined by "; ".
func unhealthyHosts(pairs []gatePair, tracks map[gatePair]*gateTrack, minHealthy time.Duration) map[string]string {
	out := map[string]string{}
	for _, p := range pairs {
		t := tracks[p]
		state, why := "no result", ""
		if t != nil && !t.last.At.IsZero() {
			state, why = t.last.State.String(), engine.FirstLine(t.last.Output, 200)
			if t.last.State == engine.StateOK {
				state = fmt.Sprintf("OK for less than %s", minHealthy)
			}
		}
		line := p.String() + " " + state
		if why != "" {
			line += ": " + why
		}
		if prev := out[p.host]; prev != "" {
			line = prev + "; " + line
		}
		out[p.host] = line
	}
	return out
}

// gatePairs lists the (monitor, host) pairs the job's gate watches among
// hosts: each gate monitor on the hosts it targets.
func (x *runExec) gatePairs(hosts []string) []gatePair {
	hg := x.job.Rollout.HealthGate
	if hg == nil {
		return nil
	}
	in := map[string]bool{}
	for _, h := range hosts {
		in[h] = true
	}
	var pairs []gatePair
	for _, name := range hg.Monitors {
		m := x.defs.Monitors[name]
		if m == nil {
			x.log.Warn().Str("monitor", name).Msg("gate monitor is not defined; ignored")
			continue
		}
		for _, h := range x.defs.Select(m.Targets) {
			if in[h.Name] {
				pairs = append(pairs, gatePair{monitor: name, host: h.Name})
			}
		}
	}
	return pairs
}

// sampleBaseline checks every gate pair of the run once before wave 1 and
// records those already failing, so that the plan's warning, the run's
// start and its page can name them. They count like every other host:
// still failing at a wave's healthy_deadline, a host counts against the
// wave's failure budget. The sample is an event, so a resumed run does not
// take it again.
func (x *runExec) sampleBaseline(ctx context.Context) error {
	if _, ok := x.ev.find(engine.EventGateBaseline); ok {
		return nil
	}
	var all []string
	for _, w := range x.run.Waves {
		all = append(all, w...)
	}
	pairs := x.gatePairs(all)
	if len(pairs) == 0 || x.r.opts.Checker == nil {
		return nil
	}
	results, err := x.checkPairs(ctx, pairs)
	if err != nil {
		return err
	}
	var failing []string
	for _, p := range pairs {
		if r := results[p]; r.State != engine.StateOK {
			failing = append(failing, p.String())
		}
	}
	sort.Strings(failing)
	if err := x.event(ctx, engine.EventGateBaseline, engine.ActorRipple, strings.Join(failing, "\n")); err != nil {
		return err
	}
	if len(failing) > 0 {
		x.log.Warn().Strs("checks", failing).Msg("gate checks failing before the run; they count at each wave's deadline")
		x.report(engine.ProgressEvent{Kind: engine.ProgressGate, Message: fmt.Sprintf("%s already failing before the run (they count: still failing at a wave's healthy_deadline, a host fails): %s", engine.Plural(len(failing), "gate check"), strings.Join(failing, ", "))})
	}
	return nil
}

// gate holds wave w until its gate is over: it returns, per host, why
// the host was not healthy by the deadline (empty when every pair passed).
// hosts are the wave's hosts that finished their steps. An abort ends the
// wait early with no verdict (the caller applies it).
func (x *runExec) gate(ctx context.Context, w int, hosts []string) (unhealthy map[string]string, err error) {
	hg := x.job.Rollout.HealthGate
	if hg == nil || len(hg.Monitors) == 0 {
		return nil, nil
	}
	pairs := x.gatePairs(hosts)
	if len(pairs) == 0 {
		return nil, nil
	}
	minHealthy, deadlineAfter := hg.MinHealthyTime, hg.HealthyDeadline
	if minHealthy <= 0 {
		minHealthy = defaultMinHealthyTime
	}
	if deadlineAfter <= 0 {
		deadlineAfter = defaultHealthyDeadline
	}
	if x.r.opts.Checker == nil {
		out := map[string]string{}
		for _, p := range pairs {
			out[p.host] = "no checker is configured to run the health gate's checks"
		}
		return out, nil
	}
	poll := x.r.opts.GatePoll
	if half := minHealthy / 2; poll > half {
		poll = max(half, minGatePoll)
	}
	clock := x.r.opts.Clock
	start := clock.Now()
	deadline := start.Add(deadlineAfter)
	x.log.Info().Int("wave", w+1).Int("checks", len(pairs)).Stringer("min_healthy_time", minHealthy).Stringer("healthy_deadline", deadlineAfter).Msg("health gate")
	x.report(engine.ProgressEvent{Kind: engine.ProgressGate, Wave: w + 1, Message: fmt.Sprintf("health gate: %s must stay OK for %s (deadline %s)", engine.Plural(len(pairs), "check"), minHealthy, deadlineAfter)})

	tracks := map[gatePair]*gateTrack{}
	for {
		results, err := x.checkPairs(ctx, pairs)
		if err != nil {
			return nil, err
		}
		now := clock.Now()
		for _, p := range pairs {
			t := tracks[p]
			if t == nil {
				t = &gateTrack{}
				tracks[p] = t
			}
			r := results[p]
			t.last = r
			switch {
			case r.State != engine.StateOK:
				t.okSince = time.Time{}
			case t.okSince.IsZero():
				t.okSince = now
			}
		}
		if done, bad := gateVerdict(pairs, tracks, now, deadline, minHealthy); done {
			if len(bad) == 0 {
				x.report(engine.ProgressEvent{Kind: engine.ProgressGate, Wave: w + 1, Message: "health gate passed"})
				return nil, nil
			}
			return unhealthyHosts(bad, tracks, minHealthy), nil
		}
		wait := poll
		if left := deadline.Sub(now); left < wait {
			wait = left
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-x.ctl.abort:
			return nil, nil
		case <-clock.After(wait):
		}
	}
}

// recordGateFailures writes the hosts of wave w the gate found unhealthy
// as an event, before the wave's verdict: the run's page and a resumed
// run know them from it.
func (x *runExec) recordGateFailures(ctx context.Context, w int, unhealthy map[string]string) error {
	hosts := slices.Sorted(maps.Keys(unhealthy))
	var b strings.Builder
	fmt.Fprintf(&b, "wave %d/%d: %s not healthy by the deadline", w+1, len(x.run.Waves), engine.Plural(len(hosts), "host"))
	for _, h := range hosts {
		b.WriteString("\n" + h + ": " + unhealthy[h])
	}
	for h, why := range unhealthy {
		x.gateFailed[h] = why
	}
	return x.event(ctx, engine.EventGateFailed, engine.ActorRipple, b.String())
}

// checkPairs runs each pair's check once, in parallel.
func (x *runExec) checkPairs(ctx context.Context, pairs []gatePair) (map[gatePair]engine.CheckResult, error) {
	out := make(map[gatePair]engine.CheckResult, len(pairs))
	var mu sync.Mutex
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(gateConcurrency)
	for _, p := range pairs {
		g.Go(func() error {
			r := x.checkOne(gctx, p)
			mu.Lock()
			out[p] = r
			mu.Unlock()
			return nil
		})
	}
	_ = g.Wait() // checkOne reports problems as results
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return out, nil
}

func (x *runExec) checkOne(ctx context.Context, p gatePair) engine.CheckResult {
	now := x.r.opts.Clock.Now()
	m, h := x.defs.Monitors[p.monitor], x.defs.Hosts[p.host]
	if m == nil || h == nil {
		return engine.CheckResult{State: engine.StateUnknown, Output: "monitor or host not defined", At: now}
	}
	ep, err := x.endpoint(h)
	if err != nil {
		return engine.CheckResult{State: engine.StateUnknown, Output: err.Error(), At: now}
	}
	hc, err := renderCheck(x.defs, m, h, x.r.opts.Secrets)
	if err != nil {
		return engine.CheckResult{State: engine.StateUnknown, Output: "cannot render check: " + err.Error(), At: now}
	}
	timeout := m.Timeout
	if timeout <= 0 {
		timeout = 10 * time.Second
	}
	cctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	r := x.r.opts.Checker.Check(cctx, ep, hc)
	if r.At.IsZero() {
		r.At = now
	}
	return r
}
