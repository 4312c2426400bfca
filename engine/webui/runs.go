package webui

import (
	"context"
	"net/http"
	"strconv"
	"strings"

	"github.com/ripple-ops/ripple/engine"
	"github.com/ripple-ops/ripple/engine/httpapi"
)

type runData struct {
	httpapi.RunDetail
	Final    bool
	Approve  bool   // the run waits for an operator
	Revert   bool   // the run failed: its commit can be reverted
	Selected string // the host whose output is open (?host=)
	Detail   []httpapi.HostRun
	Done     int
	Total    int
}

// loadRun reads a run for its page: the detail, and which hosts get an
// output panel (every failed or running host and the selected one, so a
// page over 10,000 hosts stays small).
func (u *UI) loadRun(ctx context.Context, id int64, selected string) (runData, error) {
	d, err := httpapi.LoadRunDetail(ctx, u.opts.Store, id, "")
	if err != nil {
		return runData{}, err
	}
	out := runData{RunDetail: d, Final: engine.RunState(d.State).Final(), Selected: selected}
	out.Approve = d.State == string(engine.RunWaitingApproval) || d.State == string(engine.RunNeedsOperator)
	out.Revert = d.State == string(engine.RunFailed) && u.opts.Revert != nil
	var failed, other []httpapi.HostRun
	for _, w := range d.WaveDetails {
		out.Total += len(w.Hosts)
		out.Done += w.Counts.OK + w.Counts.Failed
		for _, h := range w.Hosts {
			switch {
			case h.State == "failed" || h.State == "gate_failed" || h.State == "unreachable" || h.State == "rolled_back":
				failed = append(failed, h)
			case h.State == "running" || h.Host == selected:
				other = append(other, h)
			}
		}
	}
	out.Detail = append(failed, other...)
	return out, nil
}

func pathRunID(r *http.Request) (int64, bool) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	return id, err == nil && id > 0
}

func (u *UI) runPage(w http.ResponseWriter, r *http.Request, v *view) {
	id, ok := pathRunID(r)
	if !ok {
		u.fail(w, r, http.StatusBadRequest, "run id must be a positive number")
		return
	}
	host := r.URL.Query().Get("host")
	d, err := u.loadRun(r.Context(), id, host)
	if err != nil {
		u.failErr(w, r, err)
		return
	}
	v.Title, v.Data = "Run "+strconv.FormatInt(id, 10)+" "+d.Job, d
	if !d.Final {
		v.Live = "/runs/" + strconv.FormatInt(id, 10) + "/live"
		if host != "" {
			v.Live += "?host=" + urlQueryEscape(host)
		}
		v.Refresh = 5
	}
	u.render(w, r, http.StatusOK, "run", "layout", v)
}

// runLive streams the live part of a run page as Server-Sent Events: each
// event's data is the re-rendered HTML of that part.
func (u *UI) runLive(w http.ResponseWriter, r *http.Request, v *view) {
	id, ok := pathRunID(r)
	if !ok {
		u.fail(w, r, http.StatusBadRequest, "run id must be a positive number")
		return
	}
	host := r.URL.Query().Get("host")
	httpapi.StreamEvents(w, r, httpapi.StreamOptions{Event: "update", Poll: u.opts.EventPoll, Stopping: u.opts.Stopping},
		func(ctx context.Context) ([]byte, bool, error) {
			d, err := u.loadRun(ctx, id, host)
			if err != nil {
				return nil, false, err
			}
			v.Data = d
			b, err := u.fragment("run", "live", v)
			return b, d.Final, err
		})
}

func (u *UI) approve(w http.ResponseWriter, r *http.Request, who httpapi.Identity) {
	u.runAction(w, r, who, u.opts.Backend.Approve)
}

func (u *UI) abort(w http.ResponseWriter, r *http.Request, who httpapi.Identity) {
	u.runAction(w, r, who, u.opts.Backend.Abort)
}

func (u *UI) runAction(w http.ResponseWriter, r *http.Request, who httpapi.Identity, act func(ctx context.Context, id int64, actor, reason string) error) {
	id, ok := pathRunID(r)
	if !ok {
		u.fail(w, r, http.StatusBadRequest, "run id must be a positive number")
		return
	}
	if err := act(r.Context(), id, who.Name, formReason(r)); err != nil {
		u.failErr(w, r, err)
		return
	}
	http.Redirect(w, r, "/runs/"+strconv.FormatInt(id, 10), http.StatusSeeOther)
}

// revertData is the page that answers the revert form.
type revertData struct {
	Run    int64
	Job    string
	Result engine.RevertResult
}

// revert proposes the revert of a run's commit: a branch of the ops repo
// and, with GitHub, a pull request; the answer shows both. It is no
// redirect: the result is not kept anywhere but in the run's audit (and in
// Git), and asking twice is refused (the branch exists).
func (u *UI) revert(w http.ResponseWriter, r *http.Request, who httpapi.Identity) {
	id, ok := pathRunID(r)
	if !ok {
		u.fail(w, r, http.StatusBadRequest, "run id must be a positive number")
		return
	}
	if u.opts.Revert == nil {
		u.fail(w, r, http.StatusNotImplemented, "this daemon makes no reverts")
		return
	}
	reason := formReason(r)
	if reason == "" {
		u.fail(w, r, http.StatusBadRequest, "say why the commit is reverted: the reason goes into the commit and the pull request")
		return
	}
	run, err := u.opts.Store.GetRun(r.Context(), id)
	if err != nil {
		u.failErr(w, r, err)
		return
	}
	res, err := u.opts.Revert.Revert(r.Context(), run.Commit, id, who.Name, reason)
	if err != nil {
		u.failErr(w, r, err)
		return
	}
	v := &view{Title: "Revert of " + engine.ShortCommit(run.Commit), Who: who, CanAct: true, Status: u.opts.Backend.Status(),
		Data: revertData{Run: id, Job: run.Job, Result: res}}
	u.render(w, r, http.StatusCreated, "revert", "layout", v)
}

func formReason(r *http.Request) string {
	s := strings.TrimSpace(r.PostFormValue("reason"))
	if len(s) > 1000 {
		s = s[:1000]
	}
	return s
}

func (u *UI) startSync(w http.ResponseWriter, r *http.Request, who httpapi.Identity) {
	if u.opts.Sync == nil {
		u.fail(w, r, http.StatusNotImplemented, "this daemon keeps no sync state")
		return
	}
	run, err := u.opts.Sync.StartSync(r.Context(), r.PathValue("job"), nil, who.Name, formReason(r))
	if err != nil {
		u.failErr(w, r, err)
		return
	}
	http.Redirect(w, r, "/runs/"+strconv.FormatInt(run.ID, 10), http.StatusSeeOther)
}
