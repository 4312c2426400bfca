package engine

import "strings"

// FirstLine is the first non-blank line of s, trimmed and cut to at most
// max runes (an ellipsis marks the cut), for one-line summaries of command
// output and errors in statuses, tables and pages.
func FirstLine(s string, max int) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = strings.TrimSpace(s[:i])
	}
	if r := []rune(s); max > 0 && len(r) > max {
		s = string(r[:max-1]) + "…"
	}
	return s
}
