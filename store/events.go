package store

import (
	"encoding/binary"
	"encoding/json"
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
func (s *Store) AppendEvents(events []model.Event) (AppendResult, error) {
	return s.AppendEventsWith(events, nil)
}

// AppendEventsWith is AppendEvents with more writes in the same transaction:
// after the events are stored, also runs with the stored events (the
// notification outbox uses it so an event never exists without its
// delivery).
func (s *Store) AppendEventsWith(events []model.Event, also func(tx *bolt.Tx, stored []model.Event) error) (AppendResult, error) {
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
		if err := evb.Put(u64(seq), p.rec.withID(e.ID)); err != nil {
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
func (s *Store) Event(id string) (model.Event, error) {
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
func (s *Store) Events(f EventFilter, limit int) (events []model.Event, next uint64, err error) {
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
		for {
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
func (s *Store) EventsAfter(after uint64, limit int) ([]model.Event, error) {
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
func (s *Store) LastEventID() (uint64, error) {
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
func (s *Store) EventCount() (int, error) {
	var n int
	err := s.db.View(func(tx *bolt.Tx) error {
		n = tx.Bucket(bucketEvents).Stats().KeyN
		return nil
	})
	return n, err
}

// encodeEvent stores the metadata as JSON and the raw payload after it,
// untouched: json.Marshal would compact a RawMessage, and the raw body must
// stay byte for byte as the vendor sent it.
func encodeEvent(e model.Event) []byte {
	raw := e.Raw
	e.Raw = nil
	meta, _ := json.Marshal(e)
	buf := make([]byte, 0, binary.MaxVarintLen64+len(meta)+len(raw))
	buf = binary.AppendUvarint(buf, uint64(len(meta)))
	buf = append(buf, meta...)
	return append(buf, raw...)
}

// eventRecord is encodeEvent's record for an event whose id is not known
// yet: withID completes it.
type eventRecord struct {
	// rest is the metadata JSON after the id's value (`","instanceId":…}`)
	// when it starts with `{"id":"` + ID; otherwise whole holds the record
	// (an event that cannot take another id, see encodeEventRecord).
	rest, raw, whole []byte
}

// encodeEventRecord encodes e (whose ID is ignored) so that withID(id)
// gives exactly encodeEvent(e with ID id).
func encodeEventRecord(e model.Event) eventRecord {
	raw := e.Raw
	e.ID, e.Raw = "", nil
	meta, ok := appendEventMeta(make([]byte, 0, 384), &e)
	if !ok {
		// A time json.Marshal refuses: encodeEvent stores no metadata
		// then, whatever the id, so its record is already complete.
		e.Raw = raw
		return eventRecord{whole: encodeEvent(e)}
	}
	// meta starts with `{"id":""`: rest keeps the closing quote on.
	return eventRecord{rest: meta[len(`{"id":"`):], raw: raw}
}

func (r eventRecord) withID(id string) []byte {
	if r.whole != nil {
		return r.whole
	}
	const head = `{"id":"`
	n := len(head) + len(id) + len(r.rest)
	buf := make([]byte, 0, binary.MaxVarintLen64+n+len(r.raw))
	buf = binary.AppendUvarint(buf, uint64(n))
	buf = append(buf, head...)
	buf = append(buf, id...)
	buf = append(buf, r.rest...)
	return append(buf, r.raw...)
}

// appendEventMeta appends what json.Marshal(e) gives, byte for byte, for an
// event with an ID of only digits (or none) and a nil Raw, without
// reflection; ok is false (and b unusable) when it cannot promise that.
func appendEventMeta(b []byte, e *model.Event) ([]byte, bool) {
	var ok bool
	b = append(b, `{"id":`...)
	b = appendJSONString(b, e.ID)
	b = append(b, `,"instanceId":`...)
	b = strconv.AppendInt(b, e.InstanceID, 10)
	b = append(b, `,"elementKey":`...)
	b = appendJSONString(b, e.ElementKey)
	b = append(b, `,"hubKey":`...)
	b = appendJSONString(b, e.HubKey)
	b = append(b, `,"source":`...)
	b = appendJSONString(b, string(e.Source))
	b = append(b, `,"objectType":`...)
	b = appendJSONString(b, e.ObjectType)
	b = append(b, `,"objectId":`...)
	b = appendJSONString(b, e.ObjectID)
	b = append(b, `,"eventType":`...)
	b = appendJSONString(b, string(e.EventType))
	if !e.Date.IsZero() {
		b = append(b, `,"date":`...)
		if b, ok = appendJSONTime(b, e.Date); !ok {
			return b, false
		}
	}
	if !e.PollDate.IsZero() {
		b = append(b, `,"pollDate":`...)
		if b, ok = appendJSONTime(b, e.PollDate); !ok {
			return b, false
		}
	}
	b = append(b, `,"receivedAt":`...)
	if b, ok = appendJSONTime(b, e.ReceivedAt); !ok {
		return b, false
	}
	if e.VendorEventID != "" {
		b = append(b, `,"vendorEventId":`...)
		b = appendJSONString(b, e.VendorEventID)
	}
	if e.Raw != nil {
		return b, false
	}
	return append(b, `,"raw":null}`...), true
}

// appendJSONString appends s as json.Marshal writes a string (HTML
// characters escaped); only strings needing no escapes take the short way.
func appendJSONString(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x80 || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			q, _ := json.Marshal(s)
			return append(b, q...)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}

// appendJSONTime appends t as time.Time's MarshalJSON does; ok is false for
// the times it refuses (a year outside 0–9999, a zone offset of 24 hours or
// more).
func appendJSONTime(b []byte, t time.Time) ([]byte, bool) {
	if y := t.Year(); y < 0 || y > 9999 {
		return b, false
	}
	if _, off := t.Zone(); off <= -24*3600 || off >= 24*3600 {
		return b, false
	}
	b = append(b, '"')
	b = t.AppendFormat(b, time.RFC3339Nano)
	return append(b, '"'), true
}

// decodeEvent copies out of v, which bbolt owns only during the transaction.
func decodeEvent(v []byte) (model.Event, error) {
	var e model.Event
	n, k := binary.Uvarint(v)
	if k <= 0 || uint64(len(v)-k) < n {
		return e, fmt.Errorf("bad event record header")
	}
	if err := json.Unmarshal(v[k:k+int(n)], &e); err != nil {
		return e, err
	}
	if raw := v[k+int(n):]; len(raw) > 0 {
		e.Raw = append(json.RawMessage(nil), raw...)
	}
	return e, nil
}
