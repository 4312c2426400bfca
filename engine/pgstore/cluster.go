package pgstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/ripple-ops/ripple/engine"
	"github.com/ripple-ops/ripple/engine/cluster"
)

// The cluster's tables (migration 0006): the leader lease, heartbeats,
// actions and notification claims. Every time that decides something
// (a lease's expiry, a node's liveness) is the database's clock, read in
// the statement, so that the nodes' clocks do not matter. These writes are
// each node's own: they go straight to the pool, never through the group
// committer (a lease renewal must not wait behind a batch of journal
// writes) and are never fenced.

// dbNow is the database's clock in Unix nanoseconds.
const dbNow = `(extract(epoch from clock_timestamp()) * 1000000000)::bigint`

var (
	_ cluster.Store       = (*Store)(nil)
	_ cluster.ActionStore = (*Store)(nil)
)

func scanLease(row pgx.Row) (cluster.Lease, error) {
	var l cluster.Lease
	var expires int64
	if err := row.Scan(&l.Holder, &l.Epoch, &expires); err != nil {
		return cluster.Lease{}, err
	}
	l.Expires = fromNanos(expires)
	return l, nil
}

// AcquireLease implements cluster.Store: node takes the lease when nobody
// holds it or it expired, and every acquisition moves the epoch on (a
// restarted node never inherits its earlier life's writes).
func (s *Store) AcquireLease(ctx context.Context, node string, ttl time.Duration) (cluster.Lease, bool, error) {
	l, err := scanLease(s.pool.QueryRow(ctx, `UPDATE cluster_lease SET holder = $1, epoch = epoch + 1, expires = `+dbNow+` + $2
		WHERE id = 1 AND (holder = '' OR expires <= `+dbNow+`) RETURNING holder, epoch, expires`, safeText(node), ttl.Nanoseconds()))
	if err == nil {
		return l, true, nil
	}
	if !errNoRows(err) {
		return cluster.Lease{}, false, fmt.Errorf("acquire the lease: %w", err)
	}
	l, err = s.CurrentLease(ctx)
	return l, false, err
}

// RenewLease implements cluster.Store: it extends node's lease of epoch,
// unless the lease moved on or expired (then the node is no longer the
// leader, even if nobody took over yet).
func (s *Store) RenewLease(ctx context.Context, node string, epoch int64, ttl time.Duration) (cluster.Lease, bool, error) {
	l, err := scanLease(s.pool.QueryRow(ctx, `UPDATE cluster_lease SET expires = `+dbNow+` + $3
		WHERE id = 1 AND holder = $1 AND epoch = $2 AND expires > `+dbNow+` RETURNING holder, epoch, expires`,
		safeText(node), epoch, ttl.Nanoseconds()))
	if err == nil {
		return l, true, nil
	}
	if !errNoRows(err) {
		return cluster.Lease{}, false, fmt.Errorf("renew the lease: %w", err)
	}
	l, err = s.CurrentLease(ctx)
	return l, false, err
}

// ReleaseLease implements cluster.Store.
func (s *Store) ReleaseLease(ctx context.Context, node string, epoch int64) error {
	if _, err := s.pool.Exec(ctx, `UPDATE cluster_lease SET holder = '', expires = 0 WHERE id = 1 AND holder = $1 AND epoch = $2`,
		safeText(node), epoch); err != nil {
		return fmt.Errorf("release the lease: %w", err)
	}
	return nil
}

// CurrentLease implements cluster.Store.
func (s *Store) CurrentLease(ctx context.Context) (cluster.Lease, error) {
	l, err := scanLease(s.pool.QueryRow(ctx, `SELECT holder, epoch, expires FROM cluster_lease WHERE id = 1`))
	if err != nil {
		return cluster.Lease{}, fmt.Errorf("read the lease: %w", err)
	}
	return l, nil
}

// Heartbeat implements cluster.Store.
func (s *Store) Heartbeat(ctx context.Context, n cluster.NodeInfo) error {
	if _, err := s.pool.Exec(ctx, `INSERT INTO cluster_nodes (name, url, version, started, heartbeat, state)
		VALUES ($1, $2, $3, $4, `+dbNow+`, $5)
		ON CONFLICT (name) DO UPDATE SET url = excluded.url, version = excluded.version, started = excluded.started,
			heartbeat = excluded.heartbeat, state = excluded.state`,
		safeText(n.Name), safeText(n.URL), safeText(n.Version), nanos(n.Started), string(n.State)); err != nil {
		return fmt.Errorf("heartbeat: %w", err)
	}
	return nil
}

// Nodes implements cluster.Store, sorted by name.
func (s *Store) Nodes(ctx context.Context) ([]cluster.NodeInfo, error) {
	rows, err := s.pool.Query(ctx, `SELECT name, url, version, started, heartbeat, state, `+dbNow+` - heartbeat
		FROM cluster_nodes ORDER BY name`)
	if err != nil {
		return nil, fmt.Errorf("read the nodes: %w", err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (cluster.NodeInfo, error) {
		var n cluster.NodeInfo
		var started, beat, age int64
		var state string
		if err := r.Scan(&n.Name, &n.URL, &n.Version, &started, &beat, &state, &age); err != nil {
			return n, err
		}
		n.Started, n.Heartbeat, n.Age = fromNanos(started), fromNanos(beat), time.Duration(age)
		if state != "" {
			n.State = json.RawMessage(state)
		}
		return n, nil
	})
}

// FenceTerm is the Options.Fence of a cluster node: a leader's write
// commits only while term's node holds the lease at term's epoch and the
// lease has not expired on the database's clock. It reads the lease row
// FOR SHARE in the write's transaction, so a takeover (which updates that
// row) waits for the write's commit or makes it fail: no write of an old
// epoch lands after a new leader took over. term is read at each batch; a
// node that does not lead (epoch 0) writes nothing of the leader's.
func FenceTerm(term func() (node string, epoch int64)) func(ctx context.Context, tx pgx.Tx) error {
	return func(ctx context.Context, tx pgx.Tx) error {
		node, epoch := term()
		if epoch == 0 {
			return cluster.ErrFenced
		}
		var holds bool
		err := tx.QueryRow(ctx, `SELECT holder = $1 AND epoch = $2 AND expires > `+dbNow+` FROM cluster_lease WHERE id = 1 FOR SHARE`,
			safeText(node), epoch).Scan(&holds)
		if err != nil {
			return fmt.Errorf("check the lease: %w", err)
		}
		if !holds {
			return cluster.ErrFenced
		}
		return nil
	}
}

// EnqueueAction implements cluster.ActionStore.
func (s *Store) EnqueueAction(ctx context.Context, a cluster.Action) (int64, bool, error) {
	var id int64
	err := s.pool.QueryRow(ctx, `INSERT INTO cluster_actions (kind, dedupe_key, payload, node, created, redo)
		VALUES ($1, $2, $3, $4, `+dbNow+`, $5)
		ON CONFLICT (dedupe_key) WHERE dedupe_key <> '' DO NOTHING RETURNING id`,
		safeText(a.Kind), safeText(a.Key), safeText(string(a.Payload)), safeText(a.Node), a.Redo).Scan(&id)
	switch {
	case err == nil:
		return id, true, nil
	case !errNoRows(err):
		return 0, false, fmt.Errorf("enqueue %s: %w", a.Kind, err)
	}
	if err := s.pool.QueryRow(ctx, `SELECT id FROM cluster_actions WHERE dedupe_key = $1`, safeText(a.Key)).Scan(&id); err != nil {
		return 0, false, fmt.Errorf("enqueue %s: %w", a.Kind, err)
	}
	return id, false, nil
}

// ClaimActions implements cluster.ActionStore: under the lease of epoch
// (refused with cluster.ErrFenced otherwise), the oldest unfinished
// actions this epoch has not claimed yet, with the epoch that claimed each
// before (0: none). Finished actions older than a day are deleted on the
// way.
func (s *Store) ClaimActions(ctx context.Context, node string, epoch int64, limit int) ([]cluster.Action, error) {
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return nil, fmt.Errorf("claim actions: %w", err)
	}
	defer tx.Rollback(ctx) //nolint:errcheck // a no-op after Commit
	if err := FenceTerm(func() (string, int64) { return node, epoch })(ctx, tx); err != nil {
		return nil, err
	}
	rows, err := tx.Query(ctx, `WITH c AS (
			SELECT id, claimed_epoch AS before FROM cluster_actions
			WHERE finished = 0 AND claimed_epoch <> $1 ORDER BY id LIMIT $2 FOR UPDATE SKIP LOCKED)
		UPDATE cluster_actions a SET claimed_epoch = $1 FROM c WHERE a.id = c.id
		RETURNING a.id, a.kind, a.dedupe_key, a.payload, a.node, a.created, a.redo, c.before`, epoch, limit)
	if err != nil {
		return nil, fmt.Errorf("claim actions: %w", err)
	}
	acts, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (cluster.Action, error) {
		var a cluster.Action
		var payload string
		var created int64
		err := r.Scan(&a.ID, &a.Kind, &a.Key, &payload, &a.Node, &created, &a.Redo, &a.ClaimedEpoch)
		a.Payload, a.Created = json.RawMessage(payload), fromNanos(created)
		return a, err
	})
	if err != nil {
		return nil, fmt.Errorf("claim actions: %w", err)
	}
	if _, err := tx.Exec(ctx, `DELETE FROM cluster_actions WHERE finished > 0 AND finished < `+dbNow+` - $1`,
		(24 * time.Hour).Nanoseconds()); err != nil {
		return nil, fmt.Errorf("claim actions: forget old ones: %w", err)
	}
	if err := tx.Commit(ctx); err != nil {
		return nil, fmt.Errorf("claim actions: %w", err)
	}
	slices.SortFunc(acts, func(a, b cluster.Action) int { return int(a.ID - b.ID) })
	return acts, nil
}

// FinishAction implements cluster.ActionStore.
func (s *Store) FinishAction(ctx context.Context, id int64, o cluster.Outcome) error {
	b, err := json.Marshal(o)
	if err != nil {
		return fmt.Errorf("finish action %d: %w", id, err)
	}
	if _, err := s.pool.Exec(ctx, `UPDATE cluster_actions SET finished = `+dbNow+`, outcome = $2 WHERE id = $1`, id, string(b)); err != nil {
		return fmt.Errorf("finish action %d: %w", id, err)
	}
	return nil
}

// ActionOutcome implements cluster.ActionStore.
func (s *Store) ActionOutcome(ctx context.Context, id int64) (cluster.Outcome, bool, error) {
	var finished int64
	var outcome string
	err := s.pool.QueryRow(ctx, `SELECT finished, outcome FROM cluster_actions WHERE id = $1`, id).Scan(&finished, &outcome)
	if errNoRows(err) {
		return cluster.Outcome{}, false, fmt.Errorf("action %d: %w", id, engine.ErrNotFound)
	}
	if err != nil {
		return cluster.Outcome{}, false, fmt.Errorf("action %d: %w", id, err)
	}
	if finished == 0 {
		return cluster.Outcome{}, false, nil
	}
	var o cluster.Outcome
	if err := json.Unmarshal([]byte(outcome), &o); err != nil {
		return cluster.Outcome{}, false, fmt.Errorf("action %d: its outcome does not decode: %w", id, err)
	}
	return o, true, nil
}

// Claims is node's view of the notification claims (engine.
// NotificationClaims): a node whose last heartbeat is older than deadAfter
// (on the database's clock) is no longer alive, and its claims may be
// taken over.
func (s *Store) Claims(node string, deadAfter time.Duration) engine.NotificationClaims {
	return nodeClaims{s: s, node: node, deadAfter: deadAfter}
}

type nodeClaims struct {
	s         *Store
	node      string
	deadAfter time.Duration
}

// ClaimNotification implements engine.NotificationClaims in one statement:
// the claim row of the pair is written when the kind differs from the last
// one claimed, when this node made the last claim, or when the node that
// made it stopped heartbeating.
func (c nodeClaims) ClaimNotification(ctx context.Context, n engine.Notification) (bool, error) {
	var one int
	err := c.s.pool.QueryRow(ctx, `INSERT INTO notification_claims AS c (monitor, host, kind, node, at)
		VALUES ($1, $2, $3, $4, `+dbNow+`)
		ON CONFLICT (monitor, host) DO UPDATE SET kind = excluded.kind, node = excluded.node, at = excluded.at
		WHERE c.kind <> excluded.kind OR c.node = excluded.node
			OR NOT EXISTS (SELECT 1 FROM cluster_nodes n WHERE n.name = c.node AND n.heartbeat > `+dbNow+` - $5)
		RETURNING 1`,
		safeText(n.Monitor), safeText(n.Host), string(n.Kind), safeText(c.node), c.deadAfter.Nanoseconds()).Scan(&one)
	switch {
	case err == nil:
		return true, nil
	case errNoRows(err):
		return false, nil
	case errors.Is(err, context.Canceled):
		return false, err
	}
	return false, fmt.Errorf("claim the %s of %s on %s: %w", n.Kind, n.Monitor, n.Host, err)
}
