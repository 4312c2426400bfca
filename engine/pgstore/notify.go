package pgstore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// Notify sends payload to every session listening on channel
// (pg_notify), from any node to every node. A notification is a wake-up,
// not a record: a listener that was not connected misses it, so what it
// announces must also be in a table.
func (s *Store) Notify(ctx context.Context, channel, payload string) error {
	if _, err := s.pool.Exec(ctx, "SELECT pg_notify($1, $2)", safeText(channel), safeText(payload)); err != nil {
		return fmt.Errorf("notify %s: %w", channel, err)
	}
	return nil
}

// Listen calls handle with the payload of each notification on channel
// until ctx ends, then returns nil. It listens on a connection of its own
// (not one of the pool's) and reconnects when that connection fails,
// waiting up to 5 seconds between attempts. After every (re)connect it
// calls handle with "" first: notifications sent while it was not
// listening are lost, so the listener should re-read what it watches.
// handle runs on Listen's goroutine; a slow handle delays the next
// notifications, never loses them.
func (s *Store) Listen(ctx context.Context, channel string, handle func(payload string)) error {
	wait := 100 * time.Millisecond
	for {
		err := s.listenOnce(ctx, channel, handle)
		if ctx.Err() != nil {
			return nil
		}
		if errors.Is(err, errListenRefused) {
			return err
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(wait):
		}
		wait = min(2*wait, 5*time.Second)
	}
}

var errListenRefused = errors.New("listen refused")

func (s *Store) listenOnce(ctx context.Context, channel string, handle func(string)) error {
	conn, err := pgx.ConnectConfig(ctx, s.pool.Config().ConnConfig.Copy())
	if err != nil {
		return err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	if _, err := conn.Exec(ctx, "LISTEN "+pgx.Identifier{channel}.Sanitize()); err != nil {
		var pgErr *pgconn.PgError
		if errors.As(err, &pgErr) {
			return fmt.Errorf("%w: listen %s: %w", errListenRefused, channel, err)
		}
		return err
	}
	handle("")
	for {
		n, err := conn.WaitForNotification(ctx)
		if err != nil {
			return err
		}
		handle(n.Payload)
	}
}

// ControlsChannel is where a node announces that it changed silences or
// acknowledgements (AnnounceControls, ListenControls).
const ControlsChannel = "ripple_controls"

// AnnounceControls implements engine.ControlAnnouncer: it notifies every
// node listening with ListenControls.
func (s *Store) AnnounceControls(ctx context.Context) error {
	return s.Notify(ctx, ControlsChannel, "")
}

// ListenControls calls wake after each announcement on ControlsChannel
// and after each (re)connect of the listener (announcements may have been
// missed), until ctx ends; see Listen.
func (s *Store) ListenControls(ctx context.Context, wake func()) error {
	return s.Listen(ctx, ControlsChannel, func(string) { wake() })
}
