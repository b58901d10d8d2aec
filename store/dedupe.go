package store

import (
	"bytes"
	"cmp"
	"crypto/sha256"
	"encoding/binary"
	"maps"
	"slices"
	"sync"
	"time"

	bolt "go.etcd.io/bbolt"
)

// Two dedupe stores, by what the key stands for:
//
//   - A webhook delivery (vendor event id) is remembered in memory, with
//     bucketDedupeLog as its durable form: one entry per delivery, keyed by
//     a sequence so every commit appends at the end (one page, whatever the
//     ids look like), value expiry (unix ns) and the key's hash. Vendor ids
//     are random UUIDs: in a bucket ordered by id every stored webhook
//     dirtied a page of its own, and the receiver commits small groups.
//   - A polled record version stays on disk only, in bucketDedupe (key →
//     expiry): a poll cycle commits pages of records at once, so random
//     keys cost little there, and a cycle of 100,000 changed records must
//     not grow the heap by as many keys.
var (
	bucketDedupeLog = []byte("dedupe_log")
	bucketDedupe    = []byte("dedupe")
)

// webhookKeyPrefix starts model.Event.DedupeKey for webhook deliveries.
const webhookKeyPrefix = "w\x00"

func init() {
	allBuckets = append(allBuckets, bucketDedupeLog, bucketDedupe)
}

// dedupeHash is a dedupe key in fixed size, in memory and in the log; 128
// bits of SHA-256 make a false "seen before" (a dropped event) practically
// impossible, even for ids chosen to collide.
type dedupeHash [16]byte

func hashDedupeKey(k string) dedupeHash {
	sum := sha256.Sum256([]byte(k))
	return dedupeHash(sum[:16])
}

const dedupeLogValueLen = 8 + len(dedupeHash{})

func dedupeLogValue(h dedupeHash, expires int64) []byte {
	v := make([]byte, dedupeLogValueLen)
	binary.BigEndian.PutUint64(v, uint64(expires))
	copy(v[8:], h[:])
	return v
}

// dedupeIndex answers "was this change stored within DedupeWindow" from
// memory. It belongs to the group writer: only transaction functions and
// the writer's commit touch it (and Open, before the writer starts), so it
// needs no lock. Additions of the transaction being built stay pending until
// it commits, so a rolled-back write leaves nothing behind.
type dedupeIndex struct {
	seen    map[dedupeHash]int64 // committed; value: expiry, unix ns
	pending map[dedupeHash]int64 // added by the open transaction
	// peak is seen's largest size since it was last rebuilt: Go maps do
	// not shrink, so after a burst expires compact copies what is left.
	peak int
}

func newDedupeIndex() *dedupeIndex {
	return &dedupeIndex{seen: map[dedupeHash]int64{}, pending: map[dedupeHash]int64{}}
}

// has reports whether h is remembered and unexpired at now.
func (d *dedupeIndex) has(h dedupeHash, now int64) bool {
	if exp, ok := d.pending[h]; ok && exp > now {
		return true
	}
	exp, ok := d.seen[h]
	return ok && exp > now
}

// add remembers h until expires, in tx's log and as pending.
func (d *dedupeIndex) add(tx *bolt.Tx, h dedupeHash, expires int64) error {
	if err := appendDedupeLog(tx, h, expires); err != nil {
		return err
	}
	d.pending[h] = expires
	return nil
}

// appendDedupeLog writes h's entry at the end of the log.
func appendDedupeLog(tx *bolt.Tx, h dedupeHash, expires int64) error {
	b := tx.Bucket(bucketDedupeLog)
	b.FillPercent = 1.0 // appended to only
	seq, err := b.NextSequence()
	if err != nil {
		return err
	}
	return b.Put(u64(seq), dedupeLogValue(h, expires))
}

// begin starts a transaction's pending set; end keeps it when the
// transaction committed and drops it when not.
func (d *dedupeIndex) begin() { clear(d.pending) }

func (d *dedupeIndex) end(committed bool) {
	if committed {
		for h, exp := range d.pending {
			d.seen[h] = exp
		}
		d.peak = max(d.peak, len(d.seen))
	}
	clear(d.pending)
}

// compact rebuilds seen when pruning left it at under a quarter of its peak.
func (d *dedupeIndex) compact() {
	if d.peak < 4096 || len(d.seen) >= d.peak/4 {
		return
	}
	// A fresh map sized for what is left (maps.Clone may keep the old size).
	seen := make(map[dedupeHash]int64, len(d.seen))
	maps.Copy(seen, d.seen)
	d.seen, d.peak = seen, len(seen)
}

// forget drops h from memory if it expired by now (a later repeat of the
// key may have renewed it).
func (d *dedupeIndex) forget(h dedupeHash, now int64) {
	if exp, ok := d.seen[h]; ok && exp <= now {
		delete(d.seen, h)
	}
}

// migrateDedupeKeys moves a schema 1 file's webhook keys out of the dedupe
// bucket into the log (oldest expiry first, so pruning from the front
// works), in the upgrade's transaction.
func migrateDedupeKeys(tx *bolt.Tx, now int64) error {
	old := tx.Bucket(bucketDedupe)
	type entry struct {
		k   []byte
		exp int64
	}
	var entries []entry
	c := old.Cursor()
	for k, v := c.Seek([]byte(webhookKeyPrefix)); k != nil && bytes.HasPrefix(k, []byte(webhookKeyPrefix)); k, v = c.Next() {
		exp := int64(0)
		if len(v) == 8 {
			exp = int64(binary.BigEndian.Uint64(v))
		}
		entries = append(entries, entry{append([]byte(nil), k...), exp})
	}
	slices.SortFunc(entries, func(a, b entry) int { return cmp.Compare(a.exp, b.exp) })
	for _, e := range entries {
		if e.exp > now {
			if err := appendDedupeLog(tx, hashDedupeKey(string(e.k)), e.exp); err != nil {
				return err
			}
		}
		if err := old.Delete(e.k); err != nil {
			return err
		}
	}
	return nil
}

// dedupePrefetchers is how many readers fault the dedupe log's pages in
// ahead of loadDedupe's scan. bbolt maps the file for random access (no
// read-ahead), so after a reboot a lone scan waits for one page at a time:
// about 2 s for the 650,000 keys of a 1 GB file. Parallel readers keep the
// disk's queue full instead.
const dedupePrefetchers = 16

// loadDedupe fills the in-memory index from the log.
func (s *Store) loadDedupe() error {
	now := s.now().UnixNano()
	var wg sync.WaitGroup
	defer wg.Wait()
	n := s.prefetchDedupeLog(&wg)
	d := newDedupeIndex()
	// Sized once: growing a map of a million keys step by step costs more
	// than reading them.
	d.seen = make(map[dedupeHash]int64, n)
	err := s.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketDedupeLog).ForEach(func(_, v []byte) error {
			if len(v) != dedupeLogValueLen {
				return nil
			}
			exp := int64(binary.BigEndian.Uint64(v))
			h := dedupeHash(v[8:])
			if exp > now && exp > d.seen[h] {
				d.seen[h] = exp
			}
			return nil
		})
	})
	d.peak = len(d.seen)
	s.dedupe = d
	return err
}

// dedupeSkew is how far expiries may run backwards along the log (writers
// stamp them before their commits are ordered); pruning looks this far past
// the first unexpired entry.
const dedupeSkew = time.Minute

// pruneDedupeLog deletes up to pruneBatch expired log entries from the
// front and reports whether more may be due.
func (s *Store) pruneDedupeLog() (int, bool, error) {
	n, more := 0, false
	now := s.now().UnixNano()
	err := s.writer.do(func(tx *bolt.Tx) error {
		n, more = 0, false
		b := tx.Bucket(bucketDedupeLog)
		var victims [][]byte
		c := b.Cursor()
		for k, v := c.First(); k != nil; k, v = c.Next() {
			if len(victims) == pruneBatch {
				more = true
				break
			}
			if len(v) != dedupeLogValueLen {
				continue
			}
			exp := int64(binary.BigEndian.Uint64(v))
			if exp > now {
				if exp > now+int64(dedupeSkew) {
					break
				}
				continue
			}
			s.dedupe.forget(dedupeHash(v[8:]), now)
			victims = append(victims, append([]byte(nil), k...))
		}
		// Deleting under a cursor that moves on skips entries: delete after.
		for _, k := range victims {
			if err := b.Delete(k); err != nil {
				return err
			}
		}
		n = len(victims)
		s.dedupe.compact()
		return nil
	})
	return n, more, err
}

// pruneDedupeBucket deletes expired polled-record keys from from onwards, a
// batch at a time, and returns where to continue (nil at the end).
func (s *Store) pruneDedupeBucket(from []byte) (int, []byte, error) {
	n := 0
	var next []byte
	now := s.now().UnixNano()
	err := s.writer.do(func(tx *bolt.Tx) error {
		n, next = 0, nil
		b := tx.Bucket(bucketDedupe)
		var victims [][]byte
		c := b.Cursor()
		k, v := c.First()
		if from != nil {
			k, v = c.Seek(from)
		}
		for seen := 0; k != nil; k, v = c.Next() {
			if seen++; seen > pruneBatch {
				next = append([]byte(nil), k...)
				break
			}
			if len(v) == 8 && int64(binary.BigEndian.Uint64(v)) <= now {
				victims = append(victims, append([]byte(nil), k...))
			}
		}
		// Deleting under a cursor that moves on skips entries: delete after.
		for _, k := range victims {
			if err := b.Delete(k); err != nil {
				return err
			}
		}
		n = len(victims)
		return nil
	})
	return n, next, err
}

// prefetchDedupeLog starts readers that each walk one slice of the log's
// keys (sequence numbers) in their own read transaction, so the pages are
// in memory when the serial scan reaches them. It returns how many entries
// the log spans. Errors are left to the scan.
func (s *Store) prefetchDedupeLog(wg *sync.WaitGroup) int {
	var first, last uint64
	s.db.View(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketDedupeLog).Cursor()
		if k, _ := c.First(); len(k) == 8 {
			first = binary.BigEndian.Uint64(k)
		}
		if k, _ := c.Last(); len(k) == 8 {
			last = binary.BigEndian.Uint64(k)
		}
		return nil
	})
	n := 0
	if last >= first && first > 0 {
		n = int(min(last-first+1, 1<<26))
	}
	// A small log is read faster than readers start.
	if last < first+64*1024 {
		return n
	}
	readAhead(s.path)
	step := (last - first) / dedupePrefetchers
	// The scan itself reads the first slice.
	for i := uint64(1); i < dedupePrefetchers; i++ {
		from, to := first+i*step, first+(i+1)*step
		wg.Go(func() {
			s.db.View(func(tx *bolt.Tx) error {
				c := tx.Bucket(bucketDedupeLog).Cursor()
				var sum byte
				for k, v := c.Seek(u64(from)); k != nil && binary.BigEndian.Uint64(k) < to; k, v = c.Next() {
					if len(v) > 0 {
						sum += v[0]
					}
				}
				_ = sum
				return nil
			})
		})
	}
	return n
}
