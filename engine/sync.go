package engine

import (
	"context"
	"time"

	"github.com/ripple-ops/ripple/definitions"
)

// SyncState says whether what a job deployed on a host still matches Git.
type SyncState string

// Sync states of a (job, host) pair.
const (
	// SyncSynced: the last run that succeeded there deployed what the
	// applied head says, and no drift check found a difference since.
	SyncSynced SyncState = "synced"
	// SyncOutOfSync: what was deployed is not what the applied head says;
	// the reason says why (never_ran, changed, failed, aborted,
	// rolled_back).
	SyncOutOfSync SyncState = "out_of_sync"
	// SyncDrifted: the host no longer matches what was deployed (someone
	// edited a managed file, a step's check fails).
	SyncDrifted SyncState = "drifted"
	// SyncUnknown: the host was unreachable at the last drift check.
	SyncUnknown SyncState = "unknown"
)

// Reasons for SyncOutOfSync.
const (
	ReasonNeverRan   = "never_ran"   // no run ever succeeded on the host
	ReasonChanged    = "changed"     // the job changed since it was deployed there
	ReasonFailed     = "failed"      // the last run of this version failed there
	ReasonAborted    = "aborted"     // the last run of this version was aborted before it got there
	ReasonRolledBack = "rolled_back" // the last run of this version was rolled back there
)

// DriftStatus is the outcome of a drift check of one job on one host.
type DriftStatus string

// Drift statuses.
const (
	DriftClean   DriftStatus = "clean"
	DriftDrifted DriftStatus = "drifted"
	DriftUnknown DriftStatus = "unknown" // the host could not be checked (unreachable)
)

// SyncMark is one run's mark on a (job, host): which version of the job
// (its fingerprint on the host, see definitions.Fingerprints), at which
// commit, by which run, when.
type SyncMark struct {
	Fingerprint string
	Commit      string
	Run         int64
	At          time.Time
}

// IsZero reports whether m marks nothing.
func (m SyncMark) IsZero() bool { return m.Fingerprint == "" && m.Commit == "" && m.Run == 0 }

// DriftMark is the latest drift check of a (job, host).
type DriftMark struct {
	Status DriftStatus
	// Fingerprint is the deployed version the check compared against.
	Fingerprint string
	// Detail says what differs, secrets redacted: a unified diff for files,
	// the failing check for run steps, why the host could not be checked.
	Detail string
	At     time.Time
}

// HostSync is what the store knows about one job on one host.
type HostSync struct {
	Job, Host string
	// Deployed is the last run that succeeded on the host; zero when none.
	Deployed SyncMark
	// Attempt is the last run that did not succeed on the host, with its
	// Outcome (ReasonFailed, ReasonAborted or ReasonRolledBack) and Error;
	// zero when the host succeeded since.
	Attempt SyncMark
	Outcome string
	Error   string
	// Drift is the latest drift check; zero when none ran.
	Drift DriftMark
}

// SyncUpdate is one change to a (job, host) record: a success (Deployed
// set: the attempt is cleared, and the deployment it replaces is kept as
// the previous one), a failure (Attempt set), or a drift check (Drift
// set). Fields left nil keep their stored value. Undeploy, with Attempt,
// says that Attempt's run undid its own deployment on the host (a
// rollback): the previous deployment is the deployed one again.
type SyncUpdate struct {
	Job, Host string
	Deployed  *SyncMark
	Attempt   *SyncMark
	Outcome   string // with Attempt
	Error     string // with Attempt
	Undeploy  bool   // with Attempt
	Drift     *DriftMark
}

// What a SyncStore keeps of the text of an update, at most, in bytes: an
// attempt's error and a drift check's detail are cut (ClipText) beyond.
const (
	MaxSyncError   = 2000
	MaxDriftDetail = 64 << 10
)

// SyncStore keeps what each run and drift check found on each host.
type SyncStore interface {
	// RecordSync applies updates in one commit. An attempt's error is cut
	// to MaxSyncError bytes and a drift's detail to MaxDriftDetail.
	RecordSync(ctx context.Context, updates []SyncUpdate) error
	// HostSyncs lists the records of job ("" for every job), by job then
	// host.
	HostSyncs(ctx context.Context, job string) ([]HostSync, error)
}

// DriftChecker compares a host with what one rendered step would make it,
// read-only: file steps compare the destination's content hash, mode and
// owner; run steps with a check run the check instead of the step; other
// steps cannot be checked (Checked is false). It never changes the host.
type DriftChecker interface {
	CheckDrift(ctx context.Context, ep Endpoint, step *definitions.HostStep) DriftResult
}

// DriftResult is one step's drift check on one host.
type DriftResult struct {
	Checked bool // false: the step kind has nothing to compare
	Status  DriftStatus
	// Detail says what differs, secrets redacted; capped in size.
	Detail string
}

// HostDrift is what a drift check found on one host for one job.
type HostDrift struct {
	Host   string      `json:"host"`
	Status DriftStatus `json:"status"`
	Detail string      `json:"detail,omitempty"`
	// Skipped says why the host was not checked (out of sync: it is known
	// to differ; nothing in the job can be checked).
	Skipped string `json:"skipped,omitempty"`
}

// JobDrift is a drift check of one job; POST /api/v1/drift returns a list
// of them.
type JobDrift struct {
	Job   string      `json:"job"`
	At    time.Time   `json:"at"`
	Hosts []HostDrift `json:"hosts"`
}

// MonitorStateReader is the live state of every (monitor, host); the
// monitor runner implements it.
type MonitorStateReader interface {
	States() []MonitorHostState
}
