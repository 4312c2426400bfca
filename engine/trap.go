package engine

import (
	"context"
	"net/netip"
	"time"

	"github.com/ripple-ops/ripple/definitions"
)

// Trap is an SNMP trap (or inform) the receiver authenticated: its
// community, or its SNMPv3 user and keys, belong to an snmp profile of
// the applied commit. It never carries the community or keys.
type Trap struct {
	Source  netip.Addr // the sender's address
	At      time.Time
	Version string // "2c" or "3"
	// Profiles names the snmp profiles whose community or USM user
	// authenticates the trap.
	Profiles []string
	// OID is the trap's snmpTrapOID.0, numeric, without a leading dot.
	OID string
	// Varbinds are the trap's variable bindings after sysUpTime.0 and
	// snmpTrapOID.0, values as text.
	Varbinds []definitions.TrapVarbind
}

// TrapDrop says why the trap receiver dropped a packet.
type TrapDrop string

// Why a packet was dropped.
const (
	// TrapMalformed: not an SNMP message the receiver can parse, or an
	// SNMPv1 trap (not supported).
	TrapMalformed TrapDrop = "malformed"
	// TrapRejected: a community no snmp profile has, an SNMPv3 user none
	// has, a wrong key, or a v3 trap without the authentication or
	// privacy its user requires.
	TrapRejected TrapDrop = "rejected"
)

// TrapSink takes what the SNMP trap receiver gets. The monitor runner
// implements it: it matches traps to hosts and trap blocks, rate limits
// each source, and counts and keeps what matches nothing. Neither method
// may block on I/O: the receiver calls them for every packet.
type TrapSink interface {
	ReceiveTrap(ctx context.Context, t Trap)
	TrapDropped(why TrapDrop, from netip.Addr)
	// ListeningForTraps says the receiver listens on addr ("" when it
	// stopped).
	ListeningForTraps(addr string)
}

// TrapCounts counts the trap receiver's packets by what became of them.
type TrapCounts struct {
	Malformed     uint64 `json:"malformed"`
	Rejected      uint64 `json:"rejected"`       // unknown community or user, wrong key, unauthenticated v3
	WrongProfile  uint64 `json:"wrong_profile"`  // authenticated by a profile that is not the host's
	Matched       uint64 `json:"matched"`        // set or cleared the state of a trap block
	UnknownSource uint64 `json:"unknown_source"` // no host has the sender's address
	Unmatched     uint64 `json:"unmatched"`      // no trap block of the host has the trap's OID
	RateLimited   uint64 `json:"rate_limited"`   // over its source's rate; the latest is applied later
}

// UnknownTrap is a kind of trap that matched no trap block, kept so an
// operator can write one: per source address and OID, the count, when it
// was first and last seen, and the varbinds of the last one.
type UnknownTrap struct {
	Source   string                    `json:"source"`
	Host     string                    `json:"host,omitempty"` // "" for an unknown source
	OID      string                    `json:"oid"`
	Version  string                    `json:"version"`
	Reason   string                    `json:"reason"` // "unknown source" or "no trap block"
	Count    uint64                    `json:"count"`
	First    time.Time                 `json:"first"`
	Last     time.Time                 `json:"last"`
	Varbinds []definitions.TrapVarbind `json:"varbinds"`
}

// TrapReport is what the surfaces show of the trap receiver.
type TrapReport struct {
	Listen  string        `json:"listen"` // the receiver's address; "" without --trap-listen
	Counts  TrapCounts    `json:"counts"`
	Unknown []UnknownTrap `json:"unknown"` // most recent first
}
