package definitions

import (
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// readsRepo reads secrets in every place one can: a credential, an SNMP
// profile, notifiers, a step command and check, a template and monitors.
var readsRepo = map[string]string{
	"inventory.hcl": `
credential "default" {
  user             = "deploy"
  private_key_file = "/etc/ripple/keys/deploy"
  passphrase       = env("KEY_PASSPHRASE")
}

snmp "switches" {
  version   = "2c"
  community = file("/etc/ripple/snmp-community")
}

host "web-01" {
  address = "10.0.1.11"
  groups  = ["web"]
  snmp    = "switches"
}
`,
	"notify.hcl": `
notifier "webhook" "ops-chat" {
  url = env("OPS_WEBHOOK_URL")
}
`,
	"monitors.hcl": `
monitor "web-http" {
  targets { groups = ["web"] }
  check "http" { url = "http://${host.address}/?token=${env("HEALTH_TOKEN")}" }
}
monitor "uplink" {
  targets { groups = ["web"] }
  check "snmp" { oids = ["1.3.6.1.2.1.2.2.1.10.1"] }
}
`,
	"jobs/web.hcl": `
job "app" {
  targets { groups = ["web"] }
  step "config" {
    file {
      source      = "../files/app.conf.tmpl"
      destination = "/etc/app.conf"
    }
  }
  step "deploy" {
    run   = "deploy --token ${env("DEPLOY_TOKEN")}"
    check = "deployed --token ${env("DEPLOY_TOKEN")}"
  }
}
`,
	"files/app.conf.tmpl": "password = ${file(\"/etc/ripple/db-password\")}\n",
}

func TestAddedSecretReads(t *testing.T) {
	tests := []struct {
		name  string
		edits map[string]string // "s/old => new" rewrites of readsRepo
		want  []string          // "call at file:line"
	}{
		{name: "unchanged", want: nil},
		{
			name:  "credential passphrase",
			edits: map[string]string{"inventory.hcl": `env("KEY_PASSPHRASE") => env("OTHER_PASSPHRASE")`},
			want:  []string{`env("OTHER_PASSPHRASE") at inventory.hcl:5`},
		},
		{
			name:  "snmp community",
			edits: map[string]string{"inventory.hcl": `file("/etc/ripple/snmp-community") => file("/root/community")`},
			want:  []string{`file("/root/community") at inventory.hcl:10`},
		},
		{
			name: "notifier password",
			edits: map[string]string{"notify.hcl": "}\n => }\nnotifier \"email\" \"mail\" {\n  to = [\"ops@example.net\"]\n  from = \"r@example.net\"\n" +
				"  smtp = \"smtp.example.net:587\"\n  password = file(\"/etc/ripple/smtp-password\")\n}\n"},
			want: []string{`file("/etc/ripple/smtp-password") at notify.hcl:9`},
		},
		{
			name:  "monitor url",
			edits: map[string]string{"monitors.hcl": `env("HEALTH_TOKEN") => env("OTHER_TOKEN")`},
			want:  []string{`env("OTHER_TOKEN") at monitors.hcl:4`},
		},
		{
			name:  "step command",
			edits: map[string]string{"jobs/web.hcl": `run   = "deploy --token ${env("DEPLOY_TOKEN")}" => run   = "deploy --token ${env("ADMIN_TOKEN")}"`},
			want:  []string{`env("ADMIN_TOKEN") at jobs/web.hcl:11`},
		},
		{
			name:  "template",
			edits: map[string]string{"files/app.conf.tmpl": "\n => \nroot = ${file(\"/root/.pgpass\")}\n"},
			want:  []string{`file("/root/.pgpass") at files/app.conf.tmpl:2`},
		},
		{
			name:  "a read moved elsewhere is not new",
			edits: map[string]string{"jobs/web.hcl": `check = "deployed --token ${env("DEPLOY_TOKEN")}" => check = "deployed --token ${env("OPS_WEBHOOK_URL")}"`},
			want:  nil,
		},
		{
			name: "each place of a new read is named",
			edits: map[string]string{"jobs/web.hcl": `env("DEPLOY_TOKEN")}"
    check = "deployed --token ${env("DEPLOY_TOKEN")}" => env("NEW")}"
    check = "deployed --token ${env("NEW")}"`},
			want: []string{`env("NEW") at jobs/web.hcl:11`, `env("NEW") at jobs/web.hcl:12`},
		},
		{
			name:  "a non-literal argument is its source text",
			edits: map[string]string{"jobs/web.hcl": `env("DEPLOY_TOKEN")}" => env("TOKEN_${upper(host.name)}")}"`},
			want:  []string{`env("TOKEN_${upper(host.name)}") at jobs/web.hcl:11`},
		},
		{
			name:  "a file only rollback steps render",
			edits: map[string]string{"jobs/web.hcl": "  }\n}\n =>   }\n  rollback {\n    step \"restore\" {\n      file {\n        source = \"../files/restore.tmpl\"\n        destination = \"/etc/app.conf\"\n      }\n    }\n  }\n}\n", "files/restore.tmpl": " => ${env(\"RESTORE_KEY\")}\n"},
			want:  []string{`env("RESTORE_KEY") at files/restore.tmpl:1`},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			newFiles := map[string]string{}
			for k, v := range readsRepo {
				newFiles[k] = v
			}
			for name, e := range tc.edits {
				from, to, ok := strings.Cut(e, " => ")
				switch {
				case !ok:
					t.Fatalf("bad edit %q", e)
				case newFiles[name] == "":
					newFiles[name] = to
				case !strings.Contains(newFiles[name], from):
					t.Fatalf("%s has no %q", name, from)
				default:
					newFiles[name] = strings.Replace(newFiles[name], from, to, 1)
				}
			}
			cs := Diff(loadForDiff(t, readsRepo, "old"), loadForDiff(t, newFiles, "new"))
			var got []string
			for _, r := range cs.SecretReads {
				got = append(got, r.String()+" at "+r.File+":"+strconv.Itoa(r.Line))
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("reads added (-want +got):\n%s", diff)
			}
		})
	}
}

// TestSecretReadsFromNothing: a first commit adds every read it has.
func TestSecretReadsFromNothing(t *testing.T) {
	cs := Diff(nil, loadForDiff(t, readsRepo, "new"))
	var got []string
	for _, r := range cs.SecretReads {
		got = append(got, r.String()+" at "+r.File+":"+strconv.Itoa(r.Line))
	}
	want := []string{
		`file("/etc/ripple/db-password") at files/app.conf.tmpl:1`,
		`env("KEY_PASSPHRASE") at inventory.hcl:5`,
		`file("/etc/ripple/snmp-community") at inventory.hcl:10`,
		`env("DEPLOY_TOKEN") at jobs/web.hcl:11`,
		`env("DEPLOY_TOKEN") at jobs/web.hcl:12`,
		`env("HEALTH_TOKEN") at monitors.hcl:4`,
		`env("OPS_WEBHOOK_URL") at notify.hcl:3`,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("reads added (-want +got):\n%s", diff)
	}
}

// TestSecretReadsIgnoreFormatting: a non-literal argument is compared by
// its tokens, so reformatting or commenting it adds no read.
func TestSecretReadsIgnoreFormatting(t *testing.T) {
	old := map[string]string{"notify.hcl": "notifier \"webhook\" \"a\" {\n  url = env(format(\"%s_URL\", \"OPS\"))\n}\n"}
	new := map[string]string{"notify.hcl": "notifier \"webhook\" \"a\" {\n  url = env( format( \"%s_URL\",\n    \"OPS\" ) # the chat\n  )\n}\n"}
	cs := Diff(loadForDiff(t, old, "old"), loadForDiff(t, new, "new"))
	if len(cs.SecretReads) != 0 {
		t.Errorf("reads added = %+v, want none", cs.SecretReads)
	}
	cs = Diff(nil, loadForDiff(t, new, "new"))
	if len(cs.SecretReads) != 1 || cs.SecretReads[0].Argument != `format( "%s_URL", "OPS" )` {
		t.Errorf("reads added = %+v", cs.SecretReads)
	}
}

func TestMayReadSecrets(t *testing.T) {
	for src, want := range map[string]bool{
		`url = env("X")`:                   true,
		`url = env ("X")`:                  true,
		"url = file\n(\"x\")":              true,
		`url = env/* c */("X")`:            true,
		`file { source = "files/x.tmpl" }`: false,
		`environment = "prod"`:             false,
		``:                                 false,
	} {
		if got := mayReadSecrets([]byte(src)); got != want {
			t.Errorf("mayReadSecrets(%q) = %v, want %v", src, got, want)
		}
	}
}
