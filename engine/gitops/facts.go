package gitops

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/zclconf/go-cty/cty"
	"golang.org/x/sync/errgroup"

	"github.com/ripple-ops/ripple/definitions"
	"github.com/ripple-ops/ripple/engine"
	"github.com/ripple-ops/ripple/engine/facts"
)

// Facts gathering, on the leader only (it runs in the Daemon): each host
// of the applied commit when it first appears, then every FactsInterval,
// and on demand (GatherFacts). Gathering is read-only (engine.FactsProbe).
// A failed gathering records why and keeps the host's last facts.

const (
	// factsTick is how often the facts loop looks for hosts that are due.
	factsTick = 15 * time.Second
	// factsRetry is how soon a host whose last gathering failed is tried
	// again (the interval when that is shorter).
	factsRetry = 15 * time.Minute
	// factsConcurrency bounds the hosts gathered at once.
	factsConcurrency = 32
	// Host vars naming the test hooks of the facts script (see
	// engine.FactsRequest): files on the host read instead of the package
	// manager's list of updates and the reboot flag.
	factsUpdatesVar = "ripple_facts_updates_file"
	factsRebootVar  = "ripple_facts_reboot_file"
)

// factsLoop gathers the facts of new hosts and of hosts whose last attempt
// is older than the interval, until ctx ends.
func (d *Daemon) factsLoop(ctx context.Context) {
	t := time.NewTicker(factsTick)
	defer t.Stop()
	for {
		if defs := d.Definitions(); defs != nil {
			if hosts, err := d.factsDue(ctx, defs, time.Now()); err != nil {
				if ctx.Err() == nil {
					d.log.Warn().Err(err).Msg("facts: read the last gatherings")
				}
			} else if len(hosts) > 0 {
				if _, err := d.gatherFacts(ctx, defs, hosts); err != nil && ctx.Err() == nil {
					d.log.Warn().Err(err).Int("hosts", len(hosts)).Msg("facts gathering")
				}
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-d.factsWake:
		}
	}
}

// wakeFacts tells the facts loop the definitions changed, so hosts that
// appeared are gathered now rather than at the next tick.
func (d *Daemon) wakeFacts() {
	select {
	case d.factsWake <- struct{}{}:
	default:
	}
}

// factsDue lists the hosts of defs never tried, last tried an interval ago
// or more, or whose last try failed factsRetry ago or more, sorted.
func (d *Daemon) factsDue(ctx context.Context, defs *definitions.Definitions, now time.Time) ([]string, error) {
	recs, err := d.opts.FactStore.HostFacts(ctx, "")
	if err != nil {
		return nil, err
	}
	last := make(map[string]engine.FactsRecord, len(recs))
	for _, r := range recs {
		last[r.Host] = r
	}
	var due []string
	for name := range defs.Hosts {
		r, ok := last[name]
		wait := d.opts.FactsInterval
		if r.Error != "" {
			// A host that could not be gathered is tried again sooner.
			wait = min(wait, factsRetry)
		}
		if !ok || now.Sub(r.AttemptAt) >= wait {
			due = append(due, name)
		}
	}
	slices.Sort(due)
	return due, nil
}

// GatherFacts gathers the facts of hosts now (every host of the applied
// commit when none is named), records them like the periodic gatherings
// and returns the hosts' records.
func (d *Daemon) GatherFacts(ctx context.Context, hosts ...string) ([]engine.FactsRecord, error) {
	if d.opts.Facts == nil || d.opts.FactStore == nil {
		return nil, fmt.Errorf("facts gathering needs the transport and the store: %w", engine.ErrConflict)
	}
	defs := d.Definitions()
	if defs == nil {
		return nil, fmt.Errorf("no commit applied yet: %w", engine.ErrConflict)
	}
	for _, h := range hosts {
		if defs.Hosts[h] == nil {
			return nil, fmt.Errorf("host %q: %w", h, engine.ErrNotFound)
		}
	}
	if len(hosts) == 0 {
		for name := range defs.Hosts {
			hosts = append(hosts, name)
		}
		slices.Sort(hosts)
	}
	return d.gatherFacts(ctx, defs, hosts)
}

// gatherFacts gathers hosts, factsConcurrency at once, and records every
// outcome in one commit; it returns the new records in hosts' order.
func (d *Daemon) gatherFacts(ctx context.Context, defs *definitions.Definitions, hosts []string) ([]engine.FactsRecord, error) {
	prev := map[string]engine.FactsRecord{}
	recs, err := d.opts.FactStore.HostFacts(ctx, "")
	if err != nil {
		return nil, err
	}
	for _, r := range recs {
		prev[r.Host] = r
	}
	updates := make([]engine.FactsUpdate, len(hosts))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(factsConcurrency)
	for i, name := range hosts {
		g.Go(func() error {
			updates[i] = d.gatherHost(gctx, defs, defs.Hosts[name], prev[name])
			return nil
		})
	}
	_ = g.Wait() // gatherHost reports problems as records
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if err := d.opts.FactStore.RecordFacts(ctx, updates); err != nil {
		return nil, err
	}
	out := make([]engine.FactsRecord, len(updates))
	for i, u := range updates {
		out[i] = u.Record
		if u.Record.Error != "" {
			// The last facts are kept: show them with the error.
			p := prev[u.Record.Host]
			out[i].Facts, out[i].GatheredAt = p.Facts, p.GatheredAt
			out[i].UpdatesSince, out[i].SecuritySince = p.UpdatesSince, p.SecuritySince
		}
	}
	d.log.Info().Int("hosts", len(hosts)).Int("failed", countFailed(out)).Msg("facts gathered")
	return out, nil
}

func countFailed(rs []engine.FactsRecord) int {
	n := 0
	for _, r := range rs {
		if r.Error != "" {
			n++
		}
	}
	return n
}

// gatherHost gathers one host and works out its record against prev.
func (d *Daemon) gatherHost(ctx context.Context, defs *definitions.Definitions, h *definitions.Host, prev engine.FactsRecord) engine.FactsUpdate {
	now := time.Now().UTC()
	rec := engine.FactsRecord{Host: h.Name, AttemptAt: now}
	req, err := d.factsRequest(defs, h)
	var f engine.HostFacts
	if err == nil {
		f, err = d.opts.Facts.GatherFacts(ctx, req)
	}
	if err != nil {
		msg := err.Error()
		if d.opts.Redact != nil {
			msg = d.opts.Redact.Redact(msg)
		}
		if errors.Is(err, context.Canceled) && ctx.Err() != nil {
			msg = "gathering stopped: the daemon is shutting down"
		}
		rec.Error = msg
		return engine.FactsUpdate{Record: rec}
	}
	rec.Facts, rec.GatheredAt = f, now
	rec.UpdatesSince = since(prev.UpdatesSince, f.PendingUpdates, now)
	rec.SecuritySince = since(prev.SecuritySince, f.PendingSecurityUpdates, now)
	var changes []engine.FactChange
	if !prev.GatheredAt.IsZero() {
		changes = facts.DiffFacts(h.Name, now, prev.Facts, f)
	}
	return engine.FactsUpdate{Record: rec, Changes: changes}
}

// since is when pending updates were first seen: kept while there are
// some, zero when there are none.
func since(prev time.Time, pending *int, now time.Time) time.Time {
	if pending == nil || *pending == 0 {
		return time.Time{}
	}
	if prev.IsZero() {
		return now
	}
	return prev
}

// factsRequest says how to reach h: SSH when it has a credential (or the
// local transport), SNMP when it has a profile. A host with an SNMP profile
// that names no credential is a network device: SNMP only, even where a
// credential "default" exists for the servers.
func (d *Daemon) factsRequest(defs *definitions.Definitions, h *definitions.Host) (engine.FactsRequest, error) {
	var req engine.FactsRequest
	snmpOnly := h.SNMP != "" && !h.NamesCredential()
	if !snmpOnly && (h.Transport == "local" || defs.Credential(h) != nil) {
		ep, err := engine.EndpointFor(defs, h, d.opts.Secrets)
		if err != nil {
			return req, err
		}
		req.Endpoint, req.SSH = ep, true
	} else {
		req.Endpoint = engine.Endpoint{Host: h}
	}
	acc, secrets, diags := defs.SNMPAccess(h, d.opts.Secrets)
	if diags.HasErrors() {
		return req, fmt.Errorf("snmp profile %s: %w", h.SNMP, engine.DiagError(diags))
	}
	req.SNMP, req.Secrets = acc, secrets
	vars := defs.HostObject(h).GetAttr("vars")
	req.UpdatesFile = stringVar(vars, factsUpdatesVar)
	req.RebootFile = stringVar(vars, factsRebootVar)
	return req, nil
}

func stringVar(vars cty.Value, name string) string {
	if vars == cty.NilVal || !vars.Type().IsObjectType() || !vars.Type().HasAttribute(name) {
		return ""
	}
	v := vars.GetAttr(name)
	if v.IsNull() || !v.IsKnown() || v.Type() != cty.String {
		return ""
	}
	return v.AsString()
}

// withFacts returns defs with the last gathered facts of every host as
// host.facts, for a run about to start; defs itself when there are none.
func (d *Daemon) withFacts(ctx context.Context, defs *definitions.Definitions) *definitions.Definitions {
	if d.opts.FactStore == nil || defs == nil {
		return defs
	}
	recs, err := d.opts.FactStore.HostFacts(ctx, "")
	if err != nil {
		d.log.Warn().Err(err).Msg("facts: a run starts without host.facts")
		return defs
	}
	byHost := make(map[string]cty.Value, len(recs))
	for _, r := range recs {
		if !r.GatheredAt.IsZero() {
			byHost[r.Host] = facts.Value(r.Facts)
		}
	}
	if len(byHost) == 0 {
		return defs
	}
	return defs.WithFacts(byHost)
}
