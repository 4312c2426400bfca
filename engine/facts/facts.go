// Package facts is what ripple makes of the facts it gathers from hosts:
// the facts as text and as the host.facts object of templates, the
// changes between two gatherings, and patch compliance across the fleet
// (BuildPatchReport). The records it reads (engine.HostFacts,
// engine.FactsRecord, engine.FactChange) are engine's, kept by the stores;
// gitops gathers them, and the surfaces (httpapi, webui, the CLI) show
// what this package makes of them. It imports only engine and definitions.
package facts

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/zclconf/go-cty/cty"
	ctyjson "github.com/zclconf/go-cty/cty/json"

	"github.com/ripple-ops/ripple/engine"
)

// volatileFact reports whether a fact changes on every gathering; a
// change of it is not an event of the host's history.
func volatileFact(name string) bool { return name == "uptime_seconds" || name == "sys_uptime" }

// Flat returns f as fact name -> value as text (FactNames); facts not
// told are left out. Disks read "vda 20G, vdb 1T".
func Flat(f engine.HostFacts) map[string]string {
	b, _ := json.Marshal(f)
	var m map[string]any
	_ = json.Unmarshal(b, &m)
	out := make(map[string]string, len(m))
	for k, v := range m {
		switch v := v.(type) {
		case string:
			out[k] = v
		case float64:
			out[k] = strconv.FormatFloat(v, 'f', -1, 64)
		case bool:
			out[k] = strconv.FormatBool(v)
		}
	}
	if len(f.Disks) > 0 {
		parts := make([]string, len(f.Disks))
		for i, d := range f.Disks {
			parts[i] = d.Name + " " + HumanBytes(d.SizeBytes)
		}
		out["disks"] = strings.Join(parts, ", ")
	}
	return out
}

// FactNames lists the facts in the order they are shown.
func FactNames() []string {
	return []string{
		"os_id", "os_version", "os_name", "kernel", "arch", "cpus", "memory_bytes", "disks",
		"vendor", "product", "serial", "virtualization", "uptime_seconds",
		"package_manager", "pending_updates", "pending_security_updates", "reboot_required",
		"sys_descr", "sys_object_id", "sys_name", "sys_uptime", "if_count",
	}
}

// HumanBytes formats n bytes in binary units: "512M", "7.8G".
func HumanBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%dB", n)
	}
	f, i := float64(n), -1
	for f >= unit && i < 5 {
		f /= unit
		i++
	}
	s := strconv.FormatFloat(f, 'f', 1, 64)
	s = strings.TrimSuffix(s, ".0")
	return s + string("KMGTPE"[i])
}

// Value is f as the cty object templates read as host.facts.
func Value(f engine.HostFacts) cty.Value {
	b, err := json.Marshal(f)
	if err != nil {
		return cty.EmptyObjectVal
	}
	ty, err := ctyjson.ImpliedType(b)
	if err != nil {
		return cty.EmptyObjectVal
	}
	v, err := ctyjson.Unmarshal(b, ty)
	if err != nil {
		return cty.EmptyObjectVal
	}
	return v
}

// DiffFacts lists the facts that differ from old to new, in FactNames
// order, leaving out the volatile ones (uptimes).
func DiffFacts(host string, at time.Time, old, new engine.HostFacts) []engine.FactChange {
	o, n := Flat(old), Flat(new)
	var out []engine.FactChange
	for _, name := range FactNames() {
		if volatileFact(name) || o[name] == n[name] {
			continue
		}
		out = append(out, engine.FactChange{Host: host, At: at, Fact: name, Old: o[name], New: n[name]})
	}
	return out
}
