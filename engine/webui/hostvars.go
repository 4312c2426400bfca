package webui

import (
	"maps"
	"slices"
	"strings"

	"github.com/hashicorp/hcl/v2/hclwrite"
	"github.com/zclconf/go-cty/cty"

	"github.com/ripple-ops/ripple/definitions"
)

// varRow is one var of a host as templates read it: its value written as
// HCL, and where it comes from (the host, or the group whose value wins).
type varRow struct {
	Name  string
	Value string
	From  string
	// Secret: the value is read on the daemon (env(), file()) and is not
	// shown; Value then says so.
	Secret bool
	// Overrides names the groups whose value for Name this one replaces.
	Overrides []string
}

// hiddenValue stands for a value read on the daemon: the page never shows
// it, whatever the definitions know of it.
const hiddenValue = "set on the daemon by env() or file(); not shown"

// hostVars are h's vars as its templates see them (definitions.HostObject:
// its groups' vars in order, a later group winning, then its own), each
// with where it comes from. A value that calls env() or file() is unknown
// until a run reads it, and is never shown.
func hostVars(defs *definitions.Definitions, h *definitions.Host) []varRow {
	rows := map[string]*varRow{}
	add := func(from string, vars cty.Value) {
		if vars == cty.NilVal || vars.IsNull() || !vars.IsKnown() || !vars.CanIterateElements() {
			return
		}
		for it := vars.ElementIterator(); it.Next(); {
			k, val := it.Element()
			name := k.AsString()
			row := varRow{Name: name, From: from}
			if prev := rows[name]; prev != nil {
				row.Overrides = append(slices.Clone(prev.Overrides), prev.From)
			}
			if !val.IsWhollyKnown() {
				row.Value, row.Secret = hiddenValue, true
			} else {
				row.Value = strings.TrimSpace(string(hclwrite.TokensForValue(val).Bytes()))
			}
			rows[name] = &row
		}
	}
	for _, g := range h.Groups {
		if grp := defs.Groups[g]; grp != nil {
			add("group "+g, grp.Vars)
		}
	}
	add("host", h.Vars)
	out := make([]varRow, 0, len(rows))
	for _, k := range slices.Sorted(maps.Keys(rows)) {
		out = append(out, *rows[k])
	}
	return out
}
