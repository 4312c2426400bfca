package engine

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"sync"
)

// Secrets: the registry every component redacts loaded secret values
// with, and reading a secret from a file.

// ReadSecretFile reads a one-line secret (a token, a webhook secret) from
// path, trimmed; an empty file is an error.
func ReadSecretFile(path string) (string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("read secret file: %w", err)
	}
	s := strings.TrimSpace(string(b))
	if s == "" {
		return "", fmt.Errorf("secret file %s is empty", path)
	}
	return s, nil
}

// Redacted stands in for a secret in anything ripple stores, shows, sends
// or logs.
const Redacted = "[redacted]"

// MinRedactLen is the shortest value a SecretRegistry redacts. A shorter
// value ("1", "on", "22", "yes") occurs by chance in almost any text:
// replacing it in every output of every run, check and log would garble
// exit codes, counts and words, and the pattern of "[redacted]" where a
// "1" belongs would tell a reader what the secret is. The output of the
// step or check that used a short value is still redacted of it, whatever
// its length, by the executor that ran it (definitions.HostStep.Secrets).
const MinRedactLen = 4

// SecretRegistry holds every secret value this process has loaded: what
// the daemon-side SecretSource returned for env() and file() (templates,
// credential passphrases, SNMP and notifier secrets) and the secrets the
// command itself reads. One registry is shared by every component, and
// each redacts with it where output is stored or shown (the rollout before
// it journals a result, the monitor runner on check output, drift details,
// notifications, the log writer), so a value one job loaded is redacted
// from the output of every other job and check too.
//
// It knows what this process loaded: after a restart a value is redacted
// everywhere again once a run, a monitor or a notifier has loaded it (the
// monitors and notifiers of the applied commit load theirs at start-up).
// Values are never written anywhere.
//
// Safe for concurrent use; a nil *SecretRegistry redacts nothing.
type SecretRegistry struct {
	mu       sync.Mutex
	values   map[string]struct{}
	replacer *strings.Replacer // nil until needed; reset when a value is added
}

// NewSecretRegistry returns an empty registry.
func NewSecretRegistry() *SecretRegistry {
	return &SecretRegistry{values: map[string]struct{}{}}
}

// Add records secret values. Each is recorded as given and in the forms
// output shows it in: without surrounding white space (trimspace() of a
// file, or a shell's echo), each line of a value of several lines, and
// each of those escaped as in a JSON string (JSON logs, API bodies). Forms
// shorter than MinRedactLen are left out.
func (r *SecretRegistry) Add(values ...string) {
	if r == nil {
		return
	}
	var forms []string
	for _, v := range values {
		forms = append(forms, redactForms(v)...)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, f := range forms {
		if _, ok := r.values[f]; !ok {
			r.values[f] = struct{}{}
			r.replacer = nil
		}
	}
}

// Redact returns s with every recorded value replaced by Redacted; when
// one value contains another, the longer is replaced whole.
func (r *SecretRegistry) Redact(s string) string {
	if r == nil || s == "" {
		return s
	}
	rep := r.current()
	if rep == nil {
		return s
	}
	return rep.Replace(s)
}

func (r *SecretRegistry) current() *strings.Replacer {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.replacer != nil || len(r.values) == 0 {
		return r.replacer
	}
	vs := make([]string, 0, len(r.values))
	for v := range r.values {
		vs = append(vs, v)
	}
	// strings.Replacer tries patterns in argument order at each position:
	// longest first makes an enclosing secret win over its parts.
	sort.Slice(vs, func(i, j int) bool {
		if len(vs[i]) != len(vs[j]) {
			return len(vs[i]) > len(vs[j])
		}
		return vs[i] < vs[j]
	})
	pairs := make([]string, 0, 2*len(vs))
	for _, v := range vs {
		pairs = append(pairs, v, Redacted)
	}
	r.replacer = strings.NewReplacer(pairs...)
	return r.replacer
}

// redactForms lists the forms of v that Add records (see there).
func redactForms(v string) []string {
	seen := map[string]bool{}
	var out []string
	add := func(s string) {
		if len(s) >= MinRedactLen && !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	base := []string{v, strings.TrimSpace(v)}
	if strings.ContainsAny(v, "\r\n") {
		for line := range strings.Lines(v) {
			base = append(base, strings.TrimSpace(line))
		}
	}
	for _, s := range base {
		add(s)
		add(jsonEscaped(s))
	}
	return out
}

// jsonEscaped is s as it appears inside a JSON string, without the quotes
// and without HTML escaping (as zerolog and the API write it).
func jsonEscaped(s string) string {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(s); err != nil {
		return s
	}
	out := strings.TrimSuffix(b.String(), "\n")
	return strings.TrimSuffix(strings.TrimPrefix(out, `"`), `"`)
}

// Writer returns a writer that redacts what it writes to w, for a logger's
// output: each Write (a zerolog event is one) is redacted whole. With a nil
// registry it returns w.
func (r *SecretRegistry) Writer(w io.Writer) io.Writer {
	if r == nil {
		return w
	}
	return redactingWriter{r: r, w: w}
}

type redactingWriter struct {
	r *SecretRegistry
	w io.Writer
}

func (rw redactingWriter) Write(p []byte) (int, error) {
	if _, err := io.WriteString(rw.w, rw.r.Redact(string(p))); err != nil {
		return 0, err
	}
	return len(p), nil
}
