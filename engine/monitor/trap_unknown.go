package monitor

import (
	"net/netip"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ripple-ops/ripple/engine"
)

// maxUnknownTraps is how many kinds of unmatched trap (source, OID) are
// kept; the least recently seen goes first.
const maxUnknownTraps = 100

// trapCounters are the receiver's counts, updated without locks.
type trapCounters struct {
	malformed, rejected, wrongProfile, matched, unknownSource, unmatched, rateLimited atomic.Uint64
}

func (c *trapCounters) snapshot() engine.TrapCounts {
	return engine.TrapCounts{
		Malformed: c.malformed.Load(), Rejected: c.rejected.Load(), WrongProfile: c.wrongProfile.Load(),
		Matched: c.matched.Load(), UnknownSource: c.unknownSource.Load(), Unmatched: c.unmatched.Load(),
		RateLimited: c.rateLimited.Load(),
	}
}

// unknownTraps keeps the traps that matched nothing, per (source, OID),
// for an operator to write a trap block from. They are never alerted on.
type unknownTraps struct {
	mu    sync.Mutex
	kinds map[unknownKey]*engine.UnknownTrap
}

type unknownKey struct {
	src netip.Addr
	oid string
}

func (u *unknownTraps) add(t engine.Trap, host, reason string) {
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.kinds == nil {
		u.kinds = map[unknownKey]*engine.UnknownTrap{}
	}
	k := unknownKey{t.Source, t.OID}
	ut := u.kinds[k]
	if ut == nil {
		if len(u.kinds) >= maxUnknownTraps {
			var oldest unknownKey
			var at time.Time
			for key, v := range u.kinds {
				if at.IsZero() || v.Last.Before(at) {
					oldest, at = key, v.Last
				}
			}
			delete(u.kinds, oldest)
		}
		ut = &engine.UnknownTrap{Source: t.Source.String(), OID: t.OID, First: t.At}
		u.kinds[k] = ut
	}
	ut.Host, ut.Version, ut.Reason = host, t.Version, reason
	ut.Count++
	if !t.At.Before(ut.Last) {
		ut.Last = t.At
		ut.Varbinds = slices.Clone(t.Varbinds)
	}
}

// list returns copies, most recently seen first.
func (u *unknownTraps) list() []engine.UnknownTrap {
	u.mu.Lock()
	defer u.mu.Unlock()
	out := make([]engine.UnknownTrap, 0, len(u.kinds))
	for _, v := range u.kinds {
		c := *v
		c.Varbinds = slices.Clone(v.Varbinds)
		out = append(out, c)
	}
	slices.SortFunc(out, func(a, b engine.UnknownTrap) int {
		if c := b.Last.Compare(a.Last); c != 0 {
			return c
		}
		if a.Source != b.Source {
			if a.Source < b.Source {
				return -1
			}
			return 1
		}
		if a.OID < b.OID {
			return -1
		}
		if a.OID > b.OID {
			return 1
		}
		return 0
	})
	return out
}
