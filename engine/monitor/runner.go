package monitor

import (
	"container/heap"
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rs/zerolog"

	"github.com/ripple-ops/ripple/definitions"
	"github.com/ripple-ops/ripple/engine"
	"github.com/ripple-ops/ripple/engine/schedule"
)

// Result is one check result with the alert state after it.
type Result struct {
	Monitor string
	Host    string
	Result  engine.CheckResult
	State   AlertState
	// LogCursor is where a log check stopped, to be kept in the same
	// write as State; nil for other checks and for a state alone.
	LogCursor *engine.LogCursor
}

// ResultSink records monitor results (metrics, state) durably. A result
// with a zero Result.At carries a change of the alert state alone (a
// delivery outcome, a released hold).
type ResultSink interface {
	RecordResult(ctx context.Context, r Result) error
}

// Options configures a Runner.
type Options struct {
	Checker engine.Checker
	Secrets definitions.SecretSource
	// Redact holds every secret the process has loaded: removed from each
	// check's output before it reaches an alert state, the store or a
	// notification. Nil redacts nothing beyond the check's own secrets.
	Redact        *engine.SecretRegistry
	Results       ResultSink              // optional
	Notifications engine.NotificationSink // optional
	// States, when set, is read once, by the first ApplyConfig, to restore
	// the alert states of the last run (and by Rebalance, for the pairs
	// this node takes over).
	States engine.MonitorStateStore
	// Owns, when set, says which (monitor, host) pairs this node checks:
	// in a cluster, each pair runs on one live node (rendezvous hashing).
	// A pair not owned is kept but not checked. Nil: every pair.
	Owns func(monitor, host string) bool
	// Claims, when set, makes each alert and recovery go out once across
	// a cluster's nodes: one whose claim another node won is not sent.
	Claims engine.NotificationClaims
	// Silences and Acks, when set, keep operators' silences and
	// acknowledgements: read by the first ApplyConfig and every
	// ControlRefresh (another node may have written them), written by
	// AddSilence, ExpireSilence and Acknowledge. Nil refuses those.
	Silences engine.SilenceStore
	Acks     engine.AckStore
	// Announcer, when set (in a cluster), is told after this node
	// recorded a silence, expired one or recorded an acknowledgement, so
	// that every node reads them again at once (RefreshControls).
	Announcer engine.ControlAnnouncer
	// ControlRefresh is how often silences, acknowledgements and, in a
	// cluster, the states of the pairs others depend on that another node
	// checks are read from the store; default 10s. In a cluster it is the
	// fallback for an announcement a node missed.
	ControlRefresh time.Duration
	Logger         zerolog.Logger
	// Concurrency bounds checks in flight; default 256.
	Concurrency int
	// TrapRate and TrapBurst limit the traps acted on per source address
	// (a token bucket); defaults DefaultTrapRate and DefaultTrapBurst.
	TrapRate  float64
	TrapBurst int
	Now       func() time.Time
}

// Runner runs every monitor on each of its target hosts at its
// interval, spread over the interval so checks do not fire together.
//
// Run owns one scheduling goroutine and at most Concurrency check
// goroutines; all stop when Run's context ends and Run waits for them.
type Runner struct {
	opts Options
	wake chan struct{}
	// reread wakes Run's refresh to read the controls again
	// (RefreshControls); one pending wake-up stands for any number.
	reread chan struct{}

	mu      sync.Mutex
	entries map[entryKey]*monitorEntry
	queue   entryQueue
	defs    *definitions.Definitions
	held    map[string]int // host -> active waves holding its alerts
	// restored is set once the first ApplyConfig restored the stored
	// states; only ApplyConfig's caller (the daemon's goroutine) uses it.
	restored bool
	traps    *trapRuntime

	// What suppression looks up, rebuilt by apply (suppress.go).
	conn       map[string][]*monitorEntry // host -> its connectivity entries
	children   map[string][]string        // host -> the hosts that name it a parent
	dependedOn map[string]bool            // monitors some depends_on names
	// remote holds the states of the pairs others depend on that another
	// node checks, read from the store (cluster only).
	remote map[entryKey]guardView
	// unsettled holds, per host, the entries whose alert or recovery a
	// suppression holds back (settle.go).
	unsettled map[string]map[entryKey]*monitorEntry
	// wakeAt is the earliest time a suppression may end by itself (a
	// silence expires, a wait for a dependency gives up); zero for none.
	wakeAt   time.Time
	silences map[string][]engine.Silence // by monitor, active ones
	acks     map[entryKey]engine.Ack
	// version counts the changes States shows in counts (see
	// StatesVersion).
	version atomic.Uint64
}

type entryKey struct{ monitor, host string }

// monitorEntry is one (monitor, host) pair: what to run, when, and its state.
type monitorEntry struct {
	key         entryKey
	fingerprint [32]byte
	monitor     *definitions.Monitor
	endpoint    engine.Endpoint
	check       *definitions.HostCheck
	renderErr   string
	window      *schedule.Window
	due         time.Time
	running     bool
	removed     bool
	index       int // in queue; -1 when not queued
	state       AlertState
	owned       bool // this node checked it at the last Rebalance
	// cursor is where the log check stopped reading (log checks only).
	cursor *engine.LogCursor
	// logMu serializes the log checks of the entry, scheduled and gate
	// (CheckNow), from reading its cursor to saving the new one, so that
	// no two checks read the same lines.
	logMu sync.Mutex
	// passive entries are trap blocks: results come from ReceiveTrap;
	// they are queued only to clear after clear_after.
	passive  bool
	renderer *definitions.TrapRenderer
}

// checkSpec is what one check run needs, copied under the lock so a reload
// can swap an entry's definitions while its check is in flight.
type checkSpec struct {
	endpoint  engine.Endpoint
	check     *definitions.HostCheck
	timeout   time.Duration
	renderErr string
}

func (e *monitorEntry) spec() checkSpec {
	return checkSpec{endpoint: e.endpoint, check: e.check, timeout: e.monitor.Timeout, renderErr: e.renderErr}
}

// New returns a runner with no monitors; ApplyConfig loads them.
func New(opts Options) *Runner {
	if opts.Concurrency <= 0 {
		opts.Concurrency = 256
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.ControlRefresh <= 0 {
		opts.ControlRefresh = 10 * time.Second
	}
	return &Runner{
		opts:      opts,
		wake:      make(chan struct{}, 1),
		reread:    make(chan struct{}, 1),
		entries:   map[entryKey]*monitorEntry{},
		held:      map[string]int{},
		traps:     newTrapRuntime(opts.TrapRate, opts.TrapBurst),
		remote:    map[entryKey]guardView{},
		unsettled: map[string]map[entryKey]*monitorEntry{},
		silences:  map[string][]engine.Silence{},
		acks:      map[entryKey]engine.Ack{},
	}
}

// ApplyConfig implements engine.ConfigApplier: it swaps in the monitors
// of defs (see apply) and, the first time, reads the silences and
// acknowledgements and restores the alert states the store kept from the
// last run (Options.States), so that a restart neither re-sends nor
// forgets an alert.
//
// The stored states are seeded in the same critical section that adds the
// entries, before any of them can be checked: a log check that ran first
// would start at the end of its file and skip what was written while the
// daemon was down.
func (r *Runner) ApplyConfig(ctx context.Context, defs *definitions.Definitions) error {
	if r.restored {
		r.apply(defs, nil)
		return nil
	}
	r.restored = true
	if _, err := r.loadControls(ctx); err != nil {
		r.apply(defs, nil)
		return fmt.Errorf("read silences and acknowledgements: %w", err)
	}
	if r.opts.States == nil {
		r.apply(defs, nil)
		return nil
	}
	recs, err := r.opts.States.MonitorStates(ctx)
	if err != nil {
		r.apply(defs, nil)
		return fmt.Errorf("restore monitor states: %w", err)
	}
	_, owed := r.apply(defs, recs)
	r.resend(ctx, owed)
	return nil
}

// apply swaps in the monitors of defs, like a config reload: a
// (monitor, host) whose rendered check, host and credential are unchanged
// keeps its schedule, state and history; a changed one starts afresh
// (keeping only its log cursor: a changed pattern reads on from where the
// old one stopped); a removed one stops. restore seeds the states of new
// entries (see RestoreStates) before they are scheduled. It returns the
// monitors removed entirely and the notifications restore left owed.
func (r *Runner) apply(defs *definitions.Definitions, restore []engine.MonitorRecord) (removed []string, owed []owedNotification) {
	now := r.opts.Now()
	next := map[entryKey]*monitorEntry{}
	for _, m := range defs.Monitors {
		var win *schedule.Window
		if m.Window != "" {
			win = schedule.NewWindow(defs.Windows[m.Window]) // validated at load
		}
		for _, h := range defs.Select(m.Targets) {
			e := &monitorEntry{key: entryKey{m.Name, h.Name}, monitor: m, window: win, index: -1}
			e.owned = r.owns(e)
			if m.Check.Kind == definitions.CheckTrap {
				e.passive, e.renderer = true, defs.TrapRenderer(m, h)
			}
			e.endpoint = engine.Endpoint{Host: h, Credential: defs.Credential(h)}
			if e.endpoint.Credential != nil && e.endpoint.Credential.Passphrase != nil {
				p, diags := defs.ResolveSecret(e.endpoint.Credential.Passphrase, r.opts.Secrets)
				if diags.HasErrors() {
					e.renderErr = diags.Error()
				}
				e.endpoint.Passphrase = p
			}
			c, diags := defs.RenderCheck(m, h, r.opts.Secrets)
			if diags.HasErrors() {
				e.renderErr = diags.Error()
			}
			e.check = c
			e.fingerprint = fingerprint(m, h, e.endpoint, c, e.renderErr)
			next[e.key] = e
		}
	}

	r.mu.Lock()
	defer r.mu.Unlock()
	defer r.changed()
	stillThere := map[string]bool{}
	for k := range next {
		stillThere[k.monitor] = true
	}
	kept := map[entryKey]bool{}
	for k, old := range r.entries {
		if n, ok := next[k]; ok && n.fingerprint == old.fingerprint {
			// Unchanged: keep the entry with its schedule and state, pointing
			// at the new (equal) definitions.
			old.monitor, old.endpoint, old.check, old.window = n.monitor, n.endpoint, n.check, n.window
			old.renderer = n.renderer
			next[k] = old
			kept[k] = true
			continue
		}
		old.removed = true
		if old.index >= 0 {
			heap.Remove(&r.queue, old.index)
		}
		if n, ok := next[k]; ok {
			n.cursor = old.cursor
		}
		if !stillThere[k.monitor] {
			removed = append(removed, k.monitor)
		}
	}
	for k, e := range next {
		if !kept[k] && !e.passive {
			e.due = now.Add(jitter(k, e.monitor.Interval))
			heap.Push(&r.queue, e)
		}
	}
	r.entries = next
	r.defs = defs
	r.indexDependencies(defs)
	r.unsettled = map[string]map[entryKey]*monitorEntry{}
	owed = r.seed(restore)
	for k, e := range next {
		if kept[k] || !e.passive {
			continue
		}
		switch spec := e.check; {
		case !e.state.seen:
			// No trap yet is no problem yet.
			e.state.Observe(k.monitor, k.host, engine.CheckResult{State: engine.StateOK, Output: "no trap received", At: now}, 1, 0, Suppression{Muted: true})
		case spec != nil && spec.Trap != nil && spec.Trap.ClearAfter > 0 && e.state.State != engine.StateOK:
			e.due = e.state.LastAt.Add(spec.Trap.ClearAfter)
			heap.Push(&r.queue, e)
		}
	}
	r.indexTraps(defs)
	for _, e := range next {
		r.settle(e)
	}
	sort.Strings(removed)
	removed = dedupe(removed)
	for _, m := range removed {
		r.opts.Logger.Info().Str("monitor", m).Msg("monitor removed; its checks stopped")
	}
	r.signal()
	return removed, owed
}

// Run schedules checks until ctx ends, then waits for checks in flight.
// Beside them it reads, every ControlRefresh, what other nodes may have
// changed (controls.go), and the controls again at once when
// RefreshControls asks; and it wakes when a suppression may end by
// itself.
func (r *Runner) Run(ctx context.Context) error {
	sem := make(chan struct{}, r.opts.Concurrency)
	var wg sync.WaitGroup
	defer wg.Wait()
	wg.Go(func() { r.runTraps(ctx) })
	wg.Go(func() {
		t := time.NewTicker(r.opts.ControlRefresh)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				r.refresh(ctx)
			case <-r.reread:
				r.refreshControls(ctx)
			}
		}
	})
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		r.mu.Lock()
		now := r.opts.Now()
		var swept []owedSend
		if !r.wakeAt.IsZero() && !now.Before(r.wakeAt) {
			swept = r.sweepAllLocked(now)
		}
		type dueCheck struct {
			e    *monitorEntry
			spec checkSpec
		}
		var due []dueCheck
		for r.queue.Len() > 0 && !r.queue[0].due.After(now) {
			e := heap.Pop(&r.queue).(*monitorEntry)
			if e.passive {
				r.expireTrap(e, now) // every node clears the traps it received
				continue
			}
			if !r.owns(e) {
				// Another node checks it; look again at its next turn,
				// in case that node goes away.
				e.due = now.Add(max(e.monitor.Interval, time.Second))
				heap.Push(&r.queue, e)
				continue
			}
			e.running = true
			due = append(due, dueCheck{e, e.spec()})
		}
		wait := time.Hour
		if r.queue.Len() > 0 {
			wait = r.queue[0].due.Sub(now)
		}
		if !r.wakeAt.IsZero() {
			wait = min(wait, r.wakeAt.Sub(now))
		}
		r.mu.Unlock()
		r.deliver(ctx, swept)

		for _, d := range due {
			select {
			case sem <- struct{}{}:
			case <-ctx.Done():
				return nil
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer func() { <-sem }()
				r.runEntry(ctx, d.e, d.spec)
			}()
		}
		if len(due) > 0 {
			continue
		}
		timer.Reset(wait)
		select {
		case <-ctx.Done():
			return nil
		case <-r.wake:
		case <-timer.C:
		}
	}
}

func (r *Runner) runEntry(ctx context.Context, e *monitorEntry, spec checkSpec) {
	res, cursor, unlock := r.checkEntry(ctx, e, spec)
	defer unlock()
	r.mu.Lock()
	e.running = false
	if e.removed || ctx.Err() != nil {
		r.mu.Unlock()
		return
	}
	if cursor != nil {
		e.cursor = cursor
	}
	notes, swept := r.observe(e, res)
	snapshot := e.state
	e.due = res.At.Add(e.monitor.Interval)
	if e.due.Before(r.opts.Now()) {
		e.due = r.opts.Now()
	}
	heap.Push(&r.queue, e)
	notify := e.monitor.Notify
	r.mu.Unlock()
	r.signal()

	if r.opts.Results != nil {
		if err := r.opts.Results.RecordResult(ctx, Result{Monitor: e.key.monitor, Host: e.key.host, Result: res, State: snapshot, LogCursor: cursor}); err != nil {
			r.opts.Logger.Warn().Err(err).Str("monitor", e.key.monitor).Str("host", e.key.host).Msg("record check result")
		}
	}
	r.send(ctx, notify, notes)
	r.deliver(ctx, swept)
}

// observe feeds res into e's state and returns what it makes owed now,
// issued. When others' suppression reads e's state (a connectivity
// monitor, a depends_on target, polled or trap alike), it also decides
// again at once the held alerts and recoveries that result may release
// (or keep held) and returns them as swept. Every result goes through
// here, so no kind of result can change a guard without its dependents
// hearing of it. Call it with r.mu held; hand swept to deliver (or queue
// it) once the lock is released.
func (r *Runner) observe(e *monitorEntry, res engine.CheckResult) (notes []engine.Notification, swept []owedSend) {
	before := e.state.marks()
	defer func() {
		if e.state.marks() != before {
			r.changed()
		}
	}()
	prev := e.state.record(res, e.monitor.AlertAfter)
	sup := r.suppressionAt(e, res.At, true)
	notes = e.state.decide(e.key.monitor, e.key.host, prev, res.At, e.monitor.RepeatInterval, sup)
	r.issue(e, notes)
	r.settle(e)
	if r.isGuard(e) {
		swept = r.sweepLocked(r.affectedHosts(e), r.opts.Now())
	}
	return notes, swept
}

// issue gives notes what the monitor says every alert carries (severity,
// labels, runbook) and makes the last of them (Observe and Release return
// at most one) the entry's pending notification, owed to every notifier
// of its monitor until the sink reports it delivered. Call it with r.mu
// held.
func (r *Runner) issue(e *monitorEntry, notes []engine.Notification) {
	for i := range notes {
		notes[i].Severity, notes[i].Labels, notes[i].Runbook = e.monitor.Severity, e.monitor.Labels, e.monitor.Runbook
	}
	if len(notes) > 0 {
		e.state.Pending = newPending(notes[len(notes)-1], e.monitor.Notify)
	}
}

// NotificationOutcome records the outcome of one delivery attempt of n to
// notifier: failure says why it failed (without secrets), "" that it was
// delivered or that nothing is left to deliver. The pending notification
// is updated and saved, so that a restart re-sends only what is still
// owed. Outcomes for anything but the pending notification are ignored.
func (r *Runner) NotificationOutcome(ctx context.Context, notifier string, n engine.Notification, failure string) {
	r.mu.Lock()
	e, ok := r.entries[entryKey{n.Monitor, n.Host}]
	if !ok || e.removed {
		r.mu.Unlock()
		return
	}
	next, changed := withOutcome(e.state.Pending, notifier, n, failure)
	if !changed {
		r.mu.Unlock()
		return
	}
	e.state.Pending = next
	snapshot := e.state
	r.changed()
	r.mu.Unlock()
	r.saveState(ctx, e.key, snapshot)
}

// saveState records the alert state of k alone.
func (r *Runner) saveState(ctx context.Context, k entryKey, st AlertState) {
	if r.opts.Results == nil {
		return
	}
	if err := r.opts.Results.RecordResult(ctx, Result{Monitor: k.monitor, Host: k.host, State: st}); err != nil {
		r.opts.Logger.Warn().Err(err).Str("monitor", k.monitor).Str("host", k.host).Msg("record alert state")
	}
}

// StatesVersion implements httpapi.VersionedSource: it changes whenever
// something States shows changes a count (a pair's first result, its
// state, firing, flapping or undelivered alert, a hold, a silence or
// acknowledgement, a reload, a rebalance), not with every result: a
// problem's latest output, a suppression's cause or a silence running
// out may be newer than the version says.
func (r *Runner) StatesVersion() uint64 { return r.version.Load() }

// changed notes a change StatesVersion tells of.
func (r *Runner) changed() { r.version.Add(1) }

// States lists the state of every (monitor, host), sorted.
func (r *Runner) States() []engine.MonitorHostState {
	return r.statesOf(func(entryKey) bool { return true }, 0)
}

// HostStates lists the state of each monitor on host, by monitor: a
// host's page without the states of every pair.
func (r *Runner) HostStates(host string) []engine.MonitorHostState {
	return r.statesOf(func(k entryKey) bool { return k.host == host }, 16)
}

// statesOf lists the states of the entries keep keeps, sorted by
// monitor, then host.
func (r *Runner) statesOf(keep func(entryKey) bool, size int) []engine.MonitorHostState {
	r.mu.Lock()
	defer r.mu.Unlock()
	now := r.opts.Now()
	if size == 0 {
		size = len(r.entries)
	}
	out := make([]engine.MonitorHostState, 0, size)
	for k, e := range r.entries {
		if !keep(k) {
			continue
		}
		sup := r.suppressionAt(e, now, false)
		st := e.state.hostState(k.monitor, k.host, sup)
		st.Silence, st.Ack = r.silenceOf(k, now), r.ackOf(e)
		// Also a secret loaded after this output was recorded.
		st.LastOutput = r.opts.Redact.Redact(st.LastOutput)
		out = append(out, st)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Monitor != out[j].Monitor {
			return out[i].Monitor < out[j].Monitor
		}
		return out[i].Host < out[j].Host
	})
	return out
}

func (r *Runner) send(ctx context.Context, notifiers []string, notes []engine.Notification) {
	if r.opts.Notifications == nil || len(notifiers) == 0 {
		return
	}
	for _, n := range notes {
		if r.opts.Claims != nil {
			won, err := r.opts.Claims.ClaimNotification(ctx, n)
			if err != nil {
				// Unclaimed is unsent: the notification stays pending and
				// goes out at the next result or restart.
				r.opts.Logger.Warn().Err(err).Str("monitor", n.Monitor).Str("host", n.Host).Msg("claim notification")
				continue
			}
			if !won {
				r.opts.Logger.Debug().Str("monitor", n.Monitor).Str("host", n.Host).Str("kind", string(n.Kind)).Msg("another node sent this notification")
				r.dropPending(ctx, n)
				continue
			}
		}
		r.opts.Notifications.Notify(ctx, notifiers, n)
	}
}

// owns reports whether this node checks e. Call it with r.mu held.
func (r *Runner) owns(e *monitorEntry) bool {
	return r.opts.Owns == nil || r.opts.Owns(e.key.monitor, e.key.host)
}

// dropPending forgets the pending notification n: another node of the
// cluster claimed and sends it.
func (r *Runner) dropPending(ctx context.Context, n engine.Notification) {
	r.mu.Lock()
	e, ok := r.entries[entryKey{n.Monitor, n.Host}]
	if !ok || !samePending(e.state.Pending, n) {
		r.mu.Unlock()
		return
	}
	e.state.Pending = nil
	snapshot := e.state
	r.mu.Unlock()
	r.saveState(ctx, e.key, snapshot)
}

// Rebalance is called when the cluster's live nodes change: the pairs
// this node now owns and did not check before take their alert state from
// the store (the node that checked them saved it with every result), so
// that an alert is neither sent again nor forgotten when checks move.
func (r *Runner) Rebalance(ctx context.Context) {
	if r.opts.Owns == nil || r.opts.States == nil {
		return
	}
	recs, err := r.opts.States.MonitorStates(ctx)
	if err != nil {
		r.opts.Logger.Warn().Err(err).Msg("rebalance: read monitor states")
		return
	}
	byKey := make(map[entryKey]engine.MonitorRecord, len(recs))
	for _, rec := range recs {
		byKey[entryKey{rec.Monitor, rec.Host}] = rec
	}
	r.mu.Lock()
	var gained []engine.MonitorRecord
	for k, e := range r.entries {
		if e.passive {
			continue // every node acts on the traps it receives
		}
		owns := r.owns(e)
		if owns && !e.owned {
			if rec, ok := byKey[k]; ok {
				gained = append(gained, rec)
				e.state = AlertState{} // RestoreStates seeds fresh states only
			}
			e.due = r.opts.Now() // check it now: its previous owner may be gone
			if e.index >= 0 {
				heap.Fix(&r.queue, e.index)
			}
		}
		e.owned = owns
	}
	r.changed()
	r.mu.Unlock()
	r.signal()
	if len(gained) > 0 {
		r.RestoreStates(ctx, gained)
	}
	r.opts.Logger.Info().Int("taken_over", len(gained)).Msg("monitor checks rebalanced")
}

func (r *Runner) signal() {
	select {
	case r.wake <- struct{}{}:
	default:
	}
}

// jitter spreads first runs over the interval, stably per (monitor, host),
// so a restart does not make all checks fire together.
func jitter(k entryKey, interval time.Duration) time.Duration {
	if interval <= 0 {
		return 0
	}
	h := fnv.New64a()
	h.Write([]byte(k.monitor))
	h.Write([]byte{0})
	h.Write([]byte(k.host))
	return time.Duration(h.Sum64() % uint64(interval))
}

// fingerprint identifies what an entry does; secrets only enter it hashed.
func fingerprint(m *definitions.Monitor, h *definitions.Host, ep engine.Endpoint, c *definitions.HostCheck, renderErr string) [32]byte {
	b, _ := json.Marshal(struct {
		Interval, Timeout    time.Duration
		AlertAfter           int
		Notify               []string
		Window               string
		Address              string
		Port                 int
		Transport            string
		Credential           any
		Passphrase, RenderEr string
		Check                *definitions.HostCheck
	}{m.Interval, m.Timeout, m.AlertAfter, m.Notify, m.Window, h.Address, h.Port, h.Transport, credentialKey(ep.Credential), ep.Passphrase, renderErr, c})
	return sha256.Sum256(b)
}

func credentialKey(c *definitions.Credential) any {
	if c == nil {
		return nil
	}
	return []any{c.Name, c.User, c.PrivateKeyFile, c.KnownHostsFile, c.UseAgent, c.Become}
}

func dedupe(s []string) []string {
	out := s[:0]
	for i, v := range s {
		if i == 0 || v != s[i-1] {
			out = append(out, v)
		}
	}
	return out
}

// entryQueue is a min-heap of entries by due time.
type entryQueue []*monitorEntry

func (q entryQueue) Len() int           { return len(q) }
func (q entryQueue) Less(i, j int) bool { return q[i].due.Before(q[j].due) }
func (q entryQueue) Swap(i, j int) {
	q[i], q[j] = q[j], q[i]
	q[i].index = i
	q[j].index = j
}
func (q *entryQueue) Push(x any) {
	e := x.(*monitorEntry)
	e.index = len(*q)
	*q = append(*q, e)
}
func (q *entryQueue) Pop() any {
	old := *q
	e := old[len(old)-1]
	old[len(old)-1] = nil
	e.index = -1
	*q = old[:len(old)-1]
	return e
}
