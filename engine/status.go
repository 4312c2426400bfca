package engine

import (
	"time"
	"unicode/utf8"
)

// Status contexts ripple reports on commits.
const (
	StatusValidate  = "ripple/validate"
	StatusPlan      = "ripple/plan"
	StatusJobPrefix = "ripple/job/"
)

// StatusContext is the commit status context of a job's runs.
func StatusContext(job string) string { return StatusJobPrefix + job }

// MaxStatusDescription is GitHub's limit on a commit status description,
// in characters.
const MaxStatusDescription = 140

// CommitStatus is a status ripple reports on a commit (ripple/validate,
// ripple/plan, ripple/job/<job>). The outbox keeps only the latest state per
// (commit, context) until it is delivered.
type CommitStatus struct {
	Commit      string
	Context     string
	State       string // "pending", "success", "failure", "error"
	Description string
	TargetURL   string
	Updated     time.Time
}

// TruncateDescription cuts s to the status description limit on a rune
// boundary, marking the cut.
func TruncateDescription(s string) string {
	if utf8.RuneCountInString(s) <= MaxStatusDescription {
		return s
	}
	r := []rune(s)
	return string(r[:MaxStatusDescription-1]) + "…"
}

// DaemonStatus is what the daemon is doing, for the API and logs.
type DaemonStatus struct {
	Branch string `json:"branch"`
	Repo   string `json:"repo"`
	// Head is the branch head at the last fetch.
	Head string `json:"head,omitempty"`
	// LastApplied is the last commit whose runs all ended.
	LastApplied string `json:"last_applied,omitempty"`
	// Base is the last commit whose runs were started; the next diff starts
	// here. It runs ahead of LastApplied while runs are in progress.
	Base     string `json:"base,omitempty"`
	Ready    bool   `json:"ready"`
	Stopping bool   `json:"stopping,omitempty"`
	Paused   string `json:"paused,omitempty"`  // why reconciling waits for an operator
	Refused  string `json:"refused,omitempty"` // why the head is not applied
	// LastError says what is wrong now: the store's write error while it
	// cannot write, else the last fetch or reconcile error.
	LastError string    `json:"last_error,omitempty"`
	LastFetch time.Time `json:"last_fetch,omitzero"`
	PollEvery string    `json:"poll,omitempty"`
	// Node and Leader, in a cluster, are the node that answers and the
	// node that holds the leader lease ("" while none does); the rest is
	// the leader's status as it last published it.
	Node   string `json:"node,omitempty"`
	Leader string `json:"leader,omitempty"`
	// Store is whether the store can write; nil when the daemon has no
	// view of it (taken as writable).
	Store *StoreHealth `json:"store,omitempty"`
}

// StoreFailing reports whether the store is known not to write.
func (s DaemonStatus) StoreFailing() bool { return s.Store != nil && !s.Store.Writable }
