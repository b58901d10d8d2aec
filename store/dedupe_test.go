package store

import (
	"encoding/binary"
	"fmt"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/eventdesk/eventdesk/model"
	bolt "go.etcd.io/bbolt"
)

func dedupeLogLen(t *testing.T, s *Store) int {
	t.Helper()
	n := 0
	s.db.View(func(tx *bolt.Tx) error {
		n = tx.Bucket(bucketDedupeLog).Stats().KeyN
		return nil
	})
	return n
}

// A schema 1 file keeps its dedupe keys: unexpired ones still drop
// repeats after the upgrade, expired ones are gone; webhook keys move to the
// log, polled-record keys stay where they were.
func TestDedupeMigratesSchema1(t *testing.T) {
	clock := newFakeClock()
	path := filepath.Join(t.TempDir(), "eventdesk.db")
	db, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	live := webhookEvent(1, "v-live", "a")
	gone := webhookEvent(1, "v-gone", "b")
	polled := pollEvent(1, "contacts", "7", clock.Now().Add(-time.Minute))
	err = db.Update(func(tx *bolt.Tx) error {
		meta, err := tx.CreateBucket(bucketMeta)
		if err != nil {
			return err
		}
		if err := meta.Put(keySchema, u64(1)); err != nil {
			return err
		}
		old, err := tx.CreateBucket(bucketDedupe)
		if err != nil {
			return err
		}
		if err := old.Put([]byte(live.DedupeKey()), u64(uint64(clock.Now().Add(time.Hour).UnixNano()))); err != nil {
			return err
		}
		if err := old.Put([]byte(polled.DedupeKey()), u64(uint64(clock.Now().Add(time.Hour).UnixNano()))); err != nil {
			return err
		}
		return old.Put([]byte(gone.DedupeKey()), u64(uint64(clock.Now().Add(-time.Second).UnixNano())))
	})
	db.Close()
	if err != nil {
		t.Fatal(err)
	}

	s, err := Open(path, Options{NoSync: true, Now: clock.Now})
	if err != nil {
		t.Fatalf("Open schema 1 file: %v", err)
	}
	defer s.Close()
	res := mustAppend(t, s, live, gone, polled)
	if res.Duplicates != 2 || len(res.Stored) != 1 || res.Stored[0].VendorEventID != "v-gone" {
		t.Errorf("after migration: %d stored %+v, %d duplicates; want v-live and the polled record dropped, v-gone stored", len(res.Stored), res.Stored, res.Duplicates)
	}
	s.db.View(func(tx *bolt.Tx) error {
		var keys []string
		tx.Bucket(bucketDedupe).ForEach(func(k, _ []byte) error { keys = append(keys, string(k)); return nil })
		if len(keys) != 1 || keys[0] != polled.DedupeKey() {
			t.Errorf("dedupe bucket holds %q, want only the polled record's key", keys)
		}
		if v := tx.Bucket(bucketMeta).Get(keySchema); binary.BigEndian.Uint64(v) != SchemaVersion {
			t.Errorf("schema version %d, want %d", binary.BigEndian.Uint64(v), SchemaVersion)
		}
		return nil
	})
	// v-live migrated, v-gone stored now.
	if n := dedupeLogLen(t, s); n != 2 {
		t.Errorf("dedupe log holds %d entries, want 2", n)
	}
}

// Keys are remembered for DedupeWindow across restarts, then pruned from
// the log and from memory; a key renewed after it expired outlives the
// pruning of its first entry.
func TestDedupeWindowAndPrune(t *testing.T) {
	clock := newFakeClock()
	path := filepath.Join(t.TempDir(), "eventdesk.db")
	open := func() *Store {
		t.Helper()
		s, err := Open(path, Options{NoSync: true, Now: clock.Now})
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	s := open()
	var first []model.Event
	for i := range 5 {
		first = append(first, webhookEvent(1, fmt.Sprint("v", i), fmt.Sprint("o", i)))
	}
	mustAppend(t, s, first...)
	s.Close()

	clock.Advance(DedupeWindow - time.Minute)
	s = open()
	if res := mustAppend(t, s, first...); res.Duplicates != 5 {
		t.Fatalf("within the window after reopen: %d duplicates, want 5", res.Duplicates)
	}

	clock.Advance(2 * time.Minute)
	renewed := first[0]
	if res := mustAppend(t, s, renewed); len(res.Stored) != 1 {
		t.Fatalf("a repeat after the window must be stored again: %+v", res)
	}
	res, err := s.Prune(t.Context(), clock.Now().Add(-30*24*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if res.DedupeKeys != 5 {
		t.Errorf("pruned %d dedupe keys, want the 5 expired ones", res.DedupeKeys)
	}
	if n := dedupeLogLen(t, s); n != 1 {
		t.Errorf("dedupe log holds %d entries after pruning, want 1 (the renewed key)", n)
	}
	if n := len(s.dedupe.seen); n != 1 {
		t.Errorf("%d keys in memory after pruning, want 1", n)
	}
	if res := mustAppend(t, s, renewed); res.Duplicates != 1 {
		t.Errorf("renewed key forgotten by pruning its expired entry: %+v", res)
	}
	s.Close()
	s = open()
	defer s.Close()
	if res := mustAppend(t, s, renewed, first[1]); res.Duplicates != 1 || len(res.Stored) != 1 || res.Stored[0].VendorEventID != "v1" {
		t.Errorf("after reopen: stored %+v, %d duplicates; want the renewed key dropped and v1 stored", res.Stored, res.Duplicates)
	}
}

// Whatever the vendor ids, a commit appends to the end of the log: the
// log's leaf pages are full, not the half-full ones random inserts leave.
func TestDedupeLogIsAppendOnly(t *testing.T) {
	s := openTest(t, nil)
	for batch := range 40 {
		var evs []model.Event
		for i := range 50 {
			// Ids in no order, like Pipedrive's UUIDs.
			id := fmt.Sprintf("%08x", uint32((batch*50+i)*2654435761))
			evs = append(evs, webhookEvent(1, id, id))
		}
		mustAppend(t, s, evs...)
	}
	s.db.View(func(tx *bolt.Tx) error {
		st := tx.Bucket(bucketDedupeLog).Stats()
		if st.KeyN != 2000 {
			t.Errorf("log holds %d keys, want 2000", st.KeyN)
		}
		if fill := float64(st.LeafInuse) / float64(st.LeafAlloc); fill < 0.9 {
			t.Errorf("log leaf pages %.0f%% full, want >= 90%% (appended, not inserted)", 100*fill)
		}
		return nil
	})
}

// After a burst of keys expires and is pruned, memory follows: the index
// is rebuilt at its new size, and still answers for the keys that remain.
func TestDedupeCompactsAfterPrune(t *testing.T) {
	clock := newFakeClock()
	s := openTest(t, clock)
	var burst []model.Event
	for i := range 5000 {
		burst = append(burst, webhookEvent(1, fmt.Sprint("old", i), "o"))
	}
	mustAppend(t, s, burst...)
	clock.Advance(DedupeWindow + time.Minute)
	keep := webhookEvent(1, "new", "n")
	mustAppend(t, s, keep)
	before := s.dedupe.seen
	if _, err := s.Prune(t.Context(), clock.Now().Add(-30*24*time.Hour)); err != nil {
		t.Fatal(err)
	}
	// Pruning goes a batch at a time; the rebuild comes once under a
	// quarter of the peak, so the last map is at most a batch too large.
	if len(s.dedupe.seen) != 1 || s.dedupe.peak > pruneBatch+1 {
		t.Errorf("after pruning: %d keys, map sized for %d; want 1, sized for at most %d", len(s.dedupe.seen), s.dedupe.peak, pruneBatch+1)
	}
	if reflect.ValueOf(s.dedupe.seen).UnsafePointer() == reflect.ValueOf(before).UnsafePointer() {
		t.Error("the index was not rebuilt after 4,999 of 5,000 keys went")
	}
	if res := mustAppend(t, s, keep); res.Duplicates != 1 {
		t.Errorf("the remaining key is forgotten: %+v", res)
	}
}

// Polled records are remembered on disk, not in memory: a poll of many
// changed records must not grow the heap by as many keys.
func TestPolledKeysStayOnDisk(t *testing.T) {
	s := openTest(t, nil)
	var evs []model.Event
	for i := range 300 {
		evs = append(evs, pollEvent(1, "contacts", fmt.Sprint(i), time.Date(2024, 3, 1, 11, 0, i, 0, time.UTC)))
	}
	mustAppend(t, s, evs...)
	if n := len(s.dedupe.seen); n != 0 {
		t.Errorf("%d polled keys held in memory, want 0", n)
	}
	if res := mustAppend(t, s, evs[:10]...); res.Duplicates != 10 {
		t.Errorf("repeats of polled records: %d duplicates, want 10", res.Duplicates)
	}
	mustAppend(t, s, webhookEvent(1, "v1", "x"))
	if n := len(s.dedupe.seen); n != 1 {
		t.Errorf("%d webhook keys in memory, want 1", n)
	}
}

// TestLargeDedupeLogReloads reopens a log long enough for the parallel
// readers and checks every unexpired key is back, expired ones are not,
// and a remembered key still rejects its resend.
func TestLargeDedupeLogReloads(t *testing.T) {
	const entries = 70_000
	path := filepath.Join(t.TempDir(), "eventdesk.db")
	s, err := Open(path, Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	live := time.Now().Add(DedupeWindow).UnixNano()
	err = s.db.Update(func(tx *bolt.Tx) error {
		for i := range entries {
			exp := live
			if i%10 == 0 {
				exp = 1 // long expired
			}
			if err := appendDedupeLog(tx, hashDedupeKey(fmt.Sprint("w\x001\x00", i)), exp); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	s, err = Open(path, Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if got, want := len(s.dedupe.seen), entries-entries/10; got != want {
		t.Fatalf("%d keys in memory after reopening, want %d", got, want)
	}
	now := time.Now().UnixNano()
	for _, i := range []int{1, entries/2 + 1, entries - 1} {
		if !s.dedupe.has(hashDedupeKey(fmt.Sprint("w\x001\x00", i)), now) {
			t.Errorf("key %d forgotten after reopening", i)
		}
	}
	if s.dedupe.has(hashDedupeKey(fmt.Sprint("w\x001\x00", 0)), now) {
		t.Errorf("expired key 0 remembered after reopening")
	}
}
