package definitions

import (
	"crypto/sha256"
	"encoding/hex"
	"hash"
	"maps"
	"slices"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
	ctyjson "github.com/zclconf/go-cty/cty/json"
)

// Fingerprints says what each job would do on each of its target hosts: a
// job's fingerprint on a host changes exactly when Diff would run the job
// there (its steps or the files they read changed, its login user, become
// or transport changed, or a host value its steps or templates use
// changed). Fingerprints are hex SHA-256 digests of what is written, never
// of rendered secrets: env() and file() are read only when a run renders.
//
// A Fingerprints is not safe for concurrent use; each job is worked out
// once and remembered.
type Fingerprints struct {
	d         *Definitions
	idx       *sourceIndex
	templates map[string][]hcl.Traversal
	jobs      map[string]*jobPrint
}

// jobPrint is what a job contributes to every host's fingerprint.
type jobPrint struct {
	exec []byte // digest of the steps and the files they read
	refs *hostRefs
}

// NewFingerprints prepares fingerprints over d.
func NewFingerprints(d *Definitions) *Fingerprints {
	return &Fingerprints{d: d, idx: newSourceIndex(d), templates: map[string][]hcl.Traversal{}, jobs: map[string]*jobPrint{}}
}

// Job returns the fingerprint of every target host of job, by host name;
// nil when the job is not defined.
func (f *Fingerprints) Job(job string) map[string]string {
	j := f.d.Jobs[job]
	if j == nil {
		return nil
	}
	hosts := f.d.Select(j.Targets)
	out := make(map[string]string, len(hosts))
	for _, h := range hosts {
		out[h.Name] = f.host(j, h)
	}
	return out
}

// Host returns the fingerprint of job on host, "" when either is not
// defined or the job does not target the host.
func (f *Fingerprints) Host(job, host string) string {
	j, h := f.d.Jobs[job], f.d.Hosts[host]
	if j == nil || h == nil || !matchTargets(j.Targets, h) {
		return ""
	}
	return f.host(j, h)
}

func (f *Fingerprints) host(j *Job, h *Host) string {
	jp := f.job(j)
	w := sha256.New()
	w.Write(jp.exec)
	// Commands run differently whatever the job says: login user, become,
	// transport.
	writeField(w, "transport", h.Transport)
	if c := f.d.Credential(h); c != nil {
		writeField(w, "user", c.User)
		writeField(w, "become", c.Become)
	}
	r := jp.refs
	obj := f.d.HostObject(h)
	if r.all {
		// Facts are left out: a fingerprint is what Git says, and facts
		// change on hosts, not in commits.
		attrs := obj.AsValueMap()
		delete(attrs, "facts")
		writeValue(w, "host", cty.ObjectVal(attrs))
	} else {
		for _, a := range slices.Sorted(maps.Keys(r.attrs)) {
			if obj.Type().IsObjectType() && obj.Type().HasAttribute(a) {
				writeValue(w, "host."+a, obj.GetAttr(a))
			} else {
				writeField(w, "host."+a, "")
			}
		}
		vars := valueMap(obj.GetAttr("vars"))
		switch {
		case r.allVars:
			writeValue(w, "host.vars", obj.GetAttr("vars"))
		default:
			for _, k := range slices.Sorted(maps.Keys(r.varKeys)) {
				if v, ok := vars[k]; ok {
					writeValue(w, "host.vars."+k, v)
				} else {
					writeField(w, "host.vars."+k, "")
				}
			}
		}
	}
	return hex.EncodeToString(w.Sum(nil))
}

// job works out j's part of every fingerprint once.
func (f *Fingerprints) job(j *Job) *jobPrint {
	if jp := f.jobs[j.Name]; jp != nil {
		return jp
	}
	w := sha256.New()
	b := f.idx.block("job", j.Name)
	parts, ok := blockParts{}, false
	if b != nil {
		parts, ok = f.idx.partsOf(b)
	}
	if ok {
		// The steps as written, in order; description, rollout, schedule
		// and the like do not change what runs on a host.
		d := parts.parts["step"]
		w.Write(d[:])
		// The params (their defaults) as written, when there are any:
		// fingerprints of jobs without params stay as they were.
		if p, ok := parts.parts["param"]; ok {
			writeField(w, "params", hex.EncodeToString(p[:]))
		}
	} else {
		// Built by hand or not loaded from source: every step counts by
		// its decoded form.
		for _, s := range j.Steps {
			writeField(w, "step", s.Name+"\x00"+string(s.Kind))
		}
	}
	for _, src := range stepSources(j.Steps) {
		_, data, err := readRepoFile(f.d.FS, src.path)
		sum := sha256.Sum256(data)
		if err != nil {
			sum = sha256.Sum256([]byte("unreadable: " + err.Error()))
		}
		writeField(w, src.kind+" "+src.path, hex.EncodeToString(sum[:]))
	}
	jp := &jobPrint{exec: w.Sum(nil), refs: jobHostRefs(j, f.d.FS, f.templates)}
	f.jobs[j.Name] = jp
	return jp
}

func writeField(w hash.Hash, name, value string) {
	w.Write([]byte(name))
	w.Write([]byte{0})
	w.Write([]byte(value))
	w.Write([]byte{0})
}

func writeValue(w hash.Hash, name string, v cty.Value) {
	b, err := ctyjson.Marshal(v, v.Type())
	if err != nil {
		b = []byte("unmarshalable")
	}
	writeField(w, name, string(b))
}
