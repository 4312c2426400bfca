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
	"github.com/ripple-ops/ripple/engine/convergence"
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
	state, desc := "success", planDescription(plan)
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
	writePolicyTable(&b, p)
	writeSecretReads(&b, p)
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

// maxCommentRows caps the rows of a table in a plan comment; the full
// plan below it has every line.
const maxCommentRows = 50

// writePolicyTable writes the jobs whose rollout a pull request weakens,
// and a table of every policy change, before and after, each weakening
// flagged. When the table is cut, weakening rows are kept first.
func writePolicyTable(b *strings.Builder, p *definitions.PlanResult) {
	if len(p.PolicyChanges) == 0 {
		return
	}
	if weak := p.Weakened(); len(weak) > 0 {
		names := make([]string, 0, min(len(weak), maxCommentRows))
		for _, n := range weak[:min(len(weak), maxCommentRows)] {
			names = append(names, code(n))
		}
		more := ""
		if len(weak) > maxCommentRows {
			more = fmt.Sprintf(" and %d more", len(weak)-maxCommentRows)
		}
		fmt.Fprintf(b, "⚠️ **This change weakens the rollout of %s%s.**\n\n", strings.Join(names, ", "), more)
	}
	rows := policyRows(p.PolicyChanges)
	cut := 0
	if len(rows) > maxCommentRows {
		slices.SortStableFunc(rows, func(a, b policyRow) int {
			switch {
			case a.weakens == b.weakens:
				return 0
			case a.weakens:
				return -1
			}
			return 1
		})
		rows, cut = rows[:maxCommentRows], len(rows)-maxCommentRows
	}
	b.WriteString("**Policy changes**\n\n| job | setting | before | after | review |\n| --- | --- | --- | --- | --- |\n")
	for _, r := range rows {
		b.WriteString(r.text)
	}
	if cut > 0 {
		fmt.Fprintf(b, "| … | %d more in the full plan | | | |\n", cut)
	}
	b.WriteString("\n")
}

// policyRow is one row of the policy table.
type policyRow struct {
	text    string
	weakens bool
}

// policyRows is the rows of the policy table in plan order: one per
// changed setting, one per new job. Names and values come from the
// repository and are shown as code.
func policyRows(changes []definitions.PolicyChange) []policyRow {
	var rows []policyRow
	for _, pc := range changes {
		if pc.Before == nil {
			rows = append(rows, policyRow{text: fmt.Sprintf("| %s | new job | | %s | |\n", code(pc.Job), codeCell(pc.After.String()))})
			continue
		}
		for _, c := range pc.Changes {
			flag := ""
			if c.Weakens {
				flag = "⚠️ weakens: " + escapeCell(c.Why)
			}
			rows = append(rows, policyRow{
				text:    fmt.Sprintf("| %s | %s | %s | %s | %s |\n", code(pc.Job), code(c.Field), codeCell(c.BeforeText()), codeCell(c.AfterText()), flag),
				weakens: c.Weakens,
			})
		}
	}
	return rows
}

// writeSecretReads lists the env() and file() calls a pull request adds,
// where it adds them.
func writeSecretReads(b *strings.Builder, p *definitions.PlanResult) {
	n := len(p.SecretReadsAdded)
	if n == 0 {
		return
	}
	fmt.Fprintf(b, "**Secret reads added: %d** (the daemon makes these `env()` and `file()` calls when the job, monitor or notifier runs; the plan made none)\n\n| read | where |\n| --- | --- |\n", n)
	for i, r := range p.SecretReadsAdded {
		if i == maxCommentRows {
			fmt.Fprintf(b, "| … | %d more in the full plan |\n", n-i)
			break
		}
		fmt.Fprintf(b, "| %s | %s |\n", codeCell(r.String()), codeCell(fmt.Sprintf("%s:%d", r.File, r.Line)))
	}
	b.WriteString("\n")
}

// planDescription is the ripple/plan status of a pull request's plan:
// the jobs whose rollout it weakens first, so that a description cut to
// engine.MaxStatusDescription still names them, then the summary and the
// secret reads it adds.
func planDescription(p *definitions.PlanResult) string {
	desc := p.Summary()
	if n := len(p.SecretReadsAdded); n > 0 {
		desc += fmt.Sprintf("; %s added", engine.Plural(n, "secret read"))
	}
	if weak := p.Weakened(); len(weak) > 0 {
		desc = weakensText(weak) + "; " + desc
	}
	return desc
}

// weakensText names the weakened jobs in at most 100 bytes: "weakens
// rollout of web, db and 3 more", or "weakens rollout of 5 jobs" when
// the names are too long.
func weakensText(jobs []string) string {
	for k := min(len(jobs), 3); k > 0; k-- {
		s := "weakens rollout of " + strings.Join(jobs[:k], ", ")
		if rest := len(jobs) - k; rest > 0 {
			s += fmt.Sprintf(" and %d more", rest)
		}
		if len(s) <= 100 {
			return s
		}
	}
	return "weakens rollout of " + engine.Plural(len(jobs), "job")
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

// codeCell is s as code in a table cell: a backtick cannot end the code
// span, a pipe the cell, nor a newline the row.
func codeCell(s string) string {
	r := strings.NewReplacer("`", "'", "|", "\\|", "\r", " ", "\n", " ")
	return "`" + r.Replace(s) + "`"
}

func escapeCell(s string) string {
	r := strings.NewReplacer("|", "\\|", "<", "&lt;", ">", "&gt;", "\n", " ")
	return r.Replace(s)
}

// annotate adds to a plan what the daemon knows of the fleet: gate checks
// failing now, and hosts still out of sync (see convergence.AnnotatePlan).
func (d *Daemon) annotate(ctx context.Context, p *definitions.PlanResult, defs *definitions.Definitions) {
	var monitors []engine.MonitorHostState
	if d.opts.Monitors != nil {
		monitors = d.opts.Monitors.States()
	}
	syncs, err := d.SyncStates(ctx)
	if err != nil {
		syncs = nil // no sync state yet: nothing to say
	}
	convergence.AnnotatePlan(p, defs, syncs, monitors)
}
