package pgstore

import (
	"strings"
	"time"
	"unicode/utf8"
)

// Times are stored as BIGINT Unix nanoseconds, with 0 for the zero
// time.Time, and read back in UTC: the same as SQLite, and exact to the
// nanosecond (TIMESTAMPTZ keeps microseconds).

func nanos(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

func fromNanos(n int64) time.Time {
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(0, n).UTC()
}

// textArgs makes the string arguments of a statement fit TEXT columns,
// which hold valid UTF-8 without NUL: each bad byte becomes U+FFFD. Text
// that may hold any bytes (what hosts send) is passed as []byte to BYTEA
// columns and never reaches here.
func textArgs(args []any) {
	for i, a := range args {
		switch v := a.(type) {
		case string:
			args[i] = safeText(v)
		case []string:
			for j, s := range v {
				v[j] = safeText(s)
			}
		}
	}
}

func safeText(s string) string {
	if utf8.ValidString(s) && strings.IndexByte(s, 0) < 0 {
		return s
	}
	return strings.ReplaceAll(strings.ToValidUTF8(s, "\uFFFD"), "\x00", "\uFFFD")
}
