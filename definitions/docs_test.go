package definitions

import (
	"os"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
)

// TestDocsCoverSchema fails when an attribute or block of the schema is not
// documented in docs/hcl.md.
func TestDocsCoverSchema(t *testing.T) {
	doc, err := os.ReadFile("../docs/hcl.md")
	if err != nil {
		t.Fatal(err)
	}
	schemas := map[string]*hcl.BodySchema{
		"root": rootSchema, "host": hostSchema, "hosts": hostsSchema, "group": groupSchema,
		"credential": credentialSchema, "snmp": snmpSchema, "window": windowSchema,
		"notifier": notifierSchema, "monitor": monitorSchema, "trap": trapSchema, "targets": targetsSchema,
		"job": jobSchema, "step": stepSchema, "file": fileSchema, "rollout": rolloutSchema,
		"health_gate": healthGateSchema, "rollback": rollbackSchema, "param": paramSchema,
	}
	for kind, s := range checkSchemas {
		schemas["check "+string(kind)] = s
		if !strings.Contains(string(doc), "`check \""+string(kind)+"\"`") {
			t.Errorf("docs/hcl.md has no section for check %q", kind)
		}
	}
	// Notifier labels are checked outside the schema (splitNotifiers).
	for _, form := range []string{"`notifier \"KIND\" \"NAME\"`", "`notifier \"NAME\" { type = \"KIND\" }`"} {
		if !strings.Contains(string(doc), form) {
			t.Errorf("docs/hcl.md does not document the notifier form %s", form)
		}
	}
	for name := range pureFunctions() {
		if !strings.Contains(string(doc), "`"+name+"`") && !strings.Contains(string(doc), "`"+name+"(") {
			t.Errorf("docs/hcl.md does not document function %s", name)
		}
	}
	for name, s := range schemas {
		for _, a := range s.Attributes {
			if !strings.Contains(string(doc), "`"+a.Name+"`") {
				t.Errorf("docs/hcl.md does not document attribute %q of %s", a.Name, name)
			}
		}
		for _, b := range s.Blocks {
			if !strings.Contains(string(doc), "`"+b.Type) {
				t.Errorf("docs/hcl.md does not document block %q of %s", b.Type, name)
			}
		}
	}
}
