package definitions

import (
	"io/fs"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
)

// Definitions is everything one commit of the ops repo declares, decoded and
// validated. Maps are keyed by block label. A Definitions value is read-only
// once Load returns it and may be shared between goroutines.
type Definitions struct {
	// Commit is the id the caller passed to Load; empty for a plain directory.
	Commit string

	Hosts       map[string]*Host
	Groups      map[string]*Group
	Credentials map[string]*Credential
	SNMP        map[string]*SNMPProfile
	Windows     map[string]*Window
	Notifiers   map[string]*Notifier
	// Monitors holds monitor blocks and trap blocks (Check.Kind
	// CheckTrap): they share one namespace.
	Monitors map[string]*Monitor
	Jobs     map[string]*Job

	// Files holds the parsed HCL files by path (relative to the repo root),
	// for rendering diagnostics with source snippets.
	Files map[string]*hcl.File

	// FS is the snapshot the definitions were loaded from; file and script
	// steps read their sources from it.
	FS fs.FS

	// DataFiles are the repo paths repofile() read while loading, sorted:
	// inputs of the commit like its .hcl files.
	DataFiles []string

	// index is built by Load for Select; nil in hand-built values.
	index *hostIndex
	// facts are host.facts by host name (WithFacts); nil: none.
	facts map[string]cty.Value
	// limits are those Load was given, for renderings; the defaults in
	// hand-built values.
	limits Limits
}

// Host is one managed node.
type Host struct {
	Name    string
	Address string // hostname, IPv4, or IPv6 without brackets
	Port    int    // default 22
	// Transport is "ssh" (default) or "local" (the controller itself).
	Transport  string
	Groups     []string
	Labels     map[string]string
	Credential string // default "default"
	SNMP       string // optional SNMP profile name
	// Vars are the host's own vars as an object (cty.EmptyObjectVal when none).
	Vars cty.Value
	// Parents are the hosts this one is reached through (a switch, a
	// firewall): while a parent is down, this host's alerts are
	// suppressed (Nagios parents).
	Parents   []string
	DeclRange hcl.Range

	// implicitCredential is set when Credential is "default" because the
	// host names none.
	implicitCredential bool
	// parentRanges are the places of Parents' elements, for diagnostics.
	parentRanges []hcl.Range
}

// NamesCredential reports whether h's block names its credential (or uses
// the local transport), rather than taking "default" implicitly.
func (h *Host) NamesCredential() bool { return h.Transport == "local" || !h.implicitCredential }

// Group carries vars shared by its member hosts.
type Group struct {
	Name        string
	Description string
	Vars        cty.Value
	DeclRange   hcl.Range
}

// Credential says how to log in to hosts over SSH.
type Credential struct {
	Name           string
	User           string
	PrivateKeyFile string // path on the daemon host, never in the repo
	Passphrase     *Secret
	UseAgent       bool // ssh-agent via SSH_AUTH_SOCK
	KnownHostsFile string
	Become         string // "" or "sudo"
	DeclRange      hcl.Range
}

// Secret is a daemon-side value (env() or file()) that is evaluated only when
// a run or a monitor needs it, never at validate or plan time.
type Secret struct {
	Expr  hcl.Expression
	Range hcl.Range
}

// SNMPProfile holds SNMP connection settings for snmp checks.
type SNMPProfile struct {
	Name           string
	Version        string // "2c" or "3"
	Port           int    // default 161
	Community      *Secret
	User           string
	AuthProtocol   string // MD5, SHA, SHA224, SHA256, SHA384, SHA512
	AuthPassphrase *Secret
	PrivProtocol   string // DES, AES, AES192, AES256, AES192C, AES256C
	PrivPassphrase *Secret
	Timeout        time.Duration
	Retries        int
	DeclRange      hcl.Range
}

// Window is a recurring maintenance window: it opens at each cron match and
// stays open for Duration.
type Window struct {
	Name      string
	Cron      string
	Opens     *Cron // Cron parsed, in Location; nil when it does not parse
	Duration  time.Duration
	Timezone  string // IANA name; default "UTC"
	Location  *time.Location
	DeclRange hcl.Range
}

// Notifier delivers alerts.
type Notifier struct {
	Type     string // "webhook", "slack", "email"
	Name     string
	URL      *Secret // webhook and slack
	To       []string
	From     string
	SMTP     string // host:port for email
	Username string
	Password *Secret
	// GroupWait is how long the notifier waits after the first alert (or
	// recovery) of a monitor before sending it, so that those of other
	// hosts that start meanwhile go out in the same message; 0 sends each
	// at once. Default DefaultGroupWait.
	GroupWait time.Duration
	DeclRange hcl.Range
}

// Targets selects hosts. A host matches when it is named in Hosts, or is in
// one of Groups, and carries every label in Labels; hosts in Exclude never
// match. Empty Hosts and Groups with non-empty Labels select by labels only.
type Targets struct {
	Hosts     []string
	Groups    []string
	Labels    map[string]string
	Exclude   []string
	DeclRange hcl.Range
}

// Monitor is a check run on each target host at an interval, or a trap
// block (Check.Kind CheckTrap, Interval 0): a state per target host set by
// the traps it receives.
type Monitor struct {
	Name       string
	Targets    Targets
	Interval   time.Duration // default 1m; 0 for a trap block
	Timeout    time.Duration // default 10s
	Check      Check
	AlertAfter int // default 1
	Notify     []string
	Window     string // alerts muted while this window is open
	// Limits map a metric name (perfdata label, "value", "rate") to the
	// value at which capacity runs out, for forecasts.
	Limits map[string]float64
	// Severity is in every alert: SeverityCritical (default),
	// SeverityWarning or SeverityInfo.
	Severity string
	// Labels are in every alert, for routing on the receiver's side.
	Labels map[string]string
	// Runbook names a job offered on the alert, with the host prefilled;
	// "" for none.
	Runbook string
	// DependsOn names monitors on the same host: while one of them is not
	// OK there, this monitor's alerts are suppressed.
	DependsOn []string
	// Connectivity marks the monitor as its hosts' connectivity check (a
	// Nagios host check): while it is CRITICAL or UNKNOWN on a host, the
	// host is down; its other monitors and its children's are suppressed.
	Connectivity bool
	// RepeatInterval re-sends an alert that still fires, unacknowledged,
	// this often; 0 never repeats. Default DefaultRepeatInterval.
	RepeatInterval time.Duration
	DeclRange      hcl.Range

	// dependsOnRanges are the places of DependsOn's elements.
	dependsOnRanges []hcl.Range
	runbookRange    hcl.Range
}

// BlockType is the block m was written as: "monitor" or "trap".
func (m *Monitor) BlockType() string {
	if m.Check.Kind == CheckTrap {
		return "trap"
	}
	return "monitor"
}

// Monitor severities.
const (
	SeverityCritical = "critical"
	SeverityWarning  = "warning"
	SeverityInfo     = "info"
)

// CheckKind names one of the check executors.
type CheckKind string

// Check kinds.
const (
	CheckCommand CheckKind = "command"
	CheckHTTP    CheckKind = "http"
	CheckTCP     CheckKind = "tcp"
	CheckSNMP    CheckKind = "snmp"
	CheckLog     CheckKind = "log"
	// CheckTrap is a trap block: a monitor whose results come from the
	// SNMP trap receiver instead of a poll. Its Interval is zero.
	CheckTrap CheckKind = "trap"
)

// Check is one probe. Expression-valued fields are rendered per host.
type Check struct {
	Kind CheckKind

	Run hcl.Expression // command

	URL       hcl.Expression // http
	Status    int            // http, default 200
	BodyMatch string         // http, a regular expression; empty means any body
	Insecure  bool           // http: skip TLS verification (off by default)

	// Timeout overrides the monitor's timeout when set (0 = not set); the
	// monitor's Timeout already holds the effective value.
	Timeout time.Duration

	Address hcl.Expression // tcp, default host address
	Port    int            // tcp

	OIDs      []string // snmp
	Rate      bool     // snmp: per-second rate of a counter
	WarnAbove *float64
	CritAbove *float64
	WarnBelow *float64
	CritBelow *float64

	Log  *LogCheck // log
	Trap *TrapSpec // trap blocks

	DeclRange hcl.Range
}

// LogCheck is what a log check watches: new lines of one file on the host,
// read from where the previous check stopped.
type LogCheck struct {
	Path    hcl.Expression // per host; must render to an absolute path
	Rotated hcl.Expression // per host, optional: the name the file is renamed to when it is rotated
	Pattern string         // RE2
	Exclude string         // RE2; "" excludes nothing
	// WarnCount and CritCount are the matches per check from which the
	// result is WARNING and CRITICAL; 0 is not set. With neither set, one
	// match is CRITICAL.
	WarnCount int
	CritCount int
	MaxLines  int   // matched lines shown in the output, default 10
	MaxBytes  int64 // bytes read per check, default 1 MiB
	MissingOK bool  // a missing file is OK instead of UNKNOWN
}

// Log check defaults and bounds.
const (
	DefaultLogMaxLines = 10
	DefaultLogMaxBytes = 1 << 20
	MaxLogMaxBytes     = 64 << 20
)

// TrapSpec is what a trap block turns into a state: traps whose
// snmpTrapOID is OID, from a target host's address, set State with the
// rendered Message; a trap with ClearOID (when set) or ClearAfter without a
// new trap (when set) clears it.
type TrapSpec struct {
	OID        string // numeric, without a leading dot
	State      string // "WARNING", "CRITICAL" or "UNKNOWN"
	ClearOID   string
	ClearAfter time.Duration
	// Message is evaluated per trap with host and trap (oid, source,
	// varbinds) in scope; nil means a default naming the trap.
	Message hcl.Expression
}

// Job is a sequence of steps rolled out over its target hosts.
type Job struct {
	Name        string
	Description string
	Targets     Targets
	Steps       []*Step
	Rollout     Rollout
	// Rollback steps run on every touched host when a run fails with
	// on_failure = "rollback". Nil means: restore file step backups.
	Rollback []*Step
	Schedule string // cron; empty means not scheduled
	// Cron is Schedule parsed, read in Timezone (UTC when unset); see
	// Definitions.JobSchedule for the zone a schedule fires in.
	Cron     *Cron
	Window   string
	Timezone string
	// DriftCheck is how often the daemon checks, read-only, that the
	// job's hosts still match what it deployed; 0 is off.
	DriftCheck time.Duration
	// SelfHeal re-syncs drifted and out-of-sync hosts by itself, at most
	// once per DriftCheck, inside the job's window.
	SelfHeal bool
	// SourceFiles are the repo paths the job's steps read (file sources and
	// scripts); a change to any of them changes the job.
	SourceFiles []string
	// Manual jobs never run on a commit: operators (ripple run, the API,
	// the UI), their schedule and runbooks start them. A merge that changes
	// one plans it as "manual: not run".
	Manual bool
	// Params are the job's param blocks in source order; steps, file
	// templates and destinations read them as ${param.NAME}.
	Params []*Param
	// ScheduleParams are the values the job's schedule runs it with
	// (params = { ... } beside schedule), checked at load; nil when none.
	ScheduleParams ParamValues
	DeclRange      hcl.Range
}

// Param returns the job's param name, or nil.
func (j *Job) Param(name string) *Param {
	for _, p := range j.Params {
		if p.Name == name {
			return p
		}
	}
	return nil
}

// StepKind names what a step does on a host.
type StepKind string

// Step kinds.
const (
	StepRun    StepKind = "run"
	StepScript StepKind = "script"
	StepFile   StepKind = "file"
)

// Step is one action on a host.
type Step struct {
	Name       string
	Kind       StepKind
	Run        hcl.Expression // run
	Script     string         // script: repo path
	File       *FileStep      // file
	Timeout    time.Duration  // default 5m
	Idempotent bool           // safe to run again after a crash mid-step
	// Check, on run and script steps, is a read-only command whose exit
	// status 0 says the host is already in the state the step produces
	// (Ansible's creates/unless); drift checks run it instead of the step.
	Check     hcl.Expression
	DeclRange hcl.Range
}

// FileStep renders a template from the repo to a path on the host.
type FileStep struct {
	Source      string // repo path of an HCL template
	Destination string // absolute path on the host
	// DestinationExpr, when the destination uses host values, is the
	// per-host path (Destination is then empty).
	DestinationExpr hcl.Expression
	Mode            uint32 // default 0644
	Owner           string
	Group           string
}

// Rollout is how a job's change spreads over its hosts.
type Rollout struct {
	Waves        []WaveSize // default [1, "100%"]... see docs/hcl.md
	MaxParallel  int        // default 10
	MaxFailures  Budget     // default 0
	Pause        time.Duration
	ApproveAfter int    // 0 = never wait
	OnFailure    string // "rollback" (default) or "halt"
	HealthGate   *HealthGate
	DeclRange    hcl.Range
}

// WaveSize is one entry of a wave list: a host count or a percentage of the
// job's total hosts.
type WaveSize struct {
	Count   int
	Percent float64 // used when Count == 0
}

// Budget is a failure budget per wave: a count or a percentage of the wave.
type Budget struct {
	Count   int
	Percent float64 // used when IsPercent
	// IsPercent distinguishes "0%" from 0; both allow no failure.
	IsPercent bool
}

// HealthGate holds a wave until its monitors are OK on all its hosts.
type HealthGate struct {
	Monitors        []string
	MinHealthyTime  time.Duration // default 10s
	HealthyDeadline time.Duration // default 5m
	DeclRange       hcl.Range
}

// JobSchedule is j's schedule in the time zone it fires in: the job's own
// timezone, else its window's, else UTC. Nil when j has no schedule.
func (d *Definitions) JobSchedule(j *Job) *Cron {
	if j.Cron == nil {
		return nil
	}
	if j.Timezone != "" {
		return j.Cron
	}
	if w, ok := d.Windows[j.Window]; ok && w.Location != nil {
		return j.Cron.In(w.Location)
	}
	return j.Cron
}
