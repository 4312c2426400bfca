package main

import (
	"errors"
	"flag"
	"fmt"
	"strconv"
	"strings"

	"github.com/ripple-ops/ripple/definitions"
)

// limitFlags registers the flags of the definitions input limits
// (definitions.Limits) on fs, with the defaults, and returns the limits
// they fill. serve, apply, validate and plan take them; see limitFlagNames
// for their RIPPLE_* variables.
func limitFlags(fs *flag.FlagSet) *definitions.Limits {
	l := definitions.DefaultLimits()
	fs.Var((*byteSize)(&l.Bytes), "max-definitions-size", "most `BYTES` of *.hcl files, templates and scripts one load reads (suffix KiB, MiB, GiB)")
	fs.Var((*positiveInt)(&l.Blocks), "max-blocks", "most top-level blocks (and *.hcl files) of the definitions")
	fs.Var((*positiveInt)(&l.Hosts), "max-hosts", "most host blocks of the definitions")
	fs.Var((*positiveInt)(&l.Tokens), "max-tokens", "most tokens (words, numbers, punctuation, string pieces) of the *.hcl files")
	fs.Var((*positiveInt)(&l.Targets), "max-targets", "most (job or monitor, host) pairs the targets of all jobs and monitors select")
	fs.Var((*byteSize)(&l.Render), "max-render-size", "most `BYTES` one rendering (and a load's expressions) may produce (suffix KiB, MiB, GiB)")
	return &l
}

// limitFlagNames are the flags limitFlags registers.
var limitFlagNames = []string{"max-definitions-size", "max-blocks", "max-hosts", "max-tokens", "max-targets", "max-render-size"}

// fillFromEnv sets each flag of fs named in names (every flag when names
// is nil) that the command line did not set from RIPPLE_<NAME> (upper
// case, dashes as underscores), when that is not empty: flag > env >
// default.
func fillFromEnv(fs *flag.FlagSet, e env, names []string) error {
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	var err error
	fs.VisitAll(func(f *flag.Flag) {
		if set[f.Name] || err != nil || (names != nil && !contains(names, f.Name)) {
			return
		}
		name := "RIPPLE_" + strings.ToUpper(strings.ReplaceAll(f.Name, "-", "_"))
		if v := e.getenv(name); v != "" {
			if serr := f.Value.Set(v); serr != nil {
				err = fmt.Errorf("%s: %w", name, serr)
			}
		}
	})
	return err
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// byteSize is a flag.Value for a positive byte count: a number of bytes,
// or with the suffix KiB, MiB or GiB.
type byteSize int64

func (b *byteSize) String() string { return definitions.SizeText(int64(*b)) }

func (b *byteSize) Set(s string) error {
	s = strings.TrimSpace(s)
	mult := int64(1)
	for _, u := range []struct {
		suffix string
		mult   int64
	}{{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}} {
		if n, ok := strings.CutSuffix(s, u.suffix); ok {
			s, mult = strings.TrimSpace(n), u.mult
			break
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n <= 0 || n > (1<<62)/mult {
		return errors.New("want a positive number of bytes, optionally with KiB, MiB or GiB")
	}
	*b = byteSize(n * mult)
	return nil
}

// positiveInt is a flag.Value for a count above zero.
type positiveInt int

func (p *positiveInt) String() string { return strconv.Itoa(int(*p)) }

func (p *positiveInt) Set(s string) error {
	n, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil || n <= 0 {
		return errors.New("want a whole number above zero")
	}
	*p = positiveInt(n)
	return nil
}
