package jobs

import (
	"strings"
	"testing"
)

func TestRedactor(t *testing.T) {
	tests := []struct {
		name    string
		secrets []string
		in      string
		want    string
	}{
		{"none", nil, "a secret", "a secret"},
		{"empty secret ignored", []string{""}, "abc", "abc"},
		{"whole occurrences", []string{"hunter2"}, "pw=hunter2 again hunter2.", "pw=[redacted] again [redacted]."},
		{"longest wins", []string{"abc", "abcdef"}, "xabcdefy abc", "x[redacted]y [redacted]"},
		{"several", []string{"s1x", "t2y"}, "s1x-t2y", "[redacted]-[redacted]"},
		{"multiline", []string{"line1\nline2"}, "<line1\nline2>", "<[redacted]>"},
		{"duplicates", []string{"q", "q"}, "qq", "[redacted][redacted]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := NewRedactor(tt.secrets...)
			if got := r.String(tt.in); got != tt.want {
				t.Errorf("String(%q) = %q, want %q", tt.in, got, tt.want)
			}
			if got := string(r.Bytes([]byte(tt.in))); got != tt.want {
				t.Errorf("Bytes(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
	var nilR *Redactor
	if nilR.String("x") != "x" {
		t.Error("nil Redactor changed its input")
	}
}

// TestCaptureCutSecret: a secret cut in half by the output limit must not
// leak its beginning.
func TestCaptureCutSecret(t *testing.T) {
	r := NewRedactor("supersecretvalue")
	c := newCapture(20)
	c.Write([]byte("0123456789abcdsupersecretvalue and more"))
	got := string(c.result(r))
	if strings.Contains(got, "super") {
		t.Fatalf("partial secret leaked: %q", got)
	}
	if !strings.HasPrefix(got, "0123456789abcd\n[ripple: output truncated, 25 more bytes]") {
		t.Fatalf("got %q", got)
	}
	c = newCapture(100)
	c.Write([]byte("a supersecretvalue b"))
	if got := string(c.result(r)); got != "a [redacted] b" {
		t.Fatalf("got %q", got)
	}
}
