package engine

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/ripple-ops/ripple/definitions"
)

// LogFile is one file on a host, by device and inode, and the offset of
// the first byte a log check has not read yet.
type LogFile struct {
	Device uint64 `json:"dev"`
	Inode  uint64 `json:"ino"`
	Offset int64  `json:"off"`
}

// Same reports whether f and g are the same file, wherever they are read.
func (f *LogFile) Same(g *LogFile) bool {
	return f != nil && g != nil && f.Device == g.Device && f.Inode == g.Inode
}

// LogCursor is where the log check of one (monitor, host) stopped: the
// store keeps it with the alert state, so a restart, or another node of a
// cluster taking the pair over, reads on from there.
type LogCursor struct {
	// Path is the file the cursor is for; a check of another path starts
	// afresh.
	Path string `json:"path"`
	// File is the file at Path at the last check; nil when there was none
	// (a file that appears later is new and read from its start).
	File *LogFile `json:"file,omitempty"`
	// Rotated is the previous file while it is still found at the check's
	// rotated name after a rotation: a writer that has not reopened the log
	// yet may still append to it, and those lines are read too. Nil when
	// there is none.
	Rotated *LogFile `json:"rotated,omitempty"`
}

// LogChecker runs log checks, which read on from where the previous check
// of the same (monitor, host) stopped. jobs.Checker implements it; the
// monitor runner keeps each pair's cursor and hands it back with the next
// check.
type LogChecker interface {
	// CheckLog runs check (Kind log) from cursor from (nil: no check ran
	// before; the file is read from its end, so old lines never alert)
	// and returns the result and the cursor to keep with it. next is from
	// when the check read nothing (the host is unreachable); it is never
	// nil.
	CheckLog(ctx context.Context, ep Endpoint, check *definitions.HostCheck, from *LogCursor) (res CheckResult, next *LogCursor)
}

// EncodeLogCursor is c as the stores keep it: JSON, "" for nil.
func EncodeLogCursor(c *LogCursor) (string, error) {
	if c == nil {
		return "", nil
	}
	b, err := json.Marshal(c)
	if err != nil {
		return "", fmt.Errorf("encode log cursor: %w", err)
	}
	return string(b), nil
}

// DecodeLogCursor reverses EncodeLogCursor.
func DecodeLogCursor(s string) (*LogCursor, error) {
	if s == "" {
		return nil, nil
	}
	var c LogCursor
	if err := json.Unmarshal([]byte(s), &c); err != nil {
		return nil, fmt.Errorf("decode log cursor: %w", err)
	}
	return &c, nil
}
