package engine

import (
	"bytes"
	"strings"
	"sync"
	"testing"
)

func TestSecretRegistryRedact(t *testing.T) {
	r := NewSecretRegistry()
	if got := r.Redact("nothing yet"); got != "nothing yet" {
		t.Errorf("empty registry changed %q", got)
	}
	r.Add("s3cret-token\n", "abc", "", "key-line-one\nkey-line-two\n", `quo"te\back`, "s3cret-token-and-more")
	for _, tc := range []struct{ in, want string }{
		{"token=s3cret-token\n", "token=[redacted]"},                     // the raw value, trailing newline included
		{"token=s3cret-token!", "token=[redacted]!"},                     // trimmed, as trimspace() or echo shows it
		{"x s3cret-token-and-more y", "x [redacted] y"},                  // the longer value wins
		{"abc is short and stays", "abc is short and stays"},             // under MinRedactLen
		{"cat key:\nkey-line-one\nkey-line-two", "cat key:\n[redacted]"}, // whole, trimmed
		{"grep: key-line-two matched", "grep: [redacted] matched"},       // each line alone
		{`{"msg":"quo\"te\\back"}`, `{"msg":"[redacted]"}`},              // JSON-escaped, as in a JSON log
		{`raw quo"te\back`, `raw [redacted]`},
	} {
		if got := r.Redact(tc.in); got != tc.want {
			t.Errorf("Redact(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
	var nilReg *SecretRegistry
	nilReg.Add("whatever")
	if got := nilReg.Redact("whatever"); got != "whatever" {
		t.Errorf("nil registry redacted: %q", got)
	}
}

func TestSecretRegistryWriterAndConcurrency(t *testing.T) {
	r := NewSecretRegistry()
	var buf bytes.Buffer
	var mu sync.Mutex
	w := r.Writer(writerFunc(func(p []byte) (int, error) {
		mu.Lock()
		defer mu.Unlock()
		return buf.Write(p)
	}))
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			r.Add(strings.Repeat("x", 8) + string(rune('a'+i)))
			if _, err := w.Write([]byte("log xxxxxxxx" + string(rune('a'+i)) + "\n")); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if strings.Contains(buf.String(), "xxxxxxxx") {
		t.Errorf("a value added before its write reached the log:\n%s", buf.String())
	}
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }
