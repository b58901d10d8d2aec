package store

import (
	"context"
	"encoding/binary"
	"fmt"
	"strconv"
	"time"

	"github.com/eventdesk/eventdesk/model"
	bolt "go.etcd.io/bbolt"
)

// Table names TableCounts reports, the same on every backend, so a copy
// between backends can be checked table by table.
const (
	TableInstances     = "instances"
	TableEvents        = "events"
	TableDedupeKeys    = "dedupe_keys"
	TableNotifications = "notifications"
	TableAttempts      = "attempts"
	TablePollState     = "poll_state"
	TableSettings      = "settings"
	TableRejected      = "rejected"
)

// DedupeRecord is one remembered change as a copy moves it. A webhook
// delivery is remembered by the hash of its key only (Key empty), a polled
// record version by its key.
type DedupeRecord struct {
	Hash    [16]byte
	Key     string
	Expires time.Time
}

// The Put methods write records as they are, ids included, for copying a
// deployment between backends. Writing a record again overwrites it, so an
// interrupted copy can be run again. They skip the rules ordinary writes
// follow (validation, dedupe, outbox): the source already followed them.

// PutInstances writes instances with their ids and tokens; later
// CreateInstance calls number after the highest.
func (s *Store) PutInstances(ctx context.Context, ins []model.Instance) error {
	err := s.writer.do(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketInstances)
		for _, in := range ins {
			if in.ID <= 0 {
				return fmt.Errorf("instance %d: ids start at 1", in.ID)
			}
			if err := putJSON(b, u64(uint64(in.ID)), in); err != nil {
				return err
			}
			if uint64(in.ID) > b.Sequence() {
				if err := b.SetSequence(uint64(in.ID)); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err == nil {
		s.notifyInstances()
	}
	return err
}

// PutEvents writes events with their ids; later events number after the
// highest.
func (s *Store) PutEvents(ctx context.Context, events []model.Event) error {
	return s.writer.do(func(tx *bolt.Tx) error {
		evb, idx := tx.Bucket(bucketEvents), tx.Bucket(bucketInstanceBlocks)
		for _, e := range events {
			seq := e.Seq()
			if seq == 0 {
				return fmt.Errorf("event %q: the id must be a number from 1", e.ID)
			}
			if err := evb.Put(u64(seq), encodeEventRecord(e).withSeq(seq)); err != nil {
				return err
			}
			if err := markInstance(idx, e.InstanceID, seq, true); err != nil {
				return err
			}
			if seq > evb.Sequence() {
				if err := evb.SetSequence(seq); err != nil {
					return err
				}
			}
		}
		return nil
	})
}

// PutDedupeKeys writes remembered changes with their expiry.
func (s *Store) PutDedupeKeys(ctx context.Context, recs []DedupeRecord) error {
	return s.writer.do(func(tx *bolt.Tx) error {
		dd := tx.Bucket(bucketDedupe)
		for _, r := range recs {
			exp := r.Expires.UnixNano()
			if r.Key == "" {
				if err := s.dedupe.add(tx, dedupeHash(r.Hash), exp); err != nil {
					return err
				}
				continue
			}
			if err := dd.Put([]byte(r.Key), u64(uint64(exp))); err != nil {
				return err
			}
		}
		return nil
	})
}

// PutNotifications writes notifications with their bodies, states and
// attempt counts; later notifications number after the highest.
func (s *Store) PutNotifications(ctx context.Context, ns []model.Notification) error {
	return s.writer.do(func(tx *bolt.Tx) error {
		ob := tx.Bucket(bucketOutbox)
		for _, n := range ns {
			seq := n.Seq()
			if seq == 0 {
				return fmt.Errorf("notification %q: the id must be a number from 1", n.ID)
			}
			if err := putBody(tx, seq, n.Body); err != nil {
				return err
			}
			if err := putNotification(tx, n); err != nil {
				return err
			}
			if seq > ob.Sequence() {
				if err := ob.SetSequence(seq); err != nil {
					return err
				}
			}
		}
		return nil
	})
}

// PutAttempts writes delivery attempts.
func (s *Store) PutAttempts(ctx context.Context, as []model.Attempt) error {
	return s.writer.do(func(tx *bolt.Tx) error {
		ab := tx.Bucket(bucketAttempts)
		for _, a := range as {
			seq, err := strconv.ParseUint(a.NotificationID, 10, 64)
			if err != nil || seq == 0 {
				return fmt.Errorf("attempt of notification %q: the id must be a number from 1", a.NotificationID)
			}
			key := make([]byte, 12)
			binary.BigEndian.PutUint64(key, seq)
			binary.BigEndian.PutUint32(key[8:], uint32(a.N))
			if err := putJSON(ab, key, a); err != nil {
				return err
			}
		}
		return nil
	})
}

// PutPollStatuses writes poll statuses (checkpoints included) as they are.
func (s *Store) PutPollStatuses(ctx context.Context, sts []model.PollStatus) error {
	return s.writer.do(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketPoll)
		for _, st := range sts {
			if err := putJSON(b, pollKey(st.InstanceID, st.Resource), st); err != nil {
				return err
			}
		}
		return nil
	})
}

// PutSettings writes settings, the API secrets among them.
func (s *Store) PutSettings(ctx context.Context, settings map[string]string) error {
	return s.writer.do(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketSettings)
		for k, v := range settings {
			if err := b.Put([]byte(k), []byte(v)); err != nil {
				return err
			}
		}
		return nil
	})
}

// PutRejected writes rejected requests with their ids.
func (s *Store) PutRejected(ctx context.Context, rs []Rejected) error {
	return s.writer.do(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketRejected)
		for _, r := range rs {
			seq, err := strconv.ParseUint(r.ID, 10, 64)
			if err != nil || seq == 0 {
				return fmt.Errorf("rejected request %q: the id must be a number from 1", r.ID)
			}
			if err := putJSON(b, u64(seq), r); err != nil {
				return err
			}
			if seq > b.Sequence() {
				if err := b.SetSequence(seq); err != nil {
					return err
				}
			}
		}
		return nil
	})
}

// TableCounts counts the records of each table (the Table names). Dedupe
// keys count the distinct changes remembered and not yet expired, as the
// bbolt store may hold expired or repeated log entries until pruning.
func (s *Store) TableCounts(ctx context.Context) (map[string]int, error) {
	if err := s.flushRejected(); err != nil {
		return nil, err
	}
	counts := map[string]int{}
	now := s.now().UnixNano()
	err := s.db.View(func(tx *bolt.Tx) error {
		for name, b := range map[string][]byte{
			TableInstances: bucketInstances, TableEvents: bucketEvents, TableNotifications: bucketOutbox,
			TableAttempts: bucketAttempts, TablePollState: bucketPoll, TableRejected: bucketRejected,
		} {
			counts[name] = tx.Bucket(b).Stats().KeyN
		}
		counts[TableSettings] = tx.Bucket(bucketSettings).Stats().KeyN
		hashes := map[dedupeHash]bool{}
		err := tx.Bucket(bucketDedupeLog).ForEach(func(_, v []byte) error {
			if len(v) == dedupeLogValueLen && int64(binary.BigEndian.Uint64(v)) > now {
				hashes[dedupeHash(v[8:])] = true
			}
			return nil
		})
		if err != nil {
			return err
		}
		keys := 0
		err = tx.Bucket(bucketDedupe).ForEach(func(_, v []byte) error {
			if len(v) == 8 && int64(binary.BigEndian.Uint64(v)) > now {
				keys++
			}
			return nil
		})
		counts[TableDedupeKeys] = len(hashes) + keys
		return err
	})
	return counts, err
}
