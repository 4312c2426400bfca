package jobs

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/gosnmp/gosnmp"
)

// snmpValue is one numeric value read from an SNMP reply.
type snmpValue struct {
	OID   string
	Type  gosnmp.Asn1BER
	Float float64 // the value as a number
	// Count and Bits are set for Counter32 (Bits 32) and Counter64
	// (Bits 64): the raw counter, kept exact for rate arithmetic.
	Count uint64
	Bits  int
}

// errSNMPNoValue marks varbinds that carry no value (noSuchObject,
// noSuchInstance, endOfMibView).
var errSNMPNoValue = errors.New("not present on the agent")

// normalizeOID returns oid with one leading dot, as gosnmp names varbinds,
// or an error when it is not a dotted numeric OID.
func normalizeOID(oid string) (string, error) {
	s := strings.TrimPrefix(strings.TrimSpace(oid), ".")
	if s == "" {
		return "", fmt.Errorf("empty OID")
	}
	for _, part := range strings.Split(s, ".") {
		if part == "" {
			return "", fmt.Errorf("OID %q: empty component", oid)
		}
		if _, err := strconv.ParseUint(part, 10, 32); err != nil {
			return "", fmt.Errorf("OID %q: component %q is not a number", oid, part)
		}
	}
	return "." + s, nil
}

// snmpVarbinds checks a reply and indexes its varbinds by normalized OID.
// A reply-level error status is an error. It never panics on odd packets.
func snmpVarbinds(pkt *gosnmp.SnmpPacket) (map[string]gosnmp.SnmpPDU, error) {
	if pkt == nil {
		return nil, fmt.Errorf("empty SNMP reply")
	}
	if pkt.Error != gosnmp.NoError {
		return nil, fmt.Errorf("agent returned %s (error index %d)", pkt.Error, pkt.ErrorIndex)
	}
	out := make(map[string]gosnmp.SnmpPDU, len(pkt.Variables))
	for _, v := range pkt.Variables {
		name, err := normalizeOID(v.Name)
		if err != nil {
			return nil, fmt.Errorf("reply varbind: %w", err)
		}
		out[name] = v
	}
	return out, nil
}

// snmpNumeric converts a varbind to a number. Integer types, counters,
// gauges, TimeTicks, opaque floats and octet strings holding a decimal
// number (as UCD-SNMP's laLoad) are numeric; anything else is an error.
func snmpNumeric(pdu gosnmp.SnmpPDU) (v snmpValue, err error) {
	v = snmpValue{OID: pdu.Name, Type: pdu.Type}
	switch pdu.Type {
	case gosnmp.NoSuchObject:
		return v, fmt.Errorf("noSuchObject, %w", errSNMPNoValue)
	case gosnmp.NoSuchInstance:
		return v, fmt.Errorf("noSuchInstance, %w", errSNMPNoValue)
	case gosnmp.EndOfMibView:
		return v, fmt.Errorf("endOfMibView, %w", errSNMPNoValue)
	case gosnmp.Null:
		return v, fmt.Errorf("null value, %w", errSNMPNoValue)
	}
	switch x := pdu.Value.(type) {
	case int:
		v.Float = float64(x)
	case int32:
		v.Float = float64(x)
	case int64:
		v.Float = float64(x)
	case uint:
		v.Float, v.Count = float64(x), uint64(x)
	case uint32:
		v.Float, v.Count = float64(x), uint64(x)
	case uint64:
		v.Float, v.Count = float64(x), x
	case float32:
		v.Float = float64(x)
	case float64:
		v.Float = x
	case []byte:
		f, perr := strconv.ParseFloat(strings.TrimSpace(string(x)), 64)
		if perr != nil {
			return v, fmt.Errorf("%s value %q is not a number", pdu.Type, truncateForMessage(string(x)))
		}
		v.Float = f
	case string:
		f, perr := strconv.ParseFloat(strings.TrimSpace(x), 64)
		if perr != nil {
			return v, fmt.Errorf("%s value %q is not a number", pdu.Type, truncateForMessage(x))
		}
		v.Float = f
	default:
		return v, fmt.Errorf("%s value of Go type %T is not a number", pdu.Type, pdu.Value)
	}
	if math.IsNaN(v.Float) || math.IsInf(v.Float, 0) {
		return v, fmt.Errorf("%s value is not finite", pdu.Type)
	}
	switch pdu.Type {
	case gosnmp.Counter32:
		if v.Count > math.MaxUint32 {
			return v, fmt.Errorf("Counter32 value %d out of range", v.Count)
		}
		v.Bits = 32
	case gosnmp.Counter64:
		v.Bits = 64
	}
	return v, nil
}

// snmpUptime reads sysUpTime (TimeTicks) from a varbind, ok false when the
// agent did not supply it (a zero SnmpPDU included).
func snmpUptime(pdu gosnmp.SnmpPDU) (uint32, bool) {
	if pdu.Type != gosnmp.TimeTicks {
		return 0, false
	}
	switch x := pdu.Value.(type) {
	case uint32:
		return x, true
	case uint:
		return uint32(x), x <= math.MaxUint32
	case uint64:
		return uint32(x), x <= math.MaxUint32
	}
	return 0, false
}

// decodeSNMPReply decodes a raw SNMPv1/v2c reply and returns its varbinds,
// recovering from decoder panics (gosnmp has a history of them on
// malformed packets). It is the offline twin of the live path, for fuzzing
// the decode-and-extract code.
func decodeSNMPReply(raw []byte) (vbs map[string]gosnmp.SnmpPDU, err error) {
	defer func() {
		if r := recover(); r != nil {
			vbs, err = nil, fmt.Errorf("malformed SNMP reply: decoder panicked: %v", r)
		}
	}()
	dec := &gosnmp.GoSNMP{Version: gosnmp.Version2c, Community: "public", Target: "127.0.0.1", Port: 161, MaxOids: gosnmp.MaxOids}
	pkt, err := dec.SnmpDecodePacket(raw)
	if err != nil {
		return nil, fmt.Errorf("malformed SNMP reply: %w", err)
	}
	return snmpVarbinds(pkt)
}

func truncateForMessage(s string) string {
	const max = 64
	if len(s) <= max {
		return s
	}
	return s[:max] + "..."
}
