package jobs

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/gosnmp/gosnmp"
	"github.com/ripple-ops/ripple/definitions"
)

// snmpTargetKey identifies one SNMP client: a target and the credentials
// used for it. A profile change gives a new key, so a new client.
type snmpTargetKey struct {
	Address        string
	Port           int
	Version        string
	Community      string
	User           string
	AuthProtocol   string
	AuthPassphrase string
	PrivProtocol   string
	PrivPassphrase string
}

// snmpTarget is one gosnmp client. gosnmp is not safe for concurrent
// requests, so sem (one slot) lets one goroutine at a time use g; waiting
// for it honours the caller's context. For v3 the client caches the
// agent's engine ID, boots and time in its own SecurityParameters.
type snmpTarget struct {
	sem      chan struct{}
	g        *gosnmp.GoSNMP // guarded by sem; nil until first use or after an error
	lastUsed time.Time      // guarded by snmpPool.mu
}

// snmpPool holds the clients by target and the counter samples for rates.
type snmpPool struct {
	mu        sync.Mutex
	targets   map[snmpTargetKey]*snmpTarget
	idle      time.Duration
	lastSweep time.Time
	now       func() time.Time
	rates     *snmpRates
}

func newSNMPPool(idle, rateTTL time.Duration, now func() time.Time) *snmpPool {
	if idle <= 0 {
		idle = 15 * time.Minute
	}
	return &snmpPool{
		targets: make(map[snmpTargetKey]*snmpTarget),
		idle:    idle,
		now:     now,
		rates:   newSNMPRates(rateTTL),
	}
}

func snmpKey(addr string, acc *definitions.SNMPAccess) snmpTargetKey {
	port := acc.Port
	if port == 0 {
		port = 161
	}
	return snmpTargetKey{
		Address: addr, Port: port, Version: acc.Version, Community: acc.Community,
		User: acc.User, AuthProtocol: acc.AuthProtocol, AuthPassphrase: acc.AuthPassphrase,
		PrivProtocol: acc.PrivProtocol, PrivPassphrase: acc.PrivPassphrase,
	}
}

// target returns the client slot for key, creating it, and closes clients
// idle for longer than the idle timeout.
func (p *snmpPool) target(key snmpTargetKey) *snmpTarget {
	now := p.now()
	p.mu.Lock()
	defer p.mu.Unlock()
	if now.Sub(p.lastSweep) > p.idle/2 {
		p.lastSweep = now
		for k, t := range p.targets {
			if k == key || now.Sub(t.lastUsed) <= p.idle {
				continue
			}
			select {
			case t.sem <- struct{}{}: // not in use: close it
				if t.g != nil && t.g.Conn != nil {
					_ = t.g.Conn.Close()
				}
				t.g = nil
				delete(p.targets, k)
				<-t.sem
			default:
			}
		}
	}
	t, ok := p.targets[key]
	if !ok {
		t = &snmpTarget{sem: make(chan struct{}, 1)}
		p.targets[key] = t
	}
	t.lastUsed = now
	return t
}

func (p *snmpPool) closeAll() {
	p.mu.Lock()
	targets := p.targets
	p.targets = make(map[snmpTargetKey]*snmpTarget)
	p.mu.Unlock()
	for _, t := range targets {
		t.sem <- struct{}{} // wait for an in-flight request to end
		if t.g != nil && t.g.Conn != nil {
			_ = t.g.Conn.Close()
		}
		t.g = nil
		<-t.sem
	}
}

// get fetches oids from the target in chunks of the client's MaxOids and
// returns the varbinds by normalized OID. Any error (including a panic in
// gosnmp's decoder) closes the client, so the next request starts afresh;
// a reused client that fails other than by timeout is retried once at once
// with a new client (a restarted v3 agent refuses the cached engine time).
func (p *snmpPool) get(ctx context.Context, key snmpTargetKey, acc *definitions.SNMPAccess, oids []string, timeout time.Duration) (map[string]gosnmp.SnmpPDU, error) {
	t := p.target(key)
	select {
	case t.sem <- struct{}{}:
	case <-ctx.Done():
		return nil, fmt.Errorf("wait for SNMP client of %s: %w", key.Address, ctx.Err())
	}
	defer func() { <-t.sem }()
	reused := t.g != nil
	out, err := t.getLocked(ctx, key, acc, oids, timeout)
	if err != nil && reused && ctx.Err() == nil && !strings.Contains(err.Error(), "timeout") {
		// A reused v3 client holds the agent's engine boots and time; after
		// an agent restart its requests are refused. Retry once afresh,
		// with a new discovery, so a reboot does not cost a poll.
		out, err = t.getLocked(ctx, key, acc, oids, timeout)
	}
	return out, err
}

// getLocked runs one Get round on the target's client, creating it if
// needed. The caller holds t.sem.
func (t *snmpTarget) getLocked(ctx context.Context, key snmpTargetKey, acc *definitions.SNMPAccess, oids []string, timeout time.Duration) (map[string]gosnmp.SnmpPDU, error) {
	if t.g == nil {
		g, err := newGoSNMP(key, acc, timeout)
		if err != nil {
			return nil, err
		}
		if err := g.Connect(); err != nil {
			return nil, fmt.Errorf("open SNMP client for %s: %w", key.Address, err)
		}
		t.g = g
	}
	out, err := snmpGetChunks(ctx, t.g, oids)
	if err != nil {
		if t.g.Conn != nil {
			_ = t.g.Conn.Close()
		}
		t.g = nil
		return nil, err
	}
	t.g.Context = context.Background() // do not keep the caller's context
	return out, nil
}

// snmpGetChunks runs Get over oids in chunks, recovering from panics.
func snmpGetChunks(ctx context.Context, g *gosnmp.GoSNMP, oids []string) (out map[string]gosnmp.SnmpPDU, err error) {
	defer func() {
		if r := recover(); r != nil {
			out, err = nil, fmt.Errorf("malformed SNMP reply: decoder panicked: %v", r)
		}
	}()
	g.Context = ctx // gosnmp takes its deadline from this field; set per request under sem
	chunk := g.MaxOids
	if chunk <= 0 {
		chunk = gosnmp.MaxOids
	}
	out = make(map[string]gosnmp.SnmpPDU, len(oids))
	for start := 0; start < len(oids); start += chunk {
		end := min(start+chunk, len(oids))
		pkt, err := g.Get(oids[start:end])
		if err != nil {
			return nil, err
		}
		vbs, err := snmpVarbinds(pkt)
		if err != nil {
			return nil, err
		}
		for k, v := range vbs {
			out[k] = v
		}
	}
	return out, nil
}

// newGoSNMP builds a client for one target with its own security
// parameters (never shared: a shared USM state mixes up engine IDs).
func newGoSNMP(key snmpTargetKey, acc *definitions.SNMPAccess, timeout time.Duration) (*gosnmp.GoSNMP, error) {
	retries := max(acc.Retries, 0)
	perTry := acc.Timeout
	if perTry <= 0 {
		perTry = max(timeout/time.Duration(retries+1), 100*time.Millisecond)
	}
	g := &gosnmp.GoSNMP{
		Target:    key.Address,
		Port:      uint16(key.Port), //nolint:gosec // checked by snmpAccessCheck
		Transport: "udp",
		Timeout:   perTry,
		Retries:   retries,
		MaxOids:   gosnmp.MaxOids,
		Context:   context.Background(),
	}
	switch strings.ToLower(strings.TrimSpace(key.Version)) {
	case "2c", "2", "v2c", "":
		g.Version = gosnmp.Version2c
		g.Community = key.Community
	case "1", "v1":
		g.Version = gosnmp.Version1
		g.Community = key.Community
	case "3", "v3":
		usm, flags, err := snmpUSM(key)
		if err != nil {
			return nil, err
		}
		g.Version = gosnmp.Version3
		g.SecurityModel = gosnmp.UserSecurityModel
		g.MsgFlags = flags
		g.SecurityParameters = usm
	default:
		return nil, fmt.Errorf("unsupported SNMP version %q (want 2c or 3)", key.Version)
	}
	return g, nil
}

// snmpUSM builds v3 user security parameters; the security level follows
// from which protocols are set (authPriv, authNoPriv or noAuthNoPriv).
func snmpUSM(key snmpTargetKey) (*gosnmp.UsmSecurityParameters, gosnmp.SnmpV3MsgFlags, error) {
	if key.User == "" {
		return nil, 0, errors.New("SNMPv3 needs a user")
	}
	auth, err := snmpAuthProtocol(key.AuthProtocol)
	if err != nil {
		return nil, 0, err
	}
	priv, err := snmpPrivProtocol(key.PrivProtocol)
	if err != nil {
		return nil, 0, err
	}
	usm := &gosnmp.UsmSecurityParameters{
		UserName:                 key.User,
		AuthenticationProtocol:   auth,
		AuthenticationPassphrase: key.AuthPassphrase,
		PrivacyProtocol:          priv,
		PrivacyPassphrase:        key.PrivPassphrase,
	}
	switch {
	case auth == gosnmp.NoAuth && priv != gosnmp.NoPriv:
		return nil, 0, errors.New("SNMPv3 privacy needs an auth protocol")
	case auth == gosnmp.NoAuth:
		return usm, gosnmp.NoAuthNoPriv, nil
	case priv == gosnmp.NoPriv:
		return usm, gosnmp.AuthNoPriv, nil
	default:
		return usm, gosnmp.AuthPriv, nil
	}
}

func snmpAuthProtocol(s string) (gosnmp.SnmpV3AuthProtocol, error) {
	switch strings.ToUpper(strings.ReplaceAll(strings.TrimSpace(s), "-", "")) {
	case "", "NONE", "NOAUTH":
		return gosnmp.NoAuth, nil
	case "MD5":
		return gosnmp.MD5, nil
	case "SHA", "SHA1":
		return gosnmp.SHA, nil
	case "SHA224":
		return gosnmp.SHA224, nil
	case "SHA256":
		return gosnmp.SHA256, nil
	case "SHA384":
		return gosnmp.SHA384, nil
	case "SHA512":
		return gosnmp.SHA512, nil
	}
	return 0, fmt.Errorf("unsupported SNMPv3 auth protocol %q", s)
}

func snmpPrivProtocol(s string) (gosnmp.SnmpV3PrivProtocol, error) {
	switch strings.ToUpper(strings.ReplaceAll(strings.TrimSpace(s), "-", "")) {
	case "", "NONE", "NOPRIV":
		return gosnmp.NoPriv, nil
	case "DES":
		return gosnmp.DES, nil
	case "AES", "AES128":
		return gosnmp.AES, nil
	case "AES192":
		return gosnmp.AES192, nil
	case "AES256":
		return gosnmp.AES256, nil
	case "AES192C":
		return gosnmp.AES192C, nil
	case "AES256C":
		return gosnmp.AES256C, nil
	}
	return 0, fmt.Errorf("unsupported SNMPv3 privacy protocol %q", s)
}
