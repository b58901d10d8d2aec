package store

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"time"

	"github.com/eventdesk/eventdesk/model"
	bolt "go.etcd.io/bbolt"
)

// DefaultRetention is how long events are kept, like CE's event logs.
const DefaultRetention = 7 * 24 * time.Hour

// pruneBatch bounds one pruning transaction so the writer is never held
// long: retention works in many small steps.
const pruneBatch = 1000

// PruneResult counts what Prune removed.
type PruneResult struct {
	Events, Notifications, DedupeKeys int
}

// Prune deletes events received before cutoff (with their index entries),
// delivered notifications created before cutoff (with their attempts), and
// expired dedupe keys, in small transactions. Pending and dead
// notifications stay: they still need an operator.
func (s *Store) Prune(ctx context.Context, cutoff time.Time) (PruneResult, error) {
	var res PruneResult
	for {
		if err := ctx.Err(); err != nil {
			return res, err
		}
		n, err := s.pruneEvents(cutoff)
		res.Events += n
		if err != nil || n < pruneBatch {
			if err != nil {
				return res, err
			}
			break
		}
	}
	for {
		if err := ctx.Err(); err != nil {
			return res, err
		}
		n, more, err := s.pruneNotifications(cutoff)
		res.Notifications += n
		if err != nil {
			return res, err
		}
		if !more {
			break
		}
	}
	for {
		if err := ctx.Err(); err != nil {
			return res, err
		}
		n, more, err := s.pruneDedupeLog()
		res.DedupeKeys += n
		if err != nil {
			return res, err
		}
		if !more {
			break
		}
	}
	var from []byte
	for {
		if err := ctx.Err(); err != nil {
			return res, err
		}
		n, next, err := s.pruneDedupeBucket(from)
		res.DedupeKeys += n
		if err != nil || next == nil {
			return res, err
		}
		from = next
	}
}

func (s *Store) pruneEvents(cutoff time.Time) (int, error) {
	n := 0
	err := s.writer.do(func(tx *bolt.Tx) error {
		n = 0
		evb, idx := tx.Bucket(bucketEvents), tx.Bucket(bucketInstanceBlocks)
		c := evb.Cursor()
		for k, v := c.First(); k != nil && n < pruneBatch; k, v = c.First() {
			e, err := decodeEvent(v)
			if err != nil {
				return err
			}
			if !e.ReceivedAt.Before(cutoff) {
				return nil
			}
			if err := markInstance(idx, e.InstanceID, binary.BigEndian.Uint64(k), false); err != nil {
				return err
			}
			if err := c.Delete(); err != nil {
				return err
			}
			n++
		}
		return nil
	})
	return n, err
}

// pruneNotifications walks the oldest notifications; it stops at the first
// one created after cutoff, skipping (keeping) pending and dead ones.
func (s *Store) pruneNotifications(cutoff time.Time) (int, bool, error) {
	n, more := 0, false
	err := s.writer.do(func(tx *bolt.Tx) error {
		n, more = 0, false
		ob, ab, bb := tx.Bucket(bucketOutbox), tx.Bucket(bucketAttempts), tx.Bucket(bucketBodies)
		var victims [][]byte
		c := ob.Cursor()
		for k, v := c.First(); k != nil; k, v = c.Next() {
			if len(victims) == pruneBatch {
				more = true
				break
			}
			nt, _, err := decodeMeta(v)
			if err != nil {
				return fmt.Errorf("notification %d: %w", binary.BigEndian.Uint64(k), err)
			}
			if !nt.CreatedAt.Before(cutoff) {
				break
			}
			if nt.State == model.StateDelivered {
				victims = append(victims, append([]byte(nil), k...))
			}
		}
		for _, k := range victims {
			if err := ob.Delete(k); err != nil {
				return err
			}
			if err := bb.Delete(k); err != nil {
				return err
			}
			ac := ab.Cursor()
			for ak, _ := ac.Seek(k); ak != nil && bytes.HasPrefix(ak, k); ak, _ = ac.Seek(k) {
				if err := ac.Delete(); err != nil {
					return err
				}
			}
			n++
		}
		return nil
	})
	return n, more, err
}
