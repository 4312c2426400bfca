package definitions

import (
	"fmt"
	"path"
	"time"

	"github.com/hashicorp/hcl/v2"
)

var hostSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{
		{Name: "address"}, {Name: "port"}, {Name: "transport"}, {Name: "groups"},
		{Name: "labels"}, {Name: "credential"}, {Name: "snmp"}, {Name: "vars"}, {Name: "parents"},
	},
}

var groupSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{{Name: "description"}, {Name: "vars"}},
}

var credentialSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{
		{Name: "user", Required: true}, {Name: "private_key_file"}, {Name: "passphrase"},
		{Name: "agent"}, {Name: "known_hosts_file"}, {Name: "become"},
	},
}

var snmpSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{
		{Name: "version", Required: true}, {Name: "port"}, {Name: "community"}, {Name: "user"},
		{Name: "auth_protocol"}, {Name: "auth_passphrase"}, {Name: "priv_protocol"},
		{Name: "priv_passphrase"}, {Name: "timeout"}, {Name: "retries"},
	},
}

// Defaults.
const (
	DefaultSSHPort     = 22
	DefaultCredential  = "default"
	DefaultSNMPPort    = 161
	DefaultSNMPTimeout = 5 * time.Second
	DefaultSNMPRetries = 1
)

func (l *loader) decodeHost(b *hcl.Block) *Host {
	content, diags := b.Body.Content(hostSchema)
	l.diags = append(l.diags, diags...)
	return l.decodeHostAttrs(b.Labels[0], content.Attributes, b.DefRange, b.Body.MissingItemRange())
}

// decodeHostAttrs decodes the attributes of a host block, or of one
// element of a hosts block (then with each in l.static).
func (l *loader) decodeHostAttrs(name string, a hcl.Attributes, defRange, missing hcl.Range) *Host {
	h := &Host{
		Name:       name,
		Port:       DefaultSSHPort,
		Transport:  "ssh",
		Credential: DefaultCredential,
		DeclRange:  defRange,
	}
	l.oneOf(a, "transport", &h.Transport, "ssh", "local")
	var addr string
	switch {
	case l.str(a, "address", &addr):
		if parsed, ok := parseAddress(addr); ok {
			h.Address = parsed
		} else {
			l.errorf(a["address"].Expr.Range(), "Invalid host address", fmt.Sprintf("%q is not a hostname, an IPv4 address or a bracketed IPv6 address such as \"[2001:db8::1]\".", addr))
		}
	case a["address"] != nil:
		// Already reported.
	case h.Transport == "local":
		h.Address = "127.0.0.1"
	default:
		l.errorf(missing, "Missing required argument", "The argument \"address\" is required, but no definition was found.")
	}
	l.integer(a, "port", 1, 65535, &h.Port)
	h.Groups = l.strings(a, "groups")
	h.Labels = l.stringMap(a, "labels")
	if l.str(a, "credential", &h.Credential) && h.Transport == "ssh" {
		l.refs = append(l.refs, reference{kind: "credential", name: h.Credential, rng: a["credential"].Expr.Range()})
	} else if a["credential"] == nil && h.Transport == "ssh" {
		// Checked only where SSH is used (checkCredentials): a switch
		// polled over SNMP alone needs no credential.
		h.implicitCredential = true
	}
	l.ref(a, "snmp", "snmp", &h.SNMP)
	h.Vars = l.object(a, "vars")
	h.Parents = l.refList(a, "parents", "host")
	h.parentRanges = elementRanges(a["parents"], len(h.Parents))
	for i, p := range h.Parents {
		if p == h.Name {
			l.errorf(h.parentRanges[i], "Dependency cycle", fmt.Sprintf("Host %q cannot be its own parent.", h.Name))
		}
	}
	return h
}

func (l *loader) decodeGroup(b *hcl.Block) *Group {
	content, diags := b.Body.Content(groupSchema)
	l.diags = append(l.diags, diags...)
	g := &Group{Name: b.Labels[0], DeclRange: b.DefRange}
	l.str(content.Attributes, "description", &g.Description)
	g.Vars = l.object(content.Attributes, "vars")
	return g
}

func (l *loader) decodeCredential(b *hcl.Block) *Credential {
	content, diags := b.Body.Content(credentialSchema)
	l.diags = append(l.diags, diags...)
	a := content.Attributes
	c := &Credential{Name: b.Labels[0], DeclRange: b.DefRange}
	l.str(a, "user", &c.User)
	for _, f := range []struct {
		name string
		dst  *string
	}{{"private_key_file", &c.PrivateKeyFile}, {"known_hosts_file", &c.KnownHostsFile}} {
		if l.str(a, f.name, f.dst) && !path.IsAbs(*f.dst) {
			l.errorf(a[f.name].Expr.Range(), "Relative path", fmt.Sprintf("%q names a file on the daemon host and must be an absolute path.", f.name))
		}
	}
	c.Passphrase = l.secret(a, "passphrase")
	l.boolean(a, "agent", &c.UseAgent)
	l.oneOf(a, "become", &c.Become, "sudo")
	if c.PrivateKeyFile == "" && !c.UseAgent && a["private_key_file"] == nil && a["agent"] == nil {
		l.errorf(b.DefRange, "Missing authentication", "A credential needs private_key_file, or agent = true to use the daemon's ssh-agent.")
	}
	return c
}

func (l *loader) decodeSNMP(b *hcl.Block) *SNMPProfile {
	content, diags := b.Body.Content(snmpSchema)
	l.diags = append(l.diags, diags...)
	a := content.Attributes
	p := &SNMPProfile{
		Name: b.Labels[0], Port: DefaultSNMPPort, Timeout: DefaultSNMPTimeout,
		Retries: DefaultSNMPRetries, DeclRange: b.DefRange,
	}
	l.oneOf(a, "version", &p.Version, "1", "2c", "3")
	l.integer(a, "port", 1, 65535, &p.Port)
	p.Community = l.secret(a, "community")
	l.str(a, "user", &p.User)
	l.oneOf(a, "auth_protocol", &p.AuthProtocol, "MD5", "SHA", "SHA224", "SHA256", "SHA384", "SHA512")
	p.AuthPassphrase = l.secret(a, "auth_passphrase")
	l.oneOf(a, "priv_protocol", &p.PrivProtocol, "DES", "AES", "AES192", "AES256", "AES192C", "AES256C")
	p.PrivPassphrase = l.secret(a, "priv_passphrase")
	l.duration(a, "timeout", time.Millisecond, &p.Timeout)
	l.integer(a, "retries", 0, 10, &p.Retries)
	switch p.Version {
	case "1", "2c":
		if p.Community == nil && a["community"] == nil {
			l.errorf(b.DefRange, "Missing community", "SNMP versions 1 and 2c need community = env(\"NAME\").")
		}
	case "3":
		if p.User == "" && a["user"] == nil {
			l.errorf(b.DefRange, "Missing user", "SNMP version 3 needs a user.")
		}
		if p.PrivProtocol != "" && p.AuthProtocol == "" {
			l.errorf(a["priv_protocol"].Expr.Range(), "Privacy without authentication", "SNMP v3 privacy (priv_protocol) needs auth_protocol too.")
		}
		if p.AuthProtocol != "" && p.AuthPassphrase == nil && a["auth_passphrase"] == nil {
			l.errorf(a["auth_protocol"].Expr.Range(), "Missing auth_passphrase", "auth_protocol needs auth_passphrase = env(\"NAME\").")
		}
		if p.PrivProtocol != "" && p.PrivPassphrase == nil && a["priv_passphrase"] == nil {
			l.errorf(a["priv_protocol"].Expr.Range(), "Missing priv_passphrase", "priv_protocol needs priv_passphrase = env(\"NAME\").")
		}
	}
	return p
}
