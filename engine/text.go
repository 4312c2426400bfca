package engine

import (
	"strconv"
	"strings"
)

// Text for people: one-line summaries, counted nouns, cut text.

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

// Plural counts a noun for people: "1 host", "2 hosts", "0 hosts". Nouns
// are the regular ones ripple counts (host, wave, check, run, ...).
func Plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return strconv.Itoa(n) + " " + noun + "s"
}

// PluralOf counts part of a whole, the noun agreeing with the whole:
// "1/1 host", "3/20 hosts".
func PluralOf(n, total int, noun string) string {
	return strconv.Itoa(n) + "/" + Plural(total, noun)
}

// ClipText cuts s to at most n bytes on a rune boundary, marking the cut
// with an ellipsis.
func ClipText(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := n - len("…")
	for cut > 0 && s[cut]&0xC0 == 0x80 {
		cut--
	}
	return s[:cut] + "…"
}
