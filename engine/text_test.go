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

func TestPlural(t *testing.T) {
	for _, tc := range []struct{ got, want string }{
		{Plural(0, "host"), "0 hosts"},
		{Plural(1, "host"), "1 host"},
		{Plural(2, "wave"), "2 waves"},
		{PluralOf(1, 1, "host"), "1/1 host"},
		{PluralOf(0, 1, "host"), "0/1 host"},
		{PluralOf(1, 20, "host"), "1/20 hosts"},
	} {
		if tc.got != tc.want {
			t.Errorf("got %q, want %q", tc.got, tc.want)
		}
	}
}
