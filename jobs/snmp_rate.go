package jobs

import (
	"sync"
	"time"
)

// snmpRateKey names one counter series: a monitor's OID on a host.
type snmpRateKey struct {
	Monitor string
	Host    string
	OID     string
}

// counterSample is one poll of a counter.
type counterSample struct {
	Value     uint64
	Bits      int // 32 or 64
	Uptime    uint32
	HasUptime bool
	At        time.Time
}

// snmpRates keeps the previous sample of each counter series. Safe for
// concurrent use. Series not updated within ttl are dropped on a sweep.
type snmpRates struct {
	mu        sync.Mutex
	prev      map[snmpRateKey]counterSample
	ttl       time.Duration
	lastSweep time.Time
}

func newSNMPRates(ttl time.Duration) *snmpRates {
	if ttl <= 0 {
		ttl = 24 * time.Hour
	}
	return &snmpRates{prev: make(map[snmpRateKey]counterSample), ttl: ttl}
}

// observe stores cur as the latest sample of key and returns the per-second
// rate since the previous one. ok is false (with the reason) when there is no
// rate this poll: see counterRate.
func (r *snmpRates) observe(key snmpRateKey, cur counterSample) (rate float64, reason string, ok bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if cur.At.Sub(r.lastSweep) > r.ttl/4 {
		for k, s := range r.prev {
			if cur.At.Sub(s.At) > r.ttl {
				delete(r.prev, k)
			}
		}
		r.lastSweep = cur.At
	}
	prev, had := r.prev[key]
	r.prev[key] = cur
	if !had {
		return 0, "first counter sample, rate from the next poll", false
	}
	return counterRate(prev, cur)
}

// counterRate is the per-second rate between two samples of one counter.
//
//   - sysUpTime went down (agent restart; also its own 497-day wrap): the
//     counter was reset, no rate this poll, never a spike.
//   - the counter type changed (Counter32 <-> Counter64): treated as a reset.
//   - the counter went down while the agent stayed up: a wrap at 2^32 or
//     2^64 (by the PDU type), unless the wrapped delta would exceed half the
//     counter's range, which means a discontinuity (counters cleared on the
//     device), again no rate this poll.
//   - no time elapsed between polls: no rate.
func counterRate(prev, cur counterSample) (rate float64, reason string, ok bool) {
	if cur.Bits != 32 && cur.Bits != 64 {
		return 0, "not a counter", false
	}
	if prev.Bits != cur.Bits {
		return 0, "counter type changed, rate from the next poll", false
	}
	if prev.HasUptime && cur.HasUptime && cur.Uptime < prev.Uptime {
		return 0, "counter reset (agent restarted: sysUpTime went down), rate from the next poll", false
	}
	dt := cur.At.Sub(prev.At).Seconds()
	if dt <= 0 {
		return 0, "no time elapsed since the previous sample", false
	}
	var delta uint64
	if cur.Value >= prev.Value {
		delta = cur.Value - prev.Value
	} else {
		switch cur.Bits {
		case 32:
			delta = cur.Value + (1 << 32) - prev.Value
		default:
			delta = cur.Value - prev.Value // uint64 arithmetic wraps at 2^64
		}
		half := uint64(1) << (cur.Bits - 1)
		if delta > half {
			return 0, "counter went down (discontinuity), rate from the next poll", false
		}
	}
	return float64(delta) / dt, "", true
}
