package jobs

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/ripple-ops/ripple/engine"
)

// PluginOutput is the output of a Nagios plugin split the way the plugin
// guidelines define it:
//
//	TEXT OUTPUT | OPTIONAL PERFDATA
//	LONG TEXT LINE 1
//	LONG TEXT LINE 2 | PERFDATA LINE 2
//	PERFDATA LINE 3
//
// Text is the first line without its perfdata. Perfdata joins the perfdata of
// the first line with everything after the first '|' in the long text.
type PluginOutput struct {
	Text     string
	LongText string
	Perfdata string
}

// SplitPluginOutput splits plugin stdout into text, long text and perfdata.
func SplitPluginOutput(out string) PluginOutput {
	out = strings.ReplaceAll(out, "\r\n", "\n")
	first, rest, _ := strings.Cut(out, "\n")
	var po PluginOutput
	text, perf, _ := strings.Cut(first, "|")
	po.Text = strings.TrimSpace(text)
	perfParts := []string{strings.TrimSpace(perf)}
	long, longPerf, found := strings.Cut(rest, "|")
	po.LongText = strings.TrimSpace(long)
	if found {
		perfParts = append(perfParts, strings.TrimSpace(longPerf))
	}
	po.Perfdata = strings.TrimSpace(strings.Join(perfParts, " "))
	return po
}

// ParsePerfdata parses Nagios performance data:
//
//	'label'=value[UOM];[warn];[crit];[min];[max] ...
//
// Items are separated by whitespace (newlines included); a label with
// spaces is single-quoted and a quote inside it is doubled. It returns every
// well-formed item in order. Malformed items are skipped and reported in the
// error (errors.Join of one error per item), so a caller can keep the good
// metrics and ignore the error: a plugin's odd perfdata never changes a
// check's state.
//
// Values: a number (decimal or exponent form) followed by an optional unit
// kept as written (s, ms, us, %, B, KB, MB, GB, TB, c or anything else).
// "U" (undetermined) items are skipped without error. Non-finite numbers are
// rejected. Warn and Crit keep a single number when the Nagios range has
// exactly one finite bound ("10", "~:10", "0:10" keep 10; "10:" keeps 10);
// inside-ranges ("@...") and two-sided ranges ("10:20") leave them nil.
func ParsePerfdata(s string) ([]engine.Metric, error) {
	var (
		metrics []engine.Metric
		errs    []error
	)
	p := perfScanner{s: s}
	for {
		item, ok, err := p.next()
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if !ok {
			break
		}
		m, keep, err := parsePerfItem(item.label, item.value)
		if err != nil {
			errs = append(errs, fmt.Errorf("perfdata %q: %w", item.label, err))
			continue
		}
		if keep {
			metrics = append(metrics, m)
		}
	}
	return metrics, errors.Join(errs...)
}

type perfItem struct {
	label string
	value string
}

// perfScanner tokenizes perfdata into label=value items.
type perfScanner struct {
	s string
	i int
}

func isPerfSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'
}

func (p *perfScanner) skipSpace() {
	for p.i < len(p.s) && isPerfSpace(p.s[p.i]) {
		p.i++
	}
}

// skipToken moves past the current malformed token.
func (p *perfScanner) skipToken() {
	for p.i < len(p.s) && !isPerfSpace(p.s[p.i]) {
		p.i++
	}
}

// next returns the next item; ok is false at the end of input. A malformed
// token yields an error and is skipped.
func (p *perfScanner) next() (perfItem, bool, error) {
	p.skipSpace()
	if p.i >= len(p.s) {
		return perfItem{}, false, nil
	}
	start := p.i
	var label string
	if p.s[p.i] == '\'' {
		var b strings.Builder
		p.i++
		closed := false
		for p.i < len(p.s) {
			c := p.s[p.i]
			if c == '\'' {
				if p.i+1 < len(p.s) && p.s[p.i+1] == '\'' {
					b.WriteByte('\'')
					p.i += 2
					continue
				}
				p.i++
				closed = true
				break
			}
			b.WriteByte(c)
			p.i++
		}
		if !closed {
			return perfItem{}, false, fmt.Errorf("perfdata at offset %d: unterminated quoted label", start)
		}
		label = b.String()
		if p.i >= len(p.s) || p.s[p.i] != '=' {
			p.skipToken()
			return perfItem{}, false, fmt.Errorf("perfdata at offset %d: missing '=' after label %q", start, label)
		}
	} else {
		for p.i < len(p.s) && p.s[p.i] != '=' && !isPerfSpace(p.s[p.i]) {
			p.i++
		}
		label = p.s[start:p.i]
		if p.i >= len(p.s) || p.s[p.i] != '=' {
			return perfItem{}, false, fmt.Errorf("perfdata at offset %d: missing '=' in %q", start, label)
		}
	}
	p.i++ // '='
	vstart := p.i
	p.skipToken()
	if label == "" {
		return perfItem{}, false, fmt.Errorf("perfdata at offset %d: empty label", start)
	}
	return perfItem{label: label, value: p.s[vstart:p.i]}, true, nil
}

// parsePerfItem parses "value[UOM];warn;crit;min;max". keep is false for an
// undetermined ("U") value.
func parsePerfItem(label, spec string) (m engine.Metric, keep bool, err error) {
	fields := strings.Split(spec, ";")
	num, unit := splitPerfNumber(fields[0])
	if num == "" {
		if strings.TrimSpace(fields[0]) == "U" {
			return engine.Metric{}, false, nil
		}
		return engine.Metric{}, false, fmt.Errorf("value %q is not a number", fields[0])
	}
	v, err := parsePerfFloat(num)
	if err != nil {
		return engine.Metric{}, false, fmt.Errorf("value %q: %w", fields[0], err)
	}
	m = engine.Metric{Name: label, Value: v, Unit: unit}
	if len(fields) > 1 {
		m.Warn = perfThreshold(fields[1])
	}
	if len(fields) > 2 {
		m.Crit = perfThreshold(fields[2])
	}
	if len(fields) > 3 {
		m.Min = perfBound(fields[3])
	}
	if len(fields) > 4 {
		m.Max = perfBound(fields[4])
	}
	return m, true, nil
}

// splitPerfNumber splits "12.5MB" into "12.5" and "MB".
func splitPerfNumber(s string) (num, unit string) {
	i := 0
	if i < len(s) && (s[i] == '-' || s[i] == '+') {
		i++
	}
	digits := 0
	for i < len(s) && (isDigit(s[i]) || s[i] == '.' || s[i] == ',') {
		if isDigit(s[i]) {
			digits++
		}
		i++
	}
	if digits == 0 {
		return "", s
	}
	// An exponent only when digits follow, so units such as "EB" stay units.
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		j := i + 1
		if j < len(s) && (s[j] == '-' || s[j] == '+') {
			j++
		}
		if j < len(s) && isDigit(s[j]) {
			for j < len(s) && isDigit(s[j]) {
				j++
			}
			i = j
		}
	}
	return s[:i], s[i:]
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// parsePerfFloat parses a finite number, accepting a decimal comma as some
// localized plugins print it.
func parsePerfFloat(s string) (float64, error) {
	v, err := strconv.ParseFloat(s, 64)
	if err != nil && strings.Count(s, ",") == 1 && !strings.Contains(s, ".") {
		v, err = strconv.ParseFloat(strings.Replace(s, ",", ".", 1), 64)
	}
	if err != nil {
		return 0, fmt.Errorf("parse number: %w", err)
	}
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return 0, fmt.Errorf("number %q is not finite", s)
	}
	return v, nil
}

// perfBound parses a min or max field: a plain number, nil when empty or odd.
func perfBound(s string) *float64 {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil
	}
	num, _ := splitPerfNumber(s)
	if num == "" {
		return nil
	}
	v, err := parsePerfFloat(num)
	if err != nil {
		return nil
	}
	return &v
}

// perfThreshold reduces a Nagios range to one number when it has a single
// finite bound (see ParsePerfdata), else nil. It never fails.
func perfThreshold(s string) *float64 {
	s = strings.TrimSpace(s)
	if s == "" || strings.HasPrefix(s, "@") {
		return nil
	}
	lo, hi, isRange := strings.Cut(s, ":")
	if !isRange {
		return perfBound(s)
	}
	lo, hi = strings.TrimSpace(lo), strings.TrimSpace(hi)
	switch {
	case hi == "" && lo != "~":
		return perfBound(lo) // "10:" alerts below 10
	case lo == "~" || lo == "" || isZero(lo):
		return perfBound(hi) // "~:10", ":10", "0:10" alert above 10
	default:
		return nil
	}
}

func isZero(s string) bool {
	v, err := strconv.ParseFloat(s, 64)
	return err == nil && v == 0
}
