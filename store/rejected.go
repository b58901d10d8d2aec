package store

import (
	"encoding/binary"
	"encoding/json"
	"strconv"

	"github.com/eventdesk/eventdesk/model"

	bolt "go.etcd.io/bbolt"
)

var bucketRejected = []byte("rejected")

func init() { allBuckets = append(allBuckets, bucketRejected) }

// RejectedCapacity bounds the rejected-request ring: the oldest entries go
// first, so a flood of bad requests cannot fill the disk.
const RejectedCapacity = model.RejectedCapacity

// Rejected is one request the listener refused with a 4xx; it is the
// model's.
type Rejected = model.Rejected

// AddRejected records a rejection, evicting the oldest beyond capacity.
// It goes through the group writer: rejections can come in floods.
func (s *Store) AddRejected(r Rejected) error {
	return s.writer.do(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketRejected)
		seq, err := b.NextSequence()
		if err != nil {
			return err
		}
		r.ID = strconv.FormatUint(seq, 10)
		if err := putJSON(b, u64(seq), r); err != nil {
			return err
		}
		c := b.Cursor()
		for k, _ := c.First(); k != nil && seq-binary.BigEndian.Uint64(k) >= RejectedCapacity; k, _ = c.First() {
			if err := b.Delete(k); err != nil {
				return err
			}
		}
		return nil
	})
}

// RejectedList returns rejections newest first, below id before (0 = newest).
func (s *Store) RejectedList(before uint64, limit int) (out []Rejected, next uint64, err error) {
	if limit <= 0 {
		limit = 50
	}
	err = s.db.View(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketRejected).Cursor()
		var k, v []byte
		if before != 0 {
			c.Seek(u64(before))
			k, v = c.Prev()
		} else {
			k, v = c.Last()
		}
		for ; k != nil; k, v = c.Prev() {
			if len(out) == limit {
				next = binary.BigEndian.Uint64(u64FromID(out[len(out)-1].ID))
				return nil
			}
			var r Rejected
			if err := json.Unmarshal(v, &r); err != nil {
				return err
			}
			out = append(out, r)
		}
		return nil
	})
	return out, next, err
}

// RejectedCount is how many rejections the ring holds.
func (s *Store) RejectedCount() (int, error) {
	var n int
	err := s.db.View(func(tx *bolt.Tx) error {
		n = tx.Bucket(bucketRejected).Stats().KeyN
		return nil
	})
	return n, err
}

func u64FromID(id string) []byte {
	n, _ := strconv.ParseUint(id, 10, 64)
	return u64(n)
}
