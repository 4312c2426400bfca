package definitions

import (
	"fmt"
	"sort"
	"time"
)

// SecretSource supplies daemon-side values for env() and file(). Validate and
// plan never get one: there, env() and file() evaluate to unknown values so
// nothing leaks and nothing on the daemon host is read.
type SecretSource interface {
	// Env returns the environment variable name, and whether it is set.
	Env(name string) (string, bool)
	// ReadFile reads a file on the daemon host for file(). It must refuse
	// every file in protected, under whatever name path gives it: they are
	// the files the definitions being rendered authenticate with
	// (Definitions.CredentialFiles), which a template must never send to a
	// host. Its errors name path and say why.
	ReadFile(path string, protected []ProtectedFile) ([]byte, error)
}

// ProtectedFile is a file on the daemon host that ripple authenticates
// with, which file() must refuse.
type ProtectedFile struct {
	Path string
	// Use says what the file is, for the refusal: `private_key_file of
	// credential "deploy"`.
	Use string
}

// CredentialFiles lists the private_key_file and known_hosts_file of every
// credential, sorted by credential name. Every render of d refuses to read
// them through file() (see SecretSource), whatever the daemon was told.
func (d *Definitions) CredentialFiles() []ProtectedFile {
	names := make([]string, 0, len(d.Credentials))
	for n := range d.Credentials {
		names = append(names, n)
	}
	sort.Strings(names)
	var out []ProtectedFile
	for _, n := range names {
		c := d.Credentials[n]
		if c.PrivateKeyFile != "" {
			out = append(out, ProtectedFile{Path: c.PrivateKeyFile, Use: fmt.Sprintf("private_key_file of credential %q", n)})
		}
		if c.KnownHostsFile != "" {
			out = append(out, ProtectedFile{Path: c.KnownHostsFile, Use: fmt.Sprintf("known_hosts_file of credential %q", n)})
		}
	}
	return out
}

// HostStep is a Step rendered for one host: every expression evaluated,
// sources read, templates rendered. Secrets lists every value that came from
// env(), file() or a credential, so executors can redact them from output.
type HostStep struct {
	Job         string
	Name        string
	Kind        StepKind
	Command     string // run
	Script      []byte // script: contents of the repo file
	Content     []byte // file: the rendered template
	Destination string // file
	Mode        uint32 // file
	Owner       string // file, optional
	Group       string // file, optional
	Timeout     time.Duration
	Idempotent  bool
	Check       string // run and script: the drift check command, "" for none
	// Env are NAME=value assignments a script step runs with: the run's
	// params (ParamEnvName).
	Env     []string
	Secrets []string
}

// HostCheck is a monitor's Check rendered for one host.
type HostCheck struct {
	Monitor string
	Kind    CheckKind
	Timeout time.Duration

	Command string // command

	URL       string // http
	Status    int
	BodyMatch string
	Insecure  bool

	Address string // tcp
	Port    int

	OIDs      []string // snmp
	Rate      bool
	WarnAbove *float64
	CritAbove *float64
	WarnBelow *float64
	CritBelow *float64
	SNMP      *SNMPAccess

	Log  *HostLogCheck // log
	Trap *HostTrap     // trap blocks

	Secrets []string
}

// HostLogCheck is a log check rendered for one host.
type HostLogCheck struct {
	Path      string
	Rotated   string // "" when not set
	Pattern   string
	Exclude   string
	WarnCount int // 0: not set
	CritCount int // 0: not set
	MaxLines  int
	MaxBytes  int64
	MissingOK bool
}

// HostTrap is a trap block for one host. Its message is rendered per trap
// (RenderTrapMessage); Message here is the template's source text, so that
// a changed template changes the rendered check.
type HostTrap struct {
	OID        string
	State      string
	ClearOID   string
	ClearAfter time.Duration
	Message    string
}

// SNMPAccess is an SNMP profile with its secrets resolved, for one host.
type SNMPAccess struct {
	Address        string
	Port           int
	Version        string
	Community      string
	User           string
	AuthProtocol   string
	AuthPassphrase string
	PrivProtocol   string
	PrivPassphrase string
	Timeout        time.Duration
	Retries        int
}
