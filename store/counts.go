package store

import (
	"context"
	"encoding/binary"
	"math/bits"
	"time"

	bolt "go.etcd.io/bbolt"
)

// BlockCount is one instance's events in a range of index blocks.
type BlockCount struct {
	Events int
	// Newest is its newest event id in the range (0: none).
	Newest uint64
}

// InstanceBlockCounts counts each instance's events in the index blocks
// from block from on, from the index's bitmaps alone: no event is read.
// first is the lowest event id stored (retention removes from the
// bottom, so a caller that cached counts of older blocks knows them stale
// when it moved) and last the newest block seen, whose count may still
// grow; blocks below last are complete.
func (s *Store) InstanceBlockCounts(ctx context.Context, from uint64) (counts map[int64]BlockCount, first, last uint64, err error) {
	counts = map[int64]BlockCount{}
	err = s.db.View(func(tx *bolt.Tx) error {
		if k, _ := tx.Bucket(bucketEvents).Cursor().First(); k != nil {
			first = binary.BigEndian.Uint64(k)
		}
		start := make([]byte, 8)
		binary.BigEndian.PutUint64(start, from)
		c := tx.Bucket(bucketInstanceBlocks).Cursor()
		steps := 0
		for k, v := c.Seek(start); k != nil; k, v = c.Next() {
			if steps++; cancelled(ctx, steps) != nil {
				return ctx.Err()
			}
			block := binary.BigEndian.Uint64(k)
			id := int64(binary.BigEndian.Uint64(k[8:]))
			n := 0
			top := -1
			for i, b := range v {
				if b != 0 {
					n += bits.OnesCount8(b)
					top = i*8 + 7 - bits.LeadingZeros8(b)
				}
			}
			bc := counts[id]
			bc.Events += n
			if top >= 0 {
				bc.Newest = max(bc.Newest, block<<blockShift|uint64(top))
			}
			counts[id] = bc
			last = max(last, block)
		}
		return nil
	})
	return counts, first, max(last, from), err
}

// FirstEventSince is the id of the first event received at or after t
// (0: none), found by a binary search over event ids, which follow
// reception order (within the store's slack of a minute for writers
// stamping concurrently). The events from there to the newest id are the
// events since t, counted without reading them.
func (s *Store) FirstEventSince(ctx context.Context, t time.Time) (uint64, error) {
	var found uint64
	err := s.db.View(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketEvents).Cursor()
		k, _ := c.First()
		if k == nil {
			return nil
		}
		lo := binary.BigEndian.Uint64(k)
		k, _ = c.Last()
		hi := binary.BigEndian.Uint64(k)
		at := func(id uint64) (uint64, time.Time, error) {
			k, v := c.Seek(u64(id))
			if k == nil {
				return 0, time.Time{}, nil
			}
			e, err := decodeEvent(v)
			return binary.BigEndian.Uint64(k), e.ReceivedAt, err
		}
		// The last id whose event is before t bounds the search; ids may
		// have gaps (retention), Seek lands on the next stored one.
		_, last, err := at(hi)
		if err != nil || last.Before(t) {
			return err
		}
		for lo < hi {
			mid := lo + (hi-lo)/2
			id, rt, err := at(mid)
			if err != nil {
				return err
			}
			if rt.Before(t) {
				lo = id + 1 // every id up to the one found is older
			} else {
				hi = mid
			}
		}
		found, _, err = at(lo)
		return err
	})
	return found, err
}
