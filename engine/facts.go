package engine

import (
	"context"
	"time"

	"github.com/ripple-ops/ripple/definitions"
)

// HostFacts is what one gathering read from a host, read-only: over SSH
// (one POSIX sh script, one session) for servers, over SNMP (the system
// group) for hosts with an snmp profile. A fact the host did not tell is
// its zero value (nil for the counts and flags, where zero means
// something). The JSON names are the fact names of templates
// (host.facts.os_version), the API and the CLI.
type HostFacts struct {
	OSID           string `json:"os_id,omitempty"`
	OSVersion      string `json:"os_version,omitempty"`
	OSName         string `json:"os_name,omitempty"`
	Kernel         string `json:"kernel,omitempty"`
	Arch           string `json:"arch,omitempty"`
	CPUs           int    `json:"cpus,omitempty"`
	MemoryBytes    int64  `json:"memory_bytes,omitempty"`
	Disks          []Disk `json:"disks,omitempty"`
	Vendor         string `json:"vendor,omitempty"`
	Product        string `json:"product,omitempty"`
	Serial         string `json:"serial,omitempty"`
	Virtualization string `json:"virtualization,omitempty"`
	UptimeSeconds  int64  `json:"uptime_seconds,omitempty"`
	// PackageManager is "apt" or "dnf" when pending updates were counted.
	PackageManager         string `json:"package_manager,omitempty"`
	PendingUpdates         *int   `json:"pending_updates,omitempty"`
	PendingSecurityUpdates *int   `json:"pending_security_updates,omitempty"`
	RebootRequired         *bool  `json:"reboot_required,omitempty"`

	SysDescr    string `json:"sys_descr,omitempty"`
	SysObjectID string `json:"sys_object_id,omitempty"`
	SysName     string `json:"sys_name,omitempty"`
	// SysUptime is sysUpTime in seconds.
	SysUptime int64 `json:"sys_uptime,omitempty"`
	IfCount   *int  `json:"if_count,omitempty"`
}

// Disk is one block device of a host.
type Disk struct {
	Name      string `json:"name"`
	SizeBytes int64  `json:"size_bytes"`
}

// FactChange is one fact of one host that changed between two gatherings:
// an event of the host's history.
type FactChange struct {
	Host string    `json:"host"`
	At   time.Time `json:"at"`
	Fact string    `json:"fact"`
	Old  string    `json:"old"`
	New  string    `json:"new"`
}

// FactsRecord is what the store knows of one host's facts: the last
// successful gathering, and the last attempt when it failed.
type FactsRecord struct {
	Host  string
	Facts HostFacts
	// GatheredAt is when Facts were read; zero when never.
	GatheredAt time.Time
	// AttemptAt is the last gathering tried; Error says why it failed, ""
	// when it succeeded.
	AttemptAt time.Time
	Error     string
	// UpdatesSince and SecuritySince are when the host was first seen
	// with pending updates (security updates), in the run of gatherings
	// that saw some; zero when it has none.
	UpdatesSince, SecuritySince time.Time
}

// Stale reports whether the record's facts are older than two intervals
// at now (never stale with interval 0: gathering is off).
func (r FactsRecord) Stale(now time.Time, interval time.Duration) bool {
	return interval > 0 && (r.GatheredAt.IsZero() || now.Sub(r.GatheredAt) > 2*interval)
}

// MaxFactsError caps the error stored for a failed gathering.
const MaxFactsError = 2048

// FactsUpdate is one gathering's outcome for one host. With Error set only
// the attempt is recorded and the last facts are kept; else Facts replace
// them and Changes are added to the host's history.
type FactsUpdate struct {
	Record  FactsRecord
	Changes []FactChange
}

// FactStore keeps each host's last facts and the history of their changes.
type FactStore interface {
	// RecordFacts stores updates in one commit. An update with an Error
	// writes only AttemptAt and Error (creating the host's row if it has
	// none); else it replaces the record and appends its Changes.
	RecordFacts(ctx context.Context, updates []FactsUpdate) error
	FactReader
}

// FactReader reads facts.
type FactReader interface {
	// HostFacts returns the record of host, or of every host sorted by
	// name when host is "".
	HostFacts(ctx context.Context, host string) ([]FactsRecord, error)
	// FactHistory returns the changes of host's facts, newest first, at
	// most limit (0: all).
	FactHistory(ctx context.Context, host string, limit int) ([]FactChange, error)
}

// FactsRequest says how to reach one host for its facts: Endpoint for SSH
// (nil Credential and Transport "ssh": no SSH), SNMP for the system group
// (nil: none). UpdatesFile and RebootFile are the test hooks: files on the
// host read instead of the package manager's list and the reboot flag.
type FactsRequest struct {
	Endpoint    Endpoint
	SSH         bool
	SNMP        *definitions.SNMPAccess
	UpdatesFile string
	RebootFile  string
	// Secrets are redacted from errors.
	Secrets []string
}

// FactsProbe gathers a host's facts, read-only.
type FactsProbe interface {
	GatherFacts(ctx context.Context, req FactsRequest) (HostFacts, error)
}

// FactsGatherer gathers facts on demand: the daemon on the leader, the
// follower elsewhere. Hosts empty means every host.
type FactsGatherer interface {
	GatherFacts(ctx context.Context, hosts ...string) ([]FactsRecord, error)
}
