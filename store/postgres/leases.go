package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/eventdesk/eventdesk/model"
	"github.com/eventdesk/eventdesk/store"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"
)

// nowSQL is the SQL function lease times are read with
// (migrations/0001_init.sql): a time given as its argument (the store's
// clock when WithClock set one: tests), else the database server's clock,
// so that replicas on machines whose clocks disagree still agree on when a
// lease runs out.
const nowSQL = "eventdesk_now"

// leaseNow is the argument of nowSQL: NULL for the server's clock.
func (s *Store) leaseNow() pgtype.Timestamptz {
	if s.serverClock {
		return pgtype.Timestamptz{}
	}
	return pgtype.Timestamptz{Time: micro(s.now()), Valid: true}
}

// Kinds of work replicas share by leases (store.KindPoll, store.KindLane).
const (
	KindPoll = store.KindPoll
	KindLane = store.KindLane
)

// Lease is a replica's claim on one unit of work (store.Lease).
type Lease = store.Lease

// Schedule makes work due at due: created if new, its due time moved if
// not (a held lease stays held).
func (s *Store) Schedule(ctx context.Context, kind string, instanceID int64, resource string, due time.Time) error {
	_, err := s.pool.Exec(ctx, `INSERT INTO work (kind, instance_id, resource, due_at) VALUES ($1, $2, $3, $4)
		ON CONFLICT (kind, instance_id, resource) DO UPDATE SET due_at = EXCLUDED.due_at`,
		kind, instanceID, resource, micro(due))
	return s.connErr(err)
}

// Unschedule forgets work (a resource dropped, an instance no longer
// ordered).
func (s *Store) Unschedule(ctx context.Context, kind string, instanceID int64, resource string) error {
	_, err := s.pool.Exec(ctx, "DELETE FROM work WHERE kind = $1 AND instance_id = $2 AND resource = $3", kind, instanceID, resource)
	return s.connErr(err)
}

// Claim leases up to limit units of due work of kind to owner for lease,
// earliest due first. Rows another replica is claiming at the same moment
// are skipped (FOR UPDATE SKIP LOCKED), so replicas never wait on each
// other and never claim one unit twice; a unit whose lease expired (its
// holder died or stalled) is claimed again.
func (s *Store) Claim(ctx context.Context, kind, owner string, lease time.Duration, limit int) ([]Lease, error) {
	rows, err := s.pool.Query(ctx, `
		WITH t AS (SELECT `+nowSQL+`($4) AS now)
		UPDATE work w SET owner = $2, lease_until = t.now + $3::interval, token = w.token + 1
		FROM t, (SELECT kind, instance_id, resource FROM work, t
			WHERE kind = $1 AND due_at <= t.now AND (lease_until IS NULL OR lease_until <= t.now)
			ORDER BY due_at LIMIT $5 FOR UPDATE OF work SKIP LOCKED) c
		WHERE w.kind = c.kind AND w.instance_id = c.instance_id AND w.resource = c.resource
		RETURNING `+leaseCols,
		kind, owner, lease, s.leaseNow(), limit)
	if err != nil {
		return nil, s.connErr(err)
	}
	out, err := pgx.CollectRows(rows, scanLease)
	return out, s.connErr(err)
}

// Renew extends a held lease to lease from now; ErrLeaseLost when it
// expired or was claimed by another owner.
func (s *Store) Renew(ctx context.Context, l Lease, lease time.Duration) (Lease, error) {
	err := s.pool.QueryRow(ctx, `WITH t AS (SELECT `+nowSQL+`($7) AS now)
		UPDATE work SET lease_until = t.now + $6::interval FROM t
		WHERE kind = $1 AND instance_id = $2 AND resource = $3 AND owner = $4 AND token = $5 AND lease_until > t.now
		RETURNING lease_until`, l.Kind, l.InstanceID, l.Resource, l.Owner, l.Token, lease, s.leaseNow()).Scan(&l.Until)
	if errors.Is(err, pgx.ErrNoRows) {
		return l, fmt.Errorf("renew %s lease of instance %d %s: %w", l.Kind, l.InstanceID, l.Resource, ErrLeaseLost)
	}
	return l, s.connErr(err)
}

// RenewLane is Renew for a delivery lane that also stores the lane's
// state (JSON), for LaneReports.
func (s *Store) RenewLane(ctx context.Context, l Lease, lease time.Duration, status []byte) (Lease, error) {
	err := s.pool.QueryRow(ctx, `WITH t AS (SELECT `+nowSQL+`($7) AS now)
		UPDATE work SET lease_until = t.now + $6::interval, status = $8 FROM t
		WHERE kind = $1 AND instance_id = $2 AND resource = $3 AND owner = $4 AND token = $5 AND lease_until > t.now
		RETURNING lease_until`, l.Kind, l.InstanceID, l.Resource, l.Owner, l.Token, lease, s.leaseNow(), status).Scan(&l.Until)
	if errors.Is(err, pgx.ErrNoRows) {
		return l, fmt.Errorf("renew %s lease of instance %d: %w", l.Kind, l.InstanceID, ErrLeaseLost)
	}
	return l, s.connErr(err)
}

// LaneReports lists the delivery lanes held now, with the state their
// holders last reported (nil before the first renewal).
func (s *Store) LaneReports(ctx context.Context) ([]store.LaneReport, error) {
	rows, err := s.pool.Query(ctx, `SELECT instance_id, owner, status FROM work
		WHERE kind = '`+KindLane+`' AND lease_until > `+nowSQL+`($1) ORDER BY instance_id`, s.leaseNow())
	if err != nil {
		return nil, s.connErr(err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (store.LaneReport, error) {
		var rep store.LaneReport
		err := r.Scan(&rep.InstanceID, &rep.Owner, &rep.Status)
		return rep, err
	})
	return out, s.connErr(err)
}

// Release gives a lease back and makes the work due again at next;
// ErrLeaseLost when another owner claimed it meanwhile.
func (s *Store) Release(ctx context.Context, l Lease, next time.Time) error {
	tag, err := s.pool.Exec(ctx, `UPDATE work SET owner = NULL, lease_until = NULL, due_at = $6
		WHERE kind = $1 AND instance_id = $2 AND resource = $3 AND owner = $4 AND token = $5`,
		l.Kind, l.InstanceID, l.Resource, l.Owner, l.Token, micro(next))
	if err != nil {
		return s.connErr(err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("release %s lease of instance %d %s: %w", l.Kind, l.InstanceID, l.Resource, ErrLeaseLost)
	}
	return nil
}

// checkLeaseSQL counts (0 or 1) whether a lease is still held at a time.
// It share-locks the work row until the transaction ends, so the unit
// cannot be claimed by another owner between the check and the commit.
const checkLeaseSQL = `SELECT count(*) FROM (SELECT 1 FROM work
	WHERE kind = $1 AND instance_id = $2 AND resource = $3 AND owner = $4 AND token = $5 AND lease_until > ` + nowSQL + `($6)
	FOR SHARE) held`

func queueCheckLease(b *pgx.Batch, l Lease, now pgtype.Timestamptz) {
	b.Queue(checkLeaseSQL, l.Kind, l.InstanceID, l.Resource, l.Owner, l.Token, now)
}

// CommitPoll stores a poll's events and its status (the checkpoint) in one
// transaction, fenced by the poll's lease: a replica whose lease expired
// or was taken over stores nothing and gets ErrLeaseLost.
func (s *Store) CommitPoll(ctx context.Context, l Lease, events []model.Event, st model.PollStatus) (store.AppendResult, error) {
	now := s.now()
	res, err := s.writer.do(ctx, &appendReq{events: prepareEvents(events, now), now: now, lease: &l, poll: &st})
	if err != nil {
		return store.AppendResult{}, fmt.Errorf("store poll of instance %d %s: %w", st.InstanceID, st.Resource, err)
	}
	return res, nil
}

// TryOnce runs fn if no other process on the database is running work of
// the same name, and reports whether it ran: a session advisory lock,
// released when fn returns or, if this process dies, when its connection
// closes. Retention uses it so one replica prunes at a time.
func (s *Store) TryOnce(ctx context.Context, name string, fn func(ctx context.Context) error) (bool, error) {
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		return false, s.connErr(err)
	}
	defer conn.Release()
	var ok bool
	if err := conn.QueryRow(ctx, "SELECT pg_try_advisory_lock(hashtextextended($1, 0))", name).Scan(&ok); err != nil {
		return false, s.connErr(err)
	}
	if !ok {
		return false, nil
	}
	defer func() {
		_, uerr := conn.Exec(context.WithoutCancel(ctx), "SELECT pg_advisory_unlock(hashtextextended($1, 0))", name)
		if uerr != nil {
			// A connection in doubt must not go back to the pool
			// holding the lock.
			conn.Conn().Close(context.Background())
		}
	}()
	return true, fn(ctx)
}

// Ensure makes work known, due at due, unless it is known already (its due
// time and lease then stay as they are).
func (s *Store) Ensure(ctx context.Context, kind string, instanceID int64, resource string, due time.Time) error {
	_, err := s.pool.Exec(ctx, `INSERT INTO work (kind, instance_id, resource, due_at) VALUES ($1, $2, $3, $4)
		ON CONFLICT (kind, instance_id, resource) DO NOTHING`, kind, instanceID, resource, micro(due))
	return s.connErr(err)
}

// ClaimKey leases one unit of work to owner whether or not it is due (an
// operator's "poll now"); ok is false when another owner holds it.
func (s *Store) ClaimKey(ctx context.Context, kind string, instanceID int64, resource, owner string, lease time.Duration) (l Lease, ok bool, err error) {
	if err := s.Ensure(ctx, kind, instanceID, resource, s.now()); err != nil {
		return l, false, err
	}
	err = s.pool.QueryRow(ctx, `WITH t AS (SELECT `+nowSQL+`($6) AS now)
		UPDATE work w SET owner = $4, lease_until = t.now + $5::interval, token = w.token + 1 FROM t
		WHERE w.kind = $1 AND w.instance_id = $2 AND w.resource = $3 AND (w.lease_until IS NULL OR w.lease_until <= t.now)
		RETURNING `+leaseCols,
		kind, instanceID, resource, owner, lease, s.leaseNow()).Scan(&l.Kind, &l.InstanceID, &l.Resource, &l.Owner, &l.Token, &l.Until, &l.Due)
	if errors.Is(err, pgx.ErrNoRows) {
		return l, false, nil
	}
	if err != nil {
		return l, false, s.connErr(err)
	}
	return l, true, nil
}

// Finish forgets work its lease holder is done with (a delivery lane with
// nothing left pending); ErrLeaseLost when the lease is no longer held.
func (s *Store) Finish(ctx context.Context, l Lease) error {
	tag, err := s.pool.Exec(ctx, `DELETE FROM work WHERE kind = $1 AND instance_id = $2 AND resource = $3 AND owner = $4 AND token = $5`,
		l.Kind, l.InstanceID, l.Resource, l.Owner, l.Token)
	if err != nil {
		return s.connErr(err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("finish %s lease of instance %d %s: %w", l.Kind, l.InstanceID, l.Resource, ErrLeaseLost)
	}
	return nil
}

// Heartbeat tells the other replicas that owner is alive for ttl more:
// ClaimLanes divides the lanes by the replicas alive. Replicas silent for
// an hour are forgotten.
func (s *Store) Heartbeat(ctx context.Context, owner string, ttl time.Duration) error {
	b := &pgx.Batch{}
	b.Queue(`INSERT INTO replicas (owner, alive_until) VALUES ($1, `+nowSQL+`($3) + $2::interval)
		ON CONFLICT (owner) DO UPDATE SET alive_until = EXCLUDED.alive_until`, owner, ttl, s.leaseNow())
	b.Queue(`DELETE FROM replicas WHERE alive_until < `+nowSQL+`($1) - interval '1 hour'`, s.leaseNow())
	return s.connErr(s.pool.SendBatch(ctx, b).Close())
}

// Gone says owner is stopping: its share passes to the others at once
// rather than when its heartbeat runs out.
func (s *Store) Gone(ctx context.Context, owner string) error {
	_, err := s.pool.Exec(ctx, "DELETE FROM replicas WHERE owner = $1", owner)
	return s.connErr(err)
}

// ClaimLanes leases to owner the delivery lanes of instances with pending
// notifications that no live lease holds, up to owner's share, and at most
// limit; it returns the leases and the share. The share is the lanes
// waiting divided by the replicas alive (Heartbeat), rounded up: a replica
// holding more gives lanes up, so that one started later gets its part. A
// lane is one instance's whole delivery, concurrent or ordered, so the
// instance's concurrency cap and its order hold across replicas.
func (s *Store) ClaimLanes(ctx context.Context, owner string, lease time.Duration, limit int) ([]Lease, int, error) {
	now := s.leaseNow()
	if _, err := s.pool.Exec(ctx, `INSERT INTO work (kind, instance_id, resource, due_at)
		SELECT '`+KindLane+`', p.instance_id, '', `+nowSQL+`($1) FROM (`+pendingInstancesSQL+`) p
		ON CONFLICT (kind, instance_id, resource) DO NOTHING`, now); err != nil {
		return nil, 0, s.connErr(err)
	}
	var share, mine int
	if err := s.pool.QueryRow(ctx, `
		WITH t AS (SELECT `+nowSQL+`($2) AS now),
		lanes AS (SELECT w.owner, w.lease_until FROM work w
			WHERE w.kind = '`+KindLane+`' AND EXISTS (SELECT 1 FROM notifications n WHERE n.instance_id = w.instance_id AND n.state = 'pending'))
		SELECT ceil((SELECT count(*) FROM lanes)::numeric /
				(SELECT greatest(1, count(*)) FROM replicas, t WHERE replicas.alive_until > t.now OR replicas.owner = $1))::int,
			(SELECT count(*) FROM lanes, t WHERE lanes.owner = $1 AND lanes.lease_until > t.now)::int`,
		owner, now).Scan(&share, &mine); err != nil {
		return nil, 0, s.connErr(err)
	}
	if share <= mine {
		return nil, share, nil
	}
	rows, err := s.pool.Query(ctx, `
		WITH t AS (SELECT `+nowSQL+`($3) AS now),
		c AS (SELECT w.kind, w.instance_id, w.resource FROM work w, t
			WHERE w.kind = '`+KindLane+`' AND (w.lease_until IS NULL OR w.lease_until <= t.now)
				AND EXISTS (SELECT 1 FROM notifications n WHERE n.instance_id = w.instance_id AND n.state = 'pending')
			ORDER BY w.due_at, w.instance_id LIMIT $4
			FOR UPDATE OF w SKIP LOCKED)
		UPDATE work w SET owner = $1, lease_until = t.now + $2::interval, token = w.token + 1
		FROM t, c WHERE w.kind = c.kind AND w.instance_id = c.instance_id AND w.resource = c.resource
		RETURNING `+leaseCols,
		owner, lease, now, min(limit, share-mine))
	if err != nil {
		return nil, share, s.connErr(err)
	}
	out, err := pgx.CollectRows(rows, scanLease)
	return out, share, s.connErr(err)
}

// AppendLeased is AppendEvents fenced by a lease (a poll's page of events):
// nothing is stored, and ErrLeaseLost returned, once the lease is lost.
func (s *Store) AppendLeased(ctx context.Context, l Lease, events []model.Event) (store.AppendResult, error) {
	now := s.now()
	res, err := s.writer.do(ctx, &appendReq{events: prepareEvents(events, now), now: now, lease: &l})
	if err != nil {
		return store.AppendResult{}, fmt.Errorf("store events of instance %d %s: %w", l.InstanceID, l.Resource, err)
	}
	return res, nil
}

// leaseCols are what scanLease reads, in its order.
const leaseCols = "w.kind, w.instance_id, w.resource, w.owner, w.token, w.lease_until, w.due_at"

func scanLease(r pgx.CollectableRow) (Lease, error) {
	var l Lease
	err := r.Scan(&l.Kind, &l.InstanceID, &l.Resource, &l.Owner, &l.Token, &l.Until, &l.Due)
	return l, err
}

// pendingInstancesSQL lists the instances with pending notifications by
// skipping through the pending index one instance at a time: a DISTINCT
// would read every pending notification, thousands under load, on every
// claim of every replica.
const pendingInstancesSQL = `WITH RECURSIVE p AS (
		(SELECT instance_id FROM notifications WHERE state = 'pending' ORDER BY instance_id LIMIT 1)
		UNION ALL
		SELECT (SELECT n.instance_id FROM notifications n WHERE n.state = 'pending' AND n.instance_id > p.instance_id
			ORDER BY n.instance_id LIMIT 1) FROM p WHERE p.instance_id IS NOT NULL)
	SELECT instance_id FROM p WHERE instance_id IS NOT NULL`
