package definitions

import (
	"fmt"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
)

// TrapValues is one received trap as a trap message sees it.
type TrapValues struct {
	OID    string // snmpTrapOID, numeric, without a leading dot
	Source string // the sender's IP address
	// Varbinds holds the trap's variable bindings, by numeric OID without
	// a leading dot, each value as text.
	Varbinds []TrapVarbind
}

// TrapVarbind is one variable binding of a trap.
type TrapVarbind struct {
	OID   string `json:"oid"`
	Value string `json:"value"`
}

// TrapRenderer renders the message of one trap block for one host. It is
// made once per (trap block, host) and is safe for concurrent use.
type TrapRenderer struct {
	spec *TrapSpec
	host cty.Value
	defs *Definitions // for the render budget of each message
}

// TrapRenderer returns the message renderer of trap block m for host h.
func (d *Definitions) TrapRenderer(m *Monitor, h *Host) *TrapRenderer {
	return &TrapRenderer{spec: m.Check.Trap, host: d.HostObject(h), defs: d}
}

// Render evaluates the message for t. In the template,
// trap.varbinds["OID"] finds a varbind by its full OID or by its OID
// without the last part (a column OID such as ifDescr
// "1.3.6.1.2.1.2.2.1.2" finds ifDescr.5); trap.oid and trap.source are
// the trap's OID and sender. Without a message the text names the trap and
// its first varbinds. A message that cannot be evaluated (a varbind the trap
// does not carry) gives the default text and the error.
func (r *TrapRenderer) Render(t TrapValues) (string, error) {
	if r == nil || r.spec == nil || r.spec.Message == nil {
		return defaultTrapMessage(t), nil
	}
	b := r.defs.renderBudget()
	ctx := evalContext(&secretRecorder{}, r.host, b)
	ctx.Variables["trap"] = cty.ObjectVal(map[string]cty.Value{
		"oid":      cty.StringVal(t.OID),
		"source":   cty.StringVal(t.Source),
		"varbinds": varbindMap(t.Varbinds),
	})
	s, diags := evalString(b, r.spec.Message, ctx)
	if diags.HasErrors() {
		return defaultTrapMessage(t), fmt.Errorf("message: %s", trapDiagText(diags))
	}
	return s, nil
}

// varbindMap keys each varbind by its OID and, unless another varbind has
// that OID, by its OID without the last part; the first varbind wins.
func varbindMap(vbs []TrapVarbind) cty.Value {
	if len(vbs) == 0 {
		return cty.MapValEmpty(cty.String)
	}
	m := make(map[string]cty.Value, 2*len(vbs))
	for _, vb := range vbs {
		if _, ok := m[vb.OID]; !ok {
			m[vb.OID] = cty.StringVal(vb.Value)
		}
	}
	for _, vb := range vbs {
		if i := strings.LastIndexByte(vb.OID, '.'); i > 0 {
			if _, ok := m[vb.OID[:i]]; !ok {
				m[vb.OID[:i]] = cty.StringVal(vb.Value)
			}
		}
	}
	return cty.MapVal(m)
}

// defaultTrapMessage names the trap and its first three varbinds.
func defaultTrapMessage(t TrapValues) string {
	var b strings.Builder
	fmt.Fprintf(&b, "trap %s from %s", t.OID, t.Source)
	for i, vb := range t.Varbinds {
		if i == 3 {
			fmt.Fprintf(&b, " (+%d more)", len(t.Varbinds)-3)
			break
		}
		fmt.Fprintf(&b, " %s=%s", vb.OID, vb.Value)
	}
	return b.String()
}

// trapDiagText is diags in one line, without source positions: the
// message is shown per trap, long after the commit was validated.
func trapDiagText(diags hcl.Diagnostics) string {
	var parts []string
	for _, d := range diags {
		if d.Severity != hcl.DiagError {
			continue
		}
		s := d.Summary
		if d.Detail != "" {
			s += ": " + strings.TrimSuffix(d.Detail, ".")
		}
		parts = append(parts, s)
	}
	return strings.Join(parts, "; ")
}

// sourceText is the source of rng in the loaded files, if there is one.
func (d *Definitions) sourceText(rng hcl.Range) ([]byte, bool) {
	f := d.Files[rng.Filename]
	if f == nil || rng.Start.Byte < 0 || rng.End.Byte > len(f.Bytes) || rng.Start.Byte > rng.End.Byte {
		return nil, false
	}
	return f.Bytes[rng.Start.Byte:rng.End.Byte], true
}
