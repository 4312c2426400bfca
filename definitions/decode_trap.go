package definitions

import (
	"fmt"
	"strings"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
)

var trapSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{
		{Name: "oid", Required: true}, {Name: "state"}, {Name: "clear"}, {Name: "clear_after"},
		{Name: "message"}, {Name: "notify"}, {Name: "window"}, {Name: "connectivity"},
	},
	Blocks: []hcl.BlockHeaderSchema{{Type: "targets"}},
}

// DefaultTrapState is the state a trap block sets when it names none.
const DefaultTrapState = "CRITICAL"

// decodeTrap decodes a trap block into a Monitor whose check is the trap:
// it shares the monitors' namespace, alerting, notifiers and surfaces.
func (l *loader) decodeTrap(b *hcl.Block) *Monitor {
	content, diags := b.Body.Content(trapSchema)
	l.diags = append(l.diags, diags...)
	a := content.Attributes
	t := &TrapSpec{State: DefaultTrapState}
	m := &Monitor{
		Name: b.Labels[0], AlertAfter: 1, DeclRange: b.DefRange,
		Check: Check{Kind: CheckTrap, Trap: t, DeclRange: b.DefRange},
	}
	m.Targets = l.decodeTargets(content.Blocks.ByType()["targets"], b)
	m.Notify = l.refList(a, "notify", "notifier")
	l.ref(a, "window", "window", &m.Window)
	// A trap can say its hosts are down (a switch's linkDown): the other
	// monitors of its hosts and of the hosts behind them wait for it.
	l.boolean(a, "connectivity", &m.Connectivity)

	t.OID = l.oid(a, "oid")
	if _, ok := a["state"]; ok {
		l.oneOf(a, "state", &t.State, "WARNING", "CRITICAL", "UNKNOWN")
	}
	t.ClearOID = l.oid(a, "clear")
	l.duration(a, "clear_after", time.Second, &t.ClearAfter)
	if a["clear"] == nil && a["clear_after"] == nil {
		l.errorf(b.DefRange, "Trap never clears", "A trap block needs clear (the OID of the trap that clears it, such as linkUp) or clear_after (how long after the last trap the state clears by itself), or both.")
	}
	if t.OID != "" && t.OID == t.ClearOID {
		l.errorf(a["clear"].Expr.Range(), "Trap clears itself", fmt.Sprintf("clear names the same OID as oid (%s).", t.OID))
	}
	if attr, ok := a["message"]; ok {
		if usesSecretFunc(attr.Expr) {
			l.errorf(attr.Expr.Range(), "Secret not allowed here", "A trap message cannot use env() or file(): it is shown and sent with every alert.")
			return m
		}
		v, diags := attr.Expr.Value(l.trapContext())
		l.diags = append(l.diags, diags...)
		if !diags.HasErrors() && v.IsKnown() && !v.IsNull() {
			if _, err := convertString(v); err != nil {
				l.errorf(attr.Expr.Range(), "Incorrect attribute value type", fmt.Sprintf("message must produce a string: %v.", err))
			}
		}
		if !diags.HasErrors() {
			t.Message = attr.Expr
		}
	}
	return m
}

// oid reads a numeric OID attribute, without its leading dot; "" when it
// is absent or invalid (reported).
func (l *loader) oid(a hcl.Attributes, name string) string {
	var s string
	if !l.str(a, name, &s) {
		return ""
	}
	if !validOID(s) {
		l.errorf(a[name].Expr.Range(), "Invalid OID", fmt.Sprintf("%s %q is not a numeric OID such as \"1.3.6.1.6.3.1.1.5.3\" (linkDown).", name, s))
		return ""
	}
	return strings.TrimPrefix(s, ".")
}

// trapContext type-checks a trap message against an unknown host and trap.
func (l *loader) trapContext() *hcl.EvalContext {
	ctx := l.perHost.NewChild()
	ctx.Variables = map[string]cty.Value{"trap": unknownTrap()}
	return ctx
}

func unknownTrap() cty.Value {
	return cty.ObjectVal(map[string]cty.Value{
		"oid":      cty.UnknownVal(cty.String),
		"source":   cty.UnknownVal(cty.String),
		"varbinds": cty.UnknownVal(cty.Map(cty.String)),
	})
}
