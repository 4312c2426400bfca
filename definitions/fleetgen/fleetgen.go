// Package fleetgen generates the large ops repo that the definitions
// benchmarks and test/bench/planbench measure: 10,000 hosts, 500 jobs and
// 1,000 monitors, as one commit and the next.
package fleetgen

import (
	"fmt"
	"strings"
)

// Sizes of the generated fleet repo (issue 2: plan 10,000 hosts, 500
// jobs and 1,000 monitors in under a second).
const (
	Hosts    = 10000
	Jobs     = 500
	Monitors = 1000
	Groups   = 50
	Files    = 50 // templates shared by jobs
)

// Repo returns the files (path to content) of an ops repo with Hosts hosts in Groups groups,
// Jobs jobs and Monitors monitors, spread over files. v2 is the
// same repo a commit later: ten new hosts, one template and one group var
// changed, one job renamed and one job's step changed, one monitor changed
// and one removed.
func Repo(v2 bool) map[string][]byte {
	fsys := map[string][]byte{}
	put := func(name string, b *strings.Builder) {
		fsys[name] = []byte(b.String())
	}

	var b strings.Builder
	b.WriteString("credential \"default\" {\n  user = \"deploy\"\n  private_key_file = \"/etc/ripple/keys/deploy\"\n}\n")
	for g := range Groups {
		version := "1.24.0-1"
		if v2 && g == 7 {
			version = "1.26.0-1"
		}
		fmt.Fprintf(&b, "group \"g%02d\" {\n  vars = { app_version = %q, workers = %d }\n}\n", g, version, 2+g%8)
	}
	put("inventory/groups.hcl", &b)

	hosts := Hosts
	if v2 {
		hosts += 10
	}
	const perFile = 100
	for f := 0; f*perFile < hosts; f++ {
		b.Reset()
		for i := f * perFile; i < min((f+1)*perFile, hosts); i++ {
			fmt.Fprintf(&b, "host \"h%05d\" {\n  address = \"10.%d.%d.%d\"\n  groups  = [\"g%02d\", \"dc%d\"]\n  labels  = { os = \"debian12\", rack = \"r%d\" }\n",
				i, i/62500, (i/250)%250, i%250+1, i%Groups, i%3, i%40)
			if i%97 == 0 {
				fmt.Fprintf(&b, "  vars    = { workers = %d }\n", 16)
			}
			b.WriteString("}\n")
		}
		put(fmt.Sprintf("inventory/hosts-%03d.hcl", f), &b)
	}

	for t := range Files {
		b.Reset()
		fmt.Fprintf(&b, "# service %d for ${host.name}\nworkers = ${host.vars.workers}\nlisten  = ${host.address}:%d\n", t, 8000+t)
		if v2 && t == 3 {
			b.WriteString("keepalive = 65\n")
		}
		put(fmt.Sprintf("files/svc-%02d.conf.tmpl", t), &b)
	}

	const jobsPerFile = 50
	for f := 0; f < Jobs/jobsPerFile; f++ {
		b.Reset()
		for j := f * jobsPerFile; j < (f+1)*jobsPerFile; j++ {
			name := fmt.Sprintf("job-%03d", j)
			if v2 && j == 42 {
				name = "job-042-renamed"
			}
			restart := "systemctl restart svc"
			if v2 && j == 99 {
				restart = "systemctl reload svc"
			}
			fmt.Fprintf(&b, `job %q {
  targets { groups = ["g%02d"] }
  step "config" {
    file {
      source      = "../files/svc-%02d.conf.tmpl"
      destination = "/etc/svc/%d.conf"
    }
  }
  step "install" { run = "apt-get install -y app=${host.vars.app_version}" }
  step "restart" { run = %q }
  rollout {
    waves        = [1, "10%%", "50%%"]
    max_failures = "5%%"
  }
}
`, name, j%Groups, j%Files, j, restart)
		}
		put(fmt.Sprintf("jobs/jobs-%02d.hcl", f), &b)
	}

	const monsPerFile = 100
	for f := 0; f < Monitors/monsPerFile; f++ {
		b.Reset()
		for m := f * monsPerFile; m < (f+1)*monsPerFile; m++ {
			if v2 && m == 500 {
				continue
			}
			warn := 20
			if v2 && m == 503 {
				warn = 15
			}
			switch m % 3 {
			case 0:
				fmt.Fprintf(&b, "monitor \"m%04d\" {\n  targets { groups = [\"g%02d\"] }\n  check \"http\" { url = \"http://${host.address}:%d/healthz\" }\n}\n", m, m%Groups, 8000+m%Files)
			case 1:
				fmt.Fprintf(&b, "monitor \"m%04d\" {\n  targets { groups = [\"g%02d\"] }\n  check \"tcp\" { port = %d }\n}\n", m, m%Groups, 8000+m%Files)
			default:
				fmt.Fprintf(&b, "monitor \"m%04d\" {\n  targets {\n    groups = [\"g%02d\"]\n    labels = { os = \"debian12\" }\n  }\n  interval = \"5m\"\n  check \"command\" { run = \"check_disk -w %d%%%% -c 10%%%% -p /\" }\n}\n", m, m%Groups, warn)
			}
		}
		put(fmt.Sprintf("monitors/monitors-%02d.hcl", f), &b)
	}
	return fsys
}

// Sites are the sites of the switches CSVInventory generates.
var sites = []string{"tokyo", "osaka", "paris", "london", "dallas"}

// SwitchesCSV returns an inventory CSV (name,ip,site,model) of n switches,
// sw-00001 onwards; row i+2 (line i+2, after the header) is switch i+1.
func SwitchesCSV(n int) []byte {
	var b strings.Builder
	b.WriteString("name,ip,site,model\n")
	for i := 1; i <= n; i++ {
		fmt.Fprintf(&b, "sw-%05d,10.%d.%d.%d,%s,ex%d\n", i, 64+i>>16&63, i>>8&255, i&255, sites[i%len(sites)], 2300+100*(i%3))
	}
	return []byte(b.String())
}

// csvJob is the job and credential both inventory repos share.
const csvJob = `credential "default" {
  user             = "deploy"
  private_key_file = "/etc/ripple/keys/deploy"
}

job "switch-config" {
  targets { groups = ["switch"] }
  step "save" { run = "echo ${host.name} ${host.labels.model}" }
  rollout { waves = [1, "10%", "100%"] }
}

job "web-config" {
  targets { groups = ["web"] }
  step "conf" { run = "echo ${host.address}" }
}
`

// CSVRepo returns an ops repo whose inventory is n switches generated
// from inventory/switches.csv by a hosts block, plus 40 web hosts from a
// range, and two jobs.
func CSVRepo(n int) map[string][]byte {
	return map[string][]byte{
		"jobs.hcl":               []byte(csvJob),
		"inventory/switches.csv": SwitchesCSV(n),
		"inventory/hosts.hcl": []byte(`hosts "switches" {
  for_each = { for r in csvdecode(repofile("switches.csv")) : r.name => r }
  address  = each.value.ip
  groups   = ["switch", each.value.site]
  labels   = { model = each.value.model }
}

hosts "web" {
  for_each = { for i in range(1, 41) : format("web-%02d", i) => cidrhost("192.0.2.0/24", 10 + i) }
  address  = each.value
  groups   = ["web"]
}
`),
	}
}

// BlocksRepo is CSVRepo(n) with every host written as a host block.
func BlocksRepo(n int) map[string][]byte {
	var b strings.Builder
	for i := 1; i <= n; i++ {
		fmt.Fprintf(&b, "host \"sw-%05d\" {\n  address = \"10.%d.%d.%d\"\n  groups  = [\"switch\", %q]\n  labels  = { model = \"ex%d\" }\n}\n\n",
			i, 64+i>>16&63, i>>8&255, i&255, sites[i%len(sites)], 2300+100*(i%3))
	}
	for i := 1; i <= 40; i++ {
		fmt.Fprintf(&b, "host \"web-%02d\" {\n  address = \"192.0.2.%d\"\n  groups  = [\"web\"]\n}\n\n", i, 10+i)
	}
	return map[string][]byte{
		"jobs.hcl":            []byte(csvJob),
		"inventory/hosts.hcl": []byte(b.String()),
	}
}
