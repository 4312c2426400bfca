package jobs

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"sort"
	"strings"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/gosnmp/gosnmp"
	"github.com/rs/zerolog"

	"github.com/ripple-ops/ripple/definitions"
	"github.com/ripple-ops/ripple/engine"
)

// TrapReceiver receives SNMP traps on a UDP socket: SNMPv2c traps whose
// community is an snmp profile's, and SNMPv3 traps of a profile's USM user
// with its keys (and the authentication and privacy the profile sets).
// Each accepted trap goes to the sink with the profiles that authenticate
// it; every other packet is dropped and reported to the sink as malformed
// or rejected. v2c informs are answered. SNMPv1 traps and v3 informs are
// not supported. Communities and keys never reach a log.
//
// It decodes with gosnmp's UnmarshalTrap (the parser and USM code of
// gosnmp's TrapListener) in its own read loop, because TrapListener has no
// recover around a parser that has panicked on malformed packets, and
// neither counts nor reports what it drops.
//
// Run owns the read loop, on one goroutine; it ends when its context ends.
type TrapReceiver struct {
	opts TrapReceiverOptions
	log  zerolog.Logger
	conn *net.UDPConn
	auth atomic.Pointer[trapAuth]
}

// TrapReceiverOptions configure a TrapReceiver.
type TrapReceiverOptions struct {
	Addr    string // UDP address to listen on
	Sink    engine.TrapSink
	Secrets definitions.SecretSource // resolves communities and passphrases
	Logger  zerolog.Logger
	Now     func() time.Time // default time.Now
}

var _ engine.ConfigApplier = (*TrapReceiver)(nil)

// trapAuth is what authenticates traps, from the snmp profiles of one
// commit. It is replaced whole by ApplyConfig.
type trapAuth struct {
	communities map[string][]string // community -> profiles
	usm         map[usmKey][]string // v3 user and keys -> profiles
	privacy     map[string]bool     // profile -> requires privacy
	decoder     *gosnmp.GoSNMP
}

type usmKey struct {
	user, authProto, authPass, privProto, privPass string
}

// NewTrapReceiver binds opts.Addr; Run reads from it. Until ApplyConfig
// gives it the profiles, every trap is rejected.
func NewTrapReceiver(opts TrapReceiverOptions) (*TrapReceiver, error) {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	addr, err := net.ResolveUDPAddr("udp", opts.Addr)
	if err != nil {
		return nil, fmt.Errorf("trap listen address %q: %w", opts.Addr, err)
	}
	conn, err := net.ListenUDP("udp", addr)
	if err != nil {
		return nil, fmt.Errorf("listen for traps on %s: %w", opts.Addr, err)
	}
	// A burst must wait in the kernel rather than be dropped there.
	_ = conn.SetReadBuffer(4 << 20)
	return &TrapReceiver{opts: opts, conn: conn, log: opts.Logger.With().Str("component", "traps").Logger()}, nil
}

// Addr is the address the receiver listens on.
func (t *TrapReceiver) Addr() net.Addr { return t.conn.LocalAddr() }

// ApplyConfig implements engine.ConfigApplier: the communities and USM
// users of defs' snmp profiles authenticate traps from now on. A profile
// whose secrets cannot be resolved authenticates nothing; the others do.
func (t *TrapReceiver) ApplyConfig(_ context.Context, defs *definitions.Definitions) error {
	a := &trapAuth{communities: map[string][]string{}, usm: map[usmKey][]string{}, privacy: map[string]bool{}}
	table := gosnmp.NewSnmpV3SecurityParametersTable(gosnmp.Logger{})
	var errs []error
	names := make([]string, 0, len(defs.SNMP))
	for name := range defs.SNMP {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		p := defs.SNMP[name]
		resolve := func(s *definitions.Secret, what string) (string, bool) {
			v, diags := defs.ResolveSecret(s, t.opts.Secrets)
			if diags.HasErrors() {
				errs = append(errs, fmt.Errorf("snmp profile %s %s: %w", name, what, engine.DiagError(diags)))
				return "", false
			}
			return v, true
		}
		switch p.Version {
		case "3":
			k := usmKey{user: p.User, authProto: p.AuthProtocol, privProto: p.PrivProtocol}
			var ok1, ok2 bool
			k.authPass, ok1 = resolve(p.AuthPassphrase, "auth_passphrase")
			k.privPass, ok2 = resolve(p.PrivPassphrase, "priv_passphrase")
			if !ok1 || !ok2 {
				continue
			}
			sp, err := trapUSM(k)
			if err != nil {
				errs = append(errs, fmt.Errorf("snmp profile %s: %w", name, err))
				continue
			}
			if _, seen := a.usm[k]; !seen {
				if err := table.Add(k.user, sp); err != nil {
					errs = append(errs, fmt.Errorf("snmp profile %s: %w", name, err))
					continue
				}
			}
			a.usm[k] = append(a.usm[k], name)
			a.privacy[name] = k.privProto != "" && k.privProto != "NONE"
		default:
			c, ok := resolve(p.Community, "community")
			if ok && c != "" {
				a.communities[c] = append(a.communities[c], name)
			}
		}
	}
	a.decoder = &gosnmp.GoSNMP{Version: gosnmp.Version3, SecurityModel: gosnmp.UserSecurityModel}
	a.decoder.SetTrapSecurityParametersTable(table)
	t.auth.Store(a)
	t.log.Info().Str("commit", engine.ShortCommit(defs.Commit)).Int("communities", len(a.communities)).Int("usm_users", len(a.usm)).
		Int("unusable_profiles", len(errs)).Msg("trap authentication from the snmp profiles")
	if len(errs) > 0 {
		return fmt.Errorf("trap receiver: %w", errors.Join(errs...))
	}
	return nil
}

// trapUSM is the USM user of k as gosnmp wants it for incoming traps.
func trapUSM(k usmKey) (*gosnmp.UsmSecurityParameters, error) {
	sp := &gosnmp.UsmSecurityParameters{UserName: k.user, AuthenticationProtocol: gosnmp.NoAuth, PrivacyProtocol: gosnmp.NoPriv}
	if k.authProto != "" && k.authProto != "NONE" {
		ap, err := snmpAuthProtocol(k.authProto)
		if err != nil {
			return nil, err
		}
		sp.AuthenticationProtocol, sp.AuthenticationPassphrase = ap, k.authPass
	}
	if k.privProto != "" && k.privProto != "NONE" {
		pp, err := snmpPrivProtocol(k.privProto)
		if err != nil {
			return nil, err
		}
		sp.PrivacyProtocol, sp.PrivacyPassphrase = pp, k.privPass
	}
	return sp, nil
}

// Run reads traps until ctx ends, then closes the socket.
func (t *TrapReceiver) Run(ctx context.Context) error {
	stop := context.AfterFunc(ctx, func() { t.conn.Close() })
	defer stop()
	defer t.conn.Close()
	addr := t.conn.LocalAddr().String()
	t.opts.Sink.ListeningForTraps(addr)
	defer t.opts.Sink.ListeningForTraps("")
	t.log.Info().Str("addr", addr).Msg("receiving SNMP traps")
	buf := make([]byte, 65536)
	for {
		n, from, err := t.conn.ReadFromUDPAddrPort(buf)
		if err != nil {
			if ctx.Err() != nil || errors.Is(err, net.ErrClosed) {
				return nil
			}
			t.log.Warn().Err(err).Msg("read trap")
			time.Sleep(10 * time.Millisecond)
			continue
		}
		t.handle(ctx, buf[:n], from)
	}
}

// handle decodes one packet and hands it on. A panic in the decoder is a
// malformed packet.
func (t *TrapReceiver) handle(ctx context.Context, msg []byte, from netip.AddrPort) {
	src := from.Addr().Unmap()
	defer func() {
		if r := recover(); r != nil {
			t.log.Debug().Str("source", src.String()).Msgf("trap decoder panicked: %v", r)
			t.opts.Sink.TrapDropped(engine.TrapMalformed, src)
		}
	}()
	a := t.auth.Load()
	tr, reply, why := a.decode(msg)
	if why != "" {
		t.log.Debug().Str("source", src.String()).Str("reason", string(why)).Msg("trap dropped")
		t.opts.Sink.TrapDropped(why, src)
		return
	}
	tr.Source, tr.At = src, t.opts.Now()
	if reply != nil && t.conn != nil {
		if b, err := reply.MarshalMsg(); err == nil {
			_, _ = t.conn.WriteToUDPAddrPort(b, from)
		}
	}
	t.opts.Sink.ReceiveTrap(ctx, tr)
}

// oidSnmpTrapOID is the second varbind of every SNMPv2 trap, after
// sysUpTime.0 (oidSysUpTime): the trap's OID.
const oidSnmpTrapOID = "1.3.6.1.6.3.1.1.4.1.0"

// decode authenticates and decodes one packet. reply is the response an
// inform needs; why is set when the packet is dropped.
func (a *trapAuth) decode(msg []byte) (tr engine.Trap, reply *gosnmp.SnmpPacket, why engine.TrapDrop) {
	version, ok := snmpMessageVersion(msg)
	switch {
	case !ok || version == 0: // unparsable, or SNMPv1
		return tr, nil, engine.TrapMalformed
	case a == nil:
		return tr, nil, engine.TrapRejected
	}
	p, err := a.decoder.UnmarshalTrap(msg, false)
	if err != nil || p == nil {
		if version == 3 {
			return tr, nil, engine.TrapRejected // unknown user, wrong key, not authenticated
		}
		return tr, nil, engine.TrapMalformed
	}
	switch p.Version {
	case gosnmp.Version2c:
		tr.Version = "2c"
		tr.Profiles = a.communities[p.Community]
	case gosnmp.Version3:
		tr.Version = "3"
		usm, ok := p.SecurityParameters.(*gosnmp.UsmSecurityParameters)
		if !ok {
			return tr, nil, engine.TrapRejected
		}
		for k, profiles := range a.usm {
			if k.user == usm.UserName && k.authPass == usm.AuthenticationPassphrase && k.privPass == usm.PrivacyPassphrase {
				for _, name := range profiles {
					if !a.privacy[name] || p.MsgFlags&gosnmp.AuthPriv == gosnmp.AuthPriv {
						tr.Profiles = append(tr.Profiles, name)
					}
				}
			}
		}
		if p.MsgFlags&gosnmp.AuthNoPriv == 0 {
			tr.Profiles = nil // USM users of profiles always authenticate
		}
	default:
		return tr, nil, engine.TrapMalformed
	}
	if len(tr.Profiles) == 0 {
		return tr, nil, engine.TrapRejected
	}
	tr.Profiles = slices.Clone(tr.Profiles)
	slices.Sort(tr.Profiles)
	switch p.PDUType {
	case gosnmp.SNMPv2Trap:
	case gosnmp.InformRequest:
		if p.Version != gosnmp.Version2c {
			return tr, nil, engine.TrapMalformed
		}
		reply = p
	default:
		return tr, nil, engine.TrapMalformed
	}
	for _, v := range p.Variables {
		oid := strings.TrimPrefix(v.Name, ".")
		switch oid {
		case oidSysUpTime[1:]:
			continue
		case oidSnmpTrapOID:
			if s, ok := v.Value.(string); ok {
				tr.OID = strings.TrimPrefix(s, ".")
			}
			continue
		}
		tr.Varbinds = append(tr.Varbinds, definitions.TrapVarbind{OID: oid, Value: trapValueText(v)})
	}
	if tr.OID == "" {
		return tr, nil, engine.TrapMalformed
	}
	if reply != nil {
		reply.PDUType, reply.Error, reply.ErrorIndex = gosnmp.GetResponse, gosnmp.NoError, 0
	}
	return tr, reply, ""
}

// trapValueText is a varbind's value as a trap message shows it.
func trapValueText(v gosnmp.SnmpPDU) string {
	switch val := v.Value.(type) {
	case nil:
		return ""
	case []byte:
		if isPrintable(val) {
			return string(val)
		}
		return fmt.Sprintf("0x%x", val)
	case string:
		if v.Type == gosnmp.ObjectIdentifier {
			return strings.TrimPrefix(val, ".")
		}
		return val
	default:
		return fmt.Sprint(val)
	}
}

func isPrintable(b []byte) bool {
	s := string(b)
	if !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		if r < 0x20 && r != '\t' && r != '\n' && r != '\r' || r == 0x7f {
			return false
		}
	}
	return true
}

// snmpMessageVersion reads the version of an SNMP message (0 for v1, 1 for
// v2c, 3 for v3) from its BER header without decoding the rest.
func snmpMessageVersion(b []byte) (int, bool) {
	if len(b) < 2 || b[0] != 0x30 {
		return 0, false
	}
	i := 2
	if b[1]&0x80 != 0 {
		i += int(b[1] & 0x7f)
	}
	if len(b) < i+3 || b[i] != 0x02 || b[i+1] != 0x01 {
		return 0, false
	}
	return int(b[i+2]), true
}
