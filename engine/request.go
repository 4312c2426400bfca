package engine

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

// What operators ask the daemon for (the API, the web UI, the CLI through
// them); the daemon, on the leader, carries it out.

// JobRunRequest asks for a run of a job at the applied commit.
type JobRunRequest struct {
	Job string `json:"job"`
	// Hosts narrows the run to these targets of the job; empty: all.
	Hosts []string `json:"hosts,omitempty"`
	// Params are the values for the job's params as given: JSON values,
	// where a string may also spell a number, a bool or a list (see
	// definitions.Job.ResolveParams). Missing ones take their default.
	Params map[string]json.RawMessage `json:"params,omitempty"`
	Actor  string                     `json:"actor"`
	Reason string                     `json:"reason"`
}

// ExecRequest asks for an ad-hoc command on hosts: exactly one of Hosts,
// Group and All says which.
type ExecRequest struct {
	Hosts   []string `json:"hosts,omitempty"`
	Group   string   `json:"group,omitempty"`
	All     bool     `json:"all,omitempty"`
	Command string   `json:"command"`
	// MaxParallel hosts at once; 0 is DefaultExecParallel.
	MaxParallel int `json:"max_parallel,omitempty"`
	// Timeout of the command on each host; 0 is DefaultExecTimeout.
	Timeout time.Duration `json:"timeout,omitempty"`
	Actor   string        `json:"actor"`
	Reason  string        `json:"reason"`
}

// Exec defaults and bounds.
const (
	DefaultExecParallel = 10
	MaxExecParallel     = 100000
	DefaultExecTimeout  = 5 * time.Minute
	MaxExecTimeout      = 24 * time.Hour
	// MaxExecCommand caps the command's length in bytes.
	MaxExecCommand = 64 << 10
)

// Check refuses a request that cannot be carried out as asked (an error
// wrapping ErrInvalidRequest, naming what is wrong) and fills in the
// defaults. It does not look at the hosts: the daemon resolves them.
func (r *ExecRequest) Check() error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf(format+": %w", append(args, ErrInvalidRequest)...)
	}
	n := 0
	if len(r.Hosts) > 0 {
		n++
	}
	if r.Group != "" {
		n++
	}
	if r.All {
		n++
	}
	switch {
	case n != 1:
		return bad("name the hosts with exactly one of hosts, group or all")
	case strings.TrimSpace(r.Reason) == "":
		return bad("an ad-hoc command needs a reason")
	case strings.TrimSpace(r.Command) == "":
		return bad("the command is empty")
	case len(r.Command) > MaxExecCommand:
		return bad("the command is over %d bytes", MaxExecCommand)
	case strings.ContainsRune(r.Command, 0):
		return bad("the command holds a NUL byte")
	case r.MaxParallel < 0 || r.MaxParallel > MaxExecParallel:
		return bad("max_parallel must be from 1 to %d", MaxExecParallel)
	case r.Timeout < 0 || (r.Timeout > 0 && r.Timeout < time.Second) || r.Timeout > MaxExecTimeout:
		return bad("timeout must be from 1s to %s", MaxExecTimeout)
	}
	for _, h := range r.Hosts {
		if strings.TrimSpace(h) == "" {
			return bad("hosts holds an empty name")
		}
	}
	if r.MaxParallel == 0 {
		r.MaxParallel = DefaultExecParallel
	}
	if r.Timeout == 0 {
		r.Timeout = DefaultExecTimeout
	}
	return nil
}
