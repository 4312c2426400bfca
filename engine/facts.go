package engine

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/zclconf/go-cty/cty"
	ctyjson "github.com/zclconf/go-cty/cty/json"

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

// volatileFact reports whether a fact changes on every gathering; a
// change of it is not an event of the host's history.
func volatileFact(name string) bool { return name == "uptime_seconds" || name == "sys_uptime" }

// Flat returns the facts as fact name -> value as text, (FactNames); facts not told are left out. Disks read "vda 20G, vdb 1T".
func (f HostFacts) Flat() map[string]string {
	b, _ := json.Marshal(f)
	var m map[string]any
	_ = json.Unmarshal(b, &m)
	out := make(map[string]string, len(m))
	for k, v := range m {
		switch v := v.(type) {
		case string:
			out[k] = v
		case float64:
			out[k] = strconv.FormatFloat(v, 'f', -1, 64)
		case bool:
			out[k] = strconv.FormatBool(v)
		}
	}
	if len(f.Disks) > 0 {
		parts := make([]string, len(f.Disks))
		for i, d := range f.Disks {
			parts[i] = d.Name + " " + HumanBytes(d.SizeBytes)
		}
		out["disks"] = strings.Join(parts, ", ")
	}
	return out
}

// FactNames lists the facts in the order they are shown.
func FactNames() []string {
	return []string{
		"os_id", "os_version", "os_name", "kernel", "arch", "cpus", "memory_bytes", "disks",
		"vendor", "product", "serial", "virtualization", "uptime_seconds",
		"package_manager", "pending_updates", "pending_security_updates", "reboot_required",
		"sys_descr", "sys_object_id", "sys_name", "sys_uptime", "if_count",
	}
}

// HumanBytes formats n bytes in binary units: "512M", "7.8G".
func HumanBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%dB", n)
	}
	f, i := float64(n), -1
	for f >= unit && i < 5 {
		f /= unit
		i++
	}
	s := strconv.FormatFloat(f, 'f', 1, 64)
	s = strings.TrimSuffix(s, ".0")
	return s + string("KMGTPE"[i])
}

// Value is the facts as the cty object templates read as host.facts.
func (f HostFacts) Value() cty.Value {
	b, err := json.Marshal(f)
	if err != nil {
		return cty.EmptyObjectVal
	}
	ty, err := ctyjson.ImpliedType(b)
	if err != nil {
		return cty.EmptyObjectVal
	}
	v, err := ctyjson.Unmarshal(b, ty)
	if err != nil {
		return cty.EmptyObjectVal
	}
	return v
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

// DiffFacts lists the facts that differ from old to new, in FactNames
// order, leaving out the volatile ones (uptimes).
func DiffFacts(host string, at time.Time, old, new HostFacts) []FactChange {
	o, n := old.Flat(), new.Flat()
	var out []FactChange
	for _, name := range FactNames() {
		if volatileFact(name) || o[name] == n[name] {
			continue
		}
		out = append(out, FactChange{Host: host, At: at, Fact: name, Old: o[name], New: n[name]})
	}
	return out
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

// SortFactsRecords sorts records by host.
func SortFactsRecords(rs []FactsRecord) {
	slices.SortFunc(rs, func(a, b FactsRecord) int { return strings.Compare(a.Host, b.Host) })
}
