package store

import (
	"bytes"
	"cmp"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/eventdesk/eventdesk/model"
	bolt "go.etcd.io/bbolt"
)

// failingScan is how many of an instance's oldest pending notifications
// Overview decodes to tell failing ones from waiting ones. A lane delivering
// in order only ever retries its head, so the head is what matters; the rest
// of a long queue is counted from the index alone, which stays cheap
// however long the queue grows.
const failingScan = 64

// Overview is the store at a glance: what the console's status bar shows
// and what the metrics endpoint reports. Both read it through
// Store.Overview, so the two never disagree.
type Overview struct {
	// At is the clock reading ages are measured from.
	At time.Time
	// Instances is the number of configured instances.
	Instances int
	// LastEventID is the newest event's id (0 without events); the
	// difference of two readings is the number of events stored between.
	LastEventID uint64
	// Pending counts notifications waiting for their first attempt of the
	// current retry cycle; Failing those waiting for a retry after a failed
	// attempt; Dead those that used every retry. Pending+Failing is every
	// notification still to be delivered.
	Pending, Failing, Dead int
	// Rejected is how many refused requests the rejected-request ring holds.
	Rejected int
	// Queues has one entry per instance with pending, failing or dead
	// notifications, in instance id order.
	Queues []InstanceQueue
	// DBBytes is the database file's size as of this read.
	DBBytes int64
	// DedupeKeys is how many webhook dedupe keys the in-memory index held
	// after the last commit.
	DedupeKeys int
}

// InstanceQueue is one instance's share of the outbox.
type InstanceQueue struct {
	InstanceID int64
	// ElementKey is the instance's element ("" for an instance deleted
	// while notifications were still queued).
	ElementKey             string
	Pending, Failing, Dead int
	// OldestPending is when the oldest notification still to be delivered
	// (pending or failing) was created; zero when there is none.
	OldestPending time.Time
	// Held means the oldest notification still to be delivered has failed
	// in its current retry cycle: delivering in order, everything behind it
	// waits.
	Held bool
}

// Overview reads the store's counts in one read transaction.
func (s *Store) Overview(ctx context.Context) (Overview, error) {
	// Rejected requests wait in a queue between writes; count them too.
	if err := s.flushRejected(); err != nil {
		return Overview{}, err
	}
	o := Overview{At: s.now(), DedupeKeys: int(s.dedupeKeys.Load())}
	err := s.db.View(func(tx *bolt.Tx) error {
		o.DBBytes = tx.Size()
		elements := map[int64]string{}
		err := tx.Bucket(bucketInstances).ForEach(func(k, v []byte) error {
			var in struct {
				ElementKey string `json:"elementKey"`
			}
			if err := json.Unmarshal(v, &in); err != nil {
				return err
			}
			elements[int64(binary.BigEndian.Uint64(k))] = in.ElementKey
			return nil
		})
		if err != nil {
			return err
		}
		o.Instances = len(elements)
		if k, _ := tx.Bucket(bucketEvents).Cursor().Last(); k != nil {
			o.LastEventID = binary.BigEndian.Uint64(k)
		}
		o.Rejected = tx.Bucket(bucketRejected).Stats().KeyN
		queues := map[int64]*InstanceQueue{}
		queue := func(id int64) *InstanceQueue {
			q, ok := queues[id]
			if !ok {
				q = &InstanceQueue{InstanceID: id, ElementKey: elements[id]}
				queues[id] = q
			}
			return q
		}
		c := tx.Bucket(bucketPending).Cursor()
		steps := 0
		for k, _ := c.First(); k != nil; {
			id := int64(binary.BigEndian.Uint64(k[:8]))
			q := queue(id)
			prefix := k[:8:8]
			for i := 0; k != nil && bytes.HasPrefix(k, prefix); i++ {
				if steps++; cancelled(ctx, steps) != nil {
					return ctx.Err()
				}
				if i < failingScan {
					n, err := notificationMeta(tx, binary.BigEndian.Uint64(k[8:]))
					if err != nil {
						return err
					}
					if i == 0 {
						q.OldestPending = n.CreatedAt
					}
					if n.Tries() > 0 {
						q.Failing++
						q.Held = q.Held || i == 0
					} else {
						q.Pending++
					}
				} else {
					q.Pending++
				}
				k, _ = c.Next()
			}
			o.Pending += q.Pending
			o.Failing += q.Failing
		}
		c = tx.Bucket(bucketDead).Cursor()
		for k, _ := c.First(); k != nil; k, _ = c.Next() {
			queue(int64(binary.BigEndian.Uint64(k[:8]))).Dead++
			o.Dead++
		}
		o.Queues = make([]InstanceQueue, 0, len(queues))
		for _, q := range queues {
			o.Queues = append(o.Queues, *q)
		}
		return nil
	})
	slices.SortFunc(o.Queues, func(a, b InstanceQueue) int { return cmp.Compare(a.InstanceID, b.InstanceID) })
	return o, err
}

// notificationMeta decodes a notification without copying its body.
func notificationMeta(tx *bolt.Tx, seq uint64) (model.Notification, error) {
	var n model.Notification
	v := tx.Bucket(bucketOutbox).Get(u64(seq))
	if v == nil {
		return n, nil // the index ran ahead of a pruned record: count it, age unknown
	}
	n, _, err := decodeMeta(v)
	if err != nil {
		return n, fmt.Errorf("notification %d: %w", seq, err)
	}
	return n, nil
}
