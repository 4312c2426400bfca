package enginetest

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/ripple-ops/ripple/engine"
)

var (
	_ engine.SilenceStore     = (*MemStore)(nil)
	_ engine.AckStore         = (*MemStore)(nil)
	_ engine.AlertAuditReader = (*MemStore)(nil)
)

// AddSilence records sl (setting its ID) and its audit event.
func (s *MemStore) AddSilence(_ context.Context, sl *engine.Silence) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.write(); err != nil {
		return err
	}
	s.nextID++
	sl.ID = s.nextID
	s.silences = append(s.silences, *sl)
	s.alertEvent(engine.AlertEvent{At: sl.Created, Action: engine.AlertEventSilence, Monitor: sl.Monitor, Host: sl.Host,
		Actor: sl.Actor, Reason: sl.Reason, SilenceID: sl.ID, Until: sl.Ends})
	return nil
}

func (s *MemStore) alertEvent(e engine.AlertEvent) {
	s.nextID++
	e.ID = s.nextID
	s.alertEvents = append(s.alertEvents, e)
}

// ExpireSilence ends silence id at `at`.
func (s *MemStore) ExpireSilence(_ context.Context, id int64, at time.Time, actor, reason string) (engine.Silence, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	i := slices.IndexFunc(s.silences, func(sl engine.Silence) bool { return sl.ID == id })
	if i < 0 {
		return engine.Silence{}, fmt.Errorf("no silence %d: %w", id, engine.ErrNotFound)
	}
	sl := &s.silences[i]
	if !sl.Active(at) {
		return engine.Silence{}, fmt.Errorf("silence %d already ended: %w", id, engine.ErrConflict)
	}
	if err := s.write(); err != nil {
		return engine.Silence{}, err
	}
	sl.Ends, sl.ExpiredBy, sl.ExpireReason = at, actor, reason
	s.alertEvent(engine.AlertEvent{At: at, Action: engine.AlertEventExpire, Monitor: sl.Monitor, Host: sl.Host,
		Actor: actor, Reason: reason, SilenceID: id, Until: at})
	return *sl, nil
}

// Silences lists the silences ending after endsAfter, newest first.
func (s *MemStore) Silences(_ context.Context, endsAfter time.Time, limit int) ([]engine.Silence, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []engine.Silence
	for i := len(s.silences) - 1; i >= 0 && (limit <= 0 || len(out) < limit); i-- {
		if s.silences[i].Ends.After(endsAfter) {
			out = append(out, s.silences[i])
		}
	}
	return out, nil
}

// AddAck replaces the acknowledgement of (a.Monitor, a.Host).
func (s *MemStore) AddAck(_ context.Context, a engine.Ack) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.write(); err != nil {
		return err
	}
	if s.acks == nil {
		s.acks = map[[2]string]engine.Ack{}
	}
	s.acks[[2]string{a.Monitor, a.Host}] = a
	s.alertEvent(engine.AlertEvent{At: a.At, Action: engine.AlertEventAck, Monitor: a.Monitor, Host: a.Host,
		Actor: a.Actor, Reason: a.Reason, State: a.State})
	return nil
}

// Acks lists every acknowledgement, by monitor then host.
func (s *MemStore) Acks(context.Context) ([]engine.Ack, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]engine.Ack, 0, len(s.acks))
	for _, a := range s.acks {
		out = append(out, a)
	}
	slices.SortFunc(out, func(a, b engine.Ack) int { return engine.ComparePairs(a.Monitor, a.Host, b.Monitor, b.Host) })
	return out, nil
}

// AlertEvents lists alert audit events, newest first.
func (s *MemStore) AlertEvents(_ context.Context, f engine.AlertEventFilter) ([]engine.AlertEvent, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	limit := f.Limit
	if limit <= 0 {
		limit = 100
	}
	var out []engine.AlertEvent
	for i := len(s.alertEvents) - 1; i >= 0 && len(out) < limit; i-- {
		e := s.alertEvents[i]
		switch {
		case f.Monitor != "" && e.Monitor != f.Monitor:
			continue
		case f.Monitor != "" && f.Host != "" && e.Host != f.Host && e.Host != "":
			continue
		case f.Monitor == "" && f.Host != "" && e.Host != f.Host:
			continue
		}
		out = append(out, e)
	}
	return out, nil
}
