package postgres

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/eventdesk/eventdesk/model"
	"github.com/eventdesk/eventdesk/store"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"
)

func newWebhookID() string {
	const alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	b := make([]byte, 24)
	_, _ = rand.Read(b)
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return "msg_" + string(b)
}

const insertNotificationSQL = `
	INSERT INTO notifications (id, instance_id, webhook_id, event_ids, object_type, source, created_at,
		state, attempts, cycle_start, next_attempt, failing_since, last_status, last_error, delivered_at, body)
	VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)
	ON CONFLICT (id) DO NOTHING`

func notificationArgs(n model.Notification) []any {
	eventIDs := n.EventIDs
	if eventIDs == nil {
		eventIDs = []string{}
	}
	body := []byte(n.Body)
	if body == nil {
		body = []byte{}
	}
	return []any{int64(n.Seq()), n.InstanceID, n.WebhookID, eventIDs, n.ObjectType, string(n.Source), micro(n.CreatedAt),
		string(n.State), n.Attempts, n.CycleStart, optTime(n.NextAttempt), optTime(n.FailingSince), n.LastStatus, n.LastError,
		optTime(n.DeliveredAt), body}
}

func queueInsertNotification(b *pgx.Batch, n model.Notification) {
	b.Queue(insertNotificationSQL, notificationArgs(n)...)
}

const notificationMetaCols = `id, instance_id, webhook_id, event_ids, object_type, source, created_at, state, attempts,
	cycle_start, next_attempt, failing_since, last_status, last_error, delivered_at`

// scanNotification reads notificationMetaCols, and the body when withBody
// (it then follows them).
func scanNotification(row pgx.Row, withBody bool) (model.Notification, error) {
	var (
		n                        model.Notification
		id                       int64
		source, state            string
		next, failing, delivered pgtype.Timestamptz
		body                     []byte
	)
	dst := []any{&id, &n.InstanceID, &n.WebhookID, &n.EventIDs, &n.ObjectType, &source, &n.CreatedAt, &state, &n.Attempts,
		&n.CycleStart, &next, &failing, &n.LastStatus, &n.LastError, &delivered}
	if withBody {
		dst = append(dst, &body)
	}
	if err := row.Scan(dst...); err != nil {
		return n, err
	}
	n.ID = strconv.FormatInt(id, 10)
	n.Source, n.State = model.Source(source), model.NotificationState(state)
	n.NextAttempt, n.FailingSince, n.DeliveredAt = fromOpt(next), fromOpt(failing), fromOpt(delivered)
	if withBody {
		n.Body = json.RawMessage(body)
	}
	return n, nil
}

func collectNotifications(rows pgx.Rows, withBody bool) ([]model.Notification, error) {
	defer rows.Close()
	var out []model.Notification
	for rows.Next() {
		n, err := scanNotification(rows, withBody)
		if err != nil {
			return nil, err
		}
		out = append(out, n)
	}
	return out, rows.Err()
}

func parseSeq(kind, id string) (int64, error) {
	seq, err := strconv.ParseUint(id, 10, 63)
	if err != nil || seq == 0 {
		return 0, fmt.Errorf("%s %q: %w", kind, id, store.ErrNotFound)
	}
	return int64(seq), nil
}

// Notification returns one notification with its body.
func (s *Store) Notification(ctx context.Context, id string) (model.Notification, error) {
	seq, err := parseSeq("notification", id)
	if err != nil {
		return model.Notification{}, err
	}
	n, err := scanNotification(s.pool.QueryRow(ctx, "SELECT "+notificationMetaCols+", body FROM notifications WHERE id = $1", seq), true)
	if errors.Is(err, pgx.ErrNoRows) {
		return n, fmt.Errorf("notification %d: %w", seq, store.ErrNotFound)
	}
	return n, s.connErr(err)
}

// PendingInstances lists instances with pending notifications.
func (s *Store) PendingInstances(ctx context.Context) ([]int64, error) {
	rows, err := s.pool.Query(ctx, "SELECT DISTINCT instance_id FROM notifications WHERE state = 'pending' ORDER BY instance_id")
	if err != nil {
		return nil, s.connErr(err)
	}
	out, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	return out, s.connErr(err)
}

// OutboxSequence is the highest notification id handed out so far.
func (s *Store) OutboxSequence(ctx context.Context) (uint64, error) {
	var n int64
	err := s.pool.QueryRow(ctx, "SELECT notifications FROM counters").Scan(&n)
	return uint64(n), s.connErr(err)
}

func clampSeq(v uint64) int64 { return int64(min(v, math.MaxInt64)) }

// PendingNotifications returns an instance's pending notifications with an
// id above after, oldest first, with bodies: the delivery order.
func (s *Store) PendingNotifications(ctx context.Context, instanceID int64, after uint64, limit int) ([]model.Notification, error) {
	rows, err := s.pool.Query(ctx, "SELECT "+notificationMetaCols+", body FROM notifications WHERE instance_id = $1 AND state = 'pending' AND id > $2 ORDER BY id LIMIT $3",
		instanceID, clampSeq(after), limit)
	if err != nil {
		return nil, s.connErr(err)
	}
	out, err := collectNotifications(rows, true)
	return out, s.connErr(err)
}

// Notifications lists notifications newest first, without bodies.
func (s *Store) Notifications(ctx context.Context, f store.NotificationFilter, limit int) (out []model.Notification, next uint64, err error) {
	if limit <= 0 {
		limit = 50
	}
	where := []string{"true"}
	var args []any
	arg := func(cond string, v any) {
		args = append(args, v)
		where = append(where, fmt.Sprintf(cond, len(args)))
	}
	if f.Before != 0 {
		arg("id < $%d", clampSeq(f.Before))
	}
	if f.InstanceID != 0 {
		arg("instance_id = $%d", f.InstanceID)
	}
	switch {
	case f.Failing:
		where = append(where, "state = 'pending' AND attempts > cycle_start")
	case f.State != "":
		arg("state = $%d", string(f.State))
	}
	args = append(args, limit+1)
	rows, err := s.pool.Query(ctx, "SELECT "+notificationMetaCols+" FROM notifications WHERE "+strings.Join(where, " AND ")+
		fmt.Sprintf(" ORDER BY id DESC LIMIT $%d", len(args)), args...)
	if err != nil {
		return nil, 0, s.connErr(err)
	}
	out, err = collectNotifications(rows, false)
	if err != nil {
		return nil, 0, s.connErr(err)
	}
	if len(out) > limit {
		out = out[:limit]
		next = out[limit-1].Seq()
	}
	return out, next, nil
}

// NotificationCounts counts pending and dead notifications.
func (s *Store) NotificationCounts(ctx context.Context) (pending, dead int, err error) {
	err = s.pool.QueryRow(ctx, `SELECT
		(SELECT count(*) FROM notifications WHERE state = 'pending'),
		(SELECT count(*) FROM notifications WHERE state = 'dead')`).Scan(&pending, &dead)
	return pending, dead, s.connErr(err)
}

// RecordAttempts stores attempt outcomes in one transaction, with the
// bbolt store's rules: an outcome whose notification is gone is skipped;
// one whose instance was deleted is logged but leaves the notification as
// the deletion left it.
func (s *Store) RecordAttempts(ctx context.Context, recs []store.AttemptRecord) error {
	if len(recs) == 0 {
		return nil
	}
	return s.inTx(ctx, announceData, func(tx pgx.Tx) error {
		return recordAttempts(ctx, tx, recs)
	})
}

// recordAttempts applies recs, but not those made under a lease another
// owner has claimed since (store.AttemptRecord.Lease).
func recordAttempts(ctx context.Context, tx pgx.Tx, recs []store.AttemptRecord) error {
	lost, err := lostLeases(ctx, tx, recs)
	if err != nil {
		return err
	}
	for _, r := range recs {
		if r.Lease != nil && lost[*r.Lease] {
			continue
		}
		seq, _ := strconv.ParseInt(r.Attempt.NotificationID, 10, 64)
		var (
			instanceID     int64
			failing        pgtype.Timestamptz
			instanceExists bool
		)
		err := tx.QueryRow(ctx, `SELECT n.instance_id, n.failing_since,
				EXISTS (SELECT 1 FROM instances i WHERE i.id = n.instance_id)
			FROM notifications n WHERE n.id = $1 FOR UPDATE OF n`, seq).Scan(&instanceID, &failing, &instanceExists)
		if errors.Is(err, pgx.ErrNoRows) {
			continue
		}
		if err != nil {
			return err
		}
		if instanceExists {
			fs := fromOpt(failing)
			var delivered pgtype.Timestamptz
			switch {
			case r.State == model.StateDelivered:
				delivered = optTime(r.Attempt.Time)
				fs = time.Time{}
			case fs.IsZero():
				fs = r.Attempt.Time
			}
			lastErr := r.Attempt.Error
			if r.State == model.StateDead && r.Reason != "" {
				lastErr = r.Reason
			}
			deliveredSet := r.State == model.StateDelivered
			_, err := tx.Exec(ctx, `UPDATE notifications SET attempts = $2, last_status = $3, last_error = $4, state = $5,
					next_attempt = $6, failing_since = $7,
					delivered_at = CASE WHEN $9 THEN $8 ELSE delivered_at END
				WHERE id = $1`,
				seq, r.Attempt.N, r.Attempt.Status, lastErr, string(r.State), optTime(r.NextAttempt), optTime(fs), delivered, deliveredSet)
			if err != nil {
				return err
			}
		}
		a := r.Attempt
		a.Time = micro(a.Time)
		data, err := json.Marshal(a)
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO attempts (notification_id, n, data) VALUES ($1, $2, $3)
			ON CONFLICT (notification_id, n) DO UPDATE SET data = EXCLUDED.data`, seq, r.Attempt.N, data); err != nil {
			return err
		}
	}
	return nil
}

// AbandonOrphans marks dead the pending notifications of an instance that
// no longer exists; it does nothing while the instance exists.
func (s *Store) AbandonOrphans(ctx context.Context, instanceID int64) error {
	return s.inTx(ctx, announceData, func(tx pgx.Tx) error {
		var exists bool
		if err := tx.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM instances WHERE id = $1)", instanceID).Scan(&exists); err != nil {
			return err
		}
		if exists {
			return nil
		}
		return abandonPending(ctx, tx, instanceID)
	})
}

func abandonPending(ctx context.Context, tx pgx.Tx, instanceID int64) error {
	_, err := tx.Exec(ctx, "UPDATE notifications SET state = 'dead', last_error = 'instance deleted' WHERE instance_id = $1 AND state = 'pending'", instanceID)
	return err
}

// PendingSchedule lists an instance's pending notifications with an id
// above after, oldest first, without bodies.
func (s *Store) PendingSchedule(ctx context.Context, instanceID int64, after uint64, limit int) ([]store.Due, error) {
	rows, err := s.pool.Query(ctx, `SELECT id, next_attempt, failing_since, attempts, cycle_start FROM notifications
		WHERE instance_id = $1 AND state = 'pending' AND id > $2 ORDER BY id LIMIT $3`, instanceID, clampSeq(after), limit)
	if err != nil {
		return nil, s.connErr(err)
	}
	defer rows.Close()
	var out []store.Due
	for rows.Next() {
		var (
			d             store.Due
			id            int64
			next, failing pgtype.Timestamptz
		)
		if err := rows.Scan(&id, &next, &failing, &d.Attempts, &d.CycleStart); err != nil {
			return nil, err
		}
		d.Seq, d.NextAttempt, d.FailingSince = uint64(id), fromOpt(next), fromOpt(failing)
		out = append(out, d)
	}
	return out, s.connErr(rows.Err())
}

// Attempts lists a notification's attempts, oldest first.
func (s *Store) Attempts(ctx context.Context, id string) ([]model.Attempt, error) {
	seq, err := strconv.ParseUint(id, 10, 63)
	if err != nil {
		return nil, fmt.Errorf("notification %q: %w", id, store.ErrNotFound)
	}
	rows, err := s.pool.Query(ctx, "SELECT data FROM attempts WHERE notification_id = $1 ORDER BY n", int64(seq))
	if err != nil {
		return nil, s.connErr(err)
	}
	defer rows.Close()
	var out []model.Attempt
	for rows.Next() {
		var (
			data []byte
			a    model.Attempt
		)
		if err := rows.Scan(&data); err != nil {
			return nil, err
		}
		if err := json.Unmarshal(data, &a); err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return out, s.connErr(rows.Err())
}

const replaySet = `state = 'pending', cycle_start = attempts, next_attempt = $2, failing_since = NULL`

// Replay puts a notification back to pending with a fresh retry cycle,
// due now.
func (s *Store) Replay(ctx context.Context, id string) (model.Notification, error) {
	seq, err := parseSeq("notification", id)
	if err != nil {
		return model.Notification{}, err
	}
	var n model.Notification
	err = s.inTx(ctx, announceData, func(tx pgx.Tx) error {
		var err error
		n, err = scanNotification(tx.QueryRow(ctx, "UPDATE notifications SET "+replaySet+" WHERE id = $1 RETURNING "+notificationMetaCols+", body",
			seq, micro(s.now())), true)
		if errors.Is(err, pgx.ErrNoRows) {
			return fmt.Errorf("notification %d: %w", seq, store.ErrNotFound)
		}
		return err
	})
	return n, err
}

// ReplayDead replays every dead notification of an instance created at or
// after since, and returns their ids.
func (s *Store) ReplayDead(ctx context.Context, instanceID int64, since time.Time) ([]string, error) {
	var seqs []int64
	err := s.inTx(ctx, announceData, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, "UPDATE notifications SET "+replaySet+" WHERE instance_id = $1 AND state = 'dead' AND created_at >= $3 RETURNING id",
			instanceID, micro(s.now()), since)
		if err != nil {
			return err
		}
		seqs, err = pgx.CollectRows(rows, pgx.RowTo[int64])
		return err
	})
	if err != nil {
		return nil, err
	}
	slices.Sort(seqs)
	ids := make([]string, len(seqs))
	for i, q := range seqs {
		ids[i] = strconv.FormatInt(q, 10)
	}
	return ids, nil
}

// SetNotificationsOff records why an instance's callbacks stopped (a 410).
func (s *Store) SetNotificationsOff(ctx context.Context, instanceID int64, reason string) error {
	return s.inTx(ctx, announceInstances, func(tx pgx.Tx) error {
		in, err := getInstance(ctx, tx, instanceID, "FOR NO KEY UPDATE")
		if err != nil {
			return err
		}
		in.NotificationsOff = reason
		args, err := instanceArgs(in)
		if err != nil {
			return err
		}
		_, err = tx.Exec(ctx, upsertInstanceSQL, args...)
		return err
	})
}

// NotificationsBySeq reads notifications by id, bodies included, in one
// query: out[i] is seqs[i]'s notification, or the zero Notification when
// there is none. It stops before the bodies read would exceed maxBytes
// (0: no limit), having read at least one, so out may be shorter than
// seqs; the caller asks again for the rest.
func (s *Store) NotificationsBySeq(ctx context.Context, seqs []uint64, maxBytes int) ([]model.Notification, error) {
	if len(seqs) == 0 {
		return nil, nil
	}
	ids := make([]int64, len(seqs))
	for i, q := range seqs {
		ids[i] = clampSeq(q)
	}
	rows, err := s.pool.Query(ctx, "SELECT "+notificationMetaCols+", body FROM notifications WHERE id = ANY($1)", ids)
	if err != nil {
		return nil, s.connErr(err)
	}
	found, err := collectNotifications(rows, true)
	if err != nil {
		return nil, s.connErr(err)
	}
	byID := make(map[uint64]model.Notification, len(found))
	for _, n := range found {
		byID[n.Seq()] = n
	}
	out := make([]model.Notification, 0, len(seqs))
	size := 0
	for _, q := range seqs {
		n, ok := byID[q]
		if !ok {
			out = append(out, model.Notification{})
			continue
		}
		if maxBytes > 0 && len(out) > 0 && size+len(n.Body) > maxBytes {
			break
		}
		size += len(n.Body)
		out = append(out, n)
	}
	return out, nil
}

// lostLeases reports which of the leases recs were made under have passed
// to another owner (or whose work is gone). The leases still held are
// share-locked until the transaction ends, so none passes on before the
// outcomes are stored. A lease that merely ran out, with no other owner
// since, still counts as held: its outcomes are the latest there are.
func lostLeases(ctx context.Context, tx pgx.Tx, recs []store.AttemptRecord) (map[Lease]bool, error) {
	var leases []Lease
	seen := map[Lease]bool{}
	for _, r := range recs {
		if r.Lease != nil && !seen[*r.Lease] {
			seen[*r.Lease] = true
			leases = append(leases, *r.Lease)
		}
	}
	if len(leases) == 0 {
		return nil, nil
	}
	lost := map[Lease]bool{}
	for _, l := range leases {
		var held bool
		err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM work WHERE kind = $1 AND instance_id = $2 AND resource = $3
			AND owner = $4 AND token = $5 FOR SHARE)`, l.Kind, l.InstanceID, l.Resource, l.Owner, l.Token).Scan(&held)
		if err != nil {
			return nil, err
		}
		if !held {
			lost[l] = true
		}
	}
	return lost, nil
}
