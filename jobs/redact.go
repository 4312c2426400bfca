package jobs

import (
	"sort"
	"strings"

	"github.com/ripple-ops/ripple/engine"
)

// Redacted replaces every secret in captured output and errors.
const Redacted = engine.Redacted

// Redactor replaces whole occurrences of secret values with Redacted. The
// zero value and a nil *Redactor redact nothing. Safe for concurrent use.
type Redactor struct {
	secrets  []string // non-empty, longest first
	replacer *strings.Replacer
}

// NewRedactor redacts the given values; empty strings are ignored. When one
// secret contains another, the longer one is replaced whole.
func NewRedactor(secrets ...string) *Redactor {
	seen := map[string]bool{}
	var s []string
	for _, v := range secrets {
		if v == "" || seen[v] {
			continue
		}
		seen[v] = true
		s = append(s, v)
	}
	if len(s) == 0 {
		return &Redactor{}
	}
	// strings.Replacer tries patterns in argument order at each position:
	// longest first makes an enclosing secret win over its parts.
	sort.Slice(s, func(i, j int) bool { return len(s[i]) > len(s[j]) })
	pairs := make([]string, 0, 2*len(s))
	for _, v := range s {
		pairs = append(pairs, v, Redacted)
	}
	return &Redactor{secrets: s, replacer: strings.NewReplacer(pairs...)}
}

// String returns s with every secret replaced.
func (r *Redactor) String(s string) string {
	if r == nil || r.replacer == nil {
		return s
	}
	return r.replacer.Replace(s)
}

// Bytes returns b with every secret replaced; b itself is not modified.
func (r *Redactor) Bytes(b []byte) []byte {
	if r == nil || r.replacer == nil {
		return b
	}
	return []byte(r.replacer.Replace(string(b)))
}

// trimPartial drops a tail of b that is the beginning of a secret, for
// output cut at a size limit: the rest of that secret was never captured,
// so whole-occurrence replacement would miss the start of it.
func (r *Redactor) trimPartial(b []byte) []byte {
	if r == nil {
		return b
	}
	for _, s := range r.secrets {
		for k := min(len(s)-1, len(b)); k > 0; k-- {
			if string(b[len(b)-k:]) == s[:k] {
				b = b[:len(b)-k]
				break
			}
		}
	}
	return b
}
