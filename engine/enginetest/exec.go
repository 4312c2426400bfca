package enginetest

import (
	"context"
	"slices"
	"sort"
	"sync"
	"time"

	"github.com/ripple-ops/ripple/definitions"
	"github.com/ripple-ops/ripple/engine"
)

// Call is one executor call.
type Call struct {
	Seq  int
	Host string
	Step string // the step's name, or the destination of a restore
	// HostStep is the rendered step of a forward or rollback step (nil for a
	// restore): its command, environment and secrets.
	HostStep *definitions.HostStep
	Restore  bool
	Backup   *engine.Backup
}

// Exec is an engine.Executor that records calls and answers with Behave
// (default: ok). It tracks how many calls run at once; each call takes Delay
// of real time so that concurrency shows. Set the fields before use.
type Exec struct {
	Delay  time.Duration
	Behave func(host, step string) engine.StepResult
	// Block, when set, makes calls wait until it is closed.
	Block chan struct{}
	// Started, when set, receives "host/step" as each call starts.
	Started chan string

	mu     sync.Mutex
	calls  []Call
	cur    int
	maxCur int
}

var _ engine.Executor = (*Exec)(nil)

// RunStep implements engine.Executor.
func (e *Exec) RunStep(ctx context.Context, ep engine.Endpoint, hs *definitions.HostStep) engine.StepResult {
	return e.do(ctx, ep.Host.Name, hs.Name, false, nil, hs)
}

// Restore implements engine.Executor.
func (e *Exec) Restore(ctx context.Context, ep engine.Endpoint, b *engine.Backup) engine.StepResult {
	return e.do(ctx, ep.Host.Name, b.Destination, true, b, nil)
}

func (e *Exec) do(ctx context.Context, host, step string, restore bool, b *engine.Backup, hs *definitions.HostStep) engine.StepResult {
	e.mu.Lock()
	e.cur++
	e.maxCur = max(e.maxCur, e.cur)
	e.calls = append(e.calls, Call{Seq: len(e.calls), Host: host, Step: step, HostStep: hs, Restore: restore, Backup: b})
	block, started, delay := e.Block, e.Started, e.Delay
	e.mu.Unlock()
	if started != nil {
		started <- host + "/" + step
	}
	if block != nil {
		select {
		case <-block:
		case <-ctx.Done():
		}
	}
	time.Sleep(delay)
	e.mu.Lock()
	e.cur--
	behave := e.Behave
	e.mu.Unlock()
	if behave != nil && !restore {
		return behave(host, step)
	}
	return engine.StepResult{Status: engine.StepOK}
}

// SetBehave replaces Behave while calls may be running.
func (e *Exec) SetBehave(f func(host, step string) engine.StepResult) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.Behave = f
}

// Calls lists the calls so far, in order.
func (e *Exec) Calls() []Call {
	e.mu.Lock()
	defer e.mu.Unlock()
	return slices.Clone(e.calls)
}

// MaxConcurrent is the most calls seen running at once.
func (e *Exec) MaxConcurrent() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.maxCur
}

// Count returns how many times step ran on host (forward or rollback).
func (e *Exec) Count(host, step string) int {
	n := 0
	for _, c := range e.Calls() {
		if c.Host == host && c.Step == step {
			n++
		}
	}
	return n
}

// HostsTouched lists the hosts any call went to, sorted.
func (e *Exec) HostsTouched() []string {
	seen := map[string]bool{}
	for _, c := range e.Calls() {
		seen[c.Host] = true
	}
	var out []string
	for h := range seen {
		out = append(out, h)
	}
	sort.Strings(out)
	return out
}

// Checker is an engine.Checker that answers with State(monitor, host,
// now) on Clock's time.
type Checker struct {
	Clock engine.Clock
	State func(monitor, host string, now time.Time) engine.CheckState

	mu sync.Mutex
	n  int
}

var _ engine.Checker = (*Checker)(nil)

// Check implements engine.Checker.
func (c *Checker) Check(_ context.Context, ep engine.Endpoint, hc *definitions.HostCheck) engine.CheckResult {
	c.mu.Lock()
	c.n++
	state := c.State
	c.mu.Unlock()
	now := c.Clock.Now()
	st := state(hc.Monitor, ep.Host.Name, now)
	return engine.CheckResult{State: st, Output: st.String() + " from fake", At: now}
}

// SetState replaces State while checks may be running.
func (c *Checker) SetState(f func(monitor, host string, now time.Time) engine.CheckState) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.State = f
}

// Checks counts the checks so far.
func (c *Checker) Checks() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.n
}

// ProgressLog records progress events.
type ProgressLog struct {
	mu  sync.Mutex
	evs []engine.ProgressEvent
}

// Report implements engine.Progress.
func (p *ProgressLog) Report(ev engine.ProgressEvent) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.evs = append(p.evs, ev)
}

// Events lists the events so far, in order.
func (p *ProgressLog) Events() []engine.ProgressEvent {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.evs)
}

// Messages lists the messages of the events so far, in order; events
// without one are left out.
func (p *ProgressLog) Messages() []string {
	var out []string
	for _, ev := range p.Events() {
		if ev.Message != "" {
			out = append(out, ev.Message)
		}
	}
	return out
}
