package sshfleet

import (
	"github.com/ripple-ops/ripple/definitions"
	"github.com/ripple-ops/ripple/engine"
)

// Credential is the fleet's credential as definitions would load it from
// HCL(): the fleet user, key file and known_hosts file.
func (f *Fleet) Credential() *definitions.Credential {
	return &definitions.Credential{
		Name:           "default",
		User:           f.User,
		PrivateKeyFile: f.KeyFile,
		KnownHostsFile: f.KnownHostsFile,
	}
}

// DefHost is host i as a definitions.Host.
func (f *Fleet) DefHost(i int) *definitions.Host {
	h := f.Hosts[i]
	return &definitions.Host{
		Name:       h.Name,
		Address:    h.Address,
		Port:       h.Port,
		Transport:  "ssh",
		Groups:     []string{"fleet"},
		Credential: "default",
	}
}

// Endpoint is host i with the fleet credential, ready for an executor.
func (f *Fleet) Endpoint(i int) engine.Endpoint {
	return engine.Endpoint{Host: f.DefHost(i), Credential: f.Credential()}
}
