package definitions

import "time"

// SecretSource supplies daemon-side values for env() and file(). Validate and
// plan never get one: there, env() and file() evaluate to unknown values so
// nothing leaks and nothing on the daemon host is read.
type SecretSource interface {
	// Env returns the environment variable name, and whether it is set.
	Env(name string) (string, bool)
	// ReadFile reads a file on the daemon host.
	ReadFile(path string) ([]byte, error)
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
	Secrets     []string
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

	Secrets []string
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
