package jobs

import (
	"math"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/gosnmp/gosnmp"
)

func TestCounterRate(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	s := func(v uint64, bits int, up uint32, hasUp bool, sec int) counterSample {
		return counterSample{Value: v, Bits: bits, Uptime: up, HasUptime: hasUp, At: t0.Add(time.Duration(sec) * time.Second)}
	}
	tests := []struct {
		name      string
		prev, cur counterSample
		rate      float64
		ok        bool
	}{
		{name: "plain", prev: s(100, 32, 10, true, 0), cur: s(1100, 32, 1010, true, 10), rate: 100, ok: true},
		{name: "unchanged", prev: s(100, 64, 10, true, 0), cur: s(100, 64, 1010, true, 10), rate: 0, ok: true},
		{name: "32-bit wrap", prev: s(math.MaxUint32-99, 32, 10, true, 0), cur: s(900, 32, 1010, true, 10), rate: 100, ok: true},
		{name: "64-bit wrap", prev: s(math.MaxUint64-99, 64, 10, true, 0), cur: s(900, 64, 1010, true, 10), rate: 100, ok: true},
		{name: "32-bit wrap without sysUpTime", prev: s(math.MaxUint32, 32, 0, false, 0), cur: s(9, 32, 0, false, 1), rate: 10, ok: true},
		{name: "reboot", prev: s(5000, 64, 100000, true, 0), cur: s(10, 64, 50, true, 60)},
		{name: "reboot with counter higher", prev: s(10, 64, 100000, true, 0), cur: s(5000, 64, 50, true, 60)},
		{name: "cleared counters", prev: s(1<<40, 64, 10, true, 0), cur: s(3, 64, 1010, true, 10)},
		{name: "32-bit drop over half range", prev: s(1_000_000_000, 32, 10, true, 0), cur: s(5, 32, 1010, true, 10)},
		{name: "type change", prev: s(100, 32, 10, true, 0), cur: s(200, 64, 1010, true, 10)},
		{name: "no time elapsed", prev: s(100, 32, 10, true, 5), cur: s(200, 32, 1010, true, 5)},
		{name: "clock went back", prev: s(100, 32, 10, true, 5), cur: s(200, 32, 1010, true, 1)},
		{name: "not a counter", prev: s(100, 0, 10, true, 0), cur: s(200, 0, 1010, true, 10)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rate, reason, ok := counterRate(tt.prev, tt.cur)
			if ok != tt.ok || (ok && math.Abs(rate-tt.rate) > 1e-9) {
				t.Fatalf("counterRate = %v, %q, %v; want %v, %v", rate, reason, ok, tt.rate, tt.ok)
			}
			if !ok && reason == "" {
				t.Error("no reason given for a missing rate")
			}
		})
	}
}

func TestSNMPRatesSweep(t *testing.T) {
	r := newSNMPRates(time.Hour)
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	r.observe(snmpRateKey{"m", "h1", ".1"}, counterSample{Value: 1, Bits: 32, At: t0})
	r.observe(snmpRateKey{"m", "h2", ".1"}, counterSample{Value: 1, Bits: 32, At: t0.Add(2 * time.Hour)})
	if _, ok := r.prev[snmpRateKey{"m", "h1", ".1"}]; ok || len(r.prev) != 1 {
		t.Errorf("stale series kept: %v", r.prev)
	}
}

func TestSNMPNumeric(t *testing.T) {
	tests := []struct {
		name  string
		pdu   gosnmp.SnmpPDU
		want  float64
		count uint64
		bits  int
		err   bool
	}{
		{name: "integer", pdu: gosnmp.SnmpPDU{Type: gosnmp.Integer, Value: -5}, want: -5},
		{name: "counter32", pdu: gosnmp.SnmpPDU{Type: gosnmp.Counter32, Value: uint(7)}, want: 7, count: 7, bits: 32},
		{name: "counter64", pdu: gosnmp.SnmpPDU{Type: gosnmp.Counter64, Value: uint64(math.MaxUint64)}, want: math.MaxUint64, count: math.MaxUint64, bits: 64},
		{name: "gauge", pdu: gosnmp.SnmpPDU{Type: gosnmp.Gauge32, Value: uint(9)}, want: 9, count: 9},
		{name: "timeticks", pdu: gosnmp.SnmpPDU{Type: gosnmp.TimeTicks, Value: uint32(100)}, want: 100, count: 100},
		{name: "opaque float", pdu: gosnmp.SnmpPDU{Type: gosnmp.OpaqueFloat, Value: float32(1.5)}, want: 1.5},
		{name: "opaque double", pdu: gosnmp.SnmpPDU{Type: gosnmp.OpaqueDouble, Value: 2.25}, want: 2.25},
		{name: "numeric string", pdu: gosnmp.SnmpPDU{Type: gosnmp.OctetString, Value: []byte(" 0.15\n")}, want: 0.15},
		{name: "text", pdu: gosnmp.SnmpPDU{Type: gosnmp.OctetString, Value: []byte("eth0")}, err: true},
		{name: "NaN string", pdu: gosnmp.SnmpPDU{Type: gosnmp.OctetString, Value: []byte("NaN")}, err: true},
		{name: "noSuchObject", pdu: gosnmp.SnmpPDU{Type: gosnmp.NoSuchObject}, err: true},
		{name: "noSuchInstance", pdu: gosnmp.SnmpPDU{Type: gosnmp.NoSuchInstance}, err: true},
		{name: "endOfMibView", pdu: gosnmp.SnmpPDU{Type: gosnmp.EndOfMibView}, err: true},
		{name: "IP address", pdu: gosnmp.SnmpPDU{Type: gosnmp.IPAddress, Value: "10.0.0.1"}, err: true},
		{name: "nil value", pdu: gosnmp.SnmpPDU{Type: gosnmp.Counter32}, err: true},
		{name: "wrong Go type", pdu: gosnmp.SnmpPDU{Type: gosnmp.Counter64, Value: []string{"x"}}, err: true},
		{name: "counter32 out of range", pdu: gosnmp.SnmpPDU{Type: gosnmp.Counter32, Value: uint64(1 << 33)}, err: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, err := snmpNumeric(tt.pdu)
			if (err != nil) != tt.err {
				t.Fatalf("err = %v, want error %v", err, tt.err)
			}
			if err == nil && (v.Float != tt.want || v.Count != tt.count || v.Bits != tt.bits) {
				t.Errorf("got %+v, want %v count %v bits %v", v, tt.want, tt.count, tt.bits)
			}
		})
	}
}

func TestNormalizeOID(t *testing.T) {
	for in, want := range map[string]string{"1.3.6.1": ".1.3.6.1", ".1.3.6.1.2.1.1.3.0": ".1.3.6.1.2.1.1.3.0", " .1.3 ": ".1.3"} {
		if got, err := normalizeOID(in); err != nil || got != want {
			t.Errorf("normalizeOID(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, bad := range []string{"", ".", "1..3", "1.3.x", "ifInOctets.1", "1.3.99999999999"} {
		if got, err := normalizeOID(bad); err == nil {
			t.Errorf("normalizeOID(%q) = %q, want an error", bad, got)
		}
	}
}

func TestSNMPProtocols(t *testing.T) {
	for _, s := range []string{"MD5", "sha", "SHA-1", "SHA224", "sha-256", "SHA384", "SHA512", ""} {
		if _, err := snmpAuthProtocol(s); err != nil {
			t.Errorf("auth %q: %v", s, err)
		}
	}
	for _, s := range []string{"DES", "aes", "AES-128", "AES192", "AES-256", "AES192C", "aes256c", ""} {
		if _, err := snmpPrivProtocol(s); err != nil {
			t.Errorf("priv %q: %v", s, err)
		}
	}
	if _, err := snmpAuthProtocol("SHA3"); err == nil {
		t.Error("SHA3 accepted")
	}
	if _, err := snmpPrivProtocol("3DES"); err == nil {
		t.Error("3DES accepted")
	}
	for _, tc := range []struct {
		key   snmpTargetKey
		flags gosnmp.SnmpV3MsgFlags
		err   bool
	}{
		{key: snmpTargetKey{User: "u", AuthProtocol: "SHA256", PrivProtocol: "AES"}, flags: gosnmp.AuthPriv},
		{key: snmpTargetKey{User: "u", AuthProtocol: "SHA"}, flags: gosnmp.AuthNoPriv},
		{key: snmpTargetKey{User: "u"}, flags: gosnmp.NoAuthNoPriv},
		{key: snmpTargetKey{User: "u", PrivProtocol: "AES"}, err: true},
		{key: snmpTargetKey{AuthProtocol: "SHA"}, err: true},
	} {
		usm, flags, err := snmpUSM(tc.key)
		if (err != nil) != tc.err || (err == nil && flags != tc.flags) {
			t.Errorf("snmpUSM(%+v) = %v, %v; want %v (error %v)", tc.key, flags, err, tc.flags, tc.err)
		}
		if err == nil && usm == nil {
			t.Errorf("snmpUSM(%+v): nil parameters", tc.key)
		}
	}
}

// snmpReplySeeds are well-formed v2c GetResponse packets.
func snmpReplySeeds(t testing.TB) [][]byte {
	pkts := []*gosnmp.SnmpPacket{
		{Version: gosnmp.Version2c, Community: "public", PDUType: gosnmp.GetResponse, RequestID: 1, Variables: []gosnmp.SnmpPDU{
			{Name: ".1.3.6.1.2.1.1.3.0", Type: gosnmp.TimeTicks, Value: uint32(12345)},
			{Name: ".1.3.6.1.2.1.31.1.1.1.6.1", Type: gosnmp.Counter64, Value: uint64(1 << 40)},
			{Name: ".1.3.6.1.2.1.2.2.1.10.1", Type: gosnmp.Counter32, Value: uint32(4000000000)},
		}},
		{Version: gosnmp.Version2c, Community: "public", PDUType: gosnmp.GetResponse, RequestID: 2, Variables: []gosnmp.SnmpPDU{
			{Name: ".1.3.6.1.4.1.2021.10.1.3.1", Type: gosnmp.OctetString, Value: []byte("0.15")},
			{Name: ".1.3.6.1.4.1.99999.3.0", Type: gosnmp.Gauge32, Value: uint32(42)},
			{Name: ".1.3.6.1.4.1.99999.9.0", Type: gosnmp.NoSuchInstance, Value: nil},
			{Name: ".1.3.6.1.4.1.99999.5.0", Type: gosnmp.Integer, Value: -7},
		}},
	}
	var out [][]byte
	for _, p := range pkts {
		b, err := p.MarshalMsg()
		if err != nil {
			t.Fatalf("marshal seed: %v", err)
		}
		out = append(out, b)
	}
	return out
}

func TestDecodeSNMPReply(t *testing.T) {
	seeds := snmpReplySeeds(t)
	vbs, err := decodeSNMPReply(seeds[0])
	if err != nil {
		t.Fatal(err)
	}
	up, ok := snmpUptime(vbs[oidSysUpTime])
	if !ok || up != 12345 {
		t.Errorf("uptime = %v, %v", up, ok)
	}
	v, err := snmpNumeric(vbs[".1.3.6.1.2.1.31.1.1.1.6.1"])
	if err != nil || v.Bits != 64 || v.Count != 1<<40 {
		t.Errorf("Counter64 = %+v, %v", v, err)
	}
	v, err = snmpNumeric(vbs[".1.3.6.1.2.1.2.2.1.10.1"])
	if err != nil || v.Bits != 32 || v.Count != 4000000000 {
		t.Errorf("Counter32 = %+v, %v", v, err)
	}
	for _, raw := range [][]byte{nil, {0x30}, {0x30, 0x82, 0xff, 0xff}, seeds[1][:len(seeds[1])/2]} {
		if _, err := decodeSNMPReply(raw); err == nil {
			t.Errorf("decodeSNMPReply(%x) accepted a truncated packet", raw)
		}
	}
}

// FuzzSNMPReply feeds arbitrary bytes through the decode-and-extract path
// that turns an agent's reply into check values: it must never panic.
func FuzzSNMPReply(f *testing.F) {
	for _, s := range snmpReplySeeds(f) {
		f.Add(s)
	}
	f.Add([]byte{0x30, 0x03, 0x02, 0x01, 0x01})
	f.Fuzz(func(t *testing.T, raw []byte) {
		vbs, err := decodeSNMPReply(raw)
		if err != nil {
			return
		}
		up, hasUp := snmpUptime(vbs[oidSysUpTime])
		at := time.Unix(1e9, 0)
		for oid, pdu := range vbs {
			v, err := snmpNumeric(pdu)
			if err != nil {
				continue
			}
			if math.IsNaN(v.Float) || math.IsInf(v.Float, 0) {
				t.Errorf("%s: non-finite value %v", oid, v.Float)
			}
			if v.Bits != 0 {
				prev := counterSample{Value: v.Count / 2, Bits: v.Bits, Uptime: up / 2, HasUptime: hasUp, At: at}
				cur := counterSample{Value: v.Count, Bits: v.Bits, Uptime: up, HasUptime: hasUp, At: at.Add(time.Second)}
				if rate, _, ok := counterRate(prev, cur); ok && (rate < 0 || math.IsNaN(rate)) {
					t.Errorf("%s: bad rate %v", oid, rate)
				}
			}
		}
	})
}

func TestSNMPRatesConcurrent(t *testing.T) {
	r := newSNMPRates(0)
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			key := snmpRateKey{Monitor: "m", Host: "h" + strconv.Itoa(g), OID: ".1"}
			for i := range 100 {
				rate, reason, ok := r.observe(key, counterSample{Value: uint64(i * 10), Bits: 64, At: t0.Add(time.Duration(i) * time.Second)})
				if i > 0 && (!ok || rate != 10) {
					t.Errorf("series %d poll %d: %v %q %v", g, i, rate, reason, ok)
					return
				}
			}
		}()
	}
	wg.Wait()
}
