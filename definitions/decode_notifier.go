package definitions

import (
	"fmt"
	"slices"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
)

// notifierKinds are the kinds of notifier.
var notifierKinds = []string{"webhook", "slack", "email"}

// notifierSchema is the body of both notifier forms. type is required in
// the deprecated form `notifier "NAME" { type = "KIND" }`, which
// decodeNotifier checks itself, and redundant in the label form.
var notifierSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{
		{Name: "type"}, {Name: "url"}, {Name: "to"}, {Name: "from"},
		{Name: "smtp"}, {Name: "username"}, {Name: "password"}, {Name: "group_wait"},
	},
}

// DefaultGroupWait is how long a notifier gathers alerts of one monitor
// into one message by default (Alertmanager's group_wait).
const DefaultGroupWait = 30 * time.Second

// maxGroupWait bounds group_wait: an alert waits at most this long.
const maxGroupWait = time.Hour

// splitNotifiers returns files without their top-level notifier blocks,
// and those blocks in file order. A notifier has two labels, its kind and
// its name (`notifier "webhook" "ops-chat"`), or, in the deprecated form,
// only its name; an hcl.BodySchema has one label count per block type, so
// notifier labels are checked by notifierBlocks instead. Parsed files are
// shared through the cache and never modified: a body holding notifiers is
// copied.
func splitNotifiers(files []*hcl.File) ([]*hcl.File, hclsyntax.Blocks) {
	out := make([]*hcl.File, len(files))
	var notifiers hclsyntax.Blocks
	for i, f := range files {
		out[i] = f
		body, ok := f.Body.(*hclsyntax.Body)
		if !ok || !slices.ContainsFunc(body.Blocks, isNotifier) {
			continue
		}
		rest := *body
		rest.Blocks = nil
		for _, b := range body.Blocks {
			if isNotifier(b) {
				notifiers = append(notifiers, b)
			} else {
				rest.Blocks = append(rest.Blocks, b)
			}
		}
		out[i] = &hcl.File{Body: &rest, Bytes: f.Bytes, Nav: f.Nav}
	}
	return out, notifiers
}

func isNotifier(b *hclsyntax.Block) bool { return b.Type == "notifier" }

// notifierBlocks returns the notifier blocks that have one or two labels,
// and reports the others as hcl reports a wrong label count.
func (l *loader) notifierBlocks(blocks hclsyntax.Blocks) hcl.Blocks {
	var out hcl.Blocks
	for _, b := range blocks {
		header := hcl.RangeBetween(b.TypeRange, b.OpenBraceRange).Ptr()
		switch {
		case len(b.Labels) == 0:
			l.diags = append(l.diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Missing name for notifier",
				Detail:   `A notifier block has two labels, its kind and its name, as in notifier "webhook" "ops-chat" { ... }.`,
				Subject:  b.OpenBraceRange.Ptr(),
				Context:  header,
			})
		case len(b.Labels) > 2:
			l.diags = append(l.diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Extraneous label for notifier",
				Detail:   `A notifier block has two labels, its kind and its name, as in notifier "webhook" "ops-chat" { ... }.`,
				Subject:  b.LabelRanges[2].Ptr(),
				Context:  header,
			})
		default:
			out = append(out, b.AsHCLBlock())
		}
	}
	return out
}

// decodeNotifier decodes `notifier "KIND" "NAME"` and the deprecated
// `notifier "NAME" { type = "KIND" }` into the same Notifier; the
// deprecated form gets a warning that shows the label form to write.
func (l *loader) decodeNotifier(b *hcl.Block) *Notifier {
	content, diags := b.Body.Content(notifierSchema)
	l.diags = append(l.diags, diags...)
	a := content.Attributes
	n := &Notifier{DeclRange: b.DefRange}
	n.Name, _ = blockName(b)
	if len(b.Labels) == 2 {
		n.Type = l.notifierKindLabel(b, a)
	} else {
		n.Type = l.notifierTypeAttribute(b, a, n.Name)
	}
	n.URL = l.secret(a, "url")
	n.To = l.strings(a, "to")
	l.str(a, "from", &n.From)
	l.str(a, "smtp", &n.SMTP)
	l.str(a, "username", &n.Username)
	n.Password = l.secret(a, "password")
	n.GroupWait = DefaultGroupWait
	if l.duration(a, "group_wait", 0, &n.GroupWait) && n.GroupWait > maxGroupWait {
		l.errorf(a["group_wait"].Expr.Range(), "Invalid duration", fmt.Sprintf("group_wait must be at most %s: an alert waits that long before it is sent; got %s.", maxGroupWait, n.GroupWait))
		n.GroupWait = maxGroupWait
	}
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

// notifierKindLabel returns the kind of a notifier in the label form, ""
// when it is not one (reported). A type attribute beside the label must
// agree with it, and is redundant when it does.
func (l *loader) notifierKindLabel(b *hcl.Block, a hcl.Attributes) string {
	kind := b.Labels[0]
	if !slices.Contains(notifierKinds, kind) {
		l.errorf(b.LabelRanges[0], "Unknown notifier kind", fmt.Sprintf("%q is not a notifier kind; use \"webhook\", \"slack\" or \"email\".", kind))
		return ""
	}
	var typ string
	if !l.str(a, "type", &typ) {
		return kind
	}
	if typ != kind {
		l.errorf(a["type"].Expr.Range(), "Conflicting notifier kind", fmt.Sprintf("type = %q disagrees with the kind label %q; the label names the kind, so remove type.", typ, kind))
		return ""
	}
	l.warnf(a["type"].Range, "Redundant notifier type", fmt.Sprintf("The kind label already says %q; remove type.", kind))
	return kind
}

// notifierTypeAttribute returns the kind of a notifier in the deprecated
// form, read from its type attribute, "" when it has none (reported). The
// form is reported as deprecated once the kind is known, with the label
// form that replaces it.
func (l *loader) notifierTypeAttribute(b *hcl.Block, a hcl.Attributes, name string) string {
	if a["type"] == nil && slices.Contains(notifierKinds, name) {
		l.errorf(b.DefRange, "Missing name for notifier", fmt.Sprintf("This notifier has a kind but no name: write notifier %q \"NAME\" { ... }.", name))
		return ""
	}
	if a["type"] == nil {
		l.errorf(b.Body.MissingItemRange(), "Missing required argument", fmt.Sprintf("A notifier needs a kind, \"webhook\", \"slack\" or \"email\": write notifier \"webhook\" %q { ... }.", name))
		return ""
	}
	var kind string
	l.oneOf(a, "type", &kind, notifierKinds...)
	if kind == "" {
		return ""
	}
	l.warnf(b.DefRange, "Deprecated notifier syntax", fmt.Sprintf("The attribute form notifier %q { type = %q } is deprecated; write notifier %q %q { ... } instead, without type.", name, kind, kind, name))
	return kind
}
