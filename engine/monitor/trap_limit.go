package monitor

import (
	"net/netip"
	"sort"
	"sync"
	"time"

	"github.com/ripple-ops/ripple/engine"
)

// Trap rate limits, per source address: a token bucket of DefaultTrapBurst
// traps refilled at DefaultTrapRate a second.
const (
	DefaultTrapRate  = 20.0
	DefaultTrapBurst = 100
	// maxTrapSources bounds the sources tracked at once (senders can be
	// spoofed); idle full buckets are forgotten first.
	maxTrapSources = 1 << 16
	// maxDeferredPerSource bounds the traps kept for later per source:
	// one per OID.
	maxDeferredPerSource = 64
	// maxDeferredBytes bounds the traps kept for later over all sources
	// (spoofed sources with a valid community could otherwise hold 64
	// large traps each); a trap that would go over it is not kept.
	maxDeferredBytes = 16 << 20
)

// trapLimiter limits the traps acted on per source. A trap over the limit
// is not acted on by itself, but the latest one of each OID is kept and
// handed back once the source is under the limit again, so a flapping
// device cannot flood the alerting and still ends in the state it last
// reported. Safe for concurrent use.
type trapLimiter struct {
	rate  float64
	burst float64

	mu       sync.Mutex
	sources  map[netip.Addr]*trapBucket
	deferred int // bytes of the kept traps (trapSize)
}

type trapBucket struct {
	tokens   float64
	last     time.Time
	deferred map[string]engine.Trap // by OID
}

func newTrapLimiter(rate float64, burst int) *trapLimiter {
	if rate <= 0 {
		rate = DefaultTrapRate
	}
	if burst <= 0 {
		burst = DefaultTrapBurst
	}
	return &trapLimiter{rate: rate, burst: float64(burst), sources: map[netip.Addr]*trapBucket{}}
}

// allow reports whether t may be acted on now; when not, t is kept as the
// latest of its OID from its source.
func (l *trapLimiter) allow(t engine.Trap, now time.Time) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.bucket(t.Source, now)
	if b.tokens >= 1 {
		b.tokens--
		return true
	}
	if b.deferred == nil {
		b.deferred = map[string]engine.Trap{}
	}
	old, replace := b.deferred[t.OID]
	grow := trapSize(t)
	if replace {
		grow -= trapSize(old)
	}
	if (replace || len(b.deferred) < maxDeferredPerSource) && l.deferred+grow <= maxDeferredBytes {
		b.deferred[t.OID] = t
		l.deferred += grow
	}
	return false
}

// trapSize estimates the memory a kept trap holds.
func trapSize(t engine.Trap) int {
	n := 64 + len(t.OID) + len(t.Version)
	for _, p := range t.Profiles {
		n += len(p)
	}
	for _, v := range t.Varbinds {
		n += 32 + len(v.OID) + len(v.Value)
	}
	return n
}

// bucket returns src's bucket, refilled up to now. Call with l.mu held.
func (l *trapLimiter) bucket(src netip.Addr, now time.Time) *trapBucket {
	b := l.sources[src]
	if b == nil {
		if len(l.sources) >= maxTrapSources {
			l.forgetIdle(now)
		}
		b = &trapBucket{tokens: l.burst, last: now}
		l.sources[src] = b
		return b
	}
	if d := now.Sub(b.last); d > 0 {
		b.tokens = min(l.burst, b.tokens+d.Seconds()*l.rate)
		b.last = now
	}
	return b
}

// forgetIdle drops buckets that are full and keep nothing; if that frees
// nothing, it drops the least recently used half.
func (l *trapLimiter) forgetIdle(now time.Time) {
	for src, b := range l.sources {
		if len(b.deferred) == 0 && min(l.burst, b.tokens+now.Sub(b.last).Seconds()*l.rate) >= l.burst {
			delete(l.sources, src)
		}
	}
	if len(l.sources) < maxTrapSources {
		return
	}
	type aged struct {
		src  netip.Addr
		last time.Time
	}
	all := make([]aged, 0, len(l.sources))
	for src, b := range l.sources {
		all = append(all, aged{src, b.last})
	}
	sort.Slice(all, func(i, j int) bool { return all[i].last.Before(all[j].last) })
	for _, a := range all[:len(all)/2] {
		for _, t := range l.sources[a.src].deferred {
			l.deferred -= trapSize(t)
		}
		delete(l.sources, a.src)
	}
}

// release returns the kept traps whose source is under the limit again,
// oldest first, taking a token for each.
func (l *trapLimiter) release(now time.Time) []engine.Trap {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []engine.Trap
	for src, b := range l.sources {
		if len(b.deferred) == 0 {
			continue
		}
		b = l.bucket(src, now)
		kept := make([]engine.Trap, 0, len(b.deferred))
		for _, t := range b.deferred {
			kept = append(kept, t)
		}
		sort.Slice(kept, func(i, j int) bool { return kept[i].At.Before(kept[j].At) })
		for _, t := range kept {
			if b.tokens < 1 {
				break
			}
			b.tokens--
			delete(b.deferred, t.OID)
			l.deferred -= trapSize(t)
			out = append(out, t)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].At.Before(out[j].At) })
	return out
}

// pending reports whether any trap is kept for later.
func (l *trapLimiter) pending() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, b := range l.sources {
		if len(b.deferred) > 0 {
			return true
		}
	}
	return false
}
