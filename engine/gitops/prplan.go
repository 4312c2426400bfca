package gitops

import (
	"cmp"
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/hashicorp/hcl/v2"

	"github.com/ripple-ops/ripple/definitions"
	"github.com/ripple-ops/ripple/engine"
)

// planPullRequests plans every pull request queued since the last call.
// Each is fetched as refs/pull/<n>/head, validated and planned against the
// base commit of the tracked branch. Nothing runs on a host and no secret
// is read: definitions.Load never evaluates env() or file().
func (d *Daemon) planPullRequests(ctx context.Context) {
	d.mu.Lock()
	prs := slices.SortedFunc(maps.Values(d.prs), func(a, b engine.PullRequestEvent) int { return cmp.Compare(a.Number, b.Number) })
	clear(d.prs)
	base := d.defs
	d.mu.Unlock()
	if base == nil {
		base = emptyDefinitions()
	}
	for _, ev := range prs {
		if ctx.Err() != nil {
			return
		}
		if err := d.planPullRequest(ctx, ev, base); err != nil {
			d.log.Error().Err(err).Int("pr", ev.Number).Msg("plan pull request")
		}
	}
}

func (d *Daemon) planPullRequest(ctx context.Context, ev engine.PullRequestEvent, base *definitions.Definitions) error {
	head, err := d.mirror.FetchPullRequest(ctx, ev.Number)
	if err != nil {
		// The statuses go on the head the event named: git is the source
		// of truth for content, but the event is all we have here.
		d.setStatus(ctx, engine.CommitStatus{Commit: ev.HeadSHA, Context: engine.StatusPlan, State: "error", Description: "could not fetch the pull request"})
		return err
	}
	hs := head.String()
	l := d.log.With().Int("pr", ev.Number).Str("commit", engine.ShortCommit(hs)).Logger()
	if hs != ev.HeadSHA {
		l.Info().Str("event_head", engine.ShortCommit(ev.HeadSHA)).Msg("pull request moved since the event; planning its current head")
	}
	defs, diags, err := d.load(head)
	if err != nil {
		return err
	}
	if diags.HasErrors() {
		short := definitions.ShortDiagnostics(diags)
		d.setStatus(ctx, engine.CommitStatus{Commit: hs, Context: engine.StatusValidate, State: "failure", Description: "invalid: " + short})
		d.setStatus(ctx, engine.CommitStatus{Commit: hs, Context: engine.StatusPlan, State: "failure", Description: "no plan: the definitions are invalid"})
		return d.comment(ctx, ev.Number, invalidComment(hs, diags))
	}
	d.setStatus(ctx, engine.CommitStatus{Commit: hs, Context: engine.StatusValidate, State: "success", Description: validDescription(diags)})
	plan := planCommit(base, defs)
	d.annotate(ctx, plan, defs)
	state, desc := "success", plan.Summary()
	if !d.opts.AllowEmpty {
		if what := plan.RemovesWhat(); what != "" {
			state, desc = "failure", "the merge would be refused: it removes "+what
		}
	}
	d.setStatus(ctx, engine.CommitStatus{Commit: hs, Context: engine.StatusPlan, State: state, Description: desc})
	l.Info().Str("plan", plan.Summary()).Msg("pull request planned")
	return d.comment(ctx, ev.Number, planComment(hs, plan, diags))
}

func (d *Daemon) comment(ctx context.Context, pr int, body string) error {
	if d.opts.Comments == nil {
		return nil
	}
	if err := d.opts.Comments.UpsertPlanComment(ctx, pr, body); err != nil {
		return fmt.Errorf("plan comment on #%d: %w", pr, err)
	}
	return nil
}

// planComment renders the pull request's plan comment in Markdown: the
// summary, a table of jobs, and the full text plan. Names come from the
// repository, so they are shown as code and never as markup.
func planComment(to string, p *definitions.PlanResult, diags hcl.Diagnostics) string {
	var b strings.Builder
	fmt.Fprintf(&b, "### ripple plan for %s\n\n", code(engine.ShortCommit(to)))
	if p.From != "" {
		fmt.Fprintf(&b, "Against %s, the last applied commit of the tracked branch.\n\n", code(engine.ShortCommit(p.From)))
	}
	fmt.Fprintf(&b, "**%s**\n\n", escapeCell(p.Summary()))
	if len(p.Jobs) > 0 {
		b.WriteString("| job | hosts | waves | why |\n| --- | ---: | --- | --- |\n")
		for _, j := range p.Jobs {
			var sizes []string
			for i, w := range j.Waves {
				if i == maxCommentWaves {
					sizes = append(sizes, fmt.Sprintf("… (%d waves)", len(j.Waves)))
					break
				}
				sizes = append(sizes, fmt.Sprint(len(w)))
			}
			fmt.Fprintf(&b, "| %s | %d | %s | %s |\n", code(j.Name), engine.CountHosts(j.Waves), strings.Join(sizes, " → "), escapeCell(strings.Join(j.Reasons, "; ")))
		}
		b.WriteString("\n")
	}
	var text strings.Builder
	if err := p.WriteText(&text); err == nil {
		b.WriteString("<details><summary>Full plan</summary>\n\n```text\n")
		b.WriteString(strings.ReplaceAll(text.String(), "```", "'''"))
		b.WriteString("```\n\n</details>\n\n")
	}
	for _, j := range p.Jobs {
		if len(j.GateFailing) > 0 {
			fmt.Fprintf(&b, "⚠️ %s: %s already failing its health gate; they count, so a wave waits for them and fails if they stay failing: %s\n\n",
				code(j.Name), engine.Plural(len(j.GateFailing), "check"), escapeCell(strings.Join(j.GateFailing, ", ")))
		}
	}
	if n := len(p.OutOfSync); n > 0 {
		fmt.Fprintf(&b, "**Still out of sync: %s** (this merge does not run them; `ripple sync` does)\n\n| job | host | state |\n| --- | --- | --- |\n", engine.Plural(n, "host"))
		for i, o := range p.OutOfSync {
			if i == 20 {
				fmt.Fprintf(&b, "| … | %d more | |\n", n-20)
				break
			}
			fmt.Fprintf(&b, "| %s | %s | %s |\n", code(o.Job), code(o.Host), escapeCell(o.Text))
		}
		b.WriteString("\n")
	}
	if s := definitions.ShortDiagnostics(diags); s != "" {
		fmt.Fprintf(&b, "Validation: %s\n\n", escapeCell(s))
	}
	b.WriteString("_Nothing runs until the pull request is merged._\n")
	return b.String()
}

func invalidComment(to string, diags hcl.Diagnostics) string {
	var b strings.Builder
	fmt.Fprintf(&b, "### ripple plan for %s\n\n**Not planned: the definitions are invalid.**\n\n```\n", code(engine.ShortCommit(to)))
	for _, dg := range definitions.DiagnosticList(diags) {
		if dg.File != "" {
			fmt.Fprintf(&b, "%s:%d:%d: %s: %s\n", dg.File, dg.Line, dg.Column, dg.Severity, strings.ReplaceAll(dg.Summary, "```", "'''"))
		} else {
			fmt.Fprintf(&b, "%s: %s\n", dg.Severity, strings.ReplaceAll(dg.Summary, "```", "'''"))
		}
	}
	b.WriteString("```\n")
	return b.String()
}

// maxCommentWaves caps the wave sizes a plan comment's row shows.
const maxCommentWaves = 10

func code(s string) string {
	return "`" + strings.ReplaceAll(s, "`", "'") + "`"
}

func escapeCell(s string) string {
	r := strings.NewReplacer("|", "\\|", "<", "&lt;", ">", "&gt;", "\n", " ")
	return r.Replace(s)
}

// annotate adds to a plan what the daemon knows of the fleet: gate checks
// failing now, and hosts still out of sync (see engine.AnnotatePlan).
func (d *Daemon) annotate(ctx context.Context, p *definitions.PlanResult, defs *definitions.Definitions) {
	var monitors []engine.MonitorHostState
	if d.opts.Monitors != nil {
		monitors = d.opts.Monitors.States()
	}
	syncs, err := d.SyncStates(ctx)
	if err != nil {
		syncs = nil // no sync state yet: nothing to say
	}
	engine.AnnotatePlan(p, defs, syncs, monitors)
}
