package webui

import (
	"context"
	"net/http"
	"slices"
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
	// Detail are the hosts given an output panel: every host that did not
	// succeed, the running ones and the selected one, failures first, so
	// that a page over 10,000 hosts stays small.
	Detail []httpapi.HostRun
	Done   int
	Total  int
	// Outcomes counts the run's hosts by outcome, worst first.
	Outcomes []outcomeN
	// Waves are the waves with their hosts grouped by outcome.
	Waves []waveView
	// Changes are the file changes the run made, each distinct diff of a
	// step once with the hosts it was made on.
	Changes []changeGroup
	// MoreChanges counts the distinct diffs left out of Changes.
	MoreChanges int
}

// outcomeN is a number of hosts with one outcome.
type outcomeN struct {
	State string
	N     int
}

// waveView is a wave with its hosts grouped by outcome, failures first.
type waveView struct {
	httpapi.Wave
	Of     int // waves in the run
	Groups []hostGroup
}

// hostGroup is the hosts of a wave with one outcome. Open groups are shown
// expanded: failures, running hosts, and any group of a few hosts; a
// group of hundreds of hosts that went well is one line until opened.
type hostGroup struct {
	ID    string // the element id, stable across live updates
	State string
	Hosts []httpapi.HostRun
	Open  bool
}

// changeGroup is one distinct change a file step made, and where.
type changeGroup struct {
	ID    string
	Step  string
	Diff  string
	Hosts []string
}

// Host outcomes, worst first: the order of groups and counts.
var outcomeOrder = []string{"failed", "unreachable", "gate_failed", "rolled_back", "running", "pending", "ok", "not_started"}

// openUpTo is the size up to which a group of hosts that went well (or
// did not start) is shown expanded.
const openUpTo = 12

// maxChanges caps the distinct diffs a run page shows.
const maxChanges = 20

func failedOutcome(s string) bool {
	return s == "failed" || s == "gate_failed" || s == "unreachable" || s == "rolled_back"
}

// loadRun reads a run for its page: the detail, the hosts grouped by
// outcome, the changes and the hosts that get an output panel.
func (u *UI) loadRun(ctx context.Context, id int64, selected string) (runData, error) {
	d, err := httpapi.LoadRunDetail(ctx, u.opts.Store, id, "")
	if err != nil {
		return runData{}, err
	}
	out := runData{RunDetail: d, Final: engine.RunState(d.State).Final(), Selected: selected}
	out.Approve = d.State == string(engine.RunWaitingApproval) || d.State == string(engine.RunNeedsOperator)
	out.Revert = d.State == string(engine.RunFailed) && u.opts.Revert != nil
	outcomes := map[string]int{}
	changes := map[[2]string]*changeGroup{}
	var changeOrder [][2]string
	var failed, other []httpapi.HostRun
	for _, w := range d.WaveDetails {
		out.Total += len(w.Hosts)
		out.Done += w.Counts.OK + w.Counts.Failed
		byState := map[string][]httpapi.HostRun{}
		for _, h := range w.Hosts {
			byState[h.State] = append(byState[h.State], h)
			outcomes[h.State]++
			switch {
			case failedOutcome(h.State):
				failed = append(failed, h)
			case h.State == "running" || h.Host == selected:
				other = append(other, h)
			}
			for _, st := range h.Steps {
				if st.Diff == "" || st.Rollback {
					continue
				}
				k := [2]string{st.Step, st.Diff}
				c := changes[k]
				if c == nil {
					c = &changeGroup{Step: st.Step, Diff: st.Diff}
					changes[k] = c
					changeOrder = append(changeOrder, k)
				}
				c.Hosts = append(c.Hosts, h.Host)
			}
		}
		wv := waveView{Wave: w, Of: len(d.WaveDetails)}
		for _, st := range outcomeOrder {
			hosts := byState[st]
			if len(hosts) == 0 {
				continue
			}
			open := failedOutcome(st) || st == "running" || len(hosts) <= openUpTo
			wv.Groups = append(wv.Groups, hostGroup{ID: "w" + strconv.Itoa(w.Number) + "-" + st, State: st, Hosts: hosts, Open: open})
		}
		out.Waves = append(out.Waves, wv)
	}
	for _, st := range outcomeOrder {
		if n := outcomes[st]; n > 0 {
			out.Outcomes = append(out.Outcomes, outcomeN{State: st, N: n})
		}
	}
	// The change made on most hosts first: at 500 hosts, usually one diff.
	for i, k := range changeOrder {
		c := changes[k]
		c.ID = "c" + strconv.Itoa(i+1)
		out.Changes = append(out.Changes, *c)
	}
	slices.SortStableFunc(out.Changes, func(a, b changeGroup) int { return len(b.Hosts) - len(a.Hosts) })
	if len(out.Changes) > maxChanges {
		out.MoreChanges = len(out.Changes) - maxChanges
		out.Changes = out.Changes[:maxChanges]
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

// formHosts is the form's hosts field: names separated by commas or
// spaces; none means every host.
func formHosts(r *http.Request) []string {
	return strings.FieldsFunc(r.PostFormValue("hosts"), func(c rune) bool { return c == ',' || c == ' ' || c == '\n' || c == '\r' || c == '\t' })
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
	run, err := u.opts.Sync.StartSync(r.Context(), r.PathValue("job"), formHosts(r), who.Name, formReason(r))
	if err != nil {
		u.failErr(w, r, err)
		return
	}
	http.Redirect(w, r, "/runs/"+strconv.FormatInt(run.ID, 10), http.StatusSeeOther)
}
