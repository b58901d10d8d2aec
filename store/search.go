package store

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"

	"github.com/eventdesk/eventdesk/model"
	bolt "go.etcd.io/bbolt"
)

// searchChunk bounds the events one SearchEvents call examines, so a
// search through millions of events holds no read transaction for long and
// reports progress between chunks. (A variable so tests can cross chunk
// boundaries with a few events.)
var searchChunk = 20000

// searchCtxEvery is how many events a chunk examines between looks at its
// context: often enough that a cancel stops it within a millisecond or so,
// rarely enough to cost nothing.
const searchCtxEvery = 256

// SearchEvents examines up to one chunk of stored events older than cursor
// (0: from the newest), newest first, and returns those f matches, at most
// limit of them. Unlike Events it looks into every raw payload when
// f.Raw is set, without copying the ones that do not match; with
// f.InstanceID it reads only that instance's events, through its index.
// The page's
// Next resumes the search; Done says it reached the oldest event, or the
// events received before f.Since. A cancelled ctx stops the chunk.
func (s *Store) SearchEvents(ctx context.Context, f EventFilter, cursor uint64, limit int) (model.EventSearchPage, error) {
	var page model.EventSearchPage
	if limit <= 0 {
		limit = 50
	}
	if f.Before != 0 && (cursor == 0 || f.Before < cursor) {
		cursor = f.Before
	}
	if err := ctx.Err(); err != nil {
		return page, fmt.Errorf("search events: %w", err)
	}
	meta := f
	meta.Raw = "" // matched on the payload in place, below
	err := s.db.View(func(tx *bolt.Tx) error {
		evb := tx.Bucket(bucketEvents)
		// work counts records examined and, for one instance, index
		// blocks looked at: a chunk through a stretch where the instance
		// has no events is bounded too.
		work, looks, visited := 0, 0, 0
		next := searchEvery(evb, cursor)
		if f.InstanceID != 0 {
			next = searchInstance(tx, evb, f.InstanceID, cursor, func() bool {
				if work >= searchChunk {
					return false
				}
				work++
				return true
			}, &page)
		}
		for {
			seq, v, ok := next()
			if !ok {
				page.Done = page.Next == 0
				return nil
			}
			if looks++; looks%searchCtxEvery == 1 {
				if err := ctx.Err(); err != nil {
					return err
				}
			}
			// One record at least, so that even a chunk spent on index
			// blocks moves on.
			if len(page.Events) == limit || (work >= searchChunk && visited > 0) {
				page.Next = seq + 1 // this one is still to examine
				return nil
			}
			work++
			visited++
			if v == nil {
				continue // pruned while its index entry lingers
			}
			page.Scanned++
			e, raw, err := decodeEventMeta(v)
			if err != nil {
				return fmt.Errorf("event %d is corrupt: %w", seq, err)
			}
			// Ids follow commit order and ReceivedAt may run a little
			// behind it (see sinceSlack): stop only well before Since.
			if !f.Since.IsZero() && e.ReceivedAt.Before(f.Since.Add(-sinceSlack)) {
				page.Done, page.Next = true, 0
				return nil
			}
			if !meta.Match(&e) || (f.Raw != "" && !model.ContainsFold(raw, f.Raw)) {
				continue
			}
			if len(raw) > 0 {
				e.Raw = append(json.RawMessage(nil), raw...)
			}
			page.Events = append(page.Events, e)
		}
	})
	if err != nil {
		return model.EventSearchPage{}, fmt.Errorf("search events: %w", err)
	}
	return page, nil
}

// searchEvery walks every event below cursor (0: from the newest), newest
// first.
func searchEvery(evb *bolt.Bucket, cursor uint64) func() (seq uint64, v []byte, ok bool) {
	c := evb.Cursor()
	first := true
	return func() (uint64, []byte, bool) {
		var k, v []byte
		switch {
		case !first:
			k, v = c.Prev()
		case cursor != 0:
			c.Seek(u64(cursor))
			k, v = c.Prev()
		default:
			k, v = c.Last()
		}
		first = false
		if k == nil {
			return 0, nil, false
		}
		return binary.BigEndian.Uint64(k), v, true
	}
}

// searchInstance walks one instance's events below cursor through its
// index, newest first (v is nil for an id whose record is gone). When
// probe refuses to look at another index block, the walk ends with
// page.Next where it stopped.
func searchInstance(tx *bolt.Tx, evb *bolt.Bucket, instanceID int64, cursor uint64, probe func() bool, page *model.EventSearchPage) func() (uint64, []byte, bool) {
	c := evb.Cursor()
	var top, bottom uint64
	if k, _ := c.Last(); k != nil {
		top = binary.BigEndian.Uint64(k)
	}
	if k, _ := c.First(); k != nil {
		bottom = binary.BigEndian.Uint64(k)
	}
	if cursor != 0 && cursor-1 < top {
		top = cursor - 1
	}
	w := newInstanceSeqs(tx.Bucket(bucketInstanceBlocks), instanceID, top, max(bottom, 1))
	return func() (uint64, []byte, bool) {
		seq, ok, walked := w.next(probe)
		if !ok {
			page.Next = walked
			return 0, nil, false
		}
		return seq, evb.Get(u64(seq)), true
	}
}
