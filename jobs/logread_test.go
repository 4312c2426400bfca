package jobs

import (
	"bytes"
	"fmt"
	"strings"
	"testing"

	"pgregory.net/rapid"
)

// TestLogStreamAnyChunking: whatever the data (empty lines, a last line
// without its newline, lines that look like headers of another check) and
// however the transport cuts the output into writes, the parser hands
// over exactly the complete lines of each section and counts their bytes.
func TestLogStreamAnyChunking(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		const token = "rpl0123456789abcdef0123456789abcdef"
		line := rapid.SampledFrom([]string{"", "ERROR x", "INFO y", "rplffff other token", token + "x not a header", strings.Repeat("z", 40)})
		var out bytes.Buffer
		out.WriteString("motd noise\n" + token + " cur 2049 77 9999\n")
		want := map[string][]string{}
		consumed := map[string]int64{}
		for _, which := range []string{"rot", "cur"} {
			lines := rapid.SliceOfN(line, 0, 8).Draw(t, which+" lines")
			partial := rapid.SampledFrom([]string{"", "half"}).Draw(t, which+" partial")
			var data strings.Builder
			for _, l := range lines {
				data.WriteString(l + "\n")
			}
			consumed[which] = int64(data.Len())
			data.WriteString(partial)
			want[which] = lines
			fmt.Fprintf(&out, "%s data %s 10 %d\n%s\n", token, which, data.Len(), data.String())
		}
		out.WriteString(token + " end\n")

		got := map[string][]string{}
		s := newLogStream(token, 1<<20, func(which string, l []byte) { got[which] = append(got[which], string(l)) })
		b := out.Bytes()
		for len(b) > 0 {
			n := rapid.IntRange(1, len(b)).Draw(t, "write")
			if _, err := s.Write(b[:n]); err != nil {
				t.Fatal(err)
			}
			b = b[n:]
		}
		if err := s.finish(); err != nil {
			t.Fatal(err)
		}
		for _, which := range []string{"rot", "cur"} {
			if strings.Join(got[which], "|") != strings.Join(want[which], "|") || len(got[which]) != len(want[which]) {
				t.Fatalf("%s lines = %q, want %q", which, got[which], want[which])
			}
			if sec := s.section(which); sec == nil || sec.Consumed != consumed[which] || sec.From != 10 {
				t.Fatalf("%s section = %+v, want %d bytes consumed", which, sec, consumed[which])
			}
		}
	})
}

func TestLogStreamErrors(t *testing.T) {
	const token = "rpltoken"
	for name, out := range map[string]string{
		"no end":           token + " cur missing\n",
		"nothing":          "",
		"more than said":   token + " cur 1 2 3\n" + token + " data cur 0 2\nabcdef\n\n" + token + " end\n",
		"unknown header":   token + " cur 1 2 3\n" + token + " what\n" + token + " end\n",
		"over max_bytes":   token + " cur 1 2 3\n" + token + " data cur 0 99999999\n\n" + token + " end\n",
		"no current file":  token + " end\n",
		"negative numbers": token + " cur 1 2 -3\n" + token + " end\n",
	} {
		t.Run(name, func(t *testing.T) {
			s := newLogStream(token, 1<<20, func(string, []byte) {})
			_, _ = s.Write([]byte(out))
			if err := s.finish(); err == nil {
				t.Errorf("finish() = nil for %q", out)
			}
		})
	}
}

// FuzzLogStream: whatever a host sends back, the parser neither panics
// nor hands over more bytes than it was told a section holds.
func FuzzLogStream(f *testing.F) {
	const token = "rpltoken"
	f.Add([]byte(token + " cur 1 2 30\n" + token + " rot 1 3 10\n" + token + " data rot 4 6\nERROR\n\n" + token + " data cur 0 5\nab\ncd\n" + token + " end\n"))
	f.Add([]byte(token + " cur missing\n" + token + " end\n"))
	f.Fuzz(func(t *testing.T, out []byte) {
		s := newLogStream(token, 64, func(string, []byte) {})
		_, _ = s.Write(out)
		if s.finish() == nil {
			for _, sec := range s.sections {
				if sec.Got > sec.Want || sec.Consumed > sec.Got || sec.Want > 64 {
					t.Fatalf("section %+v", sec)
				}
			}
		}
	})
}
