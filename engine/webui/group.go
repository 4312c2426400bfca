package webui

import (
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/ripple-ops/ripple/definitions"
	"github.com/ripple-ops/ripple/engine"
	"github.com/ripple-ops/ripple/engine/httpapi"
)

// groupData is the group page: a group's hosts, the jobs that target it
// by name, and for operators an ad-hoc command form for its SSH hosts.
type groupData struct {
	Name  string
	Hosts []*definitions.Host
	Jobs  []string
	// SSH counts the hosts an exec reaches (those without the local
	// transport); CanExec: the daemon runs ad-hoc commands and SSH > 0.
	SSH     int
	CanExec bool
	Default int // the default max_parallel, shown in the form
}

func (u *UI) groupPage(w http.ResponseWriter, r *http.Request, v *view) {
	name := r.PathValue("group")
	defs := u.opts.Backend.Definitions()
	var hosts []*definitions.Host
	if defs != nil {
		hosts = defs.Select(definitions.Targets{Groups: []string{name}})
	}
	if len(hosts) == 0 {
		u.fail(w, r, http.StatusNotFound, "no host in group "+strconv.Quote(name)+" at the applied commit")
		return
	}
	slices.SortFunc(hosts, func(a, b *definitions.Host) int { return strings.Compare(a.Name, b.Name) })
	d := groupData{Name: name, Hosts: hosts, Default: engine.DefaultExecParallel}
	for _, h := range hosts {
		if h.Transport != "local" {
			d.SSH++
		}
	}
	d.CanExec = u.opts.Exec != nil && d.SSH > 0
	for _, jn := range slices.Sorted(maps.Keys(defs.Jobs)) {
		if slices.Contains(defs.Jobs[jn].Targets.Groups, name) {
			d.Jobs = append(d.Jobs, jn)
		}
	}
	v.Title, v.Data = "Group "+name, d
	u.render(w, r, http.StatusOK, "group", "layout", v)
}

// execGroup runs the group page's ad-hoc command on the group's SSH
// hosts, as `ripple exec --group` does.
func (u *UI) execGroup(w http.ResponseWriter, r *http.Request, who httpapi.Identity) {
	if u.opts.Exec == nil {
		u.fail(w, r, http.StatusNotImplemented, "this daemon runs no ad-hoc commands")
		return
	}
	req := engine.ExecRequest{Group: r.PathValue("group"), Command: r.PostFormValue("command"), Actor: who.Name, Reason: formReason(r)}
	if !u.execLimits(w, r, &req) {
		return
	}
	run, err := u.opts.Exec.Exec(r.Context(), req)
	if err != nil {
		u.failErr(w, r, err)
		return
	}
	http.Redirect(w, r, "/runs/"+strconv.FormatInt(run.ID, 10), http.StatusSeeOther)
}

// execLimits reads an exec form's optional timeout and max_parallel into
// req; on a bad value it answers 400 and returns false.
func (u *UI) execLimits(w http.ResponseWriter, r *http.Request, req *engine.ExecRequest) bool {
	if t := strings.TrimSpace(r.PostFormValue("timeout")); t != "" {
		d, err := time.ParseDuration(t)
		if err != nil || d <= 0 {
			u.fail(w, r, http.StatusBadRequest, "timeout must be a duration such as \"30s\" or \"5m\"")
			return false
		}
		req.Timeout = d
	}
	if s := strings.TrimSpace(r.PostFormValue("max_parallel")); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			u.fail(w, r, http.StatusBadRequest, "max_parallel must be a whole number of hosts, at least 1")
			return false
		}
		req.MaxParallel = n
	}
	return true
}
