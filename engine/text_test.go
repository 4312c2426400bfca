package engine

import "testing"

func TestFirstLine(t *testing.T) {
	tests := []struct {
		in   string
		max  int
		want string
	}{
		{"  ok\nmore", 10, "ok"},
		{"", 10, ""},
		{"abcdefghij", 10, "abcdefghij"},
		{"abcdefghijk", 10, "abcdefghi…"},
		{"ünïcödé ünïcödé", 8, "ünïcödé…"}, // cut by runes, never inside one
	}
	for _, tc := range tests {
		if got := FirstLine(tc.in, tc.max); got != tc.want {
			t.Errorf("FirstLine(%q, %d) = %q, want %q", tc.in, tc.max, got, tc.want)
		}
	}
}
