package store

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/eventdesk/eventdesk/model"
	bolt "go.etcd.io/bbolt"
)

var (
	bucketOutbox   = []byte("outbox")
	bucketPending  = []byte("outbox_pending") // instance(8)+seq(8), pending only
	bucketDead     = []byte("outbox_dead")    // instance(8)+seq(8), dead only
	bucketAttempts = []byte("attempts")       // seq(8)+n(4)
	// bucketBodies holds each notification's payload, written once when
	// the notification is created and never rewritten: an attempt outcome
	// rewrites only the small record in bucketOutbox. Keys are the
	// notification's sequence, so inserts append and pages fill up.
	bucketBodies = []byte("outbox_bodies")
)

func init() {
	allBuckets = append(allBuckets, bucketOutbox, bucketPending, bucketDead, bucketAttempts, bucketBodies)
}

// enqueueNotifications is the transactional outbox: called in the same
// transaction that stores events, it creates their notifications, so an
// event never exists without its delivery and nothing is delivered that was
// not stored. Instances that should not get callbacks get none.
func (s *Store) enqueueNotifications(tx *bolt.Tx, stored []model.Event, now time.Time) error {
	byInstance := map[int64][]model.Event{}
	var order []int64
	for _, e := range stored {
		if _, ok := byInstance[e.InstanceID]; !ok {
			order = append(order, e.InstanceID)
		}
		byInstance[e.InstanceID] = append(byInstance[e.InstanceID], e)
	}
	ob := tx.Bucket(bucketOutbox)
	for _, id := range order {
		in, ok := s.outboxInstance(tx, id)
		if !ok || !in.Sendable() {
			continue // deleted meanwhile, or no callbacks wanted
		}
		for _, group := range model.GroupEvents(byInstance[id]) {
			seq, err := ob.NextSequence()
			if err != nil {
				return err
			}
			n := model.Notification{
				ID: strconv.FormatUint(seq, 10), InstanceID: id, WebhookID: newWebhookID(),
				ObjectType: group[0].ObjectType, Source: group[0].Source,
				CreatedAt: now, State: model.StatePending, NextAttempt: now,
			}
			for _, e := range group {
				n.EventIDs = append(n.EventIDs, e.ID)
			}
			if n.Body, err = model.Payload(in, n.ID, now, group); err != nil {
				return fmt.Errorf("build notification payload: %w", err)
			}
			if err := putBody(tx, n.Seq(), n.Body); err != nil {
				return err
			}
			if err := putNotification(tx, n); err != nil {
				return err
			}
		}
	}
	return nil
}

// putBody stores a new notification's payload. Sequences only grow, so
// the bucket is filled to the brim: nothing is ever inserted between.
func putBody(tx *bolt.Tx, seq uint64, body []byte) error {
	b := tx.Bucket(bucketBodies)
	b.FillPercent = 1.0
	return b.Put(u64(seq), body)
}

// cachedInstance is a decoded instance and the bytes it came from.
type cachedInstance struct {
	raw []byte
	in  model.Instance
}

// outboxInstance reads an instance for the outbox. Every event commit needs
// its instance, so decoded instances are kept and reused while the stored
// bytes are unchanged; comparing bytes sees an update at once. Only the
// group writer's goroutine calls it, so the cache needs no lock.
func (s *Store) outboxInstance(tx *bolt.Tx, id int64) (model.Instance, bool) {
	v := tx.Bucket(bucketInstances).Get(u64(uint64(id)))
	if v == nil {
		return model.Instance{}, false
	}
	if c, ok := s.outboxCache[id]; ok && bytes.Equal(c.raw, v) {
		return c.in, true
	}
	var in model.Instance
	if err := json.Unmarshal(v, &in); err != nil {
		return model.Instance{}, false
	}
	if len(s.outboxCache) > 1024 {
		clear(s.outboxCache)
	}
	s.outboxCache[id] = cachedInstance{raw: append([]byte(nil), v...), in: in}
	return in, true
}

func newWebhookID() string {
	const alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	b := make([]byte, 24)
	_, _ = rand.Read(b)
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return "msg_" + string(b)
}

// putNotification writes the notification's record, without its body
// (see putBody), and keeps the state indexes in step.
func putNotification(tx *bolt.Tx, n model.Notification) error {
	seq := n.Seq()
	buf, err := encodeNotification(n)
	if err != nil {
		return err
	}
	if err := tx.Bucket(bucketOutbox).Put(u64(seq), buf); err != nil {
		return err
	}
	k := instanceKey(n.InstanceID, seq)
	pend, dead := tx.Bucket(bucketPending), tx.Bucket(bucketDead)
	switch n.State {
	case model.StatePending:
		err = pend.Put(k, nil)
		if err == nil {
			err = dead.Delete(k)
		}
	case model.StateDead:
		err = dead.Put(k, nil)
		if err == nil {
			err = pend.Delete(k)
		}
	default:
		err = pend.Delete(k)
		if err == nil {
			err = dead.Delete(k)
		}
	}
	return err
}

// getNotification reads a notification with its body.
func getNotification(tx *bolt.Tx, seq uint64) (model.Notification, error) {
	v := tx.Bucket(bucketOutbox).Get(u64(seq))
	if v == nil {
		return model.Notification{}, fmt.Errorf("notification %d: %w", seq, ErrNotFound)
	}
	n, inline, err := decodeMeta(v)
	if err != nil {
		return n, fmt.Errorf("notification %d: %w", seq, err)
	}
	body := inline
	if len(body) == 0 {
		body = tx.Bucket(bucketBodies).Get(u64(seq))
	}
	n.Body = append(json.RawMessage(nil), body...)
	return n, nil
}

// getMeta reads a notification without its body, for updates: writing it
// back with putNotification leaves the body where it is.
func getMeta(tx *bolt.Tx, seq uint64) (model.Notification, bool, error) {
	v := tx.Bucket(bucketOutbox).Get(u64(seq))
	if v == nil {
		return model.Notification{}, false, nil
	}
	n, inline, err := decodeMeta(v)
	if err != nil {
		return n, true, fmt.Errorf("notification %d: %w", seq, err)
	}
	if len(inline) > 0 {
		// A record from before bodies had their own bucket: move the body
		// out now, as the record is about to be rewritten without it.
		if err := putBody(tx, seq, inline); err != nil {
			return n, true, err
		}
	}
	return n, true, nil
}

// Notification returns one notification with its body.
func (s *Store) Notification(ctx context.Context, id string) (model.Notification, error) {
	seq, err := strconv.ParseUint(id, 10, 64)
	if err != nil || seq == 0 {
		return model.Notification{}, fmt.Errorf("notification %q: %w", id, ErrNotFound)
	}
	var n model.Notification
	err = s.db.View(func(tx *bolt.Tx) error {
		n, err = getNotification(tx, seq)
		return err
	})
	return n, err
}

// PendingInstances lists instances with pending notifications.
func (s *Store) PendingInstances(ctx context.Context) ([]int64, error) {
	var out []int64
	err := s.db.View(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketPending).Cursor()
		for k, _ := c.First(); k != nil; {
			id := binary.BigEndian.Uint64(k[:8])
			out = append(out, int64(id))
			k, _ = c.Seek(instanceKey(int64(id)+1, 0))
		}
		return nil
	})
	return out, err
}

// OutboxSequence is the highest notification id handed out so far: a
// reader that saw it unchanged knows no notification was created since.
func (s *Store) OutboxSequence(ctx context.Context) (uint64, error) {
	var seq uint64
	err := s.db.View(func(tx *bolt.Tx) error {
		seq = tx.Bucket(bucketOutbox).Sequence()
		return nil
	})
	return seq, err
}

// PendingNotifications returns an instance's pending notifications with a
// sequence above after, oldest first, with bodies: the delivery order.
func (s *Store) PendingNotifications(ctx context.Context, instanceID int64, after uint64, limit int) ([]model.Notification, error) {
	var out []model.Notification
	err := s.db.View(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketPending).Cursor()
		prefix := u64(uint64(instanceID))
		for k, _ := c.Seek(instanceKey(instanceID, after+1)); k != nil && bytes.HasPrefix(k, prefix) && len(out) < limit; k, _ = c.Next() {
			n, err := getNotification(tx, binary.BigEndian.Uint64(k[8:]))
			if err != nil {
				return err
			}
			out = append(out, n)
		}
		return nil
	})
	return out, err
}

// NotificationsBySeq reads notifications by sequence, bodies included, in
// one read-only transaction: the dispatcher reads the next several it will
// send at once instead of paying a transaction for each. out[i] is
// seqs[i]'s notification, or the zero Notification when there is none. It
// stops before the bodies read would exceed maxBytes (0: no limit), having
// read at least one, so out may be shorter than seqs; the caller asks
// again for the rest.
func (s *Store) NotificationsBySeq(ctx context.Context, seqs []uint64, maxBytes int) ([]model.Notification, error) {
	if len(seqs) == 0 {
		return nil, nil
	}
	out := make([]model.Notification, 0, len(seqs))
	err := s.db.View(func(tx *bolt.Tx) error {
		ob, bb := tx.Bucket(bucketOutbox), tx.Bucket(bucketBodies)
		// Bodies point into the transaction's pages until copied; they are
		// copied into one buffer at the end, one allocation for the batch.
		bodies := make([][]byte, 0, len(seqs))
		size := 0
		for _, seq := range seqs {
			v := ob.Get(u64(seq))
			if v == nil {
				out, bodies = append(out, model.Notification{}), append(bodies, nil)
				continue
			}
			n, body, err := decodeMeta(v)
			if err != nil {
				return fmt.Errorf("notification %d: %w", seq, err)
			}
			if len(body) == 0 {
				body = bb.Get(u64(seq))
			}
			if maxBytes > 0 && len(out) > 0 && size+len(body) > maxBytes {
				break
			}
			size += len(body)
			out, bodies = append(out, n), append(bodies, body)
		}
		buf := make([]byte, 0, size)
		for i, body := range bodies {
			if out[i].ID == "" || len(body) == 0 {
				continue
			}
			buf = append(buf, body...)
			out[i].Body = json.RawMessage(buf[len(buf)-len(body) : len(buf) : len(buf)])
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// NotificationFilter selects notifications; it is the model's.
type NotificationFilter = model.NotificationFilter

// Notifications lists notifications newest first, without bodies.
func (s *Store) Notifications(ctx context.Context, f NotificationFilter, limit int) (out []model.Notification, next uint64, err error) {
	if limit <= 0 {
		limit = 50
	}
	err = s.db.View(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketOutbox).Cursor()
		var k, v []byte
		if f.Before != 0 {
			c.Seek(u64(f.Before))
			k, v = c.Prev()
		} else {
			k, v = c.Last()
		}
		scanned := 0
		for ; k != nil; k, v = c.Prev() {
			if len(out) == limit {
				next = out[len(out)-1].Seq()
				return nil
			}
			if scanned++; scanned > scanLimit {
				next = binary.BigEndian.Uint64(k) + 1
				return nil
			}
			if err := cancelled(ctx, scanned); err != nil {
				return err
			}
			n, _, err := decodeMeta(v)
			if err != nil {
				return fmt.Errorf("notification %d: %w", binary.BigEndian.Uint64(k), err)
			}
			if f.Match(&n) {
				out = append(out, n)
			}
		}
		return nil
	})
	return out, next, err
}

// NotificationCounts counts pending and dead notifications.
func (s *Store) NotificationCounts(ctx context.Context) (pending, dead int, err error) {
	err = s.db.View(func(tx *bolt.Tx) error {
		pending = tx.Bucket(bucketPending).Stats().KeyN
		dead = tx.Bucket(bucketDead).Stats().KeyN
		return nil
	})
	return pending, dead, err
}

// AttemptRecord is the outcome of one delivery attempt and the state it
// leaves the notification in.
type AttemptRecord struct {
	Attempt     model.Attempt
	State       model.NotificationState
	NextAttempt time.Time
	// Reason, for a notification the dispatcher gives up on before its
	// retries are used (an ordered lane's hold), replaces its last error.
	Reason string
	// Lease, on a store replicas share, is the delivery lane's lease the
	// attempt was made under: the outcome is dropped if another replica
	// has claimed the lane since, so a replica that stalled past its lease
	// never overwrites what the lane's new holder recorded. Nil otherwise.
	Lease *Lease
}

// RecordAttempts stores attempt outcomes in one group commit. An outcome
// whose notification is gone (pruned) is skipped; one whose instance was
// deleted during the attempt is logged but leaves the notification as the
// deletion left it (dead), so an attempt that was already on the wire never
// brings it back to pending.
func (s *Store) RecordAttempts(ctx context.Context, recs []AttemptRecord) error {
	if len(recs) == 0 {
		return nil
	}
	return s.writer.do(func(tx *bolt.Tx) error {
		ab := tx.Bucket(bucketAttempts)
		ib := tx.Bucket(bucketInstances)
		for _, r := range recs {
			seq, _ := strconv.ParseUint(r.Attempt.NotificationID, 10, 64)
			n, ok, err := getMeta(tx, seq)
			if err != nil {
				return err
			}
			if !ok {
				continue
			}
			if ib.Get(u64(uint64(n.InstanceID))) != nil {
				n.Attempts = r.Attempt.N
				n.LastStatus = r.Attempt.Status
				n.LastError = r.Attempt.Error
				n.State = r.State
				n.NextAttempt = r.NextAttempt
				switch {
				case r.State == model.StateDelivered:
					n.DeliveredAt = r.Attempt.Time
					n.FailingSince = time.Time{}
				case n.FailingSince.IsZero():
					n.FailingSince = r.Attempt.Time
				}
				if r.State == model.StateDead && r.Reason != "" {
					n.LastError = r.Reason
				}
				if err := putNotification(tx, n); err != nil {
					return err
				}
			}
			key := make([]byte, 12)
			binary.BigEndian.PutUint64(key, seq)
			binary.BigEndian.PutUint32(key[8:], uint32(r.Attempt.N))
			if err := putJSON(ab, key, r.Attempt); err != nil {
				return err
			}
		}
		return nil
	})
}

// AbandonOrphans marks dead the pending notifications of an instance that
// no longer exists (as deleting it does), so no lane is started for it
// again; it does nothing while the instance exists.
func (s *Store) AbandonOrphans(ctx context.Context, instanceID int64) error {
	return s.writer.do(func(tx *bolt.Tx) error {
		if tx.Bucket(bucketInstances).Get(u64(uint64(instanceID))) != nil {
			return nil
		}
		return abandonPending(tx, instanceID)
	})
}

// Due is a pending notification's place in its instance's queue.
type Due struct {
	Seq          uint64
	NextAttempt  time.Time
	FailingSince time.Time
	Attempts     int
	CycleStart   int
}

// PendingSchedule lists an instance's pending notifications with a sequence
// above after, oldest first, without bodies: what a lane keeps in memory.
func (s *Store) PendingSchedule(ctx context.Context, instanceID int64, after uint64, limit int) ([]Due, error) {
	var out []Due
	err := s.db.View(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketPending).Cursor()
		ob := tx.Bucket(bucketOutbox)
		prefix := u64(uint64(instanceID))
		for k, _ := c.Seek(instanceKey(instanceID, after+1)); k != nil && bytes.HasPrefix(k, prefix) && len(out) < limit; k, _ = c.Next() {
			seq := binary.BigEndian.Uint64(k[8:])
			v := ob.Get(u64(seq))
			if v == nil {
				continue
			}
			meta, _, err := decodeMeta(v)
			if err != nil {
				return fmt.Errorf("notification %d: %w", seq, err)
			}
			out = append(out, Due{Seq: seq, NextAttempt: meta.NextAttempt, FailingSince: meta.FailingSince, Attempts: meta.Attempts, CycleStart: meta.CycleStart})
		}
		return nil
	})
	return out, err
}

// Attempts lists a notification's attempts, oldest first.
func (s *Store) Attempts(ctx context.Context, id string) ([]model.Attempt, error) {
	seq, err := strconv.ParseUint(id, 10, 64)
	if err != nil {
		return nil, fmt.Errorf("notification %q: %w", id, ErrNotFound)
	}
	var out []model.Attempt
	err = s.db.View(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketAttempts).Cursor()
		prefix := u64(seq)
		for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
			var a model.Attempt
			if err := json.Unmarshal(v, &a); err != nil {
				return err
			}
			out = append(out, a)
		}
		return nil
	})
	return out, err
}

// Replay puts a notification back to pending with a fresh retry cycle,
// due now.
func (s *Store) Replay(ctx context.Context, id string) (model.Notification, error) {
	seq, err := strconv.ParseUint(id, 10, 64)
	if err != nil || seq == 0 {
		return model.Notification{}, fmt.Errorf("notification %q: %w", id, ErrNotFound)
	}
	var n model.Notification
	now := s.now()
	err = s.writer.do(func(tx *bolt.Tx) error {
		m, ok, err := getMeta(tx, seq)
		if err != nil {
			return err
		}
		if !ok {
			return fmt.Errorf("notification %d: %w", seq, ErrNotFound)
		}
		m.State, m.CycleStart, m.NextAttempt, m.FailingSince = model.StatePending, m.Attempts, now, time.Time{}
		if err := putNotification(tx, m); err != nil {
			return err
		}
		n, err = getNotification(tx, seq)
		return err
	})
	return n, err
}

// ReplayDead replays every dead notification of an instance created at or
// after since, and returns their ids.
func (s *Store) ReplayDead(ctx context.Context, instanceID int64, since time.Time) ([]string, error) {
	var ids []string
	now := s.now()
	err := s.writer.do(func(tx *bolt.Tx) error {
		ids = ids[:0]
		c := tx.Bucket(bucketDead).Cursor()
		prefix := u64(uint64(instanceID))
		var seqs []uint64
		for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
			seqs = append(seqs, binary.BigEndian.Uint64(k[8:]))
		}
		for _, seq := range seqs {
			n, ok, err := getMeta(tx, seq)
			if err != nil {
				return err
			}
			if !ok || n.CreatedAt.Before(since) {
				continue
			}
			n.State, n.CycleStart, n.NextAttempt, n.FailingSince = model.StatePending, n.Attempts, now, time.Time{}
			if err := putNotification(tx, n); err != nil {
				return err
			}
			ids = append(ids, n.ID)
		}
		return nil
	})
	return ids, err
}

// abandonPending marks a deleted instance's pending notifications dead:
// there is no callback URL left to send them to, and they stay visible.
func abandonPending(tx *bolt.Tx, instanceID int64) error {
	c := tx.Bucket(bucketPending).Cursor()
	prefix := u64(uint64(instanceID))
	var seqs []uint64
	for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
		seqs = append(seqs, binary.BigEndian.Uint64(k[8:]))
	}
	for _, seq := range seqs {
		n, ok, err := getMeta(tx, seq)
		if err != nil {
			return err
		}
		if !ok {
			continue
		}
		n.State, n.LastError = model.StateDead, "instance deleted"
		if err := putNotification(tx, n); err != nil {
			return err
		}
	}
	return nil
}

// SetNotificationsOff records why an instance's callbacks stopped (a 410).
func (s *Store) SetNotificationsOff(ctx context.Context, instanceID int64, reason string) error {
	err := s.db.Update(func(tx *bolt.Tx) error {
		var in model.Instance
		if err := getInstance(tx, instanceID, &in); err != nil {
			return err
		}
		in.NotificationsOff = reason
		return putJSON(tx.Bucket(bucketInstances), u64(uint64(instanceID)), in)
	})
	if err == nil {
		s.notifyInstances()
	}
	return err
}
