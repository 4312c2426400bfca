package jobs

import (
	"math"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/ripple-ops/ripple/engine"
)

func f64(v float64) *float64 { return &v }

func TestParsePerfdata(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    []engine.Metric
		wantErr bool
	}{
		{name: "empty", in: "", want: nil},
		{
			name: "check_disk",
			in:   "/=2643MB;15160;17055;0;18950",
			want: []engine.Metric{{Name: "/", Value: 2643, Unit: "MB", Warn: f64(15160), Crit: f64(17055), Min: f64(0), Max: f64(18950)}},
		},
		{
			name: "check_load three values",
			in:   "load1=0.150;15.000;30.000;0; load5=0.080;10.000;25.000;0; load15=0.020;5.000;20.000;0;",
			want: []engine.Metric{
				{Name: "load1", Value: 0.15, Warn: f64(15), Crit: f64(30), Min: f64(0)},
				{Name: "load5", Value: 0.08, Warn: f64(10), Crit: f64(25), Min: f64(0)},
				{Name: "load15", Value: 0.02, Warn: f64(5), Crit: f64(20), Min: f64(0)},
			},
		},
		{
			name: "quoted label with spaces and escaped quote",
			in:   "'free space on C:\\ it''s'=45%;80;90 'time'=12ms",
			want: []engine.Metric{
				{Name: "free space on C:\\ it's", Value: 45, Unit: "%", Warn: f64(80), Crit: f64(90)},
				{Name: "time", Value: 12, Unit: "ms"},
			},
		},
		{
			name: "units",
			in:   "a=1s b=2ms c=3us d=4% e=5B f=6KB g=7MB h=8GB i=9TB j=10c",
			want: []engine.Metric{
				{Name: "a", Value: 1, Unit: "s"}, {Name: "b", Value: 2, Unit: "ms"}, {Name: "c", Value: 3, Unit: "us"},
				{Name: "d", Value: 4, Unit: "%"}, {Name: "e", Value: 5, Unit: "B"}, {Name: "f", Value: 6, Unit: "KB"},
				{Name: "g", Value: 7, Unit: "MB"}, {Name: "h", Value: 8, Unit: "GB"}, {Name: "i", Value: 9, Unit: "TB"},
				{Name: "j", Value: 10, Unit: "c"},
			},
		},
		{
			name: "ranges keep a single bound or nothing",
			in:   "a=1;~:5;10: b=2;10:20;@1:2 c=3;0:7;:9",
			want: []engine.Metric{
				{Name: "a", Value: 1, Warn: f64(5), Crit: f64(10)},
				{Name: "b", Value: 2},
				{Name: "c", Value: 3, Warn: f64(7), Crit: f64(9)},
			},
		},
		{
			name: "weird thresholds never fail",
			in:   "a=1;abc;~:;max",
			want: []engine.Metric{{Name: "a", Value: 1}},
		},
		{name: "negative and exponent", in: "t=-1.5e-3s x=2E3", want: []engine.Metric{{Name: "t", Value: -0.0015, Unit: "s"}, {Name: "x", Value: 2000}}},
		{name: "decimal comma", in: "load=0,5", want: []engine.Metric{{Name: "load", Value: 0.5}}},
		{name: "undetermined value skipped", in: "a=U b=1", want: []engine.Metric{{Name: "b", Value: 1}}},
		{name: "multi-line", in: "a=1\nb=2\n'c d'=3", want: []engine.Metric{{Name: "a", Value: 1}, {Name: "b", Value: 2}, {Name: "c d", Value: 3}}},
		{name: "missing equals", in: "junk a=1", want: []engine.Metric{{Name: "a", Value: 1}}, wantErr: true},
		{name: "not a number", in: "a=xyz b=2", want: []engine.Metric{{Name: "b", Value: 2}}, wantErr: true},
		{name: "NaN rejected", in: "a=NaN b=Inf c=1", want: []engine.Metric{{Name: "c", Value: 1}}, wantErr: true},
		{name: "unterminated quote", in: "a=1 'b c=2", want: []engine.Metric{{Name: "a", Value: 1}}, wantErr: true},
		{name: "empty label", in: "=1 ''=2 a=3", want: []engine.Metric{{Name: "a", Value: 3}}, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParsePerfdata(tt.in)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, wantErr %v", err, tt.wantErr)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("metrics (-want +got):\n%s", diff)
			}
		})
	}
}

func TestSplitPluginOutput(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want PluginOutput
	}{
		{name: "text only", in: "DISK OK\n", want: PluginOutput{Text: "DISK OK"}},
		{name: "one line", in: "DISK OK - free space | /=10MB;;;0;100\n", want: PluginOutput{Text: "DISK OK - free space", Perfdata: "/=10MB;;;0;100"}},
		{
			// The example from the Nagios plugin development guidelines.
			name: "guidelines multi-line",
			in: "DISK OK - free space: / 3326 MB (56%); | /=2643MB;5948;5958;0;5968\n" +
				"/ 15272 MB (77%);\n" +
				"/boot 68 MB (69%);\n" +
				"/home 69357 MB (27%);\n" +
				"/var/log 819 MB (84%); | /boot=68MB;88;93;0;98\n" +
				"/home=69357MB;253404;253409;0;253414 \n" +
				"/var/log=818MB;970;975;0;980\n",
			want: PluginOutput{
				Text:     "DISK OK - free space: / 3326 MB (56%);",
				LongText: "/ 15272 MB (77%);\n/boot 68 MB (69%);\n/home 69357 MB (27%);\n/var/log 819 MB (84%);",
				Perfdata: "/=2643MB;5948;5958;0;5968 /boot=68MB;88;93;0;98\n/home=69357MB;253404;253409;0;253414 \n/var/log=818MB;970;975;0;980",
			},
		},
		{name: "CRLF", in: "OK | a=1\r\nmore\r\n", want: PluginOutput{Text: "OK", LongText: "more", Perfdata: "a=1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, SplitPluginOutput(tt.in)); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
	ms, err := ParsePerfdata(SplitPluginOutput(tests[2].in).Perfdata)
	if err != nil || len(ms) != 4 {
		t.Fatalf("guidelines perfdata: %d metrics, err %v", len(ms), err)
	}
}

func FuzzParsePerfdata(f *testing.F) {
	for _, s := range []string{
		"", "/=2643MB;15160;17055;0;18950", "'a b'=1s;~:5;10:;0;", "a=U", "'x''y'=1e3%", "a=1;@10:20",
		"load1=0.150;15.000;30.000;0; load5=0.080;10.000;25.000;0;", "'=", "a==1", "a=-", "a=1e", "a=.5e+",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		ms, _ := ParsePerfdata(s)
		for _, m := range ms {
			if m.Name == "" {
				t.Errorf("empty metric name from %q", s)
			}
			for _, v := range []*float64{&m.Value, m.Warn, m.Crit, m.Min, m.Max} {
				if v != nil && (math.IsNaN(*v) || math.IsInf(*v, 0)) {
					t.Errorf("non-finite number from %q: %+v", s, m)
				}
			}
		}
		po := SplitPluginOutput(s)
		if strings.Contains(po.Text, "\n") {
			t.Errorf("text has a newline: %q", po.Text)
		}
	})
}
