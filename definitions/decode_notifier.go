package definitions

import (
	"fmt"

	"github.com/hashicorp/hcl/v2"
)

var notifierSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{
		{Name: "type", Required: true}, {Name: "url"}, {Name: "to"}, {Name: "from"},
		{Name: "smtp"}, {Name: "username"}, {Name: "password"},
	},
}

func (l *loader) decodeNotifier(b *hcl.Block) *Notifier {
	content, diags := b.Body.Content(notifierSchema)
	l.diags = append(l.diags, diags...)
	a := content.Attributes
	n := &Notifier{Name: b.Labels[0], DeclRange: b.DefRange}
	l.oneOf(a, "type", &n.Type, "webhook", "slack", "email")
	n.URL = l.secret(a, "url")
	n.To = l.strings(a, "to")
	l.str(a, "from", &n.From)
	l.str(a, "smtp", &n.SMTP)
	l.str(a, "username", &n.Username)
	n.Password = l.secret(a, "password")
	need := func(name string, set bool) {
		if !set && a[name] == nil {
			l.errorf(b.DefRange, "Missing required argument", fmt.Sprintf("A %s notifier needs %q.", n.Type, name))
		}
	}
	switch n.Type {
	case "webhook", "slack":
		need("url", n.URL != nil)
	case "email":
		need("to", len(n.To) > 0)
		need("from", n.From != "")
		need("smtp", n.SMTP != "")
	}
	return n
}
