package store

import (
	"encoding/json"
	"fmt"
	"math/rand"
	"path/filepath"
	"testing"
	"time"

	"github.com/eventdesk/eventdesk/model"
	bolt "go.etcd.io/bbolt"
)

// Per-instance listings page correctly across many blocks, for an instance
// present everywhere, one present in a few blocks only, and one absent.
func TestEventsByInstanceAcrossBlocks(t *testing.T) {
	s := openTest(t, nil)
	var all []model.Event
	batch := make([]model.Event, 0, 100)
	for i := range 5 * blockSize {
		inst := int64(1)
		switch {
		case i%7 == 0:
			inst = 2
		case i >= 2*blockSize+10 && i < 2*blockSize+13, i == 4*blockSize+200:
			inst = 3 // a few, in two blocks
		}
		batch = append(batch, webhookEvent(inst, "", fmt.Sprint(i)))
		if len(batch) == cap(batch) {
			all = append(all, mustAppend(t, s, batch...).Stored...)
			batch = batch[:0]
		}
	}
	all = append(all, mustAppend(t, s, batch...).Stored...)
	for _, inst := range []int64{1, 2, 3, 4} {
		for _, before := range []uint64{0, 1, 2, blockSize, blockSize + 1, 3*blockSize - 1, uint64(len(all)), uint64(len(all)) + 1, 1 << 40} {
			var want []uint64
			for i := len(all) - 1; i >= 0; i-- {
				if e := all[i]; e.InstanceID == inst && (before == 0 || e.Seq() < before) {
					want = append(want, e.Seq())
				}
			}
			got := pageAll(t, s, EventFilter{InstanceID: inst, Before: before}, 37)
			if !equalIDs(got, want) {
				t.Errorf("instance %d before %d: got %d ids %v…, want %d", inst, before, len(got), head(got), len(want))
			}
		}
	}
}

func head(ids []uint64) []uint64 { return ids[:min(len(ids), 8)] }

// The walk stops where the probe budget ends and says how far it got, so a
// listing can continue from there without skipping or repeating an id.
func TestInstanceSeqsStopsAndResumes(t *testing.T) {
	s := openTest(t, nil)
	want := map[uint64]bool{}
	s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketInstanceBlocks)
		// Ids in most blocks, so a block skipped at a stop would show.
		for _, seq := range []uint64{3, 300, 301, 600, 5*blockSize + 7, 6*blockSize + 1, 7*blockSize + 9, 8 * blockSize, 9*blockSize + 255} {
			want[seq] = true
			if err := markInstance(b, 1, seq, true); err != nil {
				t.Fatal(err)
			}
		}
		return markInstance(b, 2, 302, true)
	})
	top := uint64(10*blockSize - 1)
	var got []uint64
	for rounds := 0; ; rounds++ {
		if rounds > 20 {
			t.Fatal("walk does not end")
		}
		var walked uint64
		s.db.View(func(tx *bolt.Tx) error {
			w := newInstanceSeqs(tx.Bucket(bucketInstanceBlocks), 1, top, 1)
			budget := 3
			probe := func() bool { budget--; return budget >= 0 }
			for {
				seq, ok, at := w.next(probe)
				if !ok {
					walked = at
					return nil
				}
				got = append(got, seq)
			}
		})
		if walked == 0 {
			break
		}
		if walked > top+1 {
			t.Fatalf("walked %d above the top %d", walked, top)
		}
		top = walked - 1
	}
	wantOrder := []uint64{9*blockSize + 255, 8 * blockSize, 7*blockSize + 9, 6*blockSize + 1, 5*blockSize + 7, 600, 301, 300, 3}
	if !equalIDs(got, wantOrder) {
		t.Errorf("walk in 3-block steps gave %v, want %v", got, wantOrder)
	}
}

// A schema 1 instance index is moved into blocks on open.
func TestInstanceIndexMigratesSchema1(t *testing.T) {
	path := filepath.Join(t.TempDir(), "eventdesk.db")
	s, err := Open(path, Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	var stored []model.Event
	for i := range 600 {
		stored = append(stored, mustAppend(t, s, webhookEvent(int64(i%3+1), "", fmt.Sprint(i))).Stored...)
	}
	// Rewrite the file as schema 1 had it: the instance index keyed by
	// instance and id, no blocks.
	err = s.db.Update(func(tx *bolt.Tx) error {
		if err := tx.DeleteBucket(bucketInstanceBlocks); err != nil {
			return err
		}
		old, err := tx.CreateBucket(bucketEventsByInV1)
		if err != nil {
			return err
		}
		for _, e := range stored {
			if err := old.Put(instanceKey(e.InstanceID, e.Seq()), nil); err != nil {
				return err
			}
		}
		return tx.Bucket(bucketMeta).Put(keySchema, u64(1))
	})
	s.Close()
	if err != nil {
		t.Fatal(err)
	}
	s, err = Open(path, Options{NoSync: true})
	if err != nil {
		t.Fatalf("open schema 1 file: %v", err)
	}
	defer s.Close()
	for inst := int64(1); inst <= 3; inst++ {
		var want []uint64
		for i := len(stored) - 1; i >= 0; i-- {
			if stored[i].InstanceID == inst {
				want = append(want, stored[i].Seq())
			}
		}
		if got := pageAll(t, s, EventFilter{InstanceID: inst}, 50); !equalIDs(got, want) {
			t.Errorf("instance %d after migration: %d ids, want %d", inst, len(got), len(want))
		}
	}
	s.db.View(func(tx *bolt.Tx) error {
		if tx.Bucket(bucketEventsByInV1) != nil {
			t.Error("schema 1 index survived the migration")
		}
		return nil
	})
}

// Retention clears pruned events from the index; emptied blocks go.
func TestPruneClearsInstanceBlocks(t *testing.T) {
	clock := newFakeClock()
	s := openTest(t, clock)
	var evs []model.Event
	for i := range 2*blockSize + 10 {
		e := webhookEvent(int64(i%2+1), "", fmt.Sprint(i))
		e.Raw = json.RawMessage(`{}`)
		evs = append(evs, e)
	}
	mustAppend(t, s, evs...)
	clock.Advance(48 * time.Hour)
	keep := mustAppend(t, s, webhookEvent(1, "", "new")).Stored[0]
	if _, err := s.Prune(t.Context(), clock.Now().Add(-time.Hour)); err != nil {
		t.Fatal(err)
	}
	s.db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketInstanceBlocks)
		if n := b.Stats().KeyN; n != 1 {
			t.Errorf("%d index blocks after pruning, want 1 (the new event's)", n)
		}
		return nil
	})
	if got := pageAll(t, s, EventFilter{InstanceID: 1}, 10); !equalIDs(got, []uint64{keep.Seq()}) {
		t.Errorf("instance 1 after pruning lists %v, want [%d]", got, keep.Seq())
	}
	if got := pageAll(t, s, EventFilter{InstanceID: 2}, 10); len(got) != 0 {
		t.Errorf("instance 2 after pruning lists %v, want none", got)
	}
}

// Paging one instance's events, against a brute-force list: random stores
// (some with a pruned prefix), cursors at block edges and the store's ends,
// scan limits small enough that walks stop and resume mid-store.
func TestEventsByInstancePagingRandom(t *testing.T) {
	defer func(v int) { scanLimit = v }(scanLimit)
	for seed := int64(1); seed <= 8; seed++ {
		rng := rand.New(rand.NewSource(seed))
		clock := newFakeClock()
		s := openTest(t, clock)
		n := rng.Intn(1400)
		var all []model.Event
		for i := 0; i < n; {
			var batch []model.Event
			for k := 1 + rng.Intn(60); k > 0 && i < n; k-- {
				inst := int64(1)
				switch r := rng.Intn(100); {
				case r < 5:
					inst = 2
				case r < 6:
					inst = 3
				}
				batch = append(batch, webhookEvent(inst, fmt.Sprint(seed, "-", i), fmt.Sprint(i)))
				i++
			}
			all = append(all, mustAppend(t, s, batch...).Stored...)
			clock.Advance(time.Minute)
		}
		if len(all) > 0 && rng.Intn(2) == 0 {
			cut := all[rng.Intn(len(all))].ReceivedAt
			if _, err := s.Prune(t.Context(), cut); err != nil {
				t.Fatal(err)
			}
			var keep []model.Event
			for _, e := range all {
				if !e.ReceivedAt.Before(cut) {
					keep = append(keep, e)
				}
			}
			all = keep
		}
		befores := []uint64{0, 1, 2, 255, 256, 257, 511, 512, 513, 1 << 40}
		if len(all) > 0 {
			first, last := all[0].Seq(), all[len(all)-1].Seq()
			befores = append(befores, last, last+1, last+2, first, first+1, first-1)
		}
		for _, sl := range []int{1, 3, 20000} {
			scanLimit = sl
			for _, inst := range []int64{1, 2, 3, 4} {
				for _, before := range befores {
					for _, limit := range []int{1, 3, 50} {
						var want []uint64
						for i := len(all) - 1; i >= 0; i-- {
							if e := all[i]; e.InstanceID == inst && (before == 0 || e.Seq() < before) {
								want = append(want, e.Seq())
							}
						}
						if got := pageAll(t, s, EventFilter{InstanceID: inst, Before: before}, limit); !equalIDs(got, want) {
							t.Errorf("seed %d, scan limit %d, instance %d, before %d, limit %d: got %d ids %v…, want %d %v…",
								seed, sl, inst, before, limit, len(got), head(got), len(want), head(want))
						}
					}
				}
			}
		}
	}
}

// A full page only peeks a few blocks for a next page: an instance whose
// previous event lies far back gets a cursor where the peek stopped, not a
// walk over every block in between; paging on still finds that event.
func TestEventsByInstanceFullPagePeeksNear(t *testing.T) {
	s := openTest(t, nil)
	old := mustAppend(t, s, webhookEvent(2, "old", "old")).Stored[0]
	for b := range 4 * peekBlocks {
		var batch []model.Event
		for i := range blockSize {
			batch = append(batch, webhookEvent(1, fmt.Sprint(b, "-", i), "x"))
		}
		mustAppend(t, s, batch...)
	}
	var recent []model.Event
	for i := range 5 {
		recent = append(recent, webhookEvent(2, fmt.Sprint("new", i), "y"))
	}
	stored := mustAppend(t, s, recent...).Stored
	page, next, err := s.Events(t.Context(), EventFilter{InstanceID: 2}, 5)
	if err != nil || len(page) != 5 {
		t.Fatalf("first page: %d events, %v", len(page), err)
	}
	if next <= old.Seq() || next >= stored[0].Seq() {
		t.Errorf("next cursor %d: want one between the old event %d and the page's last %d (the peek stopped early)", next, old.Seq(), stored[0].Seq())
	}
	if got := pageAll(t, s, EventFilter{InstanceID: 2, Before: next}, 5); !equalIDs(got, []uint64{old.Seq()}) {
		t.Errorf("paging on from %d: %v, want [%d]", next, got, old.Seq())
	}
}
