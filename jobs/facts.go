package jobs

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/ripple-ops/ripple/engine"
)

// Facts are read-only: one POSIX sh script per host, through the pooled
// SSH connection (one session), that only reads files and runs commands
// that report (uname, nproc, apt list, dnf check-update with -C, the cache
// only), never as root (become is not used): what an unprivileged user
// cannot read is left out. SNMP hosts answer one GET of the system group.

// factsTimeout bounds one host's script; apt and dnf may take seconds.
const factsTimeout = 60 * time.Second

// factsMark starts each section of the script's output.
const factsMark = "@@ripple-facts "

// factsScript gathers every fact. RF and UF, set before it, are the test
// hooks (FactsRequest.RebootFile, UpdatesFile): when set, the reboot flag
// is whether RF exists and the pending updates are read from UF, in the
// form of `apt list --upgradable`.
const factsScript = `LC_ALL=C; export LC_ALL
s() { printf '\n` + factsMark + `%s\n' "$1"; }
s os-release; cat /etc/os-release 2>/dev/null || cat /usr/lib/os-release 2>/dev/null
s kernel; uname -r
s arch; uname -m
s cpus; nproc 2>/dev/null || getconf _NPROCESSORS_ONLN 2>/dev/null
s meminfo; grep '^MemTotal:' /proc/meminfo 2>/dev/null
s uptime; cat /proc/uptime 2>/dev/null
s disks
for d in /sys/block/*; do
  n=${d##*/}
  case $n in loop*|ram*|zram*|sr*|fd*|nbd*|dm-*|md*) continue;; esac
  [ -r "$d/size" ] && printf '%s %s\n' "$n" "$(cat "$d/size")"
done
s dmi
for f in sys_vendor product_name product_serial; do
  v=$(cat /sys/class/dmi/id/$f 2>/dev/null) && printf '%s=%s\n' "$f" "$v"
done
s virt
v=$(systemd-detect-virt 2>/dev/null)
if [ -z "$v" ]; then
  if [ -f /.dockerenv ]; then v=docker
  elif grep -q '^flags.* hypervisor' /proc/cpuinfo 2>/dev/null; then v=vm
  else v=none; fi
fi
echo "$v"
s reboot
if [ -n "$RF" ]; then if [ -e "$RF" ]; then echo yes; else echo no; fi
elif [ -e /var/run/reboot-required ]; then echo yes
elif command -v needs-restarting >/dev/null 2>&1; then
  needs-restarting -r >/dev/null 2>&1; if [ $? -eq 1 ]; then echo yes; else echo no; fi
elif [ -d /var/lib/dpkg ]; then echo no
fi
s updates
if [ -n "$UF" ]; then
  if [ -r "$UF" ]; then echo apt; cat "$UF"; else echo "!cannot read $UF"; fi
elif command -v apt >/dev/null 2>&1 && [ -d /var/lib/dpkg ]; then
  echo apt; apt list --upgradable 2>/dev/null
elif command -v dnf >/dev/null 2>&1; then
  echo dnf; dnf -q -C check-update 2>/dev/null
  s dnf-security; dnf -q -C updateinfo list --security 2>/dev/null
fi
`

// Standard OIDs of the SNMP system group and interfaces.
const (
	oidSysDescr    = ".1.3.6.1.2.1.1.1.0"
	oidSysObjectID = ".1.3.6.1.2.1.1.2.0"
	oidSysName     = ".1.3.6.1.2.1.1.5.0"
	oidIfNumber    = ".1.3.6.1.2.1.2.1.0"
)

// FactsProbe gathers facts through the transport (SSH, local) and the
// checker's SNMP clients.
type FactsProbe struct {
	t *Transport
	c *Checker
}

var _ engine.FactsProbe = (*FactsProbe)(nil)

// NewFactsProbe gathers over t and, for SNMP hosts, c's SNMP clients;
// either may be nil when no host uses it.
func NewFactsProbe(t *Transport, c *Checker) *FactsProbe {
	return &FactsProbe{t: t, c: c}
}

// GatherFacts implements engine.FactsProbe: the script over SSH when
// req.SSH, the system group when req.SNMP is set. Any failure is the
// gathering's error (the daemon keeps the last facts); it names what
// failed, with secrets redacted.
func (p *FactsProbe) GatherFacts(ctx context.Context, req engine.FactsRequest) (engine.HostFacts, error) {
	var f engine.HostFacts
	red := NewRedactor(append([]string{req.Endpoint.Passphrase}, req.Secrets...)...)
	if !req.SSH && req.SNMP == nil {
		return f, errors.New("no way to reach the host: no credential (SSH) and no snmp profile")
	}
	if req.SSH {
		if err := p.gatherSSH(ctx, req, &f, red); err != nil {
			return f, err
		}
	}
	if req.SNMP != nil {
		if err := p.gatherSNMP(ctx, req, &f); err != nil {
			return f, errors.New(red.String(err.Error()))
		}
	}
	return f, nil
}

func (p *FactsProbe) gatherSSH(ctx context.Context, req engine.FactsRequest, f *engine.HostFacts, red *Redactor) error {
	if p.t == nil {
		return errNoTransport
	}
	ep := req.Endpoint
	x := p.t.pick(ep)
	if x == nil {
		return errNoTransport
	}
	if ep.Credential != nil && ep.Credential.Become != "" {
		// Read-only facts never need root: log in as the user, plainly.
		c := *ep.Credential
		c.Become = ""
		ep.Credential = &c
	}
	cmd := fmt.Sprintf("RF=%s; UF=%s\n%s", shellQuote(req.RebootFile), shellQuote(req.UpdatesFile), factsScript)
	r, err := x.exec(ctx, ep, cmd, nil, factsTimeout, red)
	switch {
	case err != nil:
		if IsTransport(err) {
			return fmt.Errorf("unreachable: %w", err)
		}
		return err
	case r.TimedOut:
		return fmt.Errorf("the facts script timed out after %s", factsTimeout)
	case r.ExitCode != 0:
		return fmt.Errorf("the facts script exited %d: %s", r.ExitCode, engine.FirstLine(string(r.Stderr), 200))
	}
	return parseFacts(r.Stdout, f)
}

// parseFacts reads the script's sections into f.
func parseFacts(out []byte, f *engine.HostFacts) error {
	sections := map[string][]string{}
	cur := ""
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if name, ok := strings.CutPrefix(line, factsMark); ok {
			cur = name
			sections[cur] = []string{}
			continue
		}
		if cur != "" && line != "" {
			sections[cur] = append(sections[cur], clean(line))
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("read the facts script's output: %w", err)
	}
	if _, ok := sections["kernel"]; !ok {
		return errors.New("the facts script printed nothing (is the login shell POSIX sh compatible?)")
	}
	osr := keyValues(sections["os-release"], true)
	f.OSID, f.OSVersion, f.OSName = osr["ID"], osr["VERSION_ID"], osr["PRETTY_NAME"]
	f.Kernel = first(sections["kernel"])
	f.Arch = first(sections["arch"])
	f.CPUs, _ = strconv.Atoi(first(sections["cpus"]))
	if fs := strings.Fields(first(sections["meminfo"])); len(fs) >= 2 {
		if kb, err := strconv.ParseInt(fs[1], 10, 64); err == nil {
			f.MemoryBytes = kb * 1024
		}
	}
	if fs := strings.Fields(first(sections["uptime"])); len(fs) >= 1 {
		if s, err := strconv.ParseFloat(fs[0], 64); err == nil {
			f.UptimeSeconds = int64(s)
		}
	}
	for _, line := range sections["disks"] {
		fs := strings.Fields(line)
		if len(fs) != 2 {
			continue
		}
		if sectors, err := strconv.ParseInt(fs[1], 10, 64); err == nil && sectors > 0 {
			f.Disks = append(f.Disks, engine.Disk{Name: fs[0], SizeBytes: sectors * 512})
		}
	}
	dmi := keyValues(sections["dmi"], false)
	f.Vendor, f.Product, f.Serial = dmi["sys_vendor"], dmi["product_name"], dmi["product_serial"]
	f.Virtualization = first(sections["virt"])
	switch first(sections["reboot"]) {
	case "yes":
		f.RebootRequired = ptr(true)
	case "no":
		f.RebootRequired = ptr(false)
	}
	if ups, ok := sections["updates"]; ok && len(ups) > 0 {
		if msg, bad := strings.CutPrefix(ups[0], "!"); bad {
			return errors.New(msg)
		}
		f.PackageManager = ups[0]
		var all, sec int
		switch f.PackageManager {
		case "apt":
			all, sec = countApt(ups[1:])
		case "dnf":
			all, sec = countDNF(ups[1:], sections["dnf-security"])
		}
		f.PendingUpdates, f.PendingSecurityUpdates = ptr(all), ptr(sec)
	}
	return nil
}

// countApt counts the packages of `apt list --upgradable` and those from a
// security suite ("bookworm-security", "jammy-security").
func countApt(lines []string) (all, security int) {
	for _, l := range lines {
		name, rest, ok := strings.Cut(l, "/")
		if !ok || name == "" || !strings.Contains(rest, "upgradable from") {
			continue
		}
		all++
		suites, _, _ := strings.Cut(rest, " ")
		if strings.Contains(suites, "security") {
			security++
		}
	}
	return all, security
}

// countDNF counts `dnf check-update` packages ("name.arch version repo")
// and the packages `dnf updateinfo list --security` names.
func countDNF(updates, security []string) (all, sec int) {
	for _, l := range updates {
		fs := strings.Fields(l)
		if len(fs) == 3 && strings.Contains(fs[0], ".") && !strings.HasSuffix(l, ":") {
			all++
		}
		if strings.HasPrefix(l, "Obsoleting") {
			break
		}
	}
	seen := map[string]bool{}
	for _, l := range security {
		fs := strings.Fields(l)
		if len(fs) == 3 && !seen[fs[2]] {
			seen[fs[2]] = true
			sec++
		}
	}
	return all, sec
}

// keyValues reads KEY=VALUE lines; unquote strips the quotes of
// os-release values.
func keyValues(lines []string, unquote bool) map[string]string {
	out := map[string]string{}
	for _, l := range lines {
		k, v, ok := strings.Cut(l, "=")
		if !ok {
			continue
		}
		v = strings.TrimSpace(v)
		if unquote && len(v) >= 2 && (v[0] == '"' || v[0] == '\'') && v[len(v)-1] == v[0] {
			v = v[1 : len(v)-1]
		}
		out[strings.TrimSpace(k)] = v
	}
	return out
}

func first(lines []string) string {
	if len(lines) == 0 {
		return ""
	}
	return strings.TrimSpace(lines[0])
}

// clean makes what a host printed valid, printable text.
func clean(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	return strings.Map(func(r rune) rune {
		if r < 0x20 && r != '\t' || r == 0x7f {
			return -1
		}
		return r
	}, s)
}

func ptr[T any](v T) *T { return &v }

// gatherSNMP reads the system group: sysDescr, sysObjectID, sysName,
// sysUpTime and ifNumber. A host without facts from SSH gets its vendor
// from the enterprise number of sysObjectID and its product from the
// first part of sysDescr.
func (p *FactsProbe) gatherSNMP(ctx context.Context, req engine.FactsRequest, f *engine.HostFacts) error {
	if p.c == nil {
		return errors.New("no SNMP client")
	}
	acc := req.SNMP
	addr := acc.Address
	if addr == "" && req.Endpoint.Host != nil {
		addr = req.Endpoint.Host.Address
	}
	if addr == "" {
		return errors.New("no SNMP address")
	}
	timeout := acc.Timeout
	if timeout <= 0 {
		timeout = 5 * time.Second
	}
	key := snmpKey(addr, acc)
	vbs, err := p.c.snmp.get(ctx, key, acc, []string{oidSysDescr, oidSysObjectID, oidSysName, oidSysUpTime, oidIfNumber}, timeout)
	if err != nil {
		return fmt.Errorf("snmp %s: %w", addr, err)
	}
	str := func(oid string) string {
		pdu, ok := vbs[oid]
		if !ok {
			return ""
		}
		switch v := pdu.Value.(type) {
		case []byte:
			if utf8.Valid(v) {
				return clean(string(v))
			}
			return clean(strings.ToValidUTF8(string(v), "\uFFFD"))
		case string:
			return strings.TrimPrefix(clean(v), ".")
		}
		return ""
	}
	f.SysDescr, f.SysObjectID, f.SysName = str(oidSysDescr), str(oidSysObjectID), str(oidSysName)
	if f.SysDescr == "" && f.SysObjectID == "" && f.SysName == "" {
		return fmt.Errorf("snmp %s: the agent answered no system group", addr)
	}
	if up, ok := snmpUptime(vbs[oidSysUpTime]); ok {
		f.SysUptime = int64(up / 100)
	}
	if pdu, ok := vbs[oidIfNumber]; ok {
		if v, err := snmpNumeric(pdu); err == nil {
			f.IfCount = ptr(int(v.Float))
		}
	}
	if f.Vendor == "" {
		f.Vendor = snmpVendor(f.SysObjectID)
	}
	if f.Product == "" {
		f.Product = snmpProduct(f.SysDescr)
	}
	return nil
}

// snmpVendor names the vendor of a sysObjectID by its IANA enterprise
// number (1.3.6.1.4.1.N...), for the common network vendors.
func snmpVendor(oid string) string {
	rest, ok := strings.CutPrefix(strings.TrimPrefix(oid, "."), "1.3.6.1.4.1.")
	if !ok {
		return ""
	}
	num, _, _ := strings.Cut(rest, ".")
	switch num {
	case "9":
		return "Cisco"
	case "2636":
		return "Juniper Networks"
	case "30065":
		return "Arista Networks"
	case "11", "47196":
		return "HPE"
	case "2011":
		return "Huawei"
	case "6527":
		return "Nokia"
	case "12356":
		return "Fortinet"
	case "25461":
		return "Palo Alto Networks"
	case "14988":
		return "MikroTik"
	case "674":
		return "Dell"
	case "1991":
		return "Brocade"
	case "6486":
		return "Alcatel-Lucent"
	case "4526":
		return "Netgear"
	case "41112":
		return "Ubiquiti"
	case "8072":
		return "Net-SNMP"
	}
	return "enterprise " + num
}

// snmpProduct is the first part of sysDescr: up to its first comma or
// line end, at most 64 characters ("Cisco IOS Software", "Juniper
// Networks, Inc. ex4300-48t Ethernet Switch" keeps its first part).
func snmpProduct(descr string) string {
	p, _, _ := strings.Cut(descr, "\n")
	for off := 0; ; {
		i := strings.Index(p[off:], ", ")
		if i < 0 {
			break
		}
		if i += off; !strings.HasPrefix(p[i+2:], "Inc") {
			p = p[:i]
			break
		}
		off = i + 2
	}
	p = strings.TrimSpace(p)
	if len(p) > 64 {
		p = p[:64]
	}
	return p
}
