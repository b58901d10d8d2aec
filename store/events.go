package store

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/eventdesk/eventdesk/model"
	bolt "go.etcd.io/bbolt"
)

var bucketEvents = []byte("events")

func init() {
	allBuckets = append(allBuckets, bucketEvents)
}

// DedupeWindow is how long a vendor event id or polled record version is
// remembered; vendors retry for up to 72 hours.
const DedupeWindow = 72 * time.Hour

// AppendResult says what AppendEvents stored.
type AppendResult struct {
	// Stored are the new events with their ids, in input order.
	Stored []model.Event
	// Duplicates counts events dropped as repeats of stored ones.
	Duplicates int
}

// AppendEvents durably stores events (fsync'd, through the group writer)
// together with their notifications (the outbox), and returns once they are
// committed. Repeats of a change already stored
// within DedupeWindow are dropped, also within one call.
func (s *Store) AppendEvents(ctx context.Context, events []model.Event) (AppendResult, error) {
	return s.appendEventsWith(ctx, events, nil)
}

// appendEventsWith is AppendEvents with more writes in the same transaction:
// after the events are stored, also runs with the stored events (the
// notification outbox uses it so an event never exists without its
// delivery).
func (s *Store) appendEventsWith(ctx context.Context, events []model.Event, also func(tx *bolt.Tx, stored []model.Event) error) (AppendResult, error) {
	var res AppendResult
	now := s.now()
	// Everything that does not depend on the sequence number is prepared
	// here, outside the single write transaction every request queues for.
	prep := prepareEvents(events, now)
	err := s.writer.do(func(tx *bolt.Tx) error {
		res = AppendResult{}
		var err error
		res.Stored, res.Duplicates, err = s.appendEvents(tx, prep, now)
		if err == nil && len(res.Stored) > 0 {
			err = s.enqueueNotifications(tx, res.Stored, now)
		}
		if err == nil && also != nil && len(res.Stored) > 0 {
			err = also(tx, res.Stored)
		}
		return err
	})
	if err != nil {
		return AppendResult{}, fmt.Errorf("store events: %w", err)
	}
	return res, nil
}

// preparedEvent is an event made ready for appendEvents: ReceivedAt set,
// its dedupe key hashed, and its record encoded but for the id.
type preparedEvent struct {
	e model.Event
	// A webhook's key goes by its hash to the in-memory index, a polled
	// record's key to the dedupe bucket (dedupe.go says why).
	hasHash   bool
	hash      dedupeHash
	bucketKey []byte
	rec       eventRecord
}

func prepareEvents(events []model.Event, now time.Time) []preparedEvent {
	prep := make([]preparedEvent, len(events))
	for i, e := range events {
		if e.ReceivedAt.IsZero() {
			e.ReceivedAt = now
		}
		p := &prep[i]
		p.e = e
		switch k := e.DedupeKey(); {
		case strings.HasPrefix(k, webhookKeyPrefix):
			p.hasHash, p.hash = true, hashDedupeKey(k)
		case k != "":
			p.bucketKey = []byte(k)
		}
		p.rec = encodeEventRecord(e)
	}
	return prep
}

func (s *Store) appendEvents(tx *bolt.Tx, events []preparedEvent, now time.Time) ([]model.Event, int, error) {
	evb, idx := tx.Bucket(bucketEvents), tx.Bucket(bucketInstanceBlocks)
	// Event ids only grow, so the events bucket is only ever appended to:
	// full pages then, instead of the half-full ones a split leaves for
	// random inserts.
	evb.FillPercent = 1.0
	stored := make([]model.Event, 0, len(events))
	dups := 0
	dd := tx.Bucket(bucketDedupe)
	nowNs, expires := now.UnixNano(), now.Add(DedupeWindow).UnixNano()
	var expiresKey []byte
	for _, p := range events {
		switch {
		case p.hasHash:
			if s.dedupe.has(p.hash, nowNs) {
				dups++
				continue
			}
			if err := s.dedupe.add(tx, p.hash, expires); err != nil {
				return nil, 0, err
			}
		case p.bucketKey != nil:
			if v := dd.Get(p.bucketKey); len(v) == 8 && int64(binary.BigEndian.Uint64(v)) > nowNs {
				dups++
				continue
			}
			if expiresKey == nil {
				expiresKey = u64(uint64(expires))
			}
			if err := dd.Put(p.bucketKey, expiresKey); err != nil {
				return nil, 0, err
			}
		}
		seq, err := evb.NextSequence()
		if err != nil {
			return nil, 0, err
		}
		e := p.e
		e.ID = strconv.FormatUint(seq, 10)
		if err := evb.Put(u64(seq), p.rec.withSeq(seq)); err != nil {
			return nil, 0, err
		}
		if err := markInstance(idx, e.InstanceID, seq, true); err != nil {
			return nil, 0, err
		}
		stored = append(stored, e)
	}
	return stored, dups, nil
}

func instanceKey(instanceID int64, seq uint64) []byte {
	k := make([]byte, 16)
	binary.BigEndian.PutUint64(k, uint64(instanceID))
	binary.BigEndian.PutUint64(k[8:], seq)
	return k
}

// Event returns one event by id.
func (s *Store) Event(ctx context.Context, id string) (model.Event, error) {
	seq, err := strconv.ParseUint(id, 10, 64)
	if err != nil || seq == 0 {
		return model.Event{}, fmt.Errorf("event %q: %w", id, ErrNotFound)
	}
	var e model.Event
	err = s.db.View(func(tx *bolt.Tx) error {
		v := tx.Bucket(bucketEvents).Get(u64(seq))
		if v == nil {
			return fmt.Errorf("event %s: %w", id, ErrNotFound)
		}
		var err error
		e, err = decodeEvent(v)
		return err
	})
	return e, err
}

// EventFilter selects events; it is the model's, named here too so the
// store's callers read naturally.
type EventFilter = model.EventFilter

// scanLimit bounds the records one filtered page may examine, so a filter
// that matches nothing cannot pin a read transaction over a million events;
// the caller continues from the returned cursor. (A variable so tests can
// page through small stores the way large ones are paged.)
var scanLimit = 20000

// peekBlocks bounds how many index blocks a full page of one instance's
// events looks at to tell whether a next page exists.
const peekBlocks = 16

// sinceSlack is how far ReceivedAt may run backwards against event ids
// (concurrent writers stamp it before their commits are ordered).
const sinceSlack = time.Minute

// Events lists events newest first. next is the Before value for the
// following page, or 0 when there is none.
func (s *Store) Events(ctx context.Context, f EventFilter, limit int) (events []model.Event, next uint64, err error) {
	if limit <= 0 {
		limit = 50
	}
	err = s.db.View(func(tx *bolt.Tx) error {
		evb := tx.Bucket(bucketEvents)
		var (
			key     func() ([]byte, bool)
			scanned int
			last    uint64
		)
		cut := false
		if f.InstanceID != 0 {
			c := evb.Cursor()
			var top, bottom uint64
			if k, _ := c.Last(); k != nil {
				top = binary.BigEndian.Uint64(k)
			}
			if k, _ := c.First(); k != nil {
				bottom = binary.BigEndian.Uint64(k)
			}
			if f.Before != 0 && f.Before-1 < top {
				top = f.Before - 1
			}
			w := newInstanceSeqs(tx.Bucket(bucketInstanceBlocks), f.InstanceID, top, max(bottom, 1))
			// A block looked at counts as a record examined, so an
			// instance with no events for a long stretch is paged too.
			// Once the page is full the walk only peeks whether another
			// page exists, a few blocks deep; past them the cursor is
			// where the walk stopped, and the next page may come back
			// empty.
			probed, peeked := false, 0
			probe := func() bool {
				switch {
				case !probed:
					probed = true
				case len(events) == limit:
					if peeked++; peeked > peekBlocks {
						return false
					}
					return true
				case scanned >= scanLimit:
					return false
				}
				scanned++
				return true
			}
			key = func() ([]byte, bool) {
				seq, ok, walked := w.next(probe)
				if !ok && walked != 0 {
					cut, last = true, walked
				}
				return u64(seq), ok
			}
		} else {
			c := evb.Cursor()
			var k []byte
			if f.Before != 0 {
				c.Seek(u64(f.Before))
				k, _ = c.Prev()
			} else {
				k, _ = c.Last()
			}
			first := true
			key = func() ([]byte, bool) {
				if !first {
					k, _ = c.Prev()
				}
				first = false
				return k, k != nil
			}
		}
		for steps := 1; ; steps++ {
			if err := cancelled(ctx, steps); err != nil {
				return err
			}
			k, ok := key()
			if !ok {
				next = 0
				if cut {
					next = last
				}
				return nil
			}
			seq := binary.BigEndian.Uint64(k)
			last = seq
			if len(events) == limit {
				next = events[len(events)-1].Seq()
				return nil
			}
			v := evb.Get(k)
			if v == nil {
				continue // pruned while the index entry lingers
			}
			e, err := decodeEvent(v)
			if err != nil {
				return fmt.Errorf("event %d is corrupt: %w", seq, err)
			}
			// Ids follow commit order, and ReceivedAt is stamped just
			// before the commit, so the two may disagree by a little: stop
			// only well before Since; Match drops the stragglers.
			if !f.Since.IsZero() && e.ReceivedAt.Before(f.Since.Add(-sinceSlack)) {
				next = 0
				return nil
			}
			if f.Match(&e) {
				events = append(events, e)
			}
			if scanned++; scanned >= scanLimit && len(events) < limit {
				next = last
				return nil
			}
		}
	})
	return events, next, err
}

// EventsAfter returns up to limit events with an id greater than after, oldest
// first: what a live reader has not seen yet.
func (s *Store) EventsAfter(ctx context.Context, after uint64, limit int) ([]model.Event, error) {
	var out []model.Event
	err := s.db.View(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketEvents).Cursor()
		for k, v := c.Seek(u64(after + 1)); k != nil && len(out) < limit; k, v = c.Next() {
			e, err := decodeEvent(v)
			if err != nil {
				return err
			}
			out = append(out, e)
		}
		return nil
	})
	return out, err
}

// LastEventID is the newest event's id, or 0.
func (s *Store) LastEventID(ctx context.Context) (uint64, error) {
	var id uint64
	err := s.db.View(func(tx *bolt.Tx) error {
		if k, _ := tx.Bucket(bucketEvents).Cursor().Last(); k != nil {
			id = binary.BigEndian.Uint64(k)
		}
		return nil
	})
	return id, err
}

// EventCount counts stored events, for status lines.
func (s *Store) EventCount(ctx context.Context) (int, error) {
	var n int
	err := s.db.View(func(tx *bolt.Tx) error {
		n = tx.Bucket(bucketEvents).Stats().KeyN
		return nil
	})
	return n, err
}

// Event records come in two layouts, told apart by their first byte:
//
//   - compact (written since schema 3): recordCompact, then the id, the
//     instance id, the strings and the times in binary, then the raw
//     payload untouched. A Pipedrive webhook's metadata takes about 110
//     bytes instead of about 330 as JSON, so three records of a
//     1 KB body share a 4 KB page where two did: the events bucket is most
//     of the bytes every commit writes.
//   - JSON (schemas 1 and 2): a uvarint length, the metadata as JSON, then
//     the raw payload. Still read; never rewritten. Its length is 0 only
//     for an event whose time JSON refused (a year past 9999): such a
//     record never read back, and still does not (its second byte, the
//     payload's first, is no layout version).
//
// Both keep the raw payload byte for byte as the vendor sent it.
const (
	recordCompact = 0x00
	// recordVersion follows recordCompact; a later layout takes the next
	// value, so a record is never read with the wrong one.
	recordVersion = 0x01
)

// Bits of a compact record's flags byte: which optional times follow.
const (
	recordHasDate     = 1 << 0
	recordHasPollDate = 1 << 1
)

// eventRecord is an event's compact record but for its id, which the write
// transaction hands out: withSeq completes it.
type eventRecord struct {
	// buf is room for the longest header (marker, version, id), then the
	// rest of the record, so withSeq writes the header in place instead of
	// copying the record, body and all, once more.
	buf []byte
}

// recordHeadRoom fits recordCompact, recordVersion and any id.
const recordHeadRoom = 2 + binary.MaxVarintLen64

// encodeEventRecord encodes e, whose ID is ignored.
func encodeEventRecord(e model.Event) eventRecord {
	n := recordHeadRoom + 64 + len(e.ElementKey) + len(e.HubKey) + len(e.Source) + len(e.ObjectType) +
		len(e.ObjectID) + len(e.EventType) + len(e.VendorEventID) + len(e.Raw)
	b := make([]byte, recordHeadRoom, n)
	b = binary.AppendVarint(b, e.InstanceID)
	var flags byte
	if !e.Date.IsZero() {
		flags |= recordHasDate
	}
	if !e.PollDate.IsZero() {
		flags |= recordHasPollDate
	}
	b = append(b, flags)
	for _, s := range []string{e.ElementKey, e.HubKey, string(e.Source), e.ObjectType, e.ObjectID, string(e.EventType), e.VendorEventID} {
		b = binary.AppendUvarint(b, uint64(len(s)))
		b = append(b, s...)
	}
	if flags&recordHasDate != 0 {
		b = appendRecordTime(b, e.Date)
	}
	if flags&recordHasPollDate != 0 {
		b = appendRecordTime(b, e.PollDate)
	}
	b = appendRecordTime(b, e.ReceivedAt)
	return eventRecord{buf: append(b, e.Raw...)}
}

// withSeq is the complete record of the event with id seq. It writes into
// r's buffer: the record it returned before is no longer valid, which is
// what a retried group needs (its rolled-back transaction let go of it).
func (r eventRecord) withSeq(seq uint64) []byte {
	var head [recordHeadRoom]byte
	head[0], head[1] = recordCompact, recordVersion
	n := 2 + binary.PutUvarint(head[2:], seq)
	start := recordHeadRoom - n
	copy(r.buf[start:], head[:n])
	return r.buf[start:]
}

// appendRecordTime appends t as seconds and nanoseconds since the Unix
// epoch and its zone's offset in seconds: the instant and the offset the
// JSON layout kept, for every year (JSON refuses years past 9999).
func appendRecordTime(b []byte, t time.Time) []byte {
	_, off := t.Zone()
	b = binary.AppendVarint(b, t.Unix())
	b = binary.AppendUvarint(b, uint64(t.Nanosecond()))
	return binary.AppendVarint(b, int64(off))
}

// errBadRecord is decodeEvent's error for a record cut short or of an
// unknown layout.
var errBadRecord = errors.New("bad event record")

// decodeEvent copies out of v, which bbolt owns only during the transaction.
func decodeEvent(v []byte) (model.Event, error) {
	e, raw, err := decodeEventMeta(v)
	if err == nil && len(raw) > 0 {
		e.Raw = append(json.RawMessage(nil), raw...)
	}
	return e, err
}

// decodeEventMeta decodes a record's metadata and returns its raw payload
// as a slice of v, not a copy: a search looks into every payload and keeps
// few.
func decodeEventMeta(v []byte) (model.Event, []byte, error) {
	if len(v) > 0 && v[0] == recordCompact {
		return decodeCompactEvent(v)
	}
	var e model.Event
	n, k := binary.Uvarint(v)
	if k <= 0 || uint64(len(v)-k) < n {
		return e, nil, fmt.Errorf("%w: bad JSON record header", errBadRecord)
	}
	if err := json.Unmarshal(v[k:k+int(n)], &e); err != nil {
		return e, nil, err
	}
	return e, v[k+int(n):], nil
}

// recordReader reads a compact record's fields in order; the first
// shortfall sticks, so decodeCompactEvent checks once at the end.
type recordReader struct {
	b   []byte
	bad bool
}

func (r *recordReader) uvarint() uint64 {
	v, n := binary.Uvarint(r.b)
	if n <= 0 {
		r.bad, r.b = true, nil
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *recordReader) varint() int64 {
	v, n := binary.Varint(r.b)
	if n <= 0 {
		r.bad, r.b = true, nil
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *recordReader) byte() byte {
	if len(r.b) == 0 {
		r.bad = true
		return 0
	}
	c := r.b[0]
	r.b = r.b[1:]
	return c
}

func (r *recordReader) string() string {
	n := r.uvarint()
	if n > uint64(len(r.b)) {
		r.bad, r.b = true, nil
		return ""
	}
	s := string(r.b[:n])
	r.b = r.b[n:]
	return s
}

// time reads appendRecordTime's encoding back as the JSON layout's reading
// gave it: UTC for a zero offset, Local when the offset is the local
// zone's at that instant, else a fixed zone of the offset.
func (r *recordReader) time() time.Time {
	sec, nsec, off := r.varint(), r.uvarint(), r.varint()
	if nsec >= 1e9 || off <= -1<<31 || off >= 1<<31 {
		r.bad = true
		return time.Time{}
	}
	t := time.Unix(sec, int64(nsec))
	if off == 0 {
		return t.UTC()
	}
	if _, local := t.Zone(); int64(local) == off {
		return t
	}
	return t.In(time.FixedZone("", int(off)))
}

func decodeCompactEvent(v []byte) (model.Event, []byte, error) {
	var e model.Event
	if len(v) < 2 || v[1] != recordVersion {
		return e, nil, fmt.Errorf("%w: layout %d is not one this eventdesk reads", errBadRecord, v[min(1, len(v)-1)])
	}
	r := recordReader{b: v[2:]}
	e.ID = strconv.FormatUint(r.uvarint(), 10)
	e.InstanceID = r.varint()
	flags := r.byte()
	e.ElementKey = r.string()
	e.HubKey = r.string()
	e.Source = model.Source(r.string())
	e.ObjectType = r.string()
	e.ObjectID = r.string()
	e.EventType = model.EventType(r.string())
	e.VendorEventID = r.string()
	if flags&recordHasDate != 0 {
		e.Date = r.time()
	}
	if flags&recordHasPollDate != 0 {
		e.PollDate = r.time()
	}
	e.ReceivedAt = r.time()
	if r.bad {
		return model.Event{}, nil, fmt.Errorf("%w: cut short", errBadRecord)
	}
	return e, r.b, nil
}
